import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../functions/catalog/catalog';
import { classify } from '../../functions/core/classify';
import type { Cause } from '../../functions/core/taxonomy';

/**
 * Every message heading in AWS's stopped-task troubleshooting pages
 * (../shared/reference/ecs-stopped-task-error-messages.md §2.3, numbered as there), with
 * AWS's `{{placeholders}}` filled in, and the cause the AWS page gives for it.
 */
const DOCUMENTED: ReadonlyArray<readonly [string, string, Cause, string?]> = [
  [
    'T1',
    "Unexpected EC2 error while attempting to Create Network Interface with public IP assignment enabled in subnet 'subnet-0abc1234def567890",
    'capacity',
  ],
  ['T2', 'InternalError: ENI attachment timed out', 'platform'],
  ['T3', 'The selected task definition is not compatible with the selected compute strategy', 'task-definition'],
  ['T4', 'Unable to attach network interface to unused device index', 'capacity'],
  ['T5', 'AGENT', 'platform'],
  [
    'R1',
    'The task cannot pull registry authentication from Amazon ECR. There is a connection issue between the task and Amazon ECR. Check your task network configuration.',
    'network',
  ],
  [
    'R2',
    "The task can't download the environment variable files from Amazon S3. There is a connection issue between the task and Amazon S3. Check your task network configuration.",
    'network',
  ],
  [
    'R3',
    'The task cannot pull secrets from AWS Systems Manager Parameter Store. Check your network connection between the task and AWS Systems Manager.',
    'network',
  ],
  [
    'R4',
    'The task can’t pull secrets from AWS Secrets Manager. There is a connection issue between the task and Secrets Manager. Check your task network configuration.',
    'network',
  ],
  // R5's page lists three causes; the message itself asks whether the secret exists.
  [
    'R5',
    "The task can’t pull the secret from Secrets Manager. The task can't retrieve the secret with ARN ‘arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf' from Secrets Manager. Check whether the secret exists in the specified Region.",
    'not-found',
  ],
  [
    'R6',
    'pull command failed: unable to pull secrets or registry auth Check your task network configuration.',
    'network',
  ],
  [
    'R7',
    'The task cannot find the Amazon CloudWatch log group defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your network configuration.',
    'network',
  ],
  ['R8', 'failed to initialize logging driver', 'not-found'],
  // R9's page lists configuration, permission and network causes; the catalog reads the network for it.
  ['R9', 'failed to invoke EFS utils commands to set up EFS volumes', 'platform'],
  [
    'N1',
    "The task can't retrieve the secret with ARN 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf' from AWS Secrets Manager. Check whether the secret exists in the specified Region.",
    'not-found',
  ],
  ['S1', 'Your Spot Task was interrupted.', 'expected', 'SpotInterruption'],
  ['S2', 'Your Spot Task was interrupted.', 'expected', 'TerminationNotice'],
  ['I1', 'InternalError: unexpected error', 'platform'],
  ['O1', 'OutOfMemoryError: container killed due to memory usage', 'application'],
  ['C1', 'ContainerRuntimeError: failed to start container', 'platform'],
  [
    'C2',
    'ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: context deadline exceeded',
    'platform',
  ],
  ['C3', 'CannotStartContainerError: failed to get container status: ttrpc: closed', 'platform'],
  ['C4', 'CannotStopContainerError: failed sending SIGTERM to container', 'platform'],
  ['C5', 'CannotInspectContainerError: container not found', 'platform'],
  ['C6', 'CannotCreateVolumeError: failed to create volume', 'platform'],
  [
    'C7',
    'CannotCreateContainerError: API error (500): devmapper: Thin Pool has 4350 free data blocks which is less than minimum required 4454 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior',
    'capacity',
  ],
  [
    'P1',
    'The task can’t pull the image. Check that the role has the permissions to pull images from the registry.',
    'permission',
  ],
  [
    'P2',
    'The task cannot pull ‘web’ from the Amazon ECR repository ‘111122223333.dkr.ecr.us-east-1.amazonaws.com/web’. There is a connection issue between the task and Amazon ECR. Check your task network configuration.',
    'network',
  ],
  ['P3', 'The task can’t pull the image. Check your network configuration', 'network'],
  [
    'P4',
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref',
    'not-found',
  ],
  [
    'P5',
    'API error (500): Get https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection',
    'network',
  ],
  ['P6', 'CannotPullContainerError: API error', 'network'],
  [
    'P7',
    'CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob111111111: no space left on device',
    'capacity',
  ],
  ['P8', 'ERROR: toomanyrequests: Too Many Requests or You have reached your pull rate limit.', 'capacity'],
  [
    'P9',
    'Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for connection',
    'network',
  ],
  [
    'P10',
    'ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: unexpected status code',
    'platform',
  ],
  ['P11', 'CannotPullContainerError: pull access denied', 'not-found'],
  ['P12', 'pull command failed: panic: runtime error: invalid memory address or nil pointer dereference', 'network'],
  ['P13', 'CannotPullContainerError: error pulling image configuration', 'network'],
  ['P14', 'CannotPullContainerError: Context canceled', 'network'],
];

const catalog = loadCatalog();

describe('documented AWS stop messages', () => {
  // The reference counts 39, but its own per-category figures add up to 40 (Spot has two headings).
  it('covers every documented heading', () => {
    expect(new Set(DOCUMENTED.map(([id]) => id)).size).toBe(40);
  });

  it.each(DOCUMENTED)('%s classifies to the cause AWS gives', (_id, text, cause, stopCode) => {
    const result = classify({ stoppedReason: text, stopCode, containers: [] }, catalog);
    expect(result.cause).toBe(cause);
    expect(result.patternId).not.toBeNull();
  });
});
