import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import { replayEnv, useAwsReplayServer } from '../helpers/aws-replay-server';
import { awsWorld } from '../helpers/aws-world';
import { jsonLines, runCli, runCliAsync } from '../helpers/cli';
import { DEMO_DIR, type EventFixture, fixture, ROOT } from '../helpers/fixtures';

const server = useAwsReplayServer();

function snapshot(name: string): NetworkFacts {
  return parseNetworkFacts(fixture(`facts/${name}`), name);
}

/** The CLI as a user runs it against an AWS-compatible endpoint given by AWS_ENDPOINT_URL. */
function live(args: readonly string[]) {
  return runCliAsync(args, { env: replayEnv(server().url) });
}

/** Demo events of service tasks paired with the snapshot of their subnet (test/fixtures/facts/demo). */
const PAIRED = readdirSync(join(ROOT, 'test/fixtures/facts/demo'))
  .filter((event) => fixture<EventFixture>(`events/demo/${event}`).detail.group?.toString().startsWith('service:'))
  .map((event) => [event, basename(readlinkSync(join(ROOT, 'test/fixtures/facts/demo', event)))] as const);

/** The replay server as the AWS account of a demo event's service. */
function worldFor(event: string, facts: NetworkFacts) {
  const detail = fixture<EventFixture>(`events/demo/${event}`).detail;
  return awsWorld(facts, {
    cluster: String(detail.clusterArn).split('/').pop() ?? '',
    service: String(detail.group).replace('service:', ''),
  });
}

describe('replay --live', () => {
  it('covers the demo service events that have snapshots', () => {
    expect(PAIRED.length).toBeGreaterThanOrEqual(5);
  });

  it.each(PAIRED)('finds in %s, read live, exactly what the recorded snapshot %s gives', async (event, facts) => {
    server().setRoutes(worldFor(event, snapshot(facts)));
    const file = join(DEMO_DIR, event);
    const read = await live(['replay', '--live', '--json', file]);
    expect(read.stderr).toBe('');
    expect(read.code).toBe(0);
    const recorded = runCli(['replay', '--json', '--facts', join(ROOT, 'test/fixtures/facts', facts), file]);
    const [liveDiagnosis] = jsonLines(read.stdout);
    const [recordedDiagnosis] = jsonLines(recorded.stdout);
    // Live, S3's CIDRs are read only when the ACL could block some of them; else any address is judged.
    const sameS3 = (findings: unknown) => JSON.stringify(findings).replace(/Amazon S3 \([^)]*\)/g, 'Amazon S3 (…)');
    expect(sameS3(liveDiagnosis?.findings)).toEqual(sameS3(recordedDiagnosis?.findings));
    expect(liveDiagnosis?.network).toEqual(recordedDiagnosis?.network);
    const findings = (liveDiagnosis?.findings ?? []) as Array<{ status: string }>;
    expect(findings.some((f) => f.status === 'fail')).toBe(true);
    expect(server().unrouted).toEqual([]);
  });

  it("cannot judge a standalone task's own security groups, and says why instead of guessing", async () => {
    const event = '01-seed000-secretsmanager-private-dns-off.json';
    server().setRoutes(awsWorld(snapshot('seed000-secretsmanager-private-dns-off.json')));
    const read = await live(['replay', '--live', '--json', join(DEMO_DIR, event)]);
    const [diagnosis] = jsonLines(read.stdout) as Array<{
      findings: Array<{ id: string; status: string; message: string }>;
    }>;
    const egress = diagnosis?.findings.find((f) => f.id === 'task-egress:endpoints');
    expect(egress).toMatchObject({ status: 'unknown' });
    expect(egress?.message).toContain("the task's security groups are unknown");
    // The finding that explains the stop is still there.
    expect(diagnosis?.findings.find((f) => f.id === 'private-dns:secretsmanager')?.status).toBe('fail');
    expect(server().requests.map((r) => r.action)).not.toContain('DescribeServices');
  });

  it('asks AWS nothing for a stop the network cannot explain', async () => {
    server().setRoutes({});
    const read = await live(['replay', '--live', '--json', join(DEMO_DIR, '10-exit-code-1.json')]);
    expect(read.code).toBe(0);
    expect(jsonLines(read.stdout)[0]?.network).toMatchObject({ status: 'skipped' });
    expect(server().requests).toEqual([]);
  });

  it('names the missing permission when EC2 denies a call, and says the check is partial', async () => {
    const facts = snapshot('seed000-secretsmanager-private-dns-off.json');
    server().setRoutes(
      awsWorld({
        ...facts,
        endpoints: null,
        unavailable: [{ call: 'DescribeVpcEndpoints', reason: 'denied' }],
      }),
    );
    const read = await live([
      'replay',
      '--live',
      '--json',
      join(DEMO_DIR, '01-seed000-secretsmanager-private-dns-off.json'),
    ]);
    const [diagnosis] = jsonLines(read.stdout) as Array<{
      network: { status: string };
      findings: Array<{ id: string; evidence: string[] }>;
    }>;
    expect(diagnosis?.network.status).toBe('partial');
    expect(diagnosis?.findings.find((f) => f.id === 'facts:DescribeVpcEndpoints')?.evidence).toEqual([
      "grant ec2:DescribeVpcEndpoints to the checker's role",
    ]);
  });

  it('refuses --live together with --facts', () => {
    const read = runCli(['replay', '--live', '--facts', 'test/fixtures/facts', DEMO_DIR]);
    expect(read.code).toBe(2);
    expect(read.stderr).toContain("option '--facts <path>' cannot be used with option '--live'");
  });
});

describe('check', () => {
  it('checks every subnet of a service against its task definition, and exits 3 when one fails', async () => {
    const facts = snapshot('seed004-no-ssm.json');
    server().setRoutes(awsWorld(facts, { cluster: 'prod', service: 'api', platformVersion: '1.4.0' }));
    const read = await live(['check', '--cluster', 'prod', '--service', 'api', '--region', facts.region, '--json']);
    expect(read.stderr).toBe('');
    expect(read.code).toBe(3);
    const [result] = jsonLines(read.stdout) as Array<{
      subnetId: string;
      ok: boolean;
      findings: Array<{ id: string; status: string; endpoint?: string; fix: { cli?: string } | null }>;
    }>;
    expect(result?.subnetId).toBe(facts.task.subnetId);
    expect(result?.ok).toBe(false);
    const fail = result?.findings.find((f) => f.status === 'fail');
    expect(fail).toMatchObject({ id: 'endpoint:ssm', endpoint: 'ssm' });
    expect(fail?.fix?.cli).toContain(`--vpc-id ${facts.vpc?.vpcId}`);
    expect(server().requests.map((r) => r.action)).toContain('DescribeServices');
  });

  it('passes a service whose network has everything it needs, in words a person reads', async () => {
    server().setRoutes(awsWorld(snapshot('seed002-good.json'), { cluster: 'prod', service: 'web' }));
    const read = await live(['check', '--cluster', 'prod', '--service', 'web', '--region', 'ap-northeast-1']);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('service web in cluster prod');
    expect(read.stdout).toMatch(/✔ subnet subnet-\w+ \(ap-northeast-1a\) {2}0 fail/);
    expect(read.stdout).toContain('1 subnet(s) checked: 0 with failing checks');
  });

  it('checks a task definition in given subnets with no service', async () => {
    const facts = snapshot('seed001-dns-hostnames-off.json');
    server().setRoutes(awsWorld(facts));
    const read = await live([
      'check',
      '--task-definition',
      facts.taskDefinition?.taskDefinitionArn ?? 'app:1',
      '--subnets',
      facts.task.subnetId ?? '',
      '--security-groups',
      (facts.task.securityGroupIds ?? []).join(','),
      '--region',
      facts.region,
      '--json',
    ]);
    expect(read.code).toBe(3);
    const [result] = jsonLines(read.stdout) as Array<{ findings: Array<{ id: string; status: string }> }>;
    expect(result?.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toContain('vpc-dns-hostnames');
    expect(server().requests.map((r) => r.action)).not.toContain('DescribeServices');
  });

  it("asks for the container instances' subnets of a bridge mode service, and checks them when given", async () => {
    const facts = snapshot('ec2-bridge-instance-sg-no-egress-443.json');
    server().setRoutes(awsWorld(facts, { cluster: 'web-ec2', service: 'web-ec2', launchType: 'EC2' }));
    const service = ['check', '--cluster', 'web-ec2', '--service', 'web-ec2', '--region', facts.region];
    const refused = await live(service);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "service web-ec2 has no awsvpc subnets to check (in bridge or host mode its tasks use their container instances' network)",
    );

    const instances = ['--subnets', facts.task.subnetId ?? '', '--security-groups', 'sg-09e2b7c4d1a3f5e68'];
    const checked = await live([...service, ...instances, '--json']);
    expect(checked.code).toBe(3);
    const [result] = jsonLines(checked.stdout) as Array<{ findings: Array<{ id: string; status: string }> }>;
    expect(result?.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toEqual([
      'task-egress:endpoints',
      'task-egress:s3',
    ]);
  });

  it('says what is missing when there is nothing to check', async () => {
    const read = await live(['check']);
    expect(read.code).toBe(2);
    expect(read.stderr).toContain('nothing to check: pass --cluster and --service');
  });

  it('reports a service that does not exist as an error, not as a clean check', async () => {
    server().setRoutes(awsWorld(snapshot('seed002-good.json'), { cluster: 'prod', service: 'web' }));
    const read = await live(['check', '--cluster', 'prod', '--service', 'nope']);
    expect(read.code).toBe(2);
    expect(read.stderr).toContain('service nope not found in cluster prod (MISSING)');
  });

  it('needs a region from somewhere', async () => {
    const read = await runCliAsync(['check', '--subnets', 'subnet-1', '--security-groups', 'sg-1'], {
      env: { ...replayEnv(server().url), AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    });
    expect(read.code).toBe(2);
    expect(read.stderr).toContain('no AWS region');
  });
});

describe('snapshot', () => {
  it('records a subnet that replay --facts then reads offline', async () => {
    const facts = snapshot('seed002-endpoint-sg-no-443-from-task.json');
    server().setRoutes(awsWorld(facts));
    const out = join(mkdtempSync(join(tmpdir(), 'doctor-snapshot-')), 'subnet.json');
    const read = await live([
      'snapshot',
      '--subnet',
      facts.task.subnetId ?? '',
      '--cluster',
      'demo',
      '--service',
      'web',
      '--task-definition',
      facts.taskDefinition?.taskDefinitionArn ?? '',
      '--region',
      facts.region,
      '--out',
      out,
    ]);
    expect(read.code).toBe(0);
    const recorded = parseNetworkFacts(JSON.parse(readFileSync(out, 'utf8')), out);
    expect(recorded.endpoints).toEqual(facts.endpoints);
    expect(recorded.task.securityGroupIds).toEqual(facts.task.securityGroupIds);
    const offline = runCli(['replay', '--json', '--facts', out, join(DEMO_DIR, '04-seed002-logs-unreachable.json')]);
    const [diagnosis] = jsonLines(offline.stdout) as Array<{ findings: Array<{ id: string; status: string }> }>;
    expect(diagnosis?.findings.filter((f) => f.status === 'fail').map((f) => f.id)).toContain('endpoint-sg:logs');
  });
});
