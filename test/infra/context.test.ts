import { Duration } from 'aws-cdk-lib';
import { FlowLogTrafficType } from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { ContextError, checkerPropsFrom, referenceVpcPropsFrom } from '../../infra/context';

const from = (context: Record<string, unknown>) => (key: string) => context[key];

describe('context: the checker', () => {
  it('gives no props when nothing is set, so the construct defaults apply', () => {
    expect(checkerPropsFrom(from({}))).toEqual({ doctor: {} });
  });

  it('reads command-line strings and cdk.json values alike', () => {
    const fromCli = checkerPropsFrom(
      from({
        clusters: 'prod, staging',
        excludeClusters: 'sandbox',
        snsFormat: 'chatbot',
        slack: 'true',
        dedupeWindowMinutes: '30',
        alertCauses: 'network,permission',
        minSeverity: 'high',
        reservedConcurrency: '3',
        logRetentionDays: '90',
        patternDirs: 'my-patterns',
        alertTopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:alerts',
        slackWebhookSecretArn: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
      }),
    );
    const fromJson = checkerPropsFrom(
      from({
        clusters: ['prod', 'staging'],
        excludeClusters: ['sandbox'],
        snsFormat: 'chatbot',
        slack: true,
        dedupeWindowMinutes: 30,
        alertCauses: ['network', 'permission'],
        minSeverity: 'high',
        reservedConcurrency: 3,
        logRetentionDays: 90,
        patternDirs: ['my-patterns'],
        alertTopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:alerts',
        slackWebhookSecretArn: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
      }),
    );
    expect(fromJson).toEqual(fromCli);
    expect(fromCli).toMatchObject({
      alertTopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:alerts',
      doctor: {
        clusters: ['prod', 'staging'],
        excludeClusters: ['sandbox'],
        snsFormat: 'chatbot',
        slack: true,
        alertCauses: ['network', 'permission'],
        minSeverity: 'high',
        reservedConcurrency: 3,
        logRetention: 90,
        patternDirs: ['my-patterns'],
      },
    });
    expect(fromCli.doctor?.dedupeWindow?.toMinutes()).toBe(Duration.minutes(30).toMinutes());
  });

  it('reserves no concurrency with reservedConcurrency=none', () => {
    const props = checkerPropsFrom(from({ reservedConcurrency: 'none' }));
    expect(props.doctor && 'reservedConcurrency' in props.doctor).toBe(true);
    expect(props.doctor?.reservedConcurrency).toBeUndefined();
  });

  it.each([
    [{ snsFormat: 'html' }, 'snsFormat must be one of text, chatbot, got "html"'],
    [{ slack: 'yes' }, 'slack must be true or false, got "yes"'],
    [{ dedupeWindowMinutes: '1.5' }, 'dedupeWindowMinutes must be a whole number of at least 1, got "1.5"'],
    [{ reservedConcurrency: '0' }, 'reservedConcurrency must be a whole number of at least 1, got "0"'],
    [{ alertCauses: 'network,bugs' }, 'alertCauses: bugs not one of network'],
    [{ logRetentionDays: '42' }, "logRetentionDays must be one of CloudWatch Logs' retention periods"],
    [{ alertTopicArn: 'alerts' }, 'alertTopicArn "alerts" is not an SNS topic ARN'],
    [{ slackWebhookSecretArn: 'https://hooks.slack.com/services/T/B/x' }, 'is not a Secrets Manager secret ARN'],
    [
      { slack: 'false', slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' },
      'drop one of them',
    ],
    [{ clusters: 42 }, 'clusters must be a comma-separated list'],
  ])('refuses %o, naming the key and what it takes', (context, message) => {
    expect(() => checkerPropsFrom(from(context))).toThrow(ContextError);
    expect(() => checkerPropsFrom(from(context))).toThrow(message);
  });
});

describe('context: the reference VPC', () => {
  it('reads every option', () => {
    expect(
      referenceVpcPropsFrom(
        from({
          vpcCidr: '172.20.0.0/16',
          endpointSubnets: 'true',
          ec2Capacity: true,
          endpointIngress: 'task-security-group',
          flowLogTraffic: 'ALL',
          sampleService: 'true',
        }),
      ),
    ).toEqual({
      cidr: '172.20.0.0/16',
      endpointSubnets: true,
      ec2Capacity: true,
      endpointIngress: 'task-security-group',
      flowLogTraffic: FlowLogTrafficType.ALL,
      sampleService: true,
    });
  });

  it.each([
    [{ vpcCidr: '10.0.0.0/8' }, 'vpcCidr must be an IPv4 CIDR from /16 to /24, got "10.0.0.0/8"'],
    [{ endpointIngress: 'anyone' }, 'endpointIngress must be one of vpc-cidr, task-security-group'],
    [{ flowLogTraffic: 'SOME' }, 'flowLogTraffic must be one of ALL, ACCEPT, REJECT'],
  ])('refuses %o', (context, message) => {
    expect(() => referenceVpcPropsFrom(from(context))).toThrow(message);
  });
});
