import type { Classification } from '../classify';
import { registryOf } from '../params';
import type { StoppedTask } from '../stopped-task';
import { ENDPOINTS, type Endpoint } from '../taxonomy';
import type { TaskDefinitionFacts } from './facts';

/** One thing the task needs from its network, and why. */
export interface Requirement {
  readonly endpoint: Endpoint;
  readonly reasons: readonly string[];
  /** The step that failed depends on it: its findings come first. */
  readonly failedStep: boolean;
  /** The task cannot start without it (ECS Exec's ssmmessages, for one, is only needed later). */
  readonly neededToStart: boolean;
}

/** Endpoints a task uses only once it runs: their absence cannot be why it failed to start. */
const AFTER_START: ReadonlySet<Endpoint> = new Set<Endpoint>(['ssmmessages']);

/**
 * The interface endpoints a task can need: every endpoint name but the s3 gateway, the
 * internet path and `elasticfilesystem` (an EFS mount goes to the file system's mount
 * target, which the EFS rules check, not to the EFS API endpoint).
 */
export const INTERFACE_ENDPOINTS: ReadonlySet<Endpoint> = new Set<Endpoint>(
  ENDPOINTS.filter((endpoint) => endpoint !== 's3' && endpoint !== 'internet' && endpoint !== 'elasticfilesystem'),
);

/**
 * Works out what the stopped task needed from its subnet, from the event, the task
 * definition (when it could be read) and the classification. Sources: ECR and ECS VPC
 * endpoint guides (reference/vpc-endpoints-and-dns.md) and seed 000 (PV 1.3.0 needs ecr.dkr
 * and s3; 1.4.0 adds ecr.api and fetches secrets and logs over the task's own ENI).
 */
export function requirementsOf(
  task: StoppedTask,
  taskDefinition: TaskDefinitionFacts | null,
  classification: Pick<Classification, 'endpoints'>,
  region: string,
): Requirement[] {
  const needs = new Map<Endpoint, { reasons: string[]; failedStep: boolean }>();
  const need = (endpoint: Endpoint, reason: string, failedStep = false): void => {
    const entry = needs.get(endpoint) ?? { reasons: [], failedStep: false };
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    entry.failedStep ||= failedStep;
    needs.set(endpoint, entry);
  };

  const launchType = task.launchType ?? (taskDefinition?.requiresCompatibilities?.includes('EC2') ? 'EC2' : 'FARGATE');
  const fargate = launchType === 'FARGATE';
  // Fargate 1.3.0 and earlier fetch registry auth, secrets and logs through the platform, not the task ENI.
  const legacyFargate = fargate && /^1\.[0-3]\./.test(task.platformVersion ?? '');

  for (const endpoint of classification.endpoints) need(endpoint, 'the step that failed', true);

  const containers =
    taskDefinition?.containers ??
    task.containers
      .filter((c) => c.image)
      .map((c) => ({ name: c.name, image: c.image as string, secrets: [], environmentFiles: [] }));
  for (const container of containers) {
    const registry = registryOf(container.image);
    if (registry.kind === 'ecr' && registry.region === region) {
      need('ecr.dkr', `pull ${container.image}`);
      need('s3', `image layers of ${container.image} (ECR stores them in S3)`);
      if (!legacyFargate) need('ecr.api', `registry auth for ${container.image}`);
    } else {
      need(
        'internet',
        `pull ${container.image} (${registry.kind === 'ecr' ? `ECR in ${registry.region}` : registry.host}: no VPC endpoint serves it)`,
      );
    }
    if (legacyFargate) continue;
    for (const secret of container.secrets) {
      if (/^arn:aws[\w-]*:secretsmanager:/.test(secret)) need('secretsmanager', `secret ${secret}`);
      else need('ssm', `parameter ${secret}`);
    }
    if ('repositoryCredentials' in container && container.repositoryCredentials) {
      need('secretsmanager', `registry credentials ${container.repositoryCredentials}`);
    }
    if ('logDriver' in container && container.logDriver === 'awslogs')
      need('logs', `awslogs driver of ${container.name}`);
    for (const file of container.environmentFiles) need('s3', `environment file ${file}`);
  }
  if (task.enableExecuteCommand) need('ssmmessages', 'ECS Exec (enableExecuteCommand)');
  if (launchType === 'EC2') {
    // Container instances talk to ECS through these three (vpc-endpoints.html, seed 003).
    need('ecs-agent', 'the ECS agent on the container instance');
    need('ecs-telemetry', 'the ECS agent telemetry');
    need('ecs', 'the ECS agent registration');
  }
  return [...needs].map(([endpoint, { reasons, failedStep }]) => ({
    endpoint,
    reasons,
    failedStep,
    neededToStart: failedStep || !AFTER_START.has(endpoint),
  }));
}
