import { Logger } from '@aws-lambda-powertools/logger';
import type { EventBridgeEvent } from 'aws-lambda';
import { builtinPatternSources } from '../catalog/builtin-patterns';
import { compileCatalog } from '../core/catalog';
import { type Diagnosis, diagnose } from '../core/diagnosis';
import { InputError } from '../core/errors';
import { parseTaskStateChangeEvent } from '../core/stopped-task';

// Built once per container: the catalog is compiled at cold start, not per event.
const logger = new Logger({ serviceName: 'ecs-stop-doctor' });
const catalog = compileCatalog(builtinPatternSources());

/** What one invocation did; also what the log line says. */
export type HandlerResult =
  | { readonly outcome: 'diagnosed'; readonly diagnosis: Diagnosis }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly error: string };

/**
 * EventBridge target for "ECS Task State Change" events: diagnoses a stopped task and
 * writes one structured log line. Delivery (Slack/SNS) and live network checks plug in here.
 */
export async function handler(event: EventBridgeEvent<string, unknown>): Promise<HandlerResult> {
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
  const diagnosis = diagnose(parsed.task, catalog, { networkUnavailable: 'live network checks are not enabled yet' });
  logger.info('task diagnosed', {
    taskArn: diagnosis.taskArn,
    cause: diagnosis.cause,
    patternId: diagnosis.patternId,
    alert: diagnosis.alert,
    diagnosis,
  });
  return { outcome: 'diagnosed', diagnosis };
}
