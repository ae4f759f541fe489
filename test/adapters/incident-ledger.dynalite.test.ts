import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoIncidentLedger,
  type IncidentDecision,
  LEDGER_KEY,
  LEDGER_TTL_ATTRIBUTE,
  ledgerItemKey,
} from '../../functions/adapters/incident-ledger';
import type { Channel, SuppressedSummary } from '../../functions/core/alert';
import { type AwsReplayServer, ecsError, startAwsReplayServer } from '../helpers/aws-replay-server';
import { type DynaliteServer, useDynalite } from '../helpers/dynalite';
import { awsFailure } from '../helpers/rejection';

const dynamo = useDynalite();
let db: DynaliteServer;
let ledger: DynamoIncidentLedger;
beforeAll(() => {
  db = dynamo();
  ledger = new DynamoIncidentLedger(db.client(), db.tableName);
});

const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const MINUTE = 60_000;
const WINDOW = 60 * MINUTE;
const DAY_SECONDS = 24 * 60 * 60;

/** A key no other test uses: tests share one table. */
function fresh(name: string): string {
  return `${name}-${randomUUID()}`;
}

/** The stored item, read back as DynamoDB has it. */
async function storedItem(type: 'incident' | 'event', id: string) {
  const { Item } = await db.client().send(
    new GetItemCommand({
      TableName: db.tableName,
      Key: { [LEDGER_KEY]: { S: ledgerItemKey(type, id) } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('DynamoIncidentLedger.decide', () => {
  it('alerts on the first occurrence of an incident, with nothing suppressed', async () => {
    expect(await ledger.decide(fresh('first'), T0, WINDOW)).toEqual({ kind: 'alert', suppressed: null });
  });

  it('suppresses repeats inside the window and counts each one', async () => {
    const incident = fresh('storm');
    await ledger.decide(incident, T0, WINDOW);
    expect(await ledger.decide(incident, T0 + MINUTE, WINDOW)).toEqual({ kind: 'suppress', count: 1 });
    expect(await ledger.decide(incident, T0 + 2 * MINUTE, WINDOW)).toEqual({ kind: 'suppress', count: 2 });
    expect(await ledger.decide(incident, T0 + WINDOW - 1, WINDOW)).toEqual({ kind: 'suppress', count: 3 });
  });

  it('alerts again once the window has passed, reporting the count and first time of the suppressed repeats', async () => {
    const incident = fresh('reminder');
    await ledger.decide(incident, T0, WINDOW);
    await ledger.decide(incident, T0 + 5 * MINUTE, WINDOW);
    await ledger.decide(incident, T0 + 9 * MINUTE, WINDOW);
    expect(await ledger.decide(incident, T0 + WINDOW, WINDOW)).toEqual({
      kind: 'alert',
      suppressed: { count: 2, since: new Date(T0 + 5 * MINUTE).toISOString() },
    });
    // The alert starts a new window with a fresh count.
    expect(await ledger.decide(incident, T0 + WINDOW + MINUTE, WINDOW)).toEqual({ kind: 'suppress', count: 1 });
    expect(await ledger.decide(incident, T0 + 2 * WINDOW + MINUTE, WINDOW)).toEqual({
      kind: 'alert',
      suppressed: { count: 1, since: new Date(T0 + WINDOW + MINUTE).toISOString() },
    });
  });

  it('alerts with nothing suppressed when an incident recurs after a quiet window', async () => {
    const incident = fresh('recurring');
    await ledger.decide(incident, T0, WINDOW);
    expect(await ledger.decide(incident, T0 + 3 * WINDOW, WINDOW)).toEqual({ kind: 'alert', suppressed: null });
  });

  it('lets exactly one of 20 concurrent occurrences in a window alert, and counts the other 19', async () => {
    const incident = fresh('burst');
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.decide(incident, T0 + i, WINDOW)));
    expect(decisions.filter((d) => d.kind === 'alert')).toHaveLength(1);
    const counts = decisions.flatMap((d) => (d.kind === 'suppress' ? [d.count] : []));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect((await storedItem('incident', incident))?.suppressed).toEqual({ N: '19' });
  });

  it('works for an incident key longer than the 2048-byte partition key limit', async () => {
    const incident = `${fresh('long')}/${'x'.repeat(5_000)}`;
    expect(await ledger.decide(incident, T0, WINDOW)).toEqual({ kind: 'alert', suppressed: null });
    expect(await ledger.decide(incident, T0 + MINUTE, WINDOW)).toEqual({ kind: 'suppress', count: 1 });
    const item = await storedItem('incident', incident);
    expect(item?.incidentKey).toEqual({ S: incident });
    expect(Buffer.byteLength(item?.[LEDGER_KEY]?.S ?? '')).toBeLessThanOrEqual(2048);
    expect(item?.[LEDGER_KEY]?.S).toMatch(/^incident#long-.*#sha256:[0-9a-f]{64}$/);
  });

  it('keeps long keys that share a prefix apart', async () => {
    const prefix = `${fresh('shared')}/${'y'.repeat(3_000)}`;
    await ledger.decide(`${prefix}/a`, T0, WINDOW);
    expect(await ledger.decide(`${prefix}/b`, T0 + MINUTE, WINDOW)).toEqual({ kind: 'alert', suppressed: null });
  });

  it('agrees with a model of the window for any sequence of occurrences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 2 * WINDOW }), { minLength: 1, maxLength: 10 }),
        async (gaps) => {
          const incident = fresh('model');
          let now = T0;
          let lastAlert: number | undefined;
          // The repeats the next alert must report (the model of the incident item).
          let suppressed = null as SuppressedSummary | null;
          for (const gap of gaps) {
            now += gap;
            let expected: IncidentDecision;
            if (lastAlert === undefined || now - lastAlert >= WINDOW) {
              expected = { kind: 'alert', suppressed };
              lastAlert = now;
              suppressed = null;
            } else {
              suppressed = {
                count: (suppressed?.count ?? 0) + 1,
                since: suppressed?.since ?? new Date(now).toISOString(),
              };
              expected = { kind: 'suppress', count: suppressed.count };
            }
            expect(await ledger.decide(incident, now, WINDOW)).toEqual(expected);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('DynamoIncidentLedger.claimEvent', () => {
  const BOTH: readonly Channel[] = ['slack', 'sns'];
  const alert: IncidentDecision = { kind: 'alert', suppressed: { count: 4, since: new Date(T0).toISOString() } };

  it('claims an event id seen for the first time', async () => {
    expect(await ledger.claimEvent(fresh('event'), T0)).toEqual({ kind: 'new' });
  });

  it('calls a second claim of the same id in flight, not a duplicate, while its decision is not recorded', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    expect(await ledger.claimEvent(eventId, T0 + 1)).toEqual({ kind: 'in-flight' });
  });

  it('lets a retry claim an event again when the first claimant died before deciding (its lease ran out)', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    expect(await ledger.claimEvent(eventId, T0 + 89_000)).toEqual({ kind: 'in-flight' });
    expect(await ledger.claimEvent(eventId, T0 + 91_000)).toEqual({ kind: 'new' });
    // A decided claim has no lease: its retry follows the decision.
    await ledger.recordDecision(eventId, alert, BOTH, T0 + 91_000);
    expect(await ledger.claimEvent(eventId, T0 + 500_000)).toEqual({ kind: 'retry', decision: alert, pending: BOTH });
  });

  it('calls a claim of an event that was suppressed a duplicate', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    await ledger.recordDecision(eventId, { kind: 'suppress', count: 3 }, BOTH, T0);
    expect(await ledger.claimEvent(eventId, T0 + 1)).toEqual({ kind: 'duplicate' });
  });

  it('returns the recorded decision and the channels still to deliver, until every channel is delivered', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    await ledger.recordDecision(eventId, alert, BOTH, T0);
    expect(await ledger.claimEvent(eventId, T0 + 1)).toEqual({ kind: 'retry', decision: alert, pending: BOTH });
    await ledger.recordDelivery(eventId, 'slack', T0 + 2);
    expect(await ledger.claimEvent(eventId, T0 + 3)).toEqual({ kind: 'retry', decision: alert, pending: ['sns'] });
    await ledger.recordDelivery(eventId, 'slack', T0 + 4);
    await ledger.recordDelivery(eventId, 'sns', T0 + 5);
    expect(await ledger.claimEvent(eventId, T0 + 6)).toEqual({ kind: 'duplicate' });
  });

  it('round-trips an alert decision with nothing suppressed', async () => {
    const eventId = fresh('event');
    const quiet: IncidentDecision = { kind: 'alert', suppressed: null };
    await ledger.claimEvent(eventId, T0);
    await ledger.recordDecision(eventId, quiet, ['sns'], T0);
    expect(await ledger.claimEvent(eventId, T0 + 1)).toEqual({ kind: 'retry', decision: quiet, pending: ['sns'] });
  });

  it('calls an alert with no channel to reach a duplicate', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    await ledger.recordDecision(eventId, alert, [], T0);
    expect(await ledger.claimEvent(eventId, T0 + 1)).toEqual({ kind: 'duplicate' });
  });

  it('gives exactly one of 10 concurrent claims of one id the event', async () => {
    const eventId = fresh('event');
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.claimEvent(eventId, T0 + i)));
    expect(claims.filter((c) => c.kind === 'new')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'in-flight')).toHaveLength(9);
  });

  it('claims anew an event whose claim has expired but that TTL has not deleted yet', async () => {
    const eventId = fresh('event');
    const short = new DynamoIncidentLedger(db.client(), db.tableName, { eventTtlSeconds: 60 });
    await short.claimEvent(eventId, T0);
    await short.recordDecision(eventId, alert, BOTH, T0);
    expect(await short.claimEvent(eventId, T0 + 61_000)).toEqual({ kind: 'new' });
    // The new claim replaced the old item: no decision carried over.
    expect(await short.claimEvent(eventId, T0 + 62_000)).toEqual({ kind: 'in-flight' });
  });
});

describe('DynamoIncidentLedger expiry', () => {
  it('sets expiresAt on event items, two days ahead by default', async () => {
    const eventId = fresh('event');
    await ledger.claimEvent(eventId, T0);
    await ledger.recordDecision(eventId, { kind: 'alert', suppressed: null }, ['slack'], T0 + MINUTE);
    await ledger.recordDelivery(eventId, 'slack', T0 + 2 * MINUTE);
    const item = await storedItem('event', eventId);
    expect(item?.[LEDGER_TTL_ATTRIBUTE]).toEqual({ N: String(T0 / 1000 + 2 * DAY_SECONDS) });
    expect(item?.delivered).toEqual({ SS: ['slack'] });
  });

  it('sets expiresAt on an event item that recordDelivery creates without a claim', async () => {
    const eventId = fresh('event');
    await ledger.recordDelivery(eventId, 'sns', T0);
    expect(Number((await storedItem('event', eventId))?.[LEDGER_TTL_ATTRIBUTE]?.N)).toBeGreaterThan(T0 / 1000);
  });

  it('sets expiresAt on incident items, 14 days after the last occurrence by default', async () => {
    const incident = fresh('incident');
    await ledger.decide(incident, T0, WINDOW);
    expect((await storedItem('incident', incident))?.[LEDGER_TTL_ATTRIBUTE]).toEqual({
      N: String(T0 / 1000 + 14 * DAY_SECONDS),
    });
    await ledger.decide(incident, T0 + MINUTE, WINDOW);
    expect((await storedItem('incident', incident))?.[LEDGER_TTL_ATTRIBUTE]).toEqual({
      N: String((T0 + MINUTE) / 1000 + 14 * DAY_SECONDS),
    });
  });

  it('keeps an incident for at least twice the window', async () => {
    const incident = fresh('incident');
    const short = new DynamoIncidentLedger(db.client(), db.tableName, { incidentTtlSeconds: 60 });
    await short.decide(incident, T0, 30 * DAY_SECONDS * 1000);
    expect((await storedItem('incident', incident))?.[LEDGER_TTL_ATTRIBUTE]).toEqual({
      N: String(T0 / 1000 + 60 * DAY_SECONDS),
    });
  });
});

describe('DynamoIncidentLedger when DynamoDB fails', () => {
  // One attempt and short timeouts keep the failure tests quick. Without throwOnRequestTimeout
  // the SDK only logs a breached requestTimeout.
  const fast = {
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true },
  };
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** A loopback port with nothing listening. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('rejects with an AwsCallError, without hanging, when nothing listens', async () => {
    const client = db.client({ endpoint: `http://127.0.0.1:${await closedPort()}`, ...fast });
    const down = new DynamoIncidentLedger(client, db.tableName);
    const error = await awsFailure(down.claimEvent(fresh('event'), T0));
    expect(error.call).toBe('PutItem');
    expect(['failed', 'timeout']).toContain(error.kind);
    expect(error.cause).toBeDefined();
  });

  /** A loopback server that accepts requests and never answers them. */
  async function silentServer(): Promise<string> {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    });
    const { port } = silent.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  it('rejects with a timeout when DynamoDB accepts the request but never answers', async () => {
    const down = new DynamoIncidentLedger(db.client({ endpoint: await silentServer(), ...fast }), 'ledger');
    const error = await awsFailure(down.decide(fresh('incident'), T0, WINDOW));
    expect(error).toMatchObject({ call: 'UpdateItem', kind: 'timeout' });
  });

  it('bounds its own calls when the client has no request timeout', async () => {
    const client = db.client({ endpoint: await silentServer(), maxAttempts: 1 });
    const down = new DynamoIncidentLedger(client, 'ledger', { callTimeoutMs: 300 });
    const error = await awsFailure(down.claimEvent(fresh('event'), T0));
    expect(error).toMatchObject({ call: 'PutItem', kind: 'timeout' });
  });

  describe('names the DynamoDB permission that was denied', () => {
    const denied = ecsError('com.amazon.coral.service#AccessDeniedException', 'User is not authorized');
    let aws: AwsReplayServer;
    let deniedLedger: DynamoIncidentLedger;
    beforeAll(async () => {
      aws = await startAwsReplayServer();
      deniedLedger = new DynamoIncidentLedger(db.client({ endpoint: aws.url, ...fast }), 'ledger');
      return () => aws.close();
    });

    it.each([
      ['claimEvent', 'PutItem', () => deniedLedger.claimEvent('e-1', T0)],
      ['decide', 'UpdateItem', () => deniedLedger.decide('i-1', T0, WINDOW)],
      [
        'recordDecision',
        'UpdateItem',
        () => deniedLedger.recordDecision('e-1', { kind: 'suppress', count: 1 }, [], T0),
      ],
      ['recordDelivery', 'UpdateItem', () => deniedLedger.recordDelivery('e-1', 'slack', T0)],
    ])('%s → dynamodb:%s', async (_method, operation, run) => {
      aws.setRoutes({ PutItem: denied, UpdateItem: denied });
      const error = await awsFailure(run());
      expect(error).toMatchObject({ call: operation, kind: 'denied', permission: `dynamodb:${operation}` });
      expect(error.reason).toContain('User is not authorized');
    });

    it('claimEvent → dynamodb:GetItem when the claim exists but cannot be read', async () => {
      aws.setRoutes({
        PutItem: ecsError(
          'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          'The conditional request failed',
        ),
        GetItem: denied,
      });
      const error = await awsFailure(deniedLedger.claimEvent('e-1', T0));
      expect(error).toMatchObject({ call: 'GetItem', kind: 'denied', permission: 'dynamodb:GetItem' });
    });
  });
});
