import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import type { ChannelFailure, HandlerResult } from '../../functions/handlers/stopped-task';
import { buildHandler } from '../../scripts/build';
import { type AwsRequest, type Routes, useAwsReplayServer } from '../helpers/aws-replay-server';
import { awsWorld } from '../helpers/aws-world';
import { deliveryRoutes, TOPIC_ARN, WEBHOOK_SECRET_ARN } from '../helpers/delivery-routes';
import { useDynalite } from '../helpers/dynalite';
import { demoEvent, fixture } from '../helpers/fixtures';
import { SECRET_WEBHOOK_PATH, useSlackReceiver } from '../helpers/slack-receiver';

// The built Lambda bundle, end to end: its own copies of the SDK clients, Powertools and the
// catalog, configured only through environment variables, talking to local servers: the
// replay server for EC2, ECS, SNS and Secrets Manager, dynalite for the ledger, and the
// Slack receiver for the webhook. The tests assert exactly what reached Slack and SNS.
//
// The bundle reads its configuration once, at import, and keeps its caches (webhook URL,
// VPC facts) and its ledger for the whole file, like a warm container. The tests in the
// first describe therefore tell one story in order: an incident opens, repeats, is
// redelivered.

type Handler = (event: unknown, context?: unknown) => Promise<HandlerResult>;

/** Registration order matters: these beforeAll hooks run before the one below that imports the bundle. */
const aws = useAwsReplayServer();
const slack = useSlackReceiver();
const dynamo = useDynalite();

const SSM_EVENT = '07-seed004-ssm-parameter-network-2024.json';
const LOGS_EVENT = '04-seed002-logs-unreachable.json';
/** What event 04's VPC gets wrong: the endpoints' security group does not admit the task on 443. */
const LOGS_FAILURES = ['endpoint-sg:logs', 'endpoint-sg:ecr.dkr', 'endpoint-sg:ecr.api'];
const CONTEXT = { getRemainingTimeInMillis: () => 30_000 };

let handler: Handler;

beforeAll(async () => {
  // AWS_ENDPOINT_URL (everything else) and the dummy credentials come from useAwsReplayServer.
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo().url);
  vi.stubEnv('DOCTOR_SNS_TOPIC_ARN', TOPIC_ARN);
  vi.stubEnv('DOCTOR_SNS_FORMAT', 'text');
  vi.stubEnv('DOCTOR_SLACK_WEBHOOK_SECRET_ARN', WEBHOOK_SECRET_ARN);
  vi.stubEnv('DOCTOR_LEDGER_TABLE', dynamo().tableName);
  vi.stubEnv('DOCTOR_DEDUPE_WINDOW_MINUTES', '60');
  vi.stubEnv('DOCTOR_ALERT_CAUSES', 'network,permission,application');
  vi.stubEnv('DOCTOR_MIN_SEVERITY', 'low');
  vi.stubEnv('DOCTOR_CLUSTERS', 'ecr-privatelink-sample,cf-ecs-sample-cluster');
  vi.stubEnv('DOCTOR_EXCLUDE_CLUSTERS', 'sandbox');
  aws().setRoutes(ssmWorld());
  const outdir = mkdtempSync(join(tmpdir(), 'doctor-bundle-delivery-'));
  const built = await buildHandler({ outdir, extraPatternDirs: [] });
  ({ handler } = (await import(pathToFileURL(built.file).href)) as { handler: Handler });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Event 07's account: a VPC with no ssm endpoint. */
function ssmWorld(): Routes {
  const facts = parseNetworkFacts(fixture('facts/seed004-no-ssm.json'), 'seed004-no-ssm.json');
  return {
    ...awsWorld(facts, { cluster: 'ecr-privatelink-sample', service: 'app2' }),
    ...deliveryRoutes(slack().webhookUrl()),
  };
}

/** Event 04's account: endpoints whose security group does not let the task in on 443. */
function logsWorld(): Routes {
  const facts = parseNetworkFacts(
    fixture('facts/seed002-endpoint-sg-no-443-from-task.json'),
    'seed002-endpoint-sg-no-443-from-task.json',
  );
  return {
    ...awsWorld(facts, { cluster: 'cf-ecs-sample-cluster', service: 'cf-ecs-sample-service' }),
    ...deliveryRoutes(slack().webhookUrl()),
  };
}

let eventSeq = 0;

/** A demo event as EventBridge sends it for another stop: a fresh event id. */
function stop(name: string): Record<string, unknown> & { id: string } {
  eventSeq += 1;
  return { ...demoEvent(name), id: `bundle-delivery-${eventSeq}` };
}

type Document = Record<string, unknown>;

interface Invocation {
  readonly result?: HandlerResult;
  /** What the handler rejected with, when it did. */
  readonly error?: unknown;
  /** Powertools log lines. */
  readonly logs: Document[];
  /** CloudWatch embedded metric documents. */
  readonly emf: Document[];
}

/** Runs the bundle's handler, capturing what it wrote (Powertools writes to stdout/stderr outside Lambda). */
async function invoke(event: unknown): Promise<Invocation> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
  };
  const spies: Array<{ mockRestore(): void }> = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
    spies.push(vi.spyOn(console, method).mockImplementation(capture));
  for (const stream of [process.stdout, process.stderr])
    spies.push(
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        capture(chunk);
        return true;
      }),
    );
  let outcome: { result?: HandlerResult; error?: unknown };
  try {
    outcome = { result: await handler(event, CONTEXT) };
  } catch (error) {
    outcome = { error };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const documents = lines
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Document);
  return {
    ...outcome,
    logs: documents.filter((d) => !('_aws' in d)),
    emf: documents.filter((d) => '_aws' in d),
  };
}

/** The handler's result; fails the test, showing the error, when it rejected. */
function resultOf(run: Invocation): HandlerResult {
  if (!run.result) expect.fail(`the handler rejected: ${String(run.error)}`);
  return run.result;
}

/** Metric names across embedded metric documents. */
function metricNames(emf: readonly Document[]): string[] {
  return emf.flatMap((doc) =>
    (doc._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics.flatMap((m) =>
      m.Metrics.map((metric) => metric.Name),
    ),
  );
}

const published = (): AwsRequest[] => aws().requests.filter((r) => r.action === 'Publish');

/** EC2 reads (SNS Publish is a Query action too, so the server files it under ec2). */
const ec2Reads = (requests: readonly AwsRequest[]): string[] =>
  requests.filter((r) => r.service === 'ec2' && r.action !== 'Publish').map((r) => r.action);

/** A Publish's `MessageAttributes.entry.N.*` parameters as name → value, checking each is a String. */
function messageAttributes(publish: AwsRequest): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, name] of Object.entries(publish.params)) {
    const n = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(key)?.[1];
    if (!n) continue;
    expect(publish.params[`MessageAttributes.entry.${n}.Value.DataType`]).toBe('String');
    attributes[String(name)] = String(publish.params[`MessageAttributes.entry.${n}.Value.StringValue`]);
  }
  return attributes;
}

interface SlackBody {
  text: string;
  blocks: Array<{ type: string; text?: { text: string } }>;
}

/** The ledger's event item, read straight from dynalite. */
async function ledgerEvent(eventId: string) {
  const { Item } = await dynamo()
    .client()
    .send(new GetItemCommand({ TableName: dynamo().tableName, Key: { pk: { S: `event#${eventId}` } } }));
  return Item;
}

describe('built bundle, one incident in a warm container', () => {
  let first: (Record<string, unknown> & { id: string }) | undefined;
  let incidentKey = '';
  /** Replay-server requests made up to the end of the first stop. */
  let afterFirst = 0;

  it('alerts a new incident once on Slack and once on SNS, with the failing endpoint and its fix', async () => {
    first = stop(SSM_EVENT);
    const run = await invoke(first);
    const result = resultOf(run);
    expect(result).toMatchObject({
      outcome: 'diagnosed',
      diagnosis: { cause: 'network', service: 'app2', cluster: 'ecr-privatelink-sample' },
      delivery: { decision: 'alert', sent: ['slack', 'sns'], failed: [] },
    });
    if (result.outcome !== 'diagnosed') throw new Error('unreachable');
    incidentKey = result.delivery.incidentKey ?? '';
    const { patternId } = result.diagnosis;
    expect(patternId).toEqual(expect.any(String));
    expect(incidentKey).toBe(`ecr-privatelink-sample/service:app2/${patternId}`);
    expect(result.diagnosis.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(['endpoint:ssm']);

    // Slack: one POST of Block Kit JSON to the webhook URL read from the secret.
    expect(slack().posts).toHaveLength(1);
    const [post] = slack().posts;
    expect(post).toMatchObject({ method: 'POST', path: SECRET_WEBHOOK_PATH });
    expect(String(post?.headers['content-type'])).toContain('application/json');
    const body = post?.body as SlackBody;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toContain('network');
    expect(body.blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('network') } });
    expect(body.blocks[0]?.text?.text).toContain('app2');
    const fixBlock = body.blocks.find((b) => JSON.stringify(b).includes('aws ec2 create-vpc-endpoint'));
    expect(JSON.stringify(fixBlock)).toContain('ssm');
    expect(JSON.stringify(fixBlock)).toContain('com.amazonaws.ap-northeast-1.ssm');
    // Nothing from the event or AWS can ping a channel: no <!channel>, <!here>, <!everyone>, <!subteam…>.
    expect(post?.rawBody).not.toMatch(/<!/);

    // SNS: one Publish to the topic, with a subject SNS accepts and filterable attributes.
    const publishes = published();
    expect(publishes).toHaveLength(1);
    const params = publishes[0]?.params ?? {};
    expect(params).toMatchObject({ Action: 'Publish', TopicArn: TOPIC_ARN });
    const subject = String(params.Subject);
    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject).toMatch(/^ECS network: app2: /);
    expect(String(params.Message)).toContain('FAIL [ssm]');
    expect(String(params.Message)).toContain('aws ec2 create-vpc-endpoint');
    expect(messageAttributes(publishes[0] as AwsRequest)).toEqual({
      cause: 'network',
      severity: result.diagnosis.severity,
      cluster: 'ecr-privatelink-sample',
      service: 'app2',
      patternId,
    });

    // The other AWS calls: the secret once, the VPC read live; nothing unanswered (so the
    // ledger really went to dynalite through AWS_ENDPOINT_URL_DYNAMODB, not here).
    expect(
      aws()
        .requests.filter((r) => r.action === 'GetSecretValue')
        .map((r) => r.params),
    ).toEqual([{ SecretId: WEBHOOK_SECRET_ARN }]);
    expect(ec2Reads(aws().requests)).toEqual(expect.arrayContaining(['DescribeSubnets', 'DescribeVpcEndpoints']));
    expect(aws().unrouted).toEqual([]);
    afterFirst = aws().requests.length;

    // One log line, saying where the alert went; metrics for the diagnosis and both channels.
    expect(run.logs).toHaveLength(1);
    expect(run.logs[0]).toMatchObject({
      level: 'INFO',
      message: 'task diagnosed',
      service: 'ecs-stop-doctor',
      eventId: first.id,
      cause: 'network',
      patternId,
      network: { status: 'checked' },
      delivery: { decision: 'alert', incidentKey, sent: ['slack', 'sns'], failed: [] },
    });
    expect(metricNames(run.emf)).toEqual(expect.arrayContaining(['Diagnoses', 'AlertsSent']));
    expect(run.emf.find((doc) => 'Diagnoses' in doc)).toMatchObject({ Cause: 'network' });
    expect(
      run.emf
        .filter((doc) => 'AlertsSent' in doc)
        .map((doc) => doc.Channel)
        .sort(),
    ).toEqual(['slack', 'sns']);

    // The ledger remembers both deliveries for this event.
    const item = await ledgerEvent(first.id);
    expect(item?.delivered?.SS?.slice().sort()).toEqual(['slack', 'sns']);
    expect(item?.decision?.M?.kind?.S).toBe('alert');
  });

  it('counts a burst of 30 more stops of the service without posting or reading the VPC again', async () => {
    expect(first, 'needs the first stop of the incident, from the test before').toBeDefined();
    const burst = Array.from({ length: 30 }, () => stop(SSM_EVENT));
    const runs: Invocation[] = [];
    for (const event of burst) runs.push(await invoke(event));
    expect(runs.map(resultOf)).toEqual(
      burst.map((event, i) => ({
        outcome: 'suppressed',
        taskArn: (event.detail as { taskArn: string }).taskArn,
        incidentKey,
        count: i + 1,
      })),
    );
    // Nothing new on Slack (the receiver is fresh per test) nor SNS: one of each in total.
    expect(slack().posts).toEqual([]);
    expect(published()).toHaveLength(1);
    // Repeats are recognised from the ledger alone: no EC2 read, no secret, no call at all here.
    expect(ec2Reads(aws().requests.slice(afterFirst))).toEqual([]);
    expect(aws().requests.slice(afterFirst)).toEqual([]);
    expect(aws().unrouted).toEqual([]);
    for (const run of runs) {
      expect(run.logs).toMatchObject([{ level: 'INFO', message: 'repeat suppressed', incidentKey }]);
      expect(metricNames(run.emf)).toEqual(expect.arrayContaining(['Diagnoses', 'AlertsSuppressed']));
      expect(metricNames(run.emf)).not.toContain('AlertsSent');
    }
  });

  it('answers duplicate to an event id delivered twice, posting nothing', async () => {
    expect(first, 'needs the first stop of the incident').toBeDefined();
    const before = aws().requests.length;
    const alerted = first as { id: string };
    const again = await invoke(structuredClone(alerted));
    expect(resultOf(again)).toEqual({ outcome: 'duplicate', eventId: alerted.id });
    expect(again.logs).toMatchObject([{ message: 'duplicate event', eventId: alerted.id, incidentKey }]);
    expect(metricNames(again.emf)).toContain('DuplicateEvents');

    // A repeat that was suppressed is a duplicate too when redelivered, not a second count.
    const repeat = stop(SSM_EVENT);
    const counted = resultOf(await invoke(repeat));
    expect(counted).toMatchObject({ outcome: 'suppressed', count: 31 });
    expect(resultOf(await invoke(structuredClone(repeat)))).toEqual({ outcome: 'duplicate', eventId: repeat.id });

    expect(slack().posts).toEqual([]);
    expect(published()).toHaveLength(1);
    expect(aws().requests.slice(before)).toEqual([]);
  });
});

describe('built bundle, Slack down for a new incident', () => {
  it('throws DeliveryError naming Slack after publishing to SNS; the retry posts to Slack only', async () => {
    aws().setRoutes(logsWorld());
    slack().script([], { status: 503, body: 'service_unavailable' });
    const event = stop(LOGS_EVENT);

    const failed = await invoke(event);
    expect(failed.result).toBeUndefined();
    const error = failed.error as { name?: string; message?: string; failures?: ChannelFailure[] };
    // The bundle has its own DeliveryError class, so compare by name, not instanceof.
    expect(error?.name).toBe('DeliveryError');
    expect(error.failures).toEqual([{ channel: 'slack', reason: expect.stringContaining('503'), permanent: false }]);
    expect(error.message).toContain('slack');
    // Slack got every attempt (4, with backoff), each the same alert; the secret stays out of the error.
    expect(slack().posts).toHaveLength(4);
    expect(new Set(slack().posts.map((p) => p.rawBody)).size).toBe(1);
    expect(JSON.stringify(slack().posts[0]?.body)).toContain('cf-ecs-sample-service');
    expect(`${error.message} ${JSON.stringify(error.failures)}`).not.toContain('SECRETxyz');

    // SNS still got it, once.
    expect(published()).toHaveLength(1);
    expect(messageAttributes(published()[0] as AwsRequest)).toMatchObject({
      cause: 'network',
      cluster: 'cf-ecs-sample-cluster',
      service: 'cf-ecs-sample-service',
    });
    expect(aws().unrouted).toEqual([]);

    expect(failed.logs.find((l) => l.message === 'delivery failed')).toMatchObject({
      level: 'ERROR',
      channel: 'slack',
      permanent: false,
      eventId: event.id,
      reason: expect.stringContaining('503'),
    });
    const diagnosed = failed.logs.find((l) => l.message === 'task diagnosed');
    expect(diagnosed).toMatchObject({
      delivery: { decision: 'alert', sent: ['sns'], failed: [{ channel: 'slack' }] },
    });
    // The VPC was read live (a different VPC from the first incident's) and the gap found.
    const { findings } = (diagnosed as { diagnosis: { findings: Array<{ id: string; status: string }> } }).diagnosis;
    expect(findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(LOGS_FAILURES);
    expect(ec2Reads(aws().requests)).toEqual(
      expect.arrayContaining(['DescribeSecurityGroups', 'DescribeVpcEndpoints']),
    );
    expect(JSON.stringify(failed.logs)).not.toContain('SECRETxyz');
    expect(failed.emf.filter((doc) => 'DeliveryFailures' in doc).map((doc) => doc.Channel)).toEqual(['slack']);
    expect(failed.emf.filter((doc) => 'AlertsSent' in doc).map((doc) => doc.Channel)).toEqual(['sns']);
    expect((await ledgerEvent(event.id))?.delivered?.SS).toEqual(['sns']);

    // Lambda retries the same event: Slack is back; SNS already has the alert.
    slack().reset();
    const retried = await invoke(structuredClone(event));
    const retriedResult = resultOf(retried);
    expect(retriedResult).toMatchObject({
      outcome: 'diagnosed',
      delivery: { decision: 'alert', sent: ['slack'], failed: [] },
    });
    if (retriedResult.outcome !== 'diagnosed') throw new Error('unreachable');
    expect(retriedResult.diagnosis.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(LOGS_FAILURES);
    expect(slack().posts).toHaveLength(1);
    const body = slack().posts[0]?.body as SlackBody;
    expect(body.blocks[0]).toMatchObject({ type: 'header', text: { text: expect.stringContaining('network') } });
    expect(body.blocks[0]?.text?.text).toContain('cf-ecs-sample-service');
    expect(published()).toHaveLength(1);
    expect(retried.logs.find((l) => l.message === 'delivery failed')).toBeUndefined();
    expect((await ledgerEvent(event.id))?.delivered?.SS?.slice().sort()).toEqual(['slack', 'sns']);

    // A third delivery finds every channel done.
    const third = await invoke(structuredClone(event));
    expect(resultOf(third)).toEqual({ outcome: 'duplicate', eventId: event.id });
    expect(slack().posts).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });
});
