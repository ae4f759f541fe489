import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { LEDGER_TTL_ATTRIBUTE as HANDLER_TTL, LEDGER_KEY } from '../../functions/adapters/incident-ledger';
import { CAUSES as FUNCTION_CAUSES, SEVERITIES as FUNCTION_SEVERITIES } from '../../functions/core/taxonomy';
import {
  CAUSES,
  LEDGER_PARTITION_KEY,
  LEDGER_TTL_ATTRIBUTE,
  NETWORK_CHECK_EC2_ACTIONS,
  SEVERITIES,
  StoppedTaskDoctor,
  type StoppedTaskDoctorProps,
} from '../../infra/constructs/stopped-task-doctor';
import { NO_BUNDLING, scrubbed, synthesize } from '../helpers/cdk';

/** The construct alone in a stack, as a team would add it to its own app. */
function doctorTemplate(props: StoppedTaskDoctorProps = {}, setup?: (stack: Stack) => Partial<StoppedTaskDoctorProps>) {
  const stack = new Stack(new App({ context: NO_BUNDLING }), 'Team');
  new StoppedTaskDoctor(stack, 'Doctor', { ...props, ...setup?.(stack) });
  return Template.fromStack(stack);
}

const checker = synthesize().checker;

function statements(template: Template): Array<Record<string, unknown>> {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  return policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>) ?? []);
}

describe('checker stack: the function', () => {
  it('runs the handler bundle on nodejs22.x, arm64, with source maps, tracing, a 60 s timeout and reserved concurrency', () => {
    checker.resourceCountIs('AWS::Lambda::Function', 1);
    checker.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 512,
      ReservedConcurrentExecutions: 5,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^DoctorLogGroup') } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          DOCTOR_SNS_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^DoctorAlertTopic') },
          DOCTOR_SNS_FORMAT: 'text',
          DOCTOR_SLACK_WEBHOOK_SECRET_ARN: { Ref: Match.stringLikeRegexp('^DoctorSlackWebhookSecret') },
          DOCTOR_LEDGER_TABLE: { Ref: Match.stringLikeRegexp('^DoctorLedger') },
          DOCTOR_DEDUPE_WINDOW_MINUTES: '60',
        },
      },
    });
  });

  it('keeps its logs for a month by default', () => {
    checker.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('retries a failed invocation twice, then sends it to the dead-letter queue', () => {
    checker.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DoctorDeadLetterQueue'), 'Arn'] } },
      },
    });
  });

  it('passes alert settings through as DOCTOR_* variables', () => {
    const template = synthesize({
      snsFormat: 'chatbot',
      dedupeWindowMinutes: '30',
      alertCauses: 'network,permission',
      minSeverity: 'high',
    }).checker;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DOCTOR_SNS_FORMAT: 'chatbot',
          DOCTOR_DEDUPE_WINDOW_MINUTES: '30',
          DOCTOR_ALERT_CAUSES: 'network,permission',
          DOCTOR_MIN_SEVERITY: 'high',
        }),
      },
    });
  });

  it('reserves no concurrency when told none (accounts whose quota is still 10)', () => {
    const template = synthesize({ reservedConcurrency: 'none' }).checker;
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.absent() });
  });
});

describe('checker stack: the EventBridge rule', () => {
  it('sends every stopped ECS task to the function, with retries and a dead-letter queue', () => {
    checker.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { lastStatus: ['STOPPED'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DoctorFunction'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DoctorDeadLetterQueue'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it('matches only the named clusters (names in this account and Region, ARNs as given)', () => {
    const template = synthesize({ clusters: 'prod,arn:aws:ecs:eu-west-1:111122223333:cluster/batch' }).checker;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: {
          lastStatus: ['STOPPED'],
          clusterArn: [arnOf('cluster/prod'), 'arn:aws:ecs:eu-west-1:111122223333:cluster/batch'],
        },
      },
    });
  });

  it('leaves out excluded clusters with anything-but', () => {
    const template = synthesize({ excludeClusters: ['arn:aws:ecs:eu-west-1:111122223333:cluster/sandbox'] }).checker;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: { clusterArn: [{ 'anything-but': ['arn:aws:ecs:eu-west-1:111122223333:cluster/sandbox'] }] },
      },
    });
  });
});

describe('checker stack: topic, secret, ledger, queue', () => {
  it('creates a topic that refuses publishers without TLS', () => {
    checker.resourceCountIs('AWS::SNS::Topic', 1);
    checker.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates the Slack secret holding {"url": ""}, the placeholder the function skips until it is set', () => {
    checker.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: '{"url":""}' });
  });

  it('uses an existing topic and secret when given their ARNs, and creates neither', () => {
    const template = synthesize({
      alertTopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:platform-alerts',
      slackWebhookSecretArn: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
    }).checker;
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DOCTOR_SNS_TOPIC_ARN: 'arn:aws:sns:ap-northeast-1:123456789012:platform-alerts',
          DOCTOR_SLACK_WEBHOOK_SECRET_ARN:
            'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
        }),
      },
    });
    expect(statements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-AbCdEf',
      }),
    );
  });

  it('grants a secret named without its random suffix by matching the suffix', () => {
    const template = synthesize({
      slackWebhookSecretArn: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack',
    }).checker;
    expect(statements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:doctor/slack-??????',
      }),
    );
  });

  it('has no Slack secret and no Slack variable with slack=false', () => {
    const template = synthesize({ slack: 'false' }).checker;
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DOCTOR_SLACK_WEBHOOK_SECRET_ARN: Match.absent() }) },
    });
    expect(JSON.stringify(statements(template))).not.toContain('secretsmanager');
  });

  it('keeps the ledger the handler expects: on-demand, key pk, TTL expiresAt, point-in-time recovery', () => {
    expect([LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE]).toEqual([LEDGER_KEY, HANDLER_TTL]);
    checker.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('keeps dead letters encrypted for 14 days, and lets only the rule send to the queue', () => {
    checker.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
    });
    checker.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: {
                'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^DoctorTaskStoppedRule'), 'Arn'] },
              },
            },
          }),
        ]),
      },
    });
  });
});

describe('checker stack: alarms', () => {
  it.each([
    ['function errors', { Namespace: 'AWS/Lambda', MetricName: 'Errors' }],
    ['dead-lettered events', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' }],
    ['rule delivery failures', { Namespace: 'AWS/Events', MetricName: 'FailedInvocations' }],
  ])('alarms on %s at the first one, notifying the alert topic', (_, metric) => {
    checker.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^DoctorAlertTopic') }],
    });
  });

  it('notifies another topic when given one', () => {
    const template = doctorTemplate({}, (stack) => ({ alarmTopic: new Topic(stack, 'Ops') }));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
  });
});

describe('checker stack: least privilege', () => {
  it('grants exactly the calls the function makes, each on the narrowest resource IAM allows', () => {
    expect(statements(checker)).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DoctorLogGroup/), 'Arn'] },
      },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
      {
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DoctorDeadLetterQueue/), 'Arn'] },
      },
      { Sid: 'NetworkCheckReads', Action: [...NETWORK_CHECK_EC2_ACTIONS], Effect: 'Allow', Resource: '*' },
      { Sid: 'TaskDefinitionReads', Action: 'ecs:DescribeTaskDefinition', Effect: 'Allow', Resource: '*' },
      {
        Sid: 'ServiceAndInstanceReads',
        Action: ['ecs:DescribeServices', 'ecs:DescribeContainerInstances'],
        Effect: 'Allow',
        Resource: [arnOf('service/*/*'), arnOf('container-instance/*/*')],
      },
      {
        Sid: 'Ledger',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DoctorLedger/), 'Arn'] },
      },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^DoctorAlertTopic/) } },
      {
        Sid: 'SlackWebhookSecret',
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: { Ref: expect.stringMatching(/^DoctorSlackWebhookSecret/) },
      },
    ]);
    // No managed policies: the role has only the statements above.
    checker.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('grants exactly the EC2 Describe calls the network check makes', () => {
    const adapters = ['ec2-network.ts', 'network-facts-reader.ts'].map((f) =>
      readFileSync(new URL(`../../functions/adapters/${f}`, import.meta.url), 'utf8'),
    );
    const used = new Set(adapters.flatMap((source) => [...source.matchAll(/'(Describe[A-Za-z]+)'/g)].map((m) => m[1])));
    const ec2Used = [...used].filter(
      (call) => !['DescribeTaskDefinition', 'DescribeServices', 'DescribeContainerInstances'].includes(call as string),
    );
    expect(ec2Used.map((call) => `ec2:${call}`).sort()).toEqual([...NETWORK_CHECK_EC2_ACTIONS].sort());
  });

  it('scopes service and container-instance reads to the watched clusters', () => {
    const template = synthesize({ clusters: 'prod' }).checker;
    expect(statements(template)).toContainEqual(
      expect.objectContaining({
        Sid: 'ServiceAndInstanceReads',
        Resource: [arnOf('service/prod/*'), arnOf('container-instance/prod/*')],
      }),
    );
  });

  it('lets a customer-managed key decrypt an existing secret', () => {
    const template = doctorTemplate({}, (stack) => {
      const key = new Key(stack, 'Key');
      return { slackWebhookSecret: new Secret(stack, 'Hook', { encryptionKey: key }) };
    });
    expect(statements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      }),
    );
  });
});

describe('StoppedTaskDoctor props', () => {
  it('offers exactly the causes and severities the function knows', () => {
    expect(CAUSES).toEqual(FUNCTION_CAUSES);
    expect(SEVERITIES).toEqual(FUNCTION_SEVERITIES);
  });

  it.each([
    [{ dedupeWindow: Duration.seconds(30) }, /dedupeWindow must be a whole number of minutes from 1 to 10080/],
    [{ dedupeWindow: Duration.days(8) }, /got 11520/],
    [{ reservedConcurrency: 0 }, /reservedConcurrency must be a whole number of at least 1/],
    [{ clusters: ['prod cluster'] }, /"prod cluster" is not an ECS cluster name or ARN/],
  ] as Array<[StoppedTaskDoctorProps, RegExp]>)('refuses %o, saying what is wrong', (props, message) => {
    expect(() => doctorTemplate(props)).toThrow(message);
  });

  it('refuses a secret with slack turned off', () => {
    expect(() =>
      doctorTemplate({ slack: false }, (stack) => ({ slackWebhookSecret: new Secret(stack, 'Hook') })),
    ).toThrow(/slackWebhookSecret was given but slack is false/);
  });
});

describe('checker stack: snapshot', () => {
  it('matches the reviewed template (asset hashes scrubbed)', () => {
    expect(scrubbed(checker)).toMatchSnapshot();
  });
});

function arnOf(resource: string) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':ecs:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  };
}
