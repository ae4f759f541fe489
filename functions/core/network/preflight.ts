import type { NetworkResult } from '../diagnosis';
import type { StoppedTask } from '../stopped-task';
import type { NetworkFacts } from './facts';
import { checkNetwork } from './rules';

/** A task that has not run yet: what `check` knows about the service or task definition to deploy. */
export interface PlannedTask {
  readonly subnetId: string;
  /** `FARGATE` or `EC2`; absent to take it from the task definition's requiresCompatibilities. */
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly enableExecuteCommand: boolean;
  readonly taskDefinitionArn?: string;
  readonly cluster?: string;
  readonly service?: string;
}

/**
 * The network check with no stop: every requirement of the task definition against the
 * subnet's facts, none singled out as the failed step. What a team runs before deploying.
 */
export function checkPlannedTask(planned: PlannedTask, facts: NetworkFacts): NetworkResult {
  const task: StoppedTask = {
    taskArn: null,
    region: facts.region,
    containers: [],
    enableExecuteCommand: planned.enableExecuteCommand,
    eni: { subnetId: planned.subnetId },
    ...(planned.launchType ? { launchType: planned.launchType } : {}),
    ...(planned.platformVersion ? { platformVersion: planned.platformVersion } : {}),
    ...(planned.taskDefinitionArn ? { taskDefinitionArn: planned.taskDefinitionArn } : {}),
    ...(planned.cluster ? { cluster: planned.cluster } : {}),
    ...(planned.service ? { service: planned.service } : {}),
  };
  return checkNetwork(task, { endpoints: [] }, facts);
}
