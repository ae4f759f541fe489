import type { Catalog } from '../catalog';
import { type Classification, classify } from '../classify';
import { buildDiagnosis, type DiagnoseOptions, type Diagnosis } from '../diagnosis';
import type { StoppedTask } from '../stopped-task';
import type { NetworkFacts } from './facts';
import { checkNetwork } from './rules';

/**
 * Classifies a stop and, when the cause can be the network and facts about the task's
 * network are at hand, checks them. Facts recorded for another subnet are not used: the
 * diagnosis says so instead of judging the wrong network.
 */
export function diagnoseWithFacts(
  task: StoppedTask,
  catalog: Catalog,
  facts: NetworkFacts | undefined,
  options: Omit<DiagnoseOptions, 'network'> = {},
): Diagnosis {
  return diagnoseClassified(task, classify(task, catalog), facts, options);
}

/** As {@link diagnoseWithFacts}, for a stop already classified (to decide whether facts are worth reading). */
export function diagnoseClassified(
  task: StoppedTask,
  classification: Classification,
  facts: NetworkFacts | undefined,
  options: Omit<DiagnoseOptions, 'network'> = {},
): Diagnosis {
  if (!facts || !classification.inspectNetwork) return buildDiagnosis(task, classification, options);
  const taskSubnet = task.eni?.subnetId;
  if (taskSubnet && facts.task.subnetId && taskSubnet !== facts.task.subnetId) {
    return buildDiagnosis(task, classification, {
      ...options,
      networkUnavailable: `the facts describe subnet ${facts.task.subnetId}, but the task ran in ${taskSubnet}`,
    });
  }
  return buildDiagnosis(task, classification, { ...options, network: checkNetwork(task, classification, facts) });
}
