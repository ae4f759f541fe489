import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Channel, SuppressedSummary } from '../core/alert';
import { toAwsCallError } from './aws-call-error';

/** The table's partition key (S); the table has no sort key. */
export const LEDGER_KEY = 'pk';

/** The table's TTL attribute (epoch seconds), set on every item the ledger writes. */
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** The storm-control ledger: which events were seen, and which incidents alerted when. */
export interface IncidentLedgerPort {
  /** Claims an EventBridge event id. First claim → {kind:'new'}. A claim of an id already claimed → 'in-flight' while that event's decision is not recorded yet and its claim's lease runs (another invocation is handling it, or one failed before it could record its decision: either way, come back later); → 'duplicate' when it was recorded as 'suppress' or all its alert channels are delivered; → 'retry' with what is left to deliver otherwise. */
  claimEvent(eventId: string, now: number): Promise<EventClaim>;
  /** Decides, atomically, whether this occurrence of an incident alerts: alert when the incident has no alert within the last windowMs (first occurrence, or window expired, i.e. resolved-then-recurring or reminder due), returning the repeats suppressed since the previous alert (null when none); otherwise counts it as suppressed. Exactly one of N concurrent callers in a window gets 'alert'. */
  decide(incidentKey: string, now: number, windowMs: number): Promise<IncidentDecision>;
  /** Records the decision on the event (so a retry of the same event follows it, and does not decide again), with the channels the alert must reach. */
  recordDecision(eventId: string, decision: IncidentDecision, channels: readonly Channel[], now: number): Promise<void>;
  /** Records that one channel got the alert for this event (so a retry does not resend it). */
  recordDelivery(eventId: string, channel: Channel, now: number): Promise<void>;
}

/** What a claim of an event id found: a new event, one being handled (or not finished) elsewhere, one handled, or one to finish. */
export type EventClaim =
  | { readonly kind: 'new' }
  | { readonly kind: 'in-flight' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'retry'; readonly decision: IncidentDecision; readonly pending: readonly Channel[] };

/** Whether an occurrence of an incident alerts (with the repeats it stands for) or is counted as a repeat. */
export type IncidentDecision =
  | { readonly kind: 'alert'; readonly suppressed: SuppressedSummary | null }
  | { readonly kind: 'suppress'; readonly count: number /* repeats counted in this window, including this one */ };

/** How long the ledger keeps its items. */
export interface IncidentLedgerOptions {
  /** Seconds an event item lives: longer than EventBridge and Lambda retry an event (24 h). @default 172800 (2 days) */
  readonly eventTtlSeconds?: number;
  /** Seconds an incident item lives after its last occurrence; raised to at least twice the window. @default 1209600 (14 days) */
  readonly incidentTtlSeconds?: number;
  /**
   * Milliseconds one ledger call (retries included) may take before it fails as a timeout.
   * The SDK's `requestTimeout` only logs a warning unless `throwOnRequestTimeout` is set, so
   * the ledger bounds its own calls: a slow ledger must not hold the alert. @default 3000
   */
  readonly callTimeoutMs?: number;
  /**
   * Milliseconds after which a claim with no recorded decision is taken to belong to an
   * invocation that died (a crash or timeout between claiming and deciding), so a retry of
   * the event may claim it again instead of dropping it. Keep it above the function's
   * timeout. A retry that comes back sooner (Lambda's first asynchronous retry comes about a
   * minute after a quick failure) gets 'in-flight' and fails again, so the next one, two
   * minutes later, claims the event. @default 90000
   */
  readonly claimLeaseMs?: number;
}

const DAY_SECONDS = 24 * 60 * 60;
/** DynamoDB's limit on a partition key value, in UTF-8 bytes. */
const MAX_KEY_BYTES = 2048;
/** Bytes of a long id kept readable in front of its hash, so the console still shows which incident it is. */
const READABLE_PREFIX_BYTES = 256;
const CHANNELS: readonly Channel[] = ['slack', 'sns'];

/**
 * The ledger's partition key for an incident or an event: `incident#<key>` / `event#<id>`, or,
 * when that would pass DynamoDB's 2048-byte key limit, a readable prefix of the id followed by
 * the SHA-256 of the whole id.
 */
export function ledgerItemKey(type: 'incident' | 'event', id: string): string {
  const key = `${type}#${id}`;
  if (Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES) return key;
  const digest = createHash('sha256').update(id, 'utf8').digest('hex');
  return `${type}#${readablePrefix(id, READABLE_PREFIX_BYTES)}…#sha256:${digest}`;
}

/**
 * The storm-control ledger in one DynamoDB table. Every decision is a single conditional
 * write, so concurrent Lambda invocations agree without locks: the condition on
 * `lastAlertAt` lets exactly one occurrence per window alert, and `attribute_not_exists`
 * lets exactly one invocation claim an event id.
 */
export class DynamoIncidentLedger implements IncidentLedgerPort {
  private readonly eventTtlSeconds: number;
  private readonly incidentTtlSeconds: number;
  private readonly callTimeoutMs: number;
  private readonly claimLeaseMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: IncidentLedgerOptions = {},
  ) {
    this.eventTtlSeconds = options.eventTtlSeconds ?? 2 * DAY_SECONDS;
    this.incidentTtlSeconds = options.incidentTtlSeconds ?? 14 * DAY_SECONDS;
    this.callTimeoutMs = options.callTimeoutMs ?? 3000;
    this.claimLeaseMs = options.claimLeaseMs ?? 90_000;
  }

  async claimEvent(eventId: string, now: number): Promise<EventClaim> {
    const key = ledgerItemKey('event', eventId);
    const claimed = await this.conditional('PutItem', (abortSignal) =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [LEDGER_KEY]: { S: key },
            type: { S: 'event' },
            eventId: { S: eventId },
            claimedAt: { N: String(now) },
            [LEDGER_TTL_ATTRIBUTE]: { N: String(expiresAt(now, this.eventTtlSeconds)) },
          },
          // TTL deletes expired items only eventually (typically within days), so an expired
          // claim still in the table counts as absent; so does an undecided claim past its lease.
          ConditionExpression:
            'attribute_not_exists(#pk) OR #expiresAt < :nowSeconds OR (attribute_not_exists(#decision) AND #claimedAt < :leaseCutoff)',
          ExpressionAttributeNames: {
            '#pk': LEDGER_KEY,
            '#expiresAt': LEDGER_TTL_ATTRIBUTE,
            '#decision': 'decision',
            '#claimedAt': 'claimedAt',
          },
          ExpressionAttributeValues: {
            ':nowSeconds': { N: String(epochSeconds(now)) },
            ':leaseCutoff': { N: String(now - this.claimLeaseMs) },
          },
        }),
        { abortSignal },
      ),
    );
    if (claimed) return { kind: 'new' };

    // Strongly consistent: the claim that beat ours may have recorded its decision a moment ago.
    const { Item: item } = await this.call('GetItem', (abortSignal) =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { [LEDGER_KEY]: { S: key } }, ConsistentRead: true }),
        { abortSignal },
      ),
    );
    const decision = item ? readDecision(item.decision) : null;
    // No decision yet: the first claimant is still deciding, or it failed before it could
    // record its decision (the ledger failed after the claim, or the invocation crashed) and
    // Lambda's retry came back inside the lease (its first retry comes about a minute later).
    // Not a duplicate: calling it one would drop the event for good. The caller retries later;
    // past the lease the claim above takes the dead claimant's place.
    if (!item || !decision) return { kind: 'in-flight' };
    if (decision.kind === 'suppress') return { kind: 'duplicate' };
    const delivered = new Set(item.delivered?.SS ?? []);
    const pending = readChannels(item.channels).filter((channel) => !delivered.has(channel));
    return pending.length > 0 ? { kind: 'retry', decision, pending } : { kind: 'duplicate' };
  }

  async decide(incidentKey: string, now: number, windowMs: number): Promise<IncidentDecision> {
    const Key = { [LEDGER_KEY]: { S: ledgerItemKey('incident', incidentKey) } };
    // An incident item must outlive two windows, or a storm's suppressed count could expire
    // before the alert that reports it.
    const ttlSeconds = Math.max(this.incidentTtlSeconds, Math.ceil((2 * windowMs) / 1000));
    const names = {
      '#type': 'type',
      '#lastAlertAt': 'lastAlertAt',
      '#suppressed': 'suppressed',
      '#suppressedSince': 'suppressedSince',
      '#incidentKey': 'incidentKey',
      '#expiresAt': LEDGER_TTL_ATTRIBUTE,
    };
    const alerted = await this.conditional('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression:
            'SET #type = :type, #lastAlertAt = :now, #incidentKey = :incidentKey, #expiresAt = :expiresAt REMOVE #suppressed, #suppressedSince',
          ConditionExpression: 'attribute_not_exists(#lastAlertAt) OR #lastAlertAt <= :cutoff',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':type': { S: 'incident' },
            ':now': { N: String(now) },
            ':cutoff': { N: String(now - windowMs) },
            ':incidentKey': { S: incidentKey },
            ':expiresAt': { N: String(expiresAt(now, ttlSeconds)) },
          },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal },
      ),
    );
    if (alerted) return { kind: 'alert', suppressed: readSuppressed(alerted.Attributes) };

    // Another occurrence alerted within the window. `lastAlertAt` only moves forward, so this
    // unconditional count cannot land in a window that has already been reported.
    const counted = await this.call('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression:
            'ADD #suppressed :one SET #type = :type, #suppressedSince = if_not_exists(#suppressedSince, :nowIso), #incidentKey = :incidentKey, #expiresAt = :expiresAt',
          ExpressionAttributeNames: {
            '#type': names['#type'],
            '#suppressed': names['#suppressed'],
            '#suppressedSince': names['#suppressedSince'],
            '#incidentKey': names['#incidentKey'],
            '#expiresAt': names['#expiresAt'],
          },
          ExpressionAttributeValues: {
            ':type': { S: 'incident' },
            ':one': { N: '1' },
            ':nowIso': { S: new Date(now).toISOString() },
            ':incidentKey': { S: incidentKey },
            ':expiresAt': { N: String(expiresAt(now, ttlSeconds)) },
          },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      ),
    );
    return { kind: 'suppress', count: readNumber(counted.Attributes?.suppressed) ?? 1 };
  }

  async recordDecision(
    eventId: string,
    decision: IncidentDecision,
    channels: readonly Channel[],
    now: number,
  ): Promise<void> {
    await this.call('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_KEY]: { S: ledgerItemKey('event', eventId) } },
          // An upsert: the claim normally exists, but recording must not fail when it does not.
          UpdateExpression:
            'SET #decision = :decision, #channels = :channels, #decidedAt = :now, #eventId = if_not_exists(#eventId, :eventId), #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ExpressionAttributeNames: {
            '#decision': 'decision',
            '#channels': 'channels',
            '#decidedAt': 'decidedAt',
            '#eventId': 'eventId',
            '#expiresAt': LEDGER_TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':decision': writeDecision(decision),
            ':channels': { L: channels.map((channel) => ({ S: channel })) },
            ':now': { N: String(now) },
            ':eventId': { S: eventId },
            ':expiresAt': { N: String(expiresAt(now, this.eventTtlSeconds)) },
          },
        }),
        { abortSignal },
      ),
    );
  }

  async recordDelivery(eventId: string, channel: Channel, now: number): Promise<void> {
    await this.call('UpdateItem', (abortSignal) =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_KEY]: { S: ledgerItemKey('event', eventId) } },
          // ADD to a string set is idempotent: recording a delivery twice changes nothing.
          UpdateExpression:
            'ADD #delivered :channel SET #eventId = if_not_exists(#eventId, :eventId), #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ExpressionAttributeNames: {
            '#delivered': 'delivered',
            '#eventId': 'eventId',
            '#expiresAt': LEDGER_TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':channel': { SS: [channel] },
            ':eventId': { S: eventId },
            ':expiresAt': { N: String(expiresAt(now, this.eventTtlSeconds)) },
          },
        }),
        { abortSignal },
      ),
    );
  }

  /** Sends within the call deadline, translating any failure once into an AwsCallError. */
  private async call<T>(operation: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(AbortSignal.timeout(this.callTimeoutMs));
    } catch (error) {
      throw toAwsCallError(error, 'dynamodb', operation);
    }
  }

  /** Sends a conditional write; a failed condition is an answer (undefined), not an error. */
  private async conditional<T>(
    operation: string,
    send: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await send(AbortSignal.timeout(this.callTimeoutMs));
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException') return undefined;
      throw toAwsCallError(error, 'dynamodb', operation);
    }
  }
}

function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function expiresAt(now: number, ttlSeconds: number): number {
  return epochSeconds(now) + ttlSeconds;
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
function readablePrefix(text: string, maxBytes: number): string {
  let prefix = '';
  let bytes = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char, 'utf8');
    if (bytes > maxBytes) break;
    prefix += char;
  }
  return prefix;
}

function readNumber(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const number = Number(value.N);
  return Number.isFinite(number) ? number : undefined;
}

/** The repeats an incident item counted before this alert reset them; null when there were none. */
function readSuppressed(item: Record<string, AttributeValue> | undefined): SuppressedSummary | null {
  const count = readNumber(item?.suppressed);
  const since = item?.suppressedSince?.S;
  if (!count || count <= 0 || !since) return null;
  return { count, since };
}

/**
 * A decision as the event item stores it: a map `{kind, count?, since?}` (for 'alert', the
 * suppressed summary; for 'suppress', the repeat count), replaced whole by each write.
 */
function writeDecision(decision: IncidentDecision): AttributeValue {
  if (decision.kind === 'suppress') {
    return { M: { kind: { S: 'suppress' }, count: { N: String(decision.count) } } };
  }
  const { suppressed } = decision;
  return {
    M: {
      kind: { S: 'alert' },
      ...(suppressed ? { count: { N: String(suppressed.count) }, since: { S: suppressed.since } } : {}),
    },
  };
}

function readDecision(value: AttributeValue | undefined): IncidentDecision | null {
  const map = value?.M;
  if (!map) return null;
  const count = readNumber(map.count);
  if (map.kind?.S === 'suppress') return { kind: 'suppress', count: count ?? 1 };
  if (map.kind?.S !== 'alert') return null;
  const since = map.since?.S;
  return { kind: 'alert', suppressed: count !== undefined && since !== undefined ? { count, since } : null };
}

function readChannels(value: AttributeValue | undefined): Channel[] {
  return (value?.L ?? []).flatMap((entry) => {
    const channel = CHANNELS.find((known) => known === entry.S);
    return channel ? [channel] : [];
  });
}
