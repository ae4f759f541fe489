import type { AlertPolicy } from './diagnosis';
import { DoctorError } from './errors';
import { CAUSES, type Cause, SEVERITIES, type Severity } from './taxonomy';

/**
 * How the Lambda function is set up, read once at cold start from its environment
 * variables (the CDK construct sets them). No secret lives here: the Slack webhook URL is
 * read from Secrets Manager by its ARN.
 */
export interface DoctorConfig {
  /** `DOCTOR_SNS_TOPIC_ARN`: the topic alerts are published to; null for none. */
  readonly snsTopicArn: string | null;
  /** `DOCTOR_SNS_FORMAT`: `text` (subject and readable body) or `chatbot` (the Amazon Q Developer custom notification JSON). */
  readonly snsFormat: SnsFormat;
  /** `DOCTOR_SLACK_WEBHOOK_SECRET_ARN`: the Secrets Manager secret holding the incoming-webhook URL; null for no Slack. */
  readonly slackWebhookSecretArn: string | null;
  /** `DOCTOR_ALERT_CAUSES` and `DOCTOR_MIN_SEVERITY`: which diagnoses alert. */
  readonly policy: AlertPolicy;
  /** `DOCTOR_DEDUPE_WINDOW_MINUTES`: repeats of an incident inside this window are counted, not sent. */
  readonly dedupeWindowMs: number;
  /** `DOCTOR_LEDGER_TABLE`: the DynamoDB table of incidents and events; null disables storm control. */
  readonly ledgerTable: string | null;
  /** `DOCTOR_CLUSTERS`: only these clusters (names) alert; null for all. */
  readonly clusters: readonly string[] | null;
  /** `DOCTOR_EXCLUDE_CLUSTERS`: these clusters never alert. */
  readonly excludeClusters: readonly string[];
}

export type SnsFormat = 'text' | 'chatbot';

/** An environment variable with a value the function cannot run with; names the variable, never echoes a secret. */
export class ConfigError extends DoctorError {
  override readonly name: string = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

/** Defaults that apply when a variable is unset or empty. */
export const CONFIG_DEFAULTS = {
  snsFormat: 'text',
  dedupeWindowMinutes: 60,
  minSeverity: 'info',
} as const;

/** An SNS topic ARN; the first group is its region. */
export const SNS_TOPIC_ARN = /^arn:aws[\w-]*:sns:([a-z0-9-]+):\d{12}:[\w-]{1,256}(\.fifo)?$/;
const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const TABLE_NAME = /^[\w.-]{3,255}$/;
const CLUSTER_NAME = /^[\w-]{1,255}$/;
const WEBHOOK_URL = /hooks\.slack(-gov)?\.com\//i;

/**
 * Reads and validates the configuration. Unset and empty variables take their defaults.
 * @throws ConfigError naming the first variable that is wrong and what it accepts.
 */
export function readConfig(env: Readonly<Record<string, string | undefined>>): DoctorConfig {
  // A webhook URL is a credential: it belongs in Secrets Manager, not in the function's
  // configuration, where anyone with lambda:GetFunctionConfiguration can read it.
  for (const [name, value] of Object.entries(env)) {
    if (value && WEBHOOK_URL.test(value))
      throw new ConfigError(
        name,
        'holds a Slack webhook URL; store it in a Secrets Manager secret and set DOCTOR_SLACK_WEBHOOK_SECRET_ARN to the secret ARN instead',
      );
  }
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const snsTopicArn = matching(
    get,
    'DOCTOR_SNS_TOPIC_ARN',
    SNS_TOPIC_ARN,
    'an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)',
  );
  const slackWebhookSecretArn = matching(
    get,
    'DOCTOR_SLACK_WEBHOOK_SECRET_ARN',
    SECRET_ARN,
    'a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)',
  );
  const ledgerTable = matching(
    get,
    'DOCTOR_LEDGER_TABLE',
    TABLE_NAME,
    'a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)',
  );
  const snsFormat = oneOf(get, 'DOCTOR_SNS_FORMAT', ['text', 'chatbot'] as const) ?? CONFIG_DEFAULTS.snsFormat;
  const minSeverity = oneOf(get, 'DOCTOR_MIN_SEVERITY', SEVERITIES) ?? CONFIG_DEFAULTS.minSeverity;
  return {
    snsTopicArn,
    snsFormat,
    slackWebhookSecretArn,
    policy: { causes: alertCauses(get('DOCTOR_ALERT_CAUSES')), minSeverity: minSeverity as Severity },
    dedupeWindowMs: windowMinutes(get('DOCTOR_DEDUPE_WINDOW_MINUTES')) * 60_000,
    ledgerTable,
    clusters: clusterList(get, 'DOCTOR_CLUSTERS'),
    excludeClusters: clusterList(get, 'DOCTOR_EXCLUDE_CLUSTERS') ?? [],
  };
}

/** Whether stops in this cluster (a name or an ARN) may alert under the allow and deny lists. */
export function clusterAlerts(
  config: Pick<DoctorConfig, 'clusters' | 'excludeClusters'>,
  cluster: string | null,
): boolean {
  const name = cluster?.split('/').pop() ?? null;
  if (name && config.excludeClusters.includes(name)) return false;
  if (!config.clusters) return true;
  return name !== null && config.clusters.includes(name);
}

function matching(
  get: (name: string) => string | undefined,
  name: string,
  pattern: RegExp,
  what: string,
): string | null {
  const value = get(name);
  if (value === undefined) return null;
  if (!pattern.test(value)) throw new ConfigError(name, `expected ${what}, got "${value}"`);
  return value;
}

function oneOf<T extends string>(
  get: (name: string) => string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = get(name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** `all`, or a comma-separated list of causes; the default is every cause but `expected`. */
function alertCauses(value: string | undefined): ReadonlySet<Cause> {
  if (value === undefined) return new Set(CAUSES.filter((c) => c !== 'expected'));
  if (value === 'all') return new Set(CAUSES);
  const causes = value
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const unknown = causes.filter((c) => !(CAUSES as readonly string[]).includes(c));
  if (unknown.length > 0 || causes.length === 0)
    throw new ConfigError(
      'DOCTOR_ALERT_CAUSES',
      `expected "all" or a comma-separated list of ${CAUSES.join(', ')}; ${unknown.length > 0 ? `unknown: ${unknown.join(', ')}` : 'the list is empty'}`,
    );
  return new Set(causes as Cause[]);
}

function windowMinutes(value: string | undefined): number {
  if (value === undefined) return CONFIG_DEFAULTS.dedupeWindowMinutes;
  const minutes = Number(value);
  // One week at most: the ledger keeps incidents for twice the window.
  if (!/^\d+$/.test(value) || minutes < 1 || minutes > 10_080)
    throw new ConfigError('DOCTOR_DEDUPE_WINDOW_MINUTES', `expected whole minutes from 1 to 10080, got "${value}"`);
  return minutes;
}

function clusterList(get: (name: string) => string | undefined, name: string): string[] | null {
  const value = get(name);
  if (value === undefined) return null;
  const clusters = value
    .split(',')
    .map((c) => c.trim().split('/').pop() ?? '')
    .filter(Boolean);
  const bad = clusters.find((c) => !CLUSTER_NAME.test(c));
  if (bad !== undefined || clusters.length === 0)
    throw new ConfigError(
      name,
      `expected a comma-separated list of cluster names or ARNs${bad !== undefined ? `; "${bad}" is not a cluster name` : ''}`,
    );
  return clusters;
}
