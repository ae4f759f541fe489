import { Duration } from 'aws-cdk-lib';
import { FlowLogTrafficType } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ReferencePrivateVpcProps } from './constructs/reference-private-vpc';
import { CAUSES, SEVERITIES } from './constructs/stopped-task-doctor';
import type { CheckerStackProps } from './stacks/checker-stack';

/** A context value the app cannot use; says which key, what it got and what it takes. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

type Read = (key: string) => unknown;

/** The checker stack's props from context. */
export function checkerPropsFrom(read: Read): CheckerStackProps {
  const topicArn = text(read, 'alertTopicArn');
  const secretArn = text(read, 'slackWebhookSecretArn');
  const slack = flag(read, 'slack');
  if (slack === false && secretArn)
    throw new ContextError('slack=false and slackWebhookSecretArn are both set: drop one of them');
  if (topicArn && !/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/.test(topicArn))
    throw new ContextError(
      `alertTopicArn "${topicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`,
    );
  if (secretArn && !/^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(secretArn))
    throw new ContextError(
      `slackWebhookSecretArn "${secretArn}" is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`,
    );
  const reserved = read('reservedConcurrency');
  const retention = integer(read, 'logRetentionDays');
  if (retention !== undefined && !(Object.values(RetentionDays) as unknown[]).includes(retention))
    throw new ContextError(
      `logRetentionDays must be one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, …, 3653), got ${retention}`,
    );
  const windowMinutes = integer(read, 'dedupeWindowMinutes');
  const doctor = {
    ...optional('clusters', list(read, 'clusters')),
    ...optional('excludeClusters', list(read, 'excludeClusters')),
    ...optional('snsFormat', oneOf(read, 'snsFormat', ['text', 'chatbot'] as const)),
    ...optional('slack', slack),
    ...optional('dedupeWindow', windowMinutes !== undefined ? Duration.minutes(windowMinutes) : undefined),
    ...optional('alertCauses', listOf(read, 'alertCauses', CAUSES)),
    ...optional('minSeverity', oneOf(read, 'minSeverity', SEVERITIES)),
    ...(reserved === undefined
      ? {}
      : reserved === 'none'
        ? { reservedConcurrency: undefined }
        : { reservedConcurrency: integer(read, 'reservedConcurrency') }),
    ...optional('logRetention', retention as RetentionDays | undefined),
    ...optional('patternDirs', list(read, 'patternDirs')),
  };
  return {
    doctor,
    ...optional('alertTopicArn', topicArn),
    ...optional('slackWebhookSecretArn', secretArn),
  };
}

/** The reference VPC's props from context. */
export function referenceVpcPropsFrom(read: Read): ReferencePrivateVpcProps & { sampleService?: boolean } {
  const cidr = text(read, 'vpcCidr');
  if (cidr && !/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/.test(cidr))
    throw new ContextError(`vpcCidr must be an IPv4 CIDR from /16 to /24, got "${cidr}"`);
  const traffic = oneOf(read, 'flowLogTraffic', ['ALL', 'ACCEPT', 'REJECT'] as const);
  return {
    ...optional('cidr', cidr),
    ...optional('endpointSubnets', flag(read, 'endpointSubnets')),
    ...optional('ec2Capacity', flag(read, 'ec2Capacity')),
    ...optional('endpointIngress', oneOf(read, 'endpointIngress', ['vpc-cidr', 'task-security-group'] as const)),
    ...optional('flowLogTraffic', traffic ? FlowLogTrafficType[traffic] : undefined),
    ...optional('sampleService', flag(read, 'sampleService')),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function text(read: Read, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ContextError(`${key} must be a string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function flag(read: Read, key: string): boolean | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(`${key} must be true or false, got ${JSON.stringify(value)}`);
}

function integer(read: Read, key: string): number | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 1)
    throw new ContextError(`${key} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
  return number;
}

function list(read: Read, key: string): string[] | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (!items || items.some((item) => typeof item !== 'string'))
    throw new ContextError(
      `${key} must be a comma-separated list (or a JSON array of strings), got ${JSON.stringify(value)}`,
    );
  const cleaned = (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
  return cleaned.length > 0 ? cleaned : undefined;
}

function oneOf<T extends string>(read: Read, key: string, allowed: readonly T[]): T | undefined {
  const value = text(read, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new ContextError(`${key} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function listOf<T extends string>(read: Read, key: string, allowed: readonly T[]): T[] | undefined {
  const values = list(read, key);
  const bad = values?.filter((value) => !(allowed as readonly string[]).includes(value)) ?? [];
  if (bad.length > 0) throw new ContextError(`${key}: ${bad.join(', ')} not one of ${allowed.join(', ')}`);
  return values as T[] | undefined;
}
