import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { awsPorts } from '../adapters/aws-clients';
import { factsTargetOf, NetworkFactsReader } from '../adapters/network-facts-reader';
import { builtinPatternSources } from '../catalog/builtin-patterns';
import { compileCatalog } from '../core/catalog';
import { classify } from '../core/classify';
import type { Diagnosis } from '../core/diagnosis';
import { InputError } from '../core/errors';
import { diagnoseClassified } from '../core/network/diagnose-with-facts';
import type { NetworkFacts } from '../core/network/facts';
import { parseTaskStateChangeEvent } from '../core/stopped-task';

// Built once per container: the catalog is compiled and the AWS clients created at cold
// start; the reader's caches (VPC facts for a minute, task definitions for good) live as
// long as the container.
const logger = new Logger({ serviceName: 'ecs-stop-doctor' });
const catalog = compileCatalog(builtinPatternSources());
const reader = new NetworkFactsReader({ portsFor: awsPorts() });

/** Time kept back from the network check for diagnosing and logging before the function times out. */
const RESERVE_MS = 3_000;

/** What one invocation did; also what the log line says. */
export type HandlerResult =
  | { readonly outcome: 'diagnosed'; readonly diagnosis: Diagnosis }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly error: string };

/**
 * EventBridge target for "ECS Task State Change" events: diagnoses a stopped task, reading
 * its subnet and VPC live when the cause can be the network, and writes one structured log
 * line. Delivery (Slack/SNS) and storm control plug in here.
 */
export async function handler(event: EventBridgeEvent<string, unknown>, context?: Context): Promise<HandlerResult> {
  let parsed: ReturnType<typeof parseTaskStateChangeEvent>;
  try {
    parsed = parseTaskStateChangeEvent(event);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // A malformed event is logged with its id, never retried: retrying cannot fix it.
    logger.error('event rejected', { eventId: (event as { id?: unknown })?.id, error: error.message });
    return { outcome: 'rejected', error: error.message };
  }
  if ('ignored' in parsed) {
    logger.info('event ignored', { eventId: event.id, reason: parsed.ignored });
    return { outcome: 'ignored', reason: parsed.ignored };
  }
  const task = parsed.task;
  const classification = classify(task, catalog);
  let facts: NetworkFacts | undefined;
  let networkUnavailable = 'the event names no region';
  let reading: { rounds: number; calls: number } | undefined;
  const target = classification.inspectNetwork && task.region ? factsTargetOf(task, task.region) : undefined;
  if (typeof target === 'string') networkUnavailable = target;
  else if (target) {
    const remaining = context?.getRemainingTimeInMillis?.();
    const read = await reader.read(target, remaining ? { deadlineMs: remaining - RESERVE_MS } : {});
    facts = read.facts;
    reading = { rounds: read.rounds, calls: read.calls.length };
  }
  const diagnosis = diagnoseClassified(task, classification, facts, { networkUnavailable });
  logger.info('task diagnosed', {
    taskArn: diagnosis.taskArn,
    cause: diagnosis.cause,
    patternId: diagnosis.patternId,
    alert: diagnosis.alert,
    network: { status: diagnosis.network.status, ...reading },
    diagnosis,
  });
  return { outcome: 'diagnosed', diagnosis };
}
