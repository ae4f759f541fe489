import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsPorts } from '../../functions/adapters/aws-clients';
import { DynamoIncidentLedger } from '../../functions/adapters/incident-ledger';
import { NetworkFactsReader } from '../../functions/adapters/network-facts-reader';
import { SnsPublisher } from '../../functions/adapters/sns-publisher';
import { WebhookSecret } from '../../functions/adapters/webhook-secret';
import { loadCatalog } from '../../functions/catalog/catalog';
import { readConfig } from '../../functions/core/config';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import {
  createStoppedTaskHandler,
  DeliveryError,
  type HandlerResult,
  type StoppedTaskDeps,
} from '../../functions/handlers/stopped-task';
import { type Routes, snsError, useAwsReplayServer } from '../helpers/aws-replay-server';
import { awsWorld } from '../helpers/aws-world';
import { deliveryRoutes, TOPIC_ARN, WEBHOOK_SECRET_ARN, webhookSecretReply } from '../helpers/delivery-routes';
import { useDynalite } from '../helpers/dynalite';
import { demoEvent, fixture } from '../helpers/fixtures';
import { rejectionOf } from '../helpers/rejection';
import { closedPort, useSlackReceiver } from '../helpers/slack-receiver';

const aws = useAwsReplayServer();
const slack = useSlackReceiver();
const dynamo = useDynalite();

const EVENT = '07-seed004-ssm-parameter-network-2024.json';
const catalog = loadCatalog();
let clock = Date.parse('2026-03-21T02:00:00Z');
let eventSeq = 0;

type Event = EventBridgeEvent<string, unknown>;

/** A demo event as EventBridge would send it again for another stop: a new id and task. */
function stop(name = EVENT, overrides: { id?: string } = {}): Event {
  const event = demoEvent(name) as unknown as Event & { detail: Record<string, unknown> };
  eventSeq += 1;
  return { ...event, id: overrides.id ?? `evt-${eventSeq}`, detail: { ...event.detail } };
}

interface Harness {
  run(event: Event): Promise<HandlerResult>;
  logs: Array<{ level: string; message: string; fields: Record<string, unknown> }>;
  emf: Array<Record<string, unknown>>;
}

/** The handler wired to the local servers: dynalite, the Slack receiver, and the AWS replay server for EC2/ECS/SNS/Secrets Manager. */
async function harness(env: Record<string, string> = {}, overrides: Partial<StoppedTaskDeps> = {}): Promise<Harness> {
  const table = await dynamo().createLedgerTable(`ledger-${Math.random().toString(36).slice(2, 10)}`);
  const config = readConfig({
    DOCTOR_SNS_TOPIC_ARN: TOPIC_ARN,
    DOCTOR_SLACK_WEBHOOK_SECRET_ARN: WEBHOOK_SECRET_ARN,
    DOCTOR_LEDGER_TABLE: table,
    ...env,
  });
  const local = { endpoint: aws().url, region: 'ap-northeast-1', maxAttempts: 1 };
  const logger = new Logger({ serviceName: 'ecs-stop-doctor' });
  const metrics = new Metrics({ namespace: 'EcsStopDoctor', serviceName: 'ecs-stop-doctor' });
  const logs: Harness['logs'] = [];
  for (const level of ['info', 'warn', 'error'] as const)
    vi.spyOn(logger, level).mockImplementation((message: unknown, ...extra: unknown[]) => {
      logs.push({ level, message: String(message), fields: Object.assign({}, ...(extra as object[])) });
    });
  const emf: Harness['emf'] = [];
  const handle = createStoppedTaskHandler({
    config,
    catalog,
    network: new NetworkFactsReader({ portsFor: awsPorts({ maxAttempts: 1 }) }),
    ledger: config.ledgerTable ? new DynamoIncidentLedger(dynamo().client(), table) : undefined,
    slack: { webhook: new WebhookSecret(new SecretsManagerClient(local), WEBHOOK_SECRET_ARN) },
    sns: new SnsPublisher(new SNSClient(local)),
    logger,
    metrics,
    now: () => clock,
    ...overrides,
  });
  return {
    logs,
    emf,
    async run(event) {
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        for (const line of String(chunk).split('\n'))
          if (line.includes('"_aws"')) emf.push(JSON.parse(line) as Record<string, unknown>);
        return true;
      });
      try {
        return await handle(event, { getRemainingTimeInMillis: () => 30_000 } as never);
      } finally {
        write.mockRestore();
      }
    },
  };
}

/** EC2/ECS answers for event 07's VPC (no ssm endpoint), the webhook secret and SNS. */
function world(extra: Routes = {}) {
  const facts = parseNetworkFacts(fixture('facts/seed004-no-ssm.json'), 'seed004-no-ssm.json');
  aws().setRoutes({
    ...awsWorld(facts, { cluster: 'ecr-privatelink-sample', service: 'app2' }),
    ...deliveryRoutes(slack().webhookUrl()),
    ...extra,
  });
}

const ec2Calls = () => aws().requests.filter((r) => r.service === 'ec2' && r.action !== 'Publish').length;
const published = () => aws().requests.filter((r) => r.action === 'Publish');

beforeEach(() => {
  clock += 24 * 60 * 60 * 1000;
  world();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('stopped-task handler: one alert per incident', () => {
  it('alerts once on Slack and SNS for a new incident, with the network finding and the fix', async () => {
    const h = await harness();
    const result = await h.run(stop());
    expect(result).toMatchObject({
      outcome: 'diagnosed',
      delivery: { decision: 'alert', sent: ['slack', 'sns'], failed: [] },
    });
    expect(slack().posts).toHaveLength(1);
    const post = slack().posts[0]?.body as { text: string; blocks: unknown[] };
    expect(JSON.stringify(post.blocks)).toContain('ssm');
    const [publish] = published();
    expect(publish?.params).toMatchObject({
      TopicArn: TOPIC_ARN,
      'MessageAttributes.entry.1.Name': 'cause',
      'MessageAttributes.entry.1.Value.StringValue': 'network',
    });
    expect(String(publish?.params.Message)).toContain('FAIL [ssm]');
    expect(h.logs.find((l) => l.message === 'task diagnosed')?.fields).toMatchObject({
      cause: 'network',
      delivery: { sent: ['slack', 'sns'] },
    });
  });

  it('alerts once for a burst of stops of one service, counting the rest without reading the network again', async () => {
    const h = await harness();
    const results = [];
    for (let i = 0; i < 20; i += 1) {
      clock += 1_000;
      results.push(await h.run(stop()));
    }
    expect(results.filter((r) => r.outcome === 'diagnosed')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'suppressed').map((r) => (r as { count: number }).count)).toEqual(
      Array.from({ length: 19 }, (_, i) => i + 1),
    );
    expect(slack().posts).toHaveLength(1);
    expect(published()).toHaveLength(1);
    // Only the first stop read the VPC: repeats are recognised before any EC2 call.
    expect(ec2Calls()).toBeLessThanOrEqual(10);
    const ec2AfterFirst = aws().requests.filter((r) => r.seq > (published()[0]?.seq ?? 0) && r.service === 'ec2');
    expect(ec2AfterFirst.filter((r) => r.action !== 'Publish')).toEqual([]);
  });

  it('says, once the window has passed, how many repeats were suppressed and since when', async () => {
    const h = await harness({ DOCTOR_DEDUPE_WINDOW_MINUTES: '10' });
    await h.run(stop());
    const firstRepeat = clock + 60_000;
    clock = firstRepeat;
    await h.run(stop());
    clock += 60_000;
    await h.run(stop());
    clock += 10 * 60_000;
    const result = await h.run(stop());
    expect(result.outcome).toBe('diagnosed');
    expect(slack().posts).toHaveLength(2);
    const text = JSON.stringify(slack().posts[1]?.body);
    expect(text).toContain('2 more');
    expect(text).toContain(new Date(firstRepeat).toISOString());
    expect(String(published()[1]?.params.Message)).toContain(
      `Repeats: stopped 2 more time(s) since ${new Date(firstRepeat).toISOString()}`,
    );
  });

  it('never alerts twice for the same event delivered twice by EventBridge', async () => {
    const h = await harness();
    const event = stop();
    expect((await h.run(event)).outcome).toBe('diagnosed');
    expect(await h.run(event)).toEqual({ outcome: 'duplicate', eventId: event.id });
    expect(slack().posts).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('alerts anyway when the ledger is down, and says why in the log', async () => {
    const down = new DynamoIncidentLedger(
      new DynamoDBClient({
        endpoint: `http://127.0.0.1:${await closedPort()}`,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      'ledger',
    );
    const h = await harness({}, { ledger: down });
    const result = await h.run(stop());
    expect(result).toMatchObject({ outcome: 'diagnosed', delivery: { sent: ['slack', 'sns'] } });
    expect(slack().posts).toHaveLength(1);
    expect(h.logs.find((l) => l.message === 'ledger unavailable, alerting anyway')?.level).toBe('warn');
  });

  it('does not alert, read the network or touch the ledger for a stop that does not deserve an alert', async () => {
    const h = await harness();
    const result = await h.run(stop('14-user-stopped.json'));
    expect(result).toMatchObject({ outcome: 'diagnosed', delivery: { decision: 'not-alerted' } });
    expect(slack().posts).toEqual([]);
    expect(aws().requests).toEqual([]);
  });

  it('keeps quiet about a cluster that is excluded', async () => {
    const h = await harness({ DOCTOR_EXCLUDE_CLUSTERS: 'ecr-privatelink-sample' });
    const result = await h.run(stop());
    expect(result).toMatchObject({ outcome: 'diagnosed', diagnosis: { alert: false } });
    expect(slack().posts).toEqual([]);
  });
});

describe('stopped-task handler: delivery failures', () => {
  it('throws for the dead-letter queue when Slack stays down, after publishing to SNS; a retry sends only to Slack', async () => {
    const h = await harness();
    slack().script([], { status: 503, body: 'service_unavailable' });
    const event = stop();
    const failure = await rejectionOf(h.run(event));
    expect(failure).toBeInstanceOf(DeliveryError);
    expect((failure as DeliveryError).failures).toEqual([
      { channel: 'slack', reason: expect.stringContaining('503'), permanent: false },
    ]);
    expect(published()).toHaveLength(1);
    expect(h.logs.find((l) => l.message === 'delivery failed')?.fields).toMatchObject({
      channel: 'slack',
      permanent: false,
    });

    // Lambda retries the event: Slack is back; SNS already has the alert.
    slack().reset();
    const retried = await h.run(event);
    expect(retried).toMatchObject({ outcome: 'diagnosed', delivery: { sent: ['slack'] } });
    expect(slack().posts).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('reports a deleted webhook as permanent and reads the secret again next time', async () => {
    const h = await harness();
    slack().script([{ status: 404, body: 'no_service' }]);
    await expect(h.run(stop())).rejects.toMatchObject({
      failures: [{ channel: 'slack', permanent: true }],
    });
    clock += 2 * 60 * 60 * 1000;
    await h.run(stop());
    expect(aws().requests.filter((r) => r.action === 'GetSecretValue')).toHaveLength(2);
  });

  it('skips Slack with a warning, and still publishes to SNS, while the secret holds the placeholder the CDK app creates', async () => {
    world({ GetSecretValue: webhookSecretReply('{"url":""}') });
    const h = await harness();
    const result = await h.run(stop());
    expect(result).toMatchObject({ outcome: 'diagnosed', delivery: { sent: ['sns'], failed: [], skipped: ['slack'] } });
    expect(slack().posts).toHaveLength(0);
    expect(published()).toHaveLength(1);
    expect(h.logs.find((l) => l.message === 'channel not set up, skipped')).toMatchObject({
      level: 'warn',
      fields: { channel: 'slack' },
    });
  });

  it('fails delivery, naming the secret, when the secret holds something that is not a webhook URL', async () => {
    world({ GetSecretValue: webhookSecretReply('{"url":"not a url"}') });
    const h = await harness();
    const failure = (await rejectionOf(h.run(stop()))) as DeliveryError;
    expect(failure.failures).toEqual([
      { channel: 'slack', reason: expect.stringContaining(WEBHOOK_SECRET_ARN), permanent: false },
    ]);
  });

  it('names SNS and its error when publishing fails, and never puts the webhook URL in a log or error', async () => {
    world({ Publish: snsError('AuthorizationError', 'User is not authorized to perform: SNS:Publish', 403) });
    const h = await harness();
    const failure = (await rejectionOf(h.run(stop()))) as DeliveryError;
    expect(failure.failures).toEqual([
      { channel: 'sns', reason: expect.stringContaining('AuthorizationError'), permanent: false },
    ]);
    const everything = JSON.stringify([h.logs, String(failure), failure.failures]);
    expect(everything).not.toContain('SECRETxyz');
  });
});

describe('stopped-task handler: metrics', () => {
  it('emits CloudWatch embedded metrics for diagnoses, alerts sent, suppressed repeats and network checks', async () => {
    const h = await harness();
    await h.run(stop());
    clock += 1_000;
    await h.run(stop());
    const names = h.emf.flatMap((doc) =>
      (
        (doc._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics ?? []
      ).flatMap((m) => m.Metrics.map((x) => x.Name)),
    );
    expect(names).toEqual(expect.arrayContaining(['Diagnoses', 'AlertsSent', 'AlertsSuppressed', 'NetworkChecks']));
    const sent = h.emf.filter((doc) => 'AlertsSent' in doc);
    expect(sent.map((doc) => doc.Channel).sort()).toEqual(['slack', 'sns']);
    expect(h.emf.find((doc) => 'Diagnoses' in doc)?.Cause).toBe('network');
  });
});
