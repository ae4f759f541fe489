import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import { buildHandler } from '../../scripts/build';
import { useAwsReplayServer } from '../helpers/aws-replay-server';
import { awsWorld } from '../helpers/aws-world';
import { demoEvent, fixture, ROOT } from '../helpers/fixtures';

type Handler = (event: unknown, context?: unknown) => Promise<Record<string, unknown>>;
/** Every AWS call the bundle makes goes to the local replay server. */
const aws = useAwsReplayServer();
let handler: Handler;
let bundleBytes = 0;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'doctor-bundle-'));
  const built = await buildHandler({ outdir, extraPatternDirs: [] });
  bundleBytes = built.bytes;
  ({ handler } = (await import(pathToFileURL(built.file).href)) as { handler: Handler });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the handler and returns what it logged, one JSON object per line. */
async function invoke(
  event: unknown,
  context?: unknown,
): Promise<{ result: Record<string, unknown>; logs: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
  };
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
    vi.spyOn(console, method).mockImplementation(capture);
  // Powertools writes through its own Console on stdout and stderr outside Lambda.
  const streams = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      capture(chunk);
      return true;
    }),
  );
  const result = await handler(event, context);
  for (const spy of streams) spy.mockRestore();
  const documents = lines
    .flatMap((text) => text.split('\n'))
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // CloudWatch embedded metric documents go to stdout too; they are not log lines.
  const logs = documents.filter((d) => !('_aws' in d));
  return { result, logs };
}

describe('built handler bundle', () => {
  it('ships user patterns named at build time, overriding built-ins', async () => {
    const patterns = mkdtempSync(join(tmpdir(), 'user-patterns-'));
    const builtin = readFileSync(join(ROOT, 'patterns/out-of-memory.yaml'), 'utf8');
    writeFileSync(
      join(patterns, 'out-of-memory.yaml'),
      builtin.replace(/^title: .*$/m, 'title: Team memory runbook applies'),
    );
    const outdir = mkdtempSync(join(tmpdir(), 'doctor-bundle-user-'));
    const built = await buildHandler({ outdir, extraPatternDirs: [patterns] });
    const custom = (await import(pathToFileURL(built.file).href)) as { handler: Handler };
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const result = await custom.handler(demoEvent('09-oom-killed.json'));
    expect(result).toMatchObject({ diagnosis: { patternId: 'out-of-memory', title: 'Team memory runbook applies' } });
  });

  it('fails the build, naming the file, when a user pattern is invalid', async () => {
    const patterns = mkdtempSync(join(tmpdir(), 'bad-patterns-'));
    writeFileSync(join(patterns, 'broken.yaml'), 'id: broken\ncause: nope\n');
    await expect(
      buildHandler({ outdir: mkdtempSync(join(tmpdir(), 'x-')), extraPatternDirs: [patterns] }),
    ).rejects.toThrow(/broken\.yaml/);
  });

  it('is a single minified ESM file well under the 1 MB budget', () => {
    expect(bundleBytes).toBeGreaterThan(10_000);
    expect(bundleBytes).toBeLessThan(1_000_000);
  });

  it('diagnoses a stopped-task event and writes one structured log line', async () => {
    const { result, logs } = await invoke(demoEvent('01-seed000-secretsmanager-private-dns-off.json'));
    expect(result).toMatchObject({
      outcome: 'diagnosed',
      diagnosis: { cause: 'network', endpoints: ['secretsmanager'] },
    });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      level: 'INFO',
      message: 'task diagnosed',
      service: 'ecs-stop-doctor',
      cause: 'network',
      patternId: 'secrets-manager-unreachable',
      alert: true,
      taskArn: expect.stringContaining(':task/ecs-fargate-vpc-endpoint/'),
    });
  });

  it("reads the stopped task's subnet live and finds the gap, with the deadline the invocation has left", async () => {
    const snapshot = parseNetworkFacts(fixture('facts/seed004-no-ssm.json'), 'seed004-no-ssm.json');
    aws().setRoutes(awsWorld(snapshot, { cluster: 'ecr-privatelink-sample', service: 'app2' }));
    const event = demoEvent('07-seed004-ssm-parameter-network-2024.json');
    const { result, logs } = await invoke(event, { getRemainingTimeInMillis: () => 30_000 });
    const diagnosis = (
      result as { diagnosis: { network: { status: string }; findings: Array<{ id: string; status: string }> } }
    ).diagnosis;
    expect(diagnosis.network.status).toBe('checked');
    expect(diagnosis.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual(['endpoint:ssm']);
    expect(logs[0]).toMatchObject({ network: { status: 'checked', rounds: 2 } });
    expect(aws().unrouted).toEqual([]);

    // A second stop in the same subnet, moments later, costs no AWS call.
    aws().setRoutes({});
    const again = await invoke(event);
    expect(again.logs[0]).toMatchObject({ network: { status: 'checked', rounds: 0, calls: 0 } });
    expect(aws().requests).toEqual([]);
  });

  it("reads a bridge mode task's network through its container instance, in two rounds", async () => {
    const snapshot = parseNetworkFacts(fixture('facts/ec2-bridge-instance-sg-no-egress-443.json'));
    aws().setRoutes(awsWorld(snapshot, { cluster: 'web-ec2', service: 'web-ec2' }));
    const { result, logs } = await invoke(demoEvent('19-ec2-bridge-ecr-pull-timeout.json'), {
      getRemainingTimeInMillis: () => 30_000,
    });
    const { findings } = (result as { diagnosis: { findings: Array<{ id: string; status: string }> } }).diagnosis;
    expect(findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual([
      'task-egress:s3',
      'task-egress:endpoints',
    ]);
    expect(logs[0]).toMatchObject({ network: { status: 'checked', rounds: 2 } });
    expect(aws().requests.map((r) => r.action)).toEqual(
      expect.arrayContaining(['DescribeContainerInstances', 'DescribeInstances', 'DescribeNetworkAcls']),
    );
    expect(aws().unrouted).toEqual([]);
  });

  it('asks AWS nothing when the cause cannot be the network', async () => {
    aws().setRoutes({});
    const { result } = await invoke(demoEvent('09-oom-killed.json'));
    expect(result).toMatchObject({ diagnosis: { cause: 'application', network: { status: 'skipped' } } });
    expect(aws().requests).toEqual([]);
  });

  it('ignores a RUNNING event with a log line saying why', async () => {
    const { result, logs } = await invoke(demoEvent('18-running-not-stopped.json'));
    expect(result).toEqual({ outcome: 'ignored', reason: 'lastStatus is RUNNING; only STOPPED tasks are diagnosed' });
    expect(logs).toMatchObject([{ message: 'event ignored', reason: result.reason }]);
  });

  it('rejects a malformed event without throwing, logging the field', async () => {
    const event = demoEvent('09-oom-killed.json');
    event.detail.containers = 'nope' as unknown as [];
    const { result, logs } = await invoke(event);
    expect(result).toMatchObject({ outcome: 'rejected', error: expect.stringContaining('detail.containers') });
    expect(logs).toMatchObject([{ level: 'ERROR', message: 'event rejected' }]);
  });
});
