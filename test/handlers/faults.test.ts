import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsCallError } from '../../functions/adapters/aws-call-error';
import { awsPorts } from '../../functions/adapters/aws-clients';
import { DynamoIncidentLedger, type IncidentLedgerPort } from '../../functions/adapters/incident-ledger';
import { NetworkFactsReader } from '../../functions/adapters/network-facts-reader';
import { SnsPublisher } from '../../functions/adapters/sns-publisher';
import { WebhookSecret } from '../../functions/adapters/webhook-secret';
import { loadCatalog } from '../../functions/catalog/catalog';
import { readConfig } from '../../functions/core/config';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import {
  createStoppedTaskHandler,
  DeliveryError,
  EventInFlightError,
  type HandlerResult,
  type StoppedTaskDeps,
} from '../../functions/handlers/stopped-task';
import {
  type AwsRequest,
  ec2Error,
  ecsError,
  ecsReply,
  type Reply,
  type Responder,
  type Routes,
  replayEnv,
  snsError,
  startAwsReplayServer,
  useAwsReplayServer,
} from '../helpers/aws-replay-server';
import { awsWorld, type WorldOptions } from '../helpers/aws-world';
import { deliveryRoutes, TOPIC_ARN, WEBHOOK_SECRET_ARN } from '../helpers/delivery-routes';
import { useDynalite } from '../helpers/dynalite';
import { demoEvent, demoEventFiles, type EventFixture, fixture } from '../helpers/fixtures';
import { rejectionOf } from '../helpers/rejection';
import { closedPort, useSlackReceiver } from '../helpers/slack-receiver';

// Fault injection through the real handler: every AWS call the network check makes fails in
// turn (throttled, 5xx, denied, too slow), and each delivery dependency (Secrets Manager, the
// ledger, Slack, SNS) goes down. Whatever breaks, an event ends in exactly one of: an alert
// that reached its channels (saying what could not be checked), a deliberate non-alert
// (ignored, rejected, suppressed repeat, duplicate), or a thrown error so Lambda retries it
// and then dead-letters it. Never a silent loss, never an unhandled rejection.

const aws = useAwsReplayServer();
const slack = useSlackReceiver();
const dynamo = useDynalite();

const CHANNELS = ['slack', 'sns'] as const;
const catalog = loadCatalog();

type Event = EventBridgeEvent<string, unknown>;

// ---------------------------------------------------------------------------------------
// Scenarios: stops whose network check, between them, makes every call the reader knows.

interface Scenario {
  readonly name: string;
  readonly event: () => EventFixture;
  readonly facts: NetworkFacts;
  readonly world: WorldOptions;
}

const FARGATE_EVENT = '07-seed004-ssm-parameter-network-2024.json';
const BRIDGE_EVENT = '19-ec2-bridge-ecr-pull-timeout.json';

function snapshot(name: string): NetworkFacts {
  return parseNetworkFacts(fixture(`facts/${name}`), name);
}

/** Event 07 moved to another subnet (its ENI attachment names the subnet the facts describe). */
function inSubnet(event: EventFixture, subnetId: string): EventFixture {
  const attachments = event.detail.attachments as Array<{ details: Array<{ name: string; value: string }> }>;
  for (const detail of attachments.flatMap((a) => a.details)) if (detail.name === 'subnetId') detail.value = subnetId;
  return event;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'Fargate task',
    event: () => demoEvent(FARGATE_EVENT),
    facts: snapshot('seed004-no-ssm.json'),
    world: { cluster: 'ecr-privatelink-sample', service: 'app2' },
  },
  {
    name: 'EC2 task in bridge mode',
    event: () => demoEvent(BRIDGE_EVENT),
    facts: snapshot('ec2-bridge-instance-sg-no-egress-443.json'),
    world: { cluster: 'web-ec2', service: 'web-ec2' },
  },
  {
    // EFS adds DescribeNetworkInterfaces; a custom DNS set in the region adds DescribeVpcs.
    name: 'Fargate task with EFS, custom DNS in the region',
    event: () => inSubnet(demoEvent(FARGATE_EVENT), 'subnet-07b5d13883607188a'),
    facts: snapshot('efs-good.json'),
    world: {
      cluster: 'ecr-privatelink-sample',
      service: 'app2',
      extraDhcpSets: [{ dhcpOptionsId: 'dopt-0c0ffee0c0ffee000', servers: ['10.99.0.2'] }],
    },
  },
];

/** A logger that keeps nothing: for runs whose log lines are not asserted. */
const quietLogger = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

/**
 * The calls a clean run of each scenario makes, as the replay server records them: the
 * fault table is derived from these, so a call the reader starts making is covered at once.
 * Each call is listed once, with the first scenario that makes it.
 */
async function callsOfCleanRuns(): Promise<Array<{ call: string; service: 'ec2' | 'ecs'; scenario: Scenario }>> {
  const server = await startAwsReplayServer();
  for (const [name, value] of Object.entries(replayEnv(server.url))) vi.stubEnv(name, value);
  try {
    const seen = new Map<string, { call: string; service: 'ec2' | 'ecs'; scenario: Scenario }>();
    for (const scenario of SCENARIOS) {
      server.setRoutes(awsWorld(scenario.facts, scenario.world));
      const handle = createStoppedTaskHandler({
        config: readConfig({}),
        catalog,
        network: new NetworkFactsReader({ portsFor: awsPorts({ maxAttempts: 1 }) }),
        logger: quietLogger,
        metrics: quietMetrics(),
      });
      const result = await handle(scenario.event() as unknown as Event);
      const unread =
        result.outcome === 'diagnosed' ? result.diagnosis.findings.filter((f) => f.id.startsWith('facts:')) : [];
      if (result.outcome !== 'diagnosed' || unread.length > 0 || server.unrouted.length > 0)
        throw new Error(`the clean run of ${scenario.name} is not clean: ${JSON.stringify({ result, unread })}`);
      for (const request of server.requests)
        if (!seen.has(request.action))
          seen.set(request.action, { call: request.action, service: request.service, scenario });
    }
    return [...seen.values()];
  } finally {
    vi.unstubAllEnvs();
    await server.close();
  }
}

/** Metrics that go nowhere and keep nothing, for runs whose metrics are not asserted. */
function quietMetrics(): Metrics {
  const single = { addDimension() {}, addMetric() {} };
  return { addMetric() {}, singleMetric: () => single, publishStoredMetrics() {} } as unknown as Metrics;
}

const CALLS = await callsOfCleanRuns();

// ---------------------------------------------------------------------------------------
// The handler wired to local servers, with a clock that tests can move forward.

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

type Settled =
  | { readonly thrown: false; readonly result: HandlerResult }
  | { readonly thrown: true; readonly error: unknown };

interface Harness {
  run(event: Event, remainingMs?: number): Promise<HandlerResult>;
  settle(event: Event, remainingMs?: number): Promise<Settled>;
  readonly logs: LogLine[];
}

interface Wiring {
  readonly env?: Record<string, string>;
  /** The ledger: dynalite (default), another port, or none. */
  readonly ledger?: IncidentLedgerPort | null;
  readonly secrets?: SecretsManagerClient;
  readonly sns?: SNSClient;
}

/** Milliseconds added to the real clock, so a test can let minutes pass. */
let skew = 0;
const now = () => Date.now() + skew;
let eventSeq = 0;

function local<T>(Client: new (config: object) => T, endpoint = aws().url): T {
  return new Client({ endpoint, region: 'ap-northeast-1', maxAttempts: 1 });
}

async function harness(wiring: Wiring = {}, overrides: Partial<StoppedTaskDeps> = {}): Promise<Harness> {
  const table = await dynamo().createLedgerTable(`ledger-${Math.random().toString(36).slice(2, 10)}`);
  const config = readConfig({
    DOCTOR_SNS_TOPIC_ARN: TOPIC_ARN,
    DOCTOR_SLACK_WEBHOOK_SECRET_ARN: WEBHOOK_SECRET_ARN,
    DOCTOR_LEDGER_TABLE: table,
    ...wiring.env,
  });
  const logs: LogLine[] = [];
  const logger = {
    info: (message: string, ...extra: object[]) =>
      logs.push({ level: 'info', message, fields: Object.assign({}, ...extra) }),
    warn: (message: string, ...extra: object[]) =>
      logs.push({ level: 'warn', message, fields: Object.assign({}, ...extra) }),
    error: (message: string, ...extra: object[]) =>
      logs.push({ level: 'error', message, fields: Object.assign({}, ...extra) }),
  } as unknown as Logger;
  const ledger =
    wiring.ledger === undefined ? new DynamoIncidentLedger(dynamo().client(), table) : (wiring.ledger ?? undefined);
  const handle = createStoppedTaskHandler({
    config,
    catalog,
    network: new NetworkFactsReader({ portsFor: awsPorts({ maxAttempts: 1 }) }),
    ...(ledger ? { ledger } : {}),
    slack: { webhook: new WebhookSecret(wiring.secrets ?? local(SecretsManagerClient), WEBHOOK_SECRET_ARN) },
    sns: new SnsPublisher(wiring.sns ?? local(SNSClient)),
    logger,
    metrics: quietMetrics(),
    now,
    ...overrides,
  });
  const run = (event: Event, remainingMs = 30_000) =>
    handle(event, { getRemainingTimeInMillis: () => remainingMs } as never);
  return {
    logs,
    run,
    settle: (event, remainingMs) =>
      run(event, remainingMs).then(
        (result): Settled => ({ thrown: false, result }),
        (error: unknown): Settled => ({ thrown: true, error }),
      ),
  };
}

/** A scenario's stop as EventBridge sends it: a fresh event id each time. */
function stop(scenario: Scenario = SCENARIOS[0] as Scenario): Event {
  eventSeq += 1;
  return { ...scenario.event(), id: `evt-fault-${eventSeq}` } as unknown as Event;
}

/** The scenario's AWS, the webhook secret and SNS, all healthy, with `extra` routes on top. */
function world(scenario: Scenario = SCENARIOS[0] as Scenario, extra: Routes = {}): Routes {
  const routes: Routes = {
    ...awsWorld(scenario.facts, scenario.world),
    ...deliveryRoutes(slack().webhookUrl()),
    ...extra,
  };
  aws().setRoutes(routes);
  return routes;
}

const published = () => aws().requests.filter((r) => r.action === 'Publish');

/** What a responder answers to a request. */
function answer(responder: Responder, request: AwsRequest, nth: number): Reply {
  if (typeof responder === 'function') return responder(request, nth);
  if (Array.isArray(responder)) return responder[Math.min(nth, responder.length - 1)] as Reply;
  return responder as Reply;
}

/**
 * Asserts the event was not lost: it was delivered on every channel (or the channel is not
 * set up), or deliberately not alerted, or it threw one of the errors the handler throws
 * on purpose so Lambda retries it (anything else thrown is a crash).
 */
function expectAccountedFor(settled: Settled): void {
  if (settled.thrown) {
    expect(settled.error).toSatisfy((e) => e instanceof DeliveryError || e instanceof EventInFlightError);
    return;
  }
  const { result } = settled;
  if (result.outcome !== 'diagnosed' || result.delivery.decision !== 'alert') return;
  const reached = [...result.delivery.sent, ...(result.delivery.skipped ?? [])].sort();
  expect(reached, 'an alert that returned normally must have reached every channel').toEqual([...CHANNELS].sort());
}

// ---------------------------------------------------------------------------------------

const unhandled = vi.fn();
beforeAll(() => {
  process.on('unhandledRejection', unhandled);
});
afterAll(async () => {
  // A promise abandoned at a deadline may reject after its test; give it the time to.
  await new Promise((resolve) => setTimeout(resolve, 100));
  process.off('unhandledRejection', unhandled);
  expect(unhandled).not.toHaveBeenCalled();
});
beforeEach(() => {
  skew = 0;
  world();
});
afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  expect(unhandled).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

describe('the fault table', () => {
  it('covers every call of the network check, as the clean runs made them', () => {
    expect(CALLS.map((c) => c.call).sort()).toEqual(
      expect.arrayContaining([
        'DescribeContainerInstances',
        'DescribeDhcpOptions',
        'DescribeInstances',
        'DescribeNetworkAcls',
        'DescribeNetworkInterfaces',
        'DescribePrefixLists',
        'DescribeRouteTables',
        'DescribeSecurityGroups',
        'DescribeServices',
        'DescribeSubnets',
        'DescribeTaskDefinition',
        'DescribeVpcAttribute',
        'DescribeVpcEndpoints',
        'DescribeVpcs',
      ]),
    );
  });
});

interface Fault {
  readonly name: string;
  readonly reply: (service: 'ec2' | 'ecs', call: string) => Reply | 'slow';
  /** What the unknown finding says about the call. */
  readonly says: (service: 'ec2' | 'ecs', call: string) => RegExp;
  readonly permission?: true;
}

/** What EC2 puts in a denial instead of the action's name: an opaque blob, often a kilobyte long. */
const ENCODED_AUTHORIZATION_MESSAGE = 'Vx8kT2m-QpZ4'.repeat(100);

/** Real EC2 denials name no action (only the encoded authorization message); ECS denials do. */
const FAULTS: readonly Fault[] = [
  {
    name: 'throttled',
    reply: (service) =>
      service === 'ec2'
        ? ec2Error('Throttling', 'Rate exceeded', 400)
        : ecsError('ThrottlingException', 'Rate exceeded', 400),
    says: () => /throttled by AWS/,
  },
  {
    name: 'HTTP 500',
    reply: (service) =>
      service === 'ec2'
        ? ec2Error('InternalError', 'An internal error has occurred', 500)
        : ecsError('ServerException', 'An internal error has occurred', 500),
    says: () => /500/,
  },
  {
    name: 'HTTP 503',
    reply: (service) =>
      service === 'ec2'
        ? ec2Error('Unavailable', 'The server is overloaded', 503)
        : ecsError('ServiceUnavailableException', 'The server is overloaded', 503),
    says: () => /503|Unavailable/,
  },
  {
    name: 'denied',
    reply: (service, call) =>
      service === 'ec2'
        ? ec2Error(
            'UnauthorizedOperation',
            `You are not authorized to perform this operation. Encoded authorization failure message: ${ENCODED_AUTHORIZATION_MESSAGE}`,
            403,
          )
        : ecsError(
            'AccessDeniedException',
            `User: arn:aws:sts::123456789012:assumed-role/doctor/fn is not authorized to perform: ecs:${call}`,
            400,
          ),
    says: () => /UnauthorizedOperation|AccessDeniedException/,
    permission: true,
  },
  { name: 'too slow', reply: () => 'slow', says: () => /not answered within the 1 s deadline/ },
];

/** With this much time left the handler gives the network check its 1-second floor. */
const SHORT_INVOCATION_MS = 11_000;

describe.each(FAULTS)('stopped-task handler when a network-check call is $name', (fault) => {
  it.each(CALLS.map((c) => [c.call, c.scenario.name, c] as const))(
    '%s (%s): still alerts on Slack and SNS, with the check partial and the call unknown',
    async (call, _scenario, { service, scenario }) => {
      const routes = world(scenario);
      const faulty = fault.reply(service, call);
      const healthy = routes[call] as Responder;
      world(scenario, {
        [call]:
          faulty === 'slow'
            ? (request: AwsRequest, nth: number) => ({ ...answer(healthy, request, nth), delayMs: 10_000 })
            : faulty,
      });
      const h = await harness();
      const started = Date.now();
      const settled = await h.settle(stop(scenario), faulty === 'slow' ? SHORT_INVOCATION_MS : undefined);
      expectAccountedFor(settled);
      if (settled.thrown) throw settled.error;
      const { result } = settled;
      expect(result).toMatchObject({ outcome: 'diagnosed', delivery: { decision: 'alert', failed: [] } });
      if (result.outcome !== 'diagnosed') return;
      expect([...result.delivery.sent].sort()).toEqual(['slack', 'sns']);
      expect(result.diagnosis.network.status).toBe('partial');
      const unread = result.diagnosis.findings.find((f) => f.id === `facts:${call}`);
      expect(unread).toMatchObject({ status: 'unknown', message: expect.stringMatching(fault.says(service, call)) });
      expect(slack().posts).toHaveLength(1);
      expect(published()).toHaveLength(1);
      const posted = JSON.stringify(slack().posts[0]?.body);
      const mailed = String(published()[0]?.params.Message);
      expect(posted).toContain(`facts:${call}`);
      expect(mailed).toContain(`${call} could not be read`);
      if (fault.permission) {
        const permission = `${service}:${call}`;
        expect(unread?.evidence).toContain(`grant ${permission} to the checker's role`);
        expect(posted).toContain(permission);
        expect(mailed).toContain(permission);
      }
      if (faulty === 'slow') expect(Date.now() - started).toBeLessThan(5_000);
      expect(h.logs.find((l) => l.message === 'task diagnosed')?.fields).toMatchObject({
        network: { status: 'partial' },
      });
    },
  );
});

describe('stopped-task handler with the SDK retrying as in production', () => {
  it('recovers from a throttled call by retrying it: nothing is left unread', async () => {
    const healthy = world().DescribeVpcEndpoints as Responder;
    world(SCENARIOS[0], {
      // What EC2 answers when an account's request rate is exceeded.
      DescribeVpcEndpoints: (request, nth) =>
        nth === 0 ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503) : answer(healthy, request, nth),
    });
    const h = await harness({}, { network: new NetworkFactsReader({ portsFor: awsPorts() }) });
    const result = await h.run(stop());
    expect(result).toMatchObject({ outcome: 'diagnosed', delivery: { failed: [] } });
    if (result.outcome !== 'diagnosed') return;
    expect(result.diagnosis.network.status).toBe('checked');
    expect(result.diagnosis.findings.filter((f) => f.id.startsWith('facts:'))).toEqual([]);
    expect(aws().requests.filter((r) => r.action === 'DescribeVpcEndpoints')).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------
// Delivery dependencies: the webhook secret, the ledger, Slack and SNS.

const closedUrl = async () => `http://127.0.0.1:${await closedPort()}`;
const secretHolding = (url: string) =>
  ecsReply({ ARN: WEBHOOK_SECRET_ARN, Name: 'doctor/slack', SecretString: JSON.stringify({ url }) });
/** Alert posts the Slack receiver got (a hang-up or a 500 still records the request). */
const slackPosts = () => slack().posts.filter((p) => p.rawBody.includes('"blocks"'));

/** How one channel's dependency fails. */
interface ChannelOutage {
  readonly name: string;
  readonly failed: 'slack' | 'sns';
  readonly reason: RegExp;
  /** Breaks it: routes to answer, a Slack script, or clients to wire. */
  readonly breakIt: () => Promise<{ routes?: Routes; wiring?: Wiring }>;
  /** Left for the invocation. @default 30000 */
  readonly remainingMs?: number;
  /** False when the outage is in the wiring (a client at a closed port), which a retry cannot heal. */
  readonly heals: boolean;
}

const CHANNEL_OUTAGES: readonly ChannelOutage[] = [
  {
    name: 'Secrets Manager refuses connections',
    failed: 'slack',
    reason: /^GetSecretValue failed/,
    breakIt: async () => ({ wiring: { secrets: local(SecretsManagerClient, await closedUrl()) } }),
    heals: false,
  },
  {
    name: 'Secrets Manager answers 500',
    failed: 'slack',
    reason: /^GetSecretValue failed: HTTP 500 InternalServiceError/,
    breakIt: async () => ({ routes: { GetSecretValue: ecsError('InternalServiceError', 'Internal error', 500) } }),
    heals: true,
  },
  {
    // 3 s left: 2 s are kept back for the log line and the ledger, so delivery has about 1 s.
    name: 'Secrets Manager is slower than the time left',
    failed: 'slack',
    reason: /^GetSecretValue failed: no answer in time/,
    breakIt: async () => ({ routes: { GetSecretValue: { ...secretHolding(slack().webhookUrl()), delayMs: 10_000 } } }),
    remainingMs: 3_000,
    heals: true,
  },
  {
    name: 'Slack answers 500 to every attempt',
    failed: 'slack',
    reason: /could not post to Slack after 4 attempts: HTTP 500 internal_error/,
    breakIt: async () => {
      slack().script([], { status: 500, body: 'internal_error' });
      return {};
    },
    heals: true,
  },
  {
    name: 'Slack hangs up without answering',
    failed: 'slack',
    reason: /could not post to Slack after 4 attempts/,
    breakIt: async () => {
      slack().script([], { hangUp: true });
      return {};
    },
    heals: true,
  },
  {
    name: 'Slack refuses connections',
    failed: 'slack',
    reason: /connection refused/,
    breakIt: async () => ({
      routes: { GetSecretValue: secretHolding(`${await closedUrl()}/services/T000/B000/SECRETxyz`) },
    }),
    // The webhook URL is kept for the container's life: a retry posts to the same dead port.
    heals: false,
  },
  {
    name: 'SNS answers 500',
    failed: 'sns',
    reason: /^Publish failed: HTTP 500 InternalError/,
    breakIt: async () => ({ routes: { Publish: snsError('InternalError', 'Internal error', 500) } }),
    heals: true,
  },
  {
    name: 'SNS throttles',
    failed: 'sns',
    reason: /throttled by AWS/,
    breakIt: async () => ({ routes: { Publish: snsError('Throttling', 'Rate exceeded', 400) } }),
    heals: true,
  },
  {
    name: 'SNS refuses connections',
    failed: 'sns',
    reason: /^Publish failed/,
    breakIt: async () => ({ wiring: { sns: local(SNSClient, await closedUrl()) } }),
    heals: false,
  },
];

describe('stopped-task handler when an alert channel is down', () => {
  it.each(CHANNEL_OUTAGES)(
    '$name: alerts on the other channel, logs delivery failed and throws for a retry',
    async (outage) => {
      const { routes, wiring } = await outage.breakIt();
      world(SCENARIOS[0], routes);
      const h = await harness(wiring);
      const event = stop();
      const settled = await h.settle(event, outage.remainingMs);
      expectAccountedFor(settled);
      if (!settled.thrown) expect.fail(`expected a DeliveryError, got ${JSON.stringify(settled.result)}`);
      expect(settled.error).toBeInstanceOf(DeliveryError);
      expect((settled.error as DeliveryError).failures).toEqual([
        { channel: outage.failed, reason: expect.stringMatching(outage.reason), permanent: false },
      ]);
      // The other channel got the alert (the failed one may have logged attempts, not deliveries).
      const other = outage.failed === 'slack' ? 'sns' : 'slack';
      if (other === 'sns') expect(published()).toHaveLength(1);
      else expect(slackPosts()).toHaveLength(1);
      expect(h.logs.find((l) => l.message === 'delivery failed')).toMatchObject({
        level: 'error',
        fields: { channel: outage.failed, eventId: event.id, permanent: false },
      });
      expect(h.logs.find((l) => l.message === 'task diagnosed')?.fields).toMatchObject({
        delivery: { sent: [other], failed: [{ channel: outage.failed }] },
      });
      expect(JSON.stringify(h.logs)).not.toContain('SECRETxyz');
      if (!outage.heals) return;

      // Lambda retries the event once the dependency is back: only the missing channel is sent.
      world();
      slack().reset();
      const retried = await h.run(event);
      expect(retried).toMatchObject({ outcome: 'diagnosed', delivery: { sent: [outage.failed], failed: [] } });
      expect(published()).toHaveLength(outage.failed === 'sns' ? 1 : 0);
      expect(slackPosts()).toHaveLength(outage.failed === 'slack' ? 1 : 0);
    },
  );

  it('throws with both failures when Slack and SNS are both down, and a retry sends both', async () => {
    world(SCENARIOS[0], { Publish: snsError('InternalError', 'Internal error', 500) });
    slack().script([], { status: 503, body: 'service_unavailable' });
    const h = await harness();
    const event = stop();
    const failure = (await rejectionOf(h.run(event))) as DeliveryError;
    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure.failures.map((f) => f.channel).sort()).toEqual(['slack', 'sns']);
    expect(h.logs.filter((l) => l.message === 'delivery failed').map((l) => l.fields.channel)).toEqual(
      expect.arrayContaining(['slack', 'sns']),
    );

    world();
    slack().reset();
    const retried = await h.run(event);
    expect(retried).toMatchObject({ outcome: 'diagnosed', delivery: { failed: [] } });
    expect(retried.outcome === 'diagnosed' && [...retried.delivery.sent].sort()).toEqual(['slack', 'sns']);
    expect(slackPosts()).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });
});

/** A DynamoDB client for a ledger at `endpoint`, failing fast. */
function dynamoAt(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'ap-northeast-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIADYNALITEEXAMPLE', secretAccessKey: 'dynalite-secret' },
  });
}

const DYNAMO_500 = ecsError('InternalServerError', 'Internal server error', 500);

describe('stopped-task handler when the ledger is down', () => {
  // Fail open: without the ledger there is no storm control, but no alert is held back.
  it.each<{ name: string; ledger: () => Promise<IncidentLedgerPort>; routes?: Routes }>([
    {
      name: 'refuses connections',
      ledger: async () => new DynamoIncidentLedger(dynamoAt(await closedUrl()), 'ledger'),
    },
    {
      name: 'answers 500',
      ledger: async () => new DynamoIncidentLedger(dynamoAt(aws().url), 'ledger'),
      routes: { PutItem: DYNAMO_500, GetItem: DYNAMO_500, UpdateItem: DYNAMO_500 },
    },
    {
      name: 'is slower than its call timeout',
      ledger: async () => new DynamoIncidentLedger(dynamoAt(aws().url), 'ledger', { callTimeoutMs: 200 }),
      routes: { PutItem: { ...ecsReply({}), delayMs: 10_000 } },
    },
  ])('$name: alerts on both channels anyway, and says why in the log', async ({ ledger, routes }) => {
    world(SCENARIOS[0], routes);
    const h = await harness({ ledger: await ledger() });
    const started = Date.now();
    const settled = await h.settle(stop());
    expectAccountedFor(settled);
    expect(settled).toMatchObject({ thrown: false, result: { outcome: 'diagnosed', delivery: { failed: [] } } });
    expect(slackPosts()).toHaveLength(1);
    expect(published()).toHaveLength(1);
    expect(h.logs.find((l) => l.message === 'ledger unavailable, alerting anyway')).toMatchObject({ level: 'warn' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('alerts on SNS and throws for a retry when the ledger and Slack are both down; the retry alerts again', async () => {
    world();
    slack().script([], { status: 500, body: 'internal_error' });
    const h = await harness({ ledger: new DynamoIncidentLedger(dynamoAt(await closedUrl()), 'ledger') });
    const event = stop();
    const failure = (await rejectionOf(h.run(event))) as DeliveryError;
    expect(failure.failures.map((f) => f.channel)).toEqual(['slack']);
    expect(published()).toHaveLength(1);
    expect(h.logs.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        'ledger unavailable, alerting anyway',
        'ledger unavailable, delivery not recorded',
        'delivery failed',
      ]),
    );

    // Nothing was recorded, so the retry cannot know SNS had it: it is sent twice, not lost.
    slack().reset();
    const retried = await h.run(event);
    expect(retried).toMatchObject({ outcome: 'diagnosed', delivery: { failed: [] } });
    expect(slackPosts()).toHaveLength(1);
    expect(published()).toHaveLength(2);
  });

  it('does not drop an event whose claim outlived a failed invocation: the early retry fails again, a later one alerts', async () => {
    // The ledger takes the claim, then fails (throttled) before the decision is recorded; Slack
    // and SNS are down too, so the invocation throws. Lambda's first retry comes about a minute
    // later, inside the claim's 90-second lease.
    const table = await dynamo().createLedgerTable(`ledger-${Math.random().toString(36).slice(2, 10)}`);
    const real = new DynamoIncidentLedger(dynamo().client(), table);
    let flaky = true;
    const throttled = () =>
      Promise.reject(
        new AwsCallError('UpdateItem', 'throttled', 'throttled by AWS after retries (ThrottlingException)'),
      );
    const ledger: IncidentLedgerPort = {
      claimEvent: (id, at) => real.claimEvent(id, at),
      decide: (key, at, window) => (flaky ? throttled() : real.decide(key, at, window)),
      recordDecision: (id, decision, channels, at) =>
        flaky ? throttled() : real.recordDecision(id, decision, channels, at),
      recordDelivery: (id, channel, at) => (flaky ? throttled() : real.recordDelivery(id, channel, at)),
    };
    world(SCENARIOS[0], { Publish: snsError('InternalError', 'Internal error', 500) });
    slack().script([], { status: 500, body: 'internal_error' });
    const h = await harness({ ledger });
    const event = stop();
    const failure = (await rejectionOf(h.run(event))) as DeliveryError;
    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure.failures.map((f) => f.channel).sort()).toEqual(['slack', 'sns']);

    // First retry, 65 s later: everything is back, but the claim is still leased.
    flaky = false;
    world();
    slack().reset();
    skew += 65_000;
    const early = await h.settle(event);
    expectAccountedFor(early);
    expect(early).toMatchObject({ thrown: true, error: { name: 'EventInFlightError', eventId: event.id } });
    expect(h.logs.find((l) => l.message === 'event in flight elsewhere, retry later')).toMatchObject({
      level: 'warn',
      fields: { eventId: event.id },
    });
    expect(slackPosts()).toHaveLength(0);

    // Second retry, two minutes after the first: the lease has run out, the event is claimed anew.
    skew += 120_000;
    const late = await h.run(event);
    expect(late).toMatchObject({ outcome: 'diagnosed', delivery: { decision: 'alert', failed: [] } });
    expect(slackPosts()).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------
// Ten thousand generated events: no crash, no lost event, no growth.

/** `global.gc`, exposed at run time when node was not started with --expose-gc. */
function garbageCollector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** Heap in use after a full collection (when one can be forced). */
function heapUsed(gc: (() => void) | undefined): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Runs `body` with stdout and stderr swallowed: Powertools metrics print every invocation. */
async function silenced<T>(body: () => Promise<T>): Promise<T> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await body();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const ALERTING_CLUSTER = 'ecr-privatelink-sample';
const QUIET_CLUSTERS = ['quiet-a', 'quiet-b', 'sandbox', 'ecs-cluster-with-a-rather-long-name-0123456789'];
const HOSTILE = [
  '<!channel>',
  '<https://evil.example|click>',
  '*bold*',
  '```',
  '`',
  '$(rm -rf /)',
  '; rm -rf / |',
  `'"`,
  '\n',
  '\u0000',
  '\uD800',
  '&amp;',
  'CannotPullContainerError: ',
  'ResourceInitializationError: ',
];
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 6 })), { maxLength: 8 }).map((p) => p.join('')),
);
const DEMO_FILES = demoEventFiles();

/** A demo event with hostile or random values in the fields a stop carries. */
const editedDemoEvent = fc
  .record({
    file: fc.constantFrom(...DEMO_FILES),
    cluster: fc.constantFrom(...QUIET_CLUSTERS),
    reason: fc.option(text, { nil: undefined }),
    stopCode: fc.option(fc.oneof(text, fc.constantFrom('TaskFailedToStart', 'EssentialContainerExited')), {
      nil: undefined,
    }),
    group: fc.option(
      text.map((t) => `service:${t}`),
      { nil: undefined },
    ),
    containerReason: fc.option(text, { nil: undefined }),
    exitCode: fc.option(fc.oneof(fc.integer(), fc.constant(null)), { nil: undefined }),
  })
  .map(({ file, cluster, reason, stopCode, group, containerReason, exitCode }) => {
    const event = demoEvent(file);
    event.detail.clusterArn = `arn:aws:ecs:ap-northeast-1:123456789012:cluster/${cluster}`;
    if (reason !== undefined) event.detail.stoppedReason = reason;
    if (stopCode !== undefined) event.detail.stopCode = stopCode;
    if (group !== undefined) event.detail.group = group;
    const [container] = event.detail.containers;
    if (container && containerReason !== undefined) container.reason = containerReason;
    if (container && exitCode !== undefined) container.exitCode = exitCode;
    return event as unknown;
  });

/** Something shaped like an event with arbitrary contents. */
const eventShaped = fc.record({
  version: fc.constant('0'),
  'detail-type': fc.constantFrom('ECS Task State Change', 'ECS Container Instance State Change', 'Scheduled Event'),
  source: fc.constantFrom('aws.ecs', 'aws.ec2'),
  region: fc.oneof(fc.constant('ap-northeast-1'), text),
  detail: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
    fc.record({ lastStatus: fc.constant('STOPPED'), stoppedReason: text, clusterArn: text, group: text }),
  ),
});

/** A demo event, untouched, on the one cluster that alerts: alerts, or repeats (suppressed). */
const alertingEvent = fc.constantFrom(...DEMO_FILES).map((file) => {
  const event = demoEvent(file);
  event.detail.clusterArn = `arn:aws:ecs:ap-northeast-1:123456789012:cluster/${ALERTING_CLUSTER}`;
  return event as unknown;
});

const generatedEvent = fc.oneof(
  { weight: 60, arbitrary: editedDemoEvent },
  { weight: 10, arbitrary: eventShaped },
  { weight: 10, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: alertingEvent },
);

describe('stopped-task handler under 10,000 generated events', () => {
  it('never crashes or loses an event, and its heap does not grow', { timeout: 60_000 }, async () => {
    world();
    const counts = new Map<string, number>();
    const tally = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const logger = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
    const metrics = new Metrics({ namespace: 'EcsStopDoctor', serviceName: 'ecs-stop-doctor' });
    // Only the one cluster alerts: most events cost no AWS call, as in a busy account.
    const h = await harness({ env: { DOCTOR_CLUSTERS: ALERTING_CLUSTER } }, { logger, metrics });
    let seq = 0;
    const property = fc.asyncProperty(generatedEvent, async (value) => {
      seq += 1;
      const event = (
        value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...value } : value
      ) as Event;
      if (event !== null && typeof event === 'object' && !Array.isArray(event)) event.id = `gen-${seq}`;
      const settled = await h.settle(event);
      if (settled.thrown) {
        tally(`thrown ${(settled.error as Error)?.name}`);
        return false;
      }
      const { result } = settled;
      if (result.outcome === 'diagnosed') {
        tally(`diagnosed, ${result.delivery.decision}`);
        if (result.delivery.decision === 'alert' && result.delivery.sent.length !== CHANNELS.length) return false;
      } else tally(result.outcome);
      return true;
    });

    const gc = garbageCollector();
    const before = await silenced(async () => {
      await fc.assert(property, { numRuns: 1_000 });
      return heapUsed(gc);
    });
    const after = await silenced(async () => {
      await fc.assert(property, { numRuns: 10_000 });
      return heapUsed(gc);
    });

    expect([...counts.keys()].filter((k) => k.startsWith('thrown'))).toEqual([]);
    expect(counts.get('rejected')).toBeGreaterThan(0);
    expect(counts.get('ignored')).toBeGreaterThan(0);
    expect(counts.get('diagnosed, not-alerted')).toBeGreaterThan(0);
    expect(counts.get('diagnosed, alert')).toBeGreaterThan(0);
    expect(counts.get('suppressed')).toBeGreaterThan(0);
    const growthMb = (after - before) / 1024 / 1024;
    // With a forced collection the heap must be flat; without one, allow for garbage not yet collected.
    expect(growthMb, `heap grew ${growthMb.toFixed(1)} MB over 10,000 events`).toBeLessThan(gc ? 8 : 50);
  });
});
