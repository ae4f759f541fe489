import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { awsPorts, deliveryClients } from '../adapters/aws-clients';
import { DynamoIncidentLedger, type IncidentDecision, type IncidentLedgerPort } from '../adapters/incident-ledger';
import {
  type FactsReading,
  type FactsTarget,
  factsTargetOf,
  NetworkFactsReader,
} from '../adapters/network-facts-reader';
import { postToSlack, SlackDeliveryError } from '../adapters/slack-webhook';
import { SnsPublisher, type SnsPublisherPort } from '../adapters/sns-publisher';
import { WebhookNotSetError, WebhookSecret, type WebhookUrlSource } from '../adapters/webhook-secret';
import { builtinPatternSources } from '../catalog/builtin-patterns';
import type { AlertContext, Channel } from '../core/alert';
import { type Catalog, compileCatalog } from '../core/catalog';
import { classify } from '../core/classify';
import { ConfigError, clusterAlerts, type DoctorConfig, readConfig } from '../core/config';
import { type AlertPolicy, buildDiagnosis, type Diagnosis, shouldAlert } from '../core/diagnosis';
import { DoctorError, InputError } from '../core/errors';
import { incidentKeyOf } from '../core/incident';
import { diagnoseClassified } from '../core/network/diagnose-with-facts';
import type { NetworkFacts } from '../core/network/facts';
import { renderSlackMessage } from '../core/render/slack';
import { renderSnsMessage } from '../core/render/sns';
import { parseTaskStateChangeEvent } from '../core/stopped-task';

/** What the handler works with; the module builds the real ones, tests pass their own. */
export interface StoppedTaskDeps {
  readonly config: DoctorConfig;
  readonly catalog: Catalog;
  readonly network: { read(target: FactsTarget, options?: { deadlineMs?: number }): Promise<FactsReading> };
  /** Storm control; without it every alert-worthy stop alerts. */
  readonly ledger?: IncidentLedgerPort;
  readonly slack?: { readonly webhook: WebhookUrlSource; readonly post?: typeof postToSlack };
  readonly sns?: SnsPublisherPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default Date.now */
  readonly now?: () => number;
}

/** How an alert fared on its channels. */
export interface Delivery {
  readonly decision: 'alert' | 'not-alerted';
  readonly incidentKey: string | null;
  readonly sent: readonly Channel[];
  readonly failed: readonly ChannelFailure[];
  /** Channels not set up yet (the Slack secret still holds its placeholder): skipped, not failed. */
  readonly skipped?: readonly Channel[];
}

export interface ChannelFailure {
  readonly channel: Channel;
  readonly reason: string;
  /** Retrying cannot help (a deleted webhook, a bad payload…). */
  readonly permanent: boolean;
}

/** What one invocation did; also what its log line says. */
export type HandlerResult =
  | { readonly outcome: 'diagnosed'; readonly diagnosis: Diagnosis; readonly delivery: Delivery }
  | {
      readonly outcome: 'suppressed';
      readonly taskArn: string | null;
      readonly incidentKey: string;
      readonly count: number;
    }
  | { readonly outcome: 'duplicate'; readonly eventId: string }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly error: string };

/**
 * An alert that did not reach every channel. Thrown so the asynchronous invocation is
 * retried and then lands in the dead-letter queue; the ledger remembers the channels that
 * did get it, so a retry does not post twice.
 */
export class DeliveryError extends DoctorError {
  override readonly name: string = 'DeliveryError';
  constructor(readonly failures: readonly ChannelFailure[]) {
    super(`alert not delivered: ${failures.map((f) => `${f.channel}: ${f.reason}`).join('; ')}`);
  }
}

/**
 * The ledger holds a claim on this event with no decision recorded: another invocation is
 * handling it, or one failed before it could record its decision. Thrown so the
 * asynchronous invocation is retried later (then dead-lettered), never dropped as a duplicate.
 */
export class EventInFlightError extends DoctorError {
  override readonly name: string = 'EventInFlightError';
  constructor(readonly eventId: string) {
    super(`event ${eventId} is claimed in the ledger but its handling is not finished; retry later`);
  }
}

/** Time kept back at the end of the invocation for logging and the ledger. */
const RESERVE_MS = 2_000;
/** Time kept back from the network check for rendering and delivering the alert. */
const DELIVERY_MS = 8_000;
/** The budget when the invocation's remaining time is unknown (local runs). */
const DEFAULT_BUDGET_MS = 30_000;
/** Slack answers that mean the webhook itself is gone: read the secret again next time, it may have been rotated. */
const WEBHOOK_GONE = new Set([403, 404, 410]);
const NO_ALERTS: AlertPolicy = { causes: new Set(), minSeverity: 'critical' };

/**
 * The EventBridge target for "ECS Task State Change" events: parse → classify → ledger
 * (is this a new incident, a repeat, a duplicate event?) → the network check, only for a
 * new incident whose cause can be the network → render → deliver to Slack and SNS → one
 * log line and metrics. A malformed or ignored event never throws; an alert that could not
 * be delivered does (so it is retried, then dead-lettered), after logging why; so does an
 * event the ledger says another invocation claimed and has not finished.
 */
export function createStoppedTaskHandler(deps: StoppedTaskDeps) {
  const { config, catalog, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const channels: Channel[] = [
    ...(deps.slack ? (['slack'] as const) : []),
    ...(deps.sns && config.snsTopicArn ? (['sns'] as const) : []),
  ];
  const count = (name: string, dimension?: [string, string]) => {
    if (!dimension) return metrics.addMetric(name, MetricUnit.Count, 1);
    const single = metrics.singleMetric();
    single.addDimension(dimension[0], dimension[1]);
    single.addMetric(name, MetricUnit.Count, 1);
  };

  return async function handle(event: EventBridgeEvent<string, unknown>, context?: Context): Promise<HandlerResult> {
    const started = now();
    const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
    const deadline = started + remaining - RESERVE_MS;
    try {
      let parsed: ReturnType<typeof parseTaskStateChangeEvent>;
      try {
        parsed = parseTaskStateChangeEvent(event);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        // A malformed event is logged with its id, never retried: retrying cannot fix it.
        logger.error('event rejected', { eventId: (event as { id?: unknown })?.id, error: error.message });
        count('EventsRejected');
        return { outcome: 'rejected', error: error.message };
      }
      if ('ignored' in parsed) {
        logger.info('event ignored', { eventId: event.id, reason: parsed.ignored });
        return { outcome: 'ignored', reason: parsed.ignored };
      }
      const task = parsed.task;
      const classification = classify(task, catalog);
      count('Diagnoses', ['Cause', classification.cause]);
      const policy = clusterAlerts(config, task.clusterArn ?? task.cluster ?? null) ? config.policy : NO_ALERTS;
      if (!shouldAlert(classification, policy)) {
        const diagnosis = buildDiagnosis(task, classification, {
          policy,
          networkUnavailable: 'not read: this stop does not alert',
        });
        const delivery: Delivery = { decision: 'not-alerted', incidentKey: null, sent: [], failed: [] };
        logDiagnosis(logger, diagnosis, delivery);
        return { outcome: 'diagnosed', diagnosis, delivery };
      }

      // Storm control, before any network read: repeats and duplicates cost no EC2 call.
      const incidentKey = incidentKeyOf(task, classification);
      let decision: IncidentDecision = { kind: 'alert', suppressed: null };
      let pending: readonly Channel[] = channels;
      let decisionRecorded = false;
      let inFlight = false;
      const eventId = task.eventId;
      if (deps.ledger && eventId) {
        try {
          const claim = await deps.ledger.claimEvent(eventId, started);
          if (claim.kind === 'in-flight') inFlight = true;
          else if (claim.kind === 'duplicate') {
            logger.info('duplicate event', { eventId, taskArn: task.taskArn, incidentKey });
            count('DuplicateEvents');
            return { outcome: 'duplicate', eventId };
          }
          if (claim.kind === 'retry') {
            decision = claim.decision;
            pending = claim.pending.filter((c) => channels.includes(c));
            decisionRecorded = true;
          } else {
            decision = await deps.ledger.decide(incidentKey, started, config.dedupeWindowMs);
            await deps.ledger.recordDecision(eventId, decision, channels, started);
            decisionRecorded = true;
          }
        } catch (error) {
          // Fail open: a ledger outage must not silence an alert.
          logger.warn('ledger unavailable, alerting anyway', { incidentKey, eventId, error: messageOf(error) });
          count('LedgerErrors');
        }
      }
      if (inFlight && eventId) {
        // Outside the fail-open catch above: this is an answer from the ledger, not an outage.
        logger.warn('event in flight elsewhere, retry later', { eventId, taskArn: task.taskArn, incidentKey });
        throw new EventInFlightError(eventId);
      }
      if (decision.kind === 'suppress') {
        logger.info('repeat suppressed', {
          taskArn: task.taskArn,
          incidentKey,
          count: decision.count,
          cause: classification.cause,
          patternId: classification.patternId,
        });
        count('AlertsSuppressed');
        return { outcome: 'suppressed', taskArn: task.taskArn, incidentKey, count: decision.count };
      }

      let facts: NetworkFacts | undefined;
      let networkUnavailable = 'the event names no region';
      let reading: { rounds: number; calls: number } | undefined;
      const target = classification.inspectNetwork && task.region ? factsTargetOf(task, task.region) : undefined;
      if (typeof target === 'string') networkUnavailable = target;
      else if (target) {
        const read = await deps.network.read(target, { deadlineMs: Math.max(1_000, deadline - now() - DELIVERY_MS) });
        facts = read.facts;
        reading = { rounds: read.rounds, calls: read.calls.length };
      }
      const diagnosis = diagnoseClassified(task, classification, facts, { networkUnavailable, policy });
      if (classification.inspectNetwork) count('NetworkChecks', ['Outcome', diagnosis.network.status]);

      const alert: AlertContext = {
        incidentKey,
        ...(decision.suppressed ? { suppressed: decision.suppressed } : {}),
      };
      const outcomes = await Promise.all(pending.map((channel) => deliver(channel, diagnosis, alert, deadline)));
      const sent = pending.filter((_, i) => outcomes[i] === null);
      const skipped = pending.filter((_, i) => outcomes[i] === 'not-set');
      const failed = outcomes.filter((o): o is ChannelFailure => o !== null && o !== 'not-set');
      for (const channel of skipped)
        logger.warn('channel not set up, skipped', {
          channel,
          fix: 'put {"url": "https://hooks.slack.com/services/…"} in the Slack webhook secret',
        });
      if (deps.ledger && eventId) {
        try {
          if (!decisionRecorded && failed.length > 0)
            await deps.ledger.recordDecision(eventId, decision, channels, started);
          for (const channel of sent) await deps.ledger.recordDelivery(eventId, channel, now());
        } catch (error) {
          logger.warn('ledger unavailable, delivery not recorded', { incidentKey, eventId, error: messageOf(error) });
          count('LedgerErrors');
        }
      }
      for (const channel of sent) count('AlertsSent', ['Channel', channel]);
      for (const failure of failed) {
        count('DeliveryFailures', ['Channel', failure.channel]);
        logger.error('delivery failed', {
          channel: failure.channel,
          reason: failure.reason,
          permanent: failure.permanent,
          taskArn: task.taskArn,
          eventId,
          incidentKey,
        });
      }
      const delivery: Delivery = {
        decision: 'alert',
        incidentKey,
        sent,
        failed,
        ...(skipped.length > 0 ? { skipped } : {}),
      };
      logDiagnosis(logger, diagnosis, delivery, reading, decision.suppressed ?? undefined);
      if (failed.length > 0) throw new DeliveryError(failed);
      return { outcome: 'diagnosed', diagnosis, delivery };
    } finally {
      metrics.publishStoredMetrics();
    }
  };

  /** Sends the alert on one channel; null when it got there, `not-set` when the channel is not set up yet, else why not. */
  async function deliver(
    channel: Channel,
    diagnosis: Diagnosis,
    alert: AlertContext,
    deadline: number,
  ): Promise<ChannelFailure | 'not-set' | null> {
    try {
      if (channel === 'slack' && deps.slack) {
        const webhook = await deps.slack.webhook.url({ abortSignal: AbortSignal.timeout(budget(deadline)) });
        const post = deps.slack.post ?? postToSlack;
        try {
          await post(webhook, renderSlackMessage(diagnosis, alert), { deadline, now });
        } catch (error) {
          if (error instanceof SlackDeliveryError && error.permanent && WEBHOOK_GONE.has(error.status ?? 0))
            deps.slack.webhook.forget();
          throw error;
        }
      } else if (channel === 'sns' && deps.sns && config.snsTopicArn) {
        await deps.sns.publish(config.snsTopicArn, renderSnsMessage(diagnosis, alert, config.snsFormat), {
          abortSignal: AbortSignal.timeout(budget(deadline)),
        });
      }
      return null;
    } catch (error) {
      if (error instanceof WebhookNotSetError) return 'not-set';
      return {
        channel,
        reason: messageOf(error),
        permanent: error instanceof SlackDeliveryError ? error.permanent : false,
      };
    }
  }

  function budget(deadline: number): number {
    return Math.max(1, deadline - now());
  }
}

function logDiagnosis(
  logger: Logger,
  diagnosis: Diagnosis,
  delivery: Delivery,
  reading?: { rounds: number; calls: number },
  suppressed?: { count: number; since: string },
): void {
  logger.info('task diagnosed', {
    taskArn: diagnosis.taskArn,
    eventId: diagnosis.eventId,
    cause: diagnosis.cause,
    patternId: diagnosis.patternId,
    alert: diagnosis.alert,
    network: { status: diagnosis.network.status, ...reading },
    delivery: { ...delivery, ...(suppressed ? { suppressedSinceLastAlert: suppressed } : {}) },
    diagnosis,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Built once per container: the configuration is read and checked, the catalog compiled and
// the AWS clients created at cold start; the network reader's caches (VPC facts for a
// minute, task definitions for good) and the webhook URL live as long as the container.
const SERVICE = 'ecs-stop-doctor';
const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: 'EcsStopDoctor', serviceName: SERVICE });
const ready = setUp();

function setUp(): ReturnType<typeof createStoppedTaskHandler> | ConfigError {
  let config: DoctorConfig;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error('configuration invalid', { variable: error.variable, error: error.message });
    return error;
  }
  const clients = deliveryClients();
  if (!config.slackWebhookSecretArn && !config.snsTopicArn)
    logger.warn('no alert channel configured: diagnoses are only logged', {
      set: 'DOCTOR_SLACK_WEBHOOK_SECRET_ARN or DOCTOR_SNS_TOPIC_ARN',
    });
  return createStoppedTaskHandler({
    config,
    catalog: compileCatalog(builtinPatternSources()),
    network: new NetworkFactsReader({ portsFor: awsPorts() }),
    ...(config.ledgerTable ? { ledger: new DynamoIncidentLedger(clients.dynamodb, config.ledgerTable) } : {}),
    ...(config.slackWebhookSecretArn
      ? { slack: { webhook: new WebhookSecret(clients.secrets, config.slackWebhookSecretArn) } }
      : {}),
    ...(config.snsTopicArn ? { sns: new SnsPublisher(clients.sns) } : {}),
    logger,
    metrics,
  });
}

/**
 * The Lambda entry point. A configuration error, found at cold start, fails every
 * invocation with the variable's name, so events are retried and dead-lettered, not lost.
 */
export async function handler(event: EventBridgeEvent<string, unknown>, context?: Context): Promise<HandlerResult> {
  if (ready instanceof ConfigError) throw ready;
  return ready(event, context);
}
