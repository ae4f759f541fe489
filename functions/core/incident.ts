import type { Classification } from './classify';
import type { StoppedTask } from './stopped-task';

/**
 * The incident a stop belongs to, for storm control: its cluster, its service (or task
 * group, or the task itself when it has neither) and the pattern that explained it. Repeats
 * are recognised from this key alone, before any network read, so a burst of stops of one
 * service costs no EC2 calls; the failing findings are reported with the alert that opens
 * the incident, not used to tell repeats apart.
 */
export function incidentKeyOf(task: StoppedTask, classification: Pick<Classification, 'patternId'>): string {
  const cluster = (task.clusterArn ?? task.cluster ?? 'unknown-cluster').split('/').pop();
  const scope = task.service
    ? `service:${task.service}`
    : (task.group ?? `task:${task.taskArn?.split('/').pop() ?? 'unknown'}`);
  const pattern = classification.patternId ?? `unmatched:${task.stopCode ?? 'no-stop-code'}`;
  return `${cluster}/${scope}/${pattern}`;
}
