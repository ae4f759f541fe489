/**
 * The closed vocabularies of the product. These strings are part of the JSON contract
 * (DESIGN.md "Contracts"): they never change without a major version.
 */

/** Why a task stopped, in the product's taxonomy. */
export const CAUSES = [
  'network',
  'permission',
  'not-found',
  'task-definition',
  'capacity',
  'application',
  'platform',
  'expected',
  'unknown',
] as const;
export type Cause = (typeof CAUSES)[number];

/** How urgently a stop needs a human; `info` is for routine stops. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Ranks a severity: higher is more urgent. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

/** ECS `stopCode` values (API_Task). Unknown future values are kept as plain strings. */
export const STOP_CODES = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
] as const;

/**
 * VPC endpoint short names (`com.amazonaws.<region>.<name>`) plus `internet` for
 * destinations that no endpoint can serve (Docker Hub, ghcr.io, cross-region ECR).
 */
export const ENDPOINTS = [
  'ecr.api',
  'ecr.dkr',
  's3',
  'logs',
  'secretsmanager',
  'ssm',
  'ssmmessages',
  'ec2messages',
  'kms',
  'ecs',
  'ecs-agent',
  'ecs-telemetry',
  'sts',
  'xray',
  'elasticfilesystem',
  'internet',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Outcome of one network rule (closed set: not knowing is `unknown`, never `pass`). */
export const FINDING_STATUSES = ['fail', 'warn', 'pass', 'unknown'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
