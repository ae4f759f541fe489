import { describe, expect, it } from 'vitest';
import { ConfigError, clusterAlerts, readConfig } from '../../functions/core/config';

const TOPIC = 'arn:aws:sns:ap-northeast-1:123456789012:ecs-stop-doctor';
const SECRET = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecs-stop-doctor/slack-AbCdEf';

function configError(env: Record<string, string>): ConfigError {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('readConfig accepted the environment');
}

describe('readConfig', () => {
  it('runs with no variables: no channel, no ledger, every cause but expected, a one-hour window', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      snsTopicArn: null,
      slackWebhookSecretArn: null,
      snsFormat: 'text',
      ledgerTable: null,
      dedupeWindowMs: 3_600_000,
      clusters: null,
      excludeClusters: [],
    });
    expect(config.policy.causes.has('network')).toBe(true);
    expect(config.policy.causes.has('expected')).toBe(false);
    expect(config.policy.minSeverity).toBe('info');
  });

  it('reads every variable, trimming spaces and treating empty values as unset', () => {
    const config = readConfig({
      DOCTOR_SNS_TOPIC_ARN: ` ${TOPIC} `,
      DOCTOR_SNS_FORMAT: 'chatbot',
      DOCTOR_SLACK_WEBHOOK_SECRET_ARN: SECRET,
      DOCTOR_ALERT_CAUSES: 'network, permission',
      DOCTOR_MIN_SEVERITY: 'high',
      DOCTOR_DEDUPE_WINDOW_MINUTES: '15',
      DOCTOR_LEDGER_TABLE: 'ecs-stop-doctor-ledger',
      DOCTOR_CLUSTERS: 'prod, arn:aws:ecs:ap-northeast-1:123456789012:cluster/web-ec2',
      DOCTOR_EXCLUDE_CLUSTERS: '',
    });
    expect(config).toMatchObject({
      snsTopicArn: TOPIC,
      snsFormat: 'chatbot',
      slackWebhookSecretArn: SECRET,
      dedupeWindowMs: 900_000,
      ledgerTable: 'ecs-stop-doctor-ledger',
      clusters: ['prod', 'web-ec2'],
      excludeClusters: [],
    });
    expect([...config.policy.causes]).toEqual(['network', 'permission']);
    expect(config.policy.minSeverity).toBe('high');
  });

  it('takes "all" causes, expected stops included', () => {
    expect(readConfig({ DOCTOR_ALERT_CAUSES: 'all' }).policy.causes.has('expected')).toBe(true);
  });

  it.each([
    [{ DOCTOR_SNS_TOPIC_ARN: 'my-topic' }, 'DOCTOR_SNS_TOPIC_ARN: expected an SNS topic ARN'],
    [
      { DOCTOR_SLACK_WEBHOOK_SECRET_ARN: TOPIC },
      'DOCTOR_SLACK_WEBHOOK_SECRET_ARN: expected a Secrets Manager secret ARN',
    ],
    [{ DOCTOR_SNS_FORMAT: 'json' }, 'DOCTOR_SNS_FORMAT: expected one of text, chatbot, got "json"'],
    [{ DOCTOR_MIN_SEVERITY: 'urgent' }, 'DOCTOR_MIN_SEVERITY: expected one of critical, high, medium, low, info'],
    [{ DOCTOR_ALERT_CAUSES: 'network,netwrok' }, 'DOCTOR_ALERT_CAUSES: expected "all" or a comma-separated list'],
    [{ DOCTOR_ALERT_CAUSES: ',' }, 'the list is empty'],
    [{ DOCTOR_DEDUPE_WINDOW_MINUTES: '0' }, 'DOCTOR_DEDUPE_WINDOW_MINUTES: expected whole minutes from 1 to 10080'],
    [{ DOCTOR_DEDUPE_WINDOW_MINUTES: '1.5' }, 'DOCTOR_DEDUPE_WINDOW_MINUTES'],
    [{ DOCTOR_LEDGER_TABLE: 'a' }, 'DOCTOR_LEDGER_TABLE: expected a DynamoDB table name'],
    [
      { DOCTOR_CLUSTERS: 'prod,bad name' },
      'DOCTOR_CLUSTERS: expected a comma-separated list of cluster names or ARNs; "bad name"',
    ],
  ])('rejects %j naming the variable', (env, message) => {
    expect(configError(env).message).toContain(message);
  });

  it('refuses a Slack webhook URL in any variable, without repeating it', () => {
    const url = 'https://hooks.slack.com/services/T0000/B0000/XXXXSECRET';
    const error = configError({ SLACK_WEBHOOK_URL: url });
    expect(error.variable).toBe('SLACK_WEBHOOK_URL');
    expect(error.message).toContain('store it in a Secrets Manager secret');
    expect(error.message).not.toContain('XXXXSECRET');
  });
});

describe('clusterAlerts', () => {
  const arn = (name: string) => `arn:aws:ecs:ap-northeast-1:123456789012:cluster/${name}`;

  it('lets every cluster alert by default', () => {
    expect(clusterAlerts(readConfig({}), arn('prod'))).toBe(true);
    expect(clusterAlerts(readConfig({}), null)).toBe(true);
  });

  it('keeps to the allow list and drops the deny list, by name or ARN', () => {
    const config = readConfig({ DOCTOR_CLUSTERS: 'prod,staging', DOCTOR_EXCLUDE_CLUSTERS: arn('staging') });
    expect(clusterAlerts(config, arn('prod'))).toBe(true);
    expect(clusterAlerts(config, 'prod')).toBe(true);
    expect(clusterAlerts(config, arn('staging'))).toBe(false);
    expect(clusterAlerts(config, arn('dev'))).toBe(false);
    expect(clusterAlerts(config, null)).toBe(false);
  });
});
