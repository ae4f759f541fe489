import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../functions/catalog/catalog';
import { diagnoseWithFacts } from '../../../functions/core/network/diagnose-with-facts';
import type { NetworkFacts } from '../../../functions/core/network/facts';
import { parseNetworkFacts } from '../../../functions/core/network/facts-schema';
import type { StoppedTask } from '../../../functions/core/stopped-task';
import { demoTask, fixture } from '../../helpers/fixtures';

const catalog = loadCatalog();

/** Non-pass findings as `status id`, in the order the diagnosis gives them. */
function problems(facts: string, event: string | StoppedTask): string[] {
  const task = typeof event === 'string' ? demoTask(event) : event;
  const d = diagnoseWithFacts(task, catalog, parseNetworkFacts(fixture(`facts/${facts}.json`), facts));
  expect(d.network.status).toBe('checked');
  return d.findings.filter((f) => f.status !== 'pass').map((f) => `${f.status} ${f.id}`);
}

const E01 = '01-seed000-secretsmanager-private-dns-off.json';
const E02 = '02-seed000-pv13-ecr-dkr-timeout.json';
const E03 = '03-seed001-ecr-api-auth-timeout-2024.json';
const E04 = '04-seed002-logs-unreachable.json';
const E06 = '06-seed003-ecr-pull-api-error-500.json';
const E07 = '07-seed004-ssm-parameter-network-2024.json';
const E08 = '08-dockerhub-pull-timeout.json';
const E17 = '17-cross-region-ecr.json';
/** EC2 launch type in bridge mode: no ENI of its own, the container instance's network. */
const E19 = '19-ec2-bridge-ecr-pull-timeout.json';
/** Event 04's service, stopped by an EFS mount that timed out (the task definition mounts fs-0a1b2c3d4e5f60718). */
const EFS_TIMEOUT: StoppedTask = {
  ...demoTask(E04),
  stoppedReason:
    'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32',
};
const EFS_UNRESOLVED: StoppedTask = {
  ...demoTask(E04),
  stoppedReason:
    'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve "fs-0a1b2c3d4e5f60718.efs.ap-northeast-1.amazonaws.com" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID. : unsuccessful EFS utils command execution; code: 1',
};

describe('network scenarios (test/fixtures/facts)', () => {
  it.each([
    // Every seed architecture passes.
    ['seed000-good', E01, []],
    ['seed000-good', E02, []],
    ['seed001-good', E03, []],
    ['seed002-good', E04, []],
    ['seed004-good', E07, []],
    // NAT and no endpoints: AWS services are reached through the NAT.
    ['nat-no-endpoints', E08, []],
    // Seed 000's experiment: private DNS off on the secretsmanager endpoint.
    ['seed000-secretsmanager-private-dns-off', E01, ['fail private-dns:secretsmanager']],
    // PV 1.4 needs ecr.api; PV 1.3 does not.
    ['seed000-no-ecr-api', E01, ['fail endpoint:ecr.api']],
    ['seed000-no-ecr-api', E02, []],
    ['seed000-no-ecr-dkr', E02, ['fail endpoint:ecr.dkr']],
    ['s3-gateway-missing-from-route-table', E01, ['fail s3-gateway']],
    ['main-route-table-without-s3', E01, ['fail s3-gateway']],
    ['nacl-blocks-ephemeral', E01, ['fail nacl:s3']],
    ['subnet-no-free-ips', E01, ['fail subnet-free-ips']],
    ['custom-dhcp-dns', E01, ['warn dhcp-dns']],
    // ECS Exec without ssmmessages: worth a warning, but not why the task failed to start.
    ['seed001-no-ssmmessages', E03, ['warn endpoint:ssmmessages']],
    ['seed001-dns-hostnames-off', E03, ['fail vpc-dns-hostnames']],
    [
      'seed002-endpoint-sg-no-443-from-task',
      E04,
      ['fail endpoint-sg:logs', 'fail endpoint-sg:ecr.dkr', 'fail endpoint-sg:ecr.api'],
    ],
    ['seed002-task-sg-no-egress-443', E04, ['fail task-egress:endpoints', 'fail task-egress:s3']],
    // Seed 004: an endpoint only in another zone works: warn, not fail.
    [
      'seed004-endpoint-only-other-az',
      E07,
      ['warn endpoint-az:ssm', 'warn endpoint-az:ecr.dkr', 'warn endpoint-az:ecr.api', 'warn endpoint-az:logs'],
    ],
    ['seed004-no-ssm', E07, ['fail endpoint:ssm']],
    ['public-subnet-no-public-ip', E08, ['fail public-subnet-public-ip', 'fail endpoint:logs']],
    ['cross-region-ecr', E17, ['fail internet-path']],
    ['ec2-launch-type-no-ecs-agent', E06, ['fail endpoint:ecs-agent', 'fail endpoint:ecs-telemetry']],
    // Bridge mode: the container instance's subnet and security groups decide.
    ['ec2-bridge-good', E19, []],
    ['ec2-bridge-instance-sg-no-egress-443', E19, ['fail task-egress:s3', 'fail task-egress:endpoints']],
    // EFS: a mount target in the task's zone, open to NFS from the task. No EFS API endpoint needed.
    ['efs-good', EFS_TIMEOUT, []],
    ['efs-no-mount-target-in-zone', EFS_UNRESOLVED, ['fail efs-mount-target:fs-0a1b2c3d4e5f60718']],
    ['efs-mount-target-sg-no-2049-from-task', EFS_TIMEOUT, ['fail efs-sg:fs-0a1b2c3d4e5f60718']],
  ] as Array<[string, string | StoppedTask, string[]]>)('%s with %s reports exactly %j', (facts, event, expected) => {
    expect(problems(facts, event)).toEqual(expected);
  });

  it("names the container instance's security group, and opens it, when a bridge mode task cannot leave", () => {
    const d = diagnoseWithFacts(
      demoTask(E19),
      catalog,
      parseNetworkFacts(fixture('facts/ec2-bridge-instance-sg-no-egress-443.json')),
    );
    expect(d.network.reason).toBe(
      'checked 7 requirement(s) of subnet subnet-0447d2e1961626e90 (the network of container instance i-05d1e8a7c3b2f4960)',
    );
    const egress = d.findings.find((f) => f.id === 'task-egress:endpoints');
    expect(egress?.message).toBe(
      "container instance i-05d1e8a7c3b2f4960's security group sg-09e2b7c4d1a3f5e68 does not allow outbound TCP 443 to the VPC endpoints (ecr.api, ecr.dkr, logs, ecs-agent, ecs-telemetry, ecs)",
    );
    expect(egress?.fix?.cli).toContain(
      'aws ec2 authorize-security-group-egress --region ap-northeast-1 --group-id sg-09e2b7c4d1a3f5e68',
    );
    // The endpoints accept the instance by the VPC's CIDR.
    expect(d.findings.find((f) => f.id === 'endpoint-sg:ecr.dkr')?.message).toBe(
      'endpoint vpce-0a57a53f4993c2203 (ecr.dkr) accepts HTTPS from container instance i-05d1e8a7c3b2f4960',
    );
  });

  it('asks for a public IP on the container instances, not on the service, in a public subnet', () => {
    const good = fixture<NetworkFacts>('facts/ec2-bridge-good.json');
    const facts = parseNetworkFacts({
      ...good,
      routeTable: good.routeTable && {
        ...good.routeTable,
        routes: [
          ...good.routeTable.routes,
          { destinationCidrBlock: '0.0.0.0/0', target: 'igw-0c1d2e3f4a5b6c7d8', state: 'active' },
        ],
      },
      taskDefinition: good.taskDefinition && {
        ...good.taskDefinition,
        containers: good.taskDefinition.containers.map((c) => ({ ...c, image: 'public.ecr.aws/nginx/nginx:1.27' })),
      },
    });
    const d = diagnoseWithFacts(demoTask(E19), catalog, facts);
    const failure = d.findings.find((f) => f.status === 'fail');
    expect(failure).toMatchObject({
      id: 'public-subnet-public-ip',
      message:
        'subnet subnet-0447d2e1961626e90 routes to an internet gateway but container instance i-05d1e8a7c3b2f4960 has no public IP, so the task cannot reach the internet',
    });
    expect(failure?.fix?.cli).toBe(
      'aws ec2 modify-subnet-attribute --region ap-northeast-1 --subnet-id subnet-0447d2e1961626e90 --map-public-ip-on-launch',
    );
    // With a public IP on the instance, the internet gateway is a path.
    const withIp = diagnoseWithFacts(demoTask(E19), catalog, {
      ...facts,
      task: { ...facts.task, assignPublicIp: 'ENABLED' },
    });
    expect(withIp.findings.find((f) => f.id === 'internet-path')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining("container instance i-05d1e8a7c3b2f4960's public IP"),
    });
  });

  it('creates the missing EFS mount target in the task subnet, with the groups the others use', () => {
    const d = diagnoseWithFacts(
      EFS_UNRESOLVED,
      catalog,
      parseNetworkFacts(fixture('facts/efs-no-mount-target-in-zone.json')),
    );
    const [failure] = d.findings;
    expect(failure).toMatchObject({ status: 'fail', endpoint: 'elasticfilesystem' });
    expect(failure?.fix?.cli).toBe(
      'aws efs create-mount-target --region ap-northeast-1 --file-system-id fs-0a1b2c3d4e5f60718 --subnet-id subnet-07b5d13883607188a --security-groups sg-0e5f5a1b2c3d4e5f6',
    );
    // Mounts never need the EFS API endpoint.
    expect(d.findings.some((f) => f.id === 'endpoint:elasticfilesystem')).toBe(false);
  });

  it('cannot tell when no mount target of the file system is found at all', () => {
    const raw = fixture<Record<string, unknown>>('facts/efs-good.json');
    const d = diagnoseWithFacts(EFS_TIMEOUT, catalog, parseNetworkFacts({ ...raw, efsMountTargets: [] }));
    expect(d.findings.find((f) => f.id === 'efs-mount-target:fs-0a1b2c3d4e5f60718')).toMatchObject({
      status: 'unknown',
      message: expect.stringContaining('belongs to another account'),
    });
  });

  it('puts the fix with the real IDs in a failing finding', () => {
    const d = diagnoseWithFacts(
      demoTask(E01),
      catalog,
      parseNetworkFacts(fixture('facts/seed000-secretsmanager-private-dns-off.json')),
    );
    const [failure] = d.findings;
    expect(failure).toMatchObject({ status: 'fail', endpoint: 'secretsmanager' });
    expect(failure?.message).toContain('private DNS off');
    expect(failure?.fix?.cli).toBe(
      'aws ec2 modify-vpc-endpoint --region ap-northeast-1 --vpc-endpoint-id vpce-036a18b3f1466c327 --private-dns-enabled',
    );
  });

  it('names the main route table when the subnet has no association of its own', () => {
    const d = diagnoseWithFacts(
      demoTask(E01),
      catalog,
      parseNetworkFacts(fixture('facts/main-route-table-without-s3.json')),
    );
    const s3 = d.findings.find((f) => f.id === 's3-gateway');
    expect(s3?.message).toMatch(/main route table/);
    expect(s3?.fix?.cli).toMatch(/^aws ec2 modify-vpc-endpoint .* --add-route-table-ids rtb-/);
  });

  it('does not judge a network the facts do not describe', () => {
    const facts = parseNetworkFacts(fixture('facts/seed002-good.json'));
    const d = diagnoseWithFacts(demoTask(E01), catalog, facts);
    expect(d.network.status).toBe('skipped');
    expect(d.network.reason).toMatch(/the facts describe subnet .* but the task ran in subnet-/);
  });

  it('answers unknown, naming the permission, when a Describe call was denied', () => {
    const raw = fixture<Record<string, unknown>>('facts/seed000-good.json');
    const facts = parseNetworkFacts({
      ...raw,
      endpoints: null,
      unavailable: [
        { call: 'DescribeVpcEndpoints', reason: 'UnauthorizedOperation', permission: 'ec2:DescribeVpcEndpoints' },
      ],
    });
    const d = diagnoseWithFacts(demoTask(E01), catalog, facts);
    expect(d.network.status).toBe('partial');
    const unknown = d.findings.filter((f) => f.status === 'unknown');
    expect(unknown.map((f) => f.id)).toContain('endpoint:secretsmanager');
    expect(unknown.some((f) => f.message.includes('ec2:DescribeVpcEndpoints'))).toBe(true);
    expect(d.findings.filter((f) => f.status === 'pass' && f.id.startsWith('endpoint:'))).toEqual([]);
  });

  it('rejects a malformed snapshot naming the field and file', () => {
    const raw = fixture<Record<string, unknown>>('facts/seed000-good.json');
    expect(() => parseNetworkFacts({ ...raw, subnet: { subnetId: 1 } }, 'facts.json')).toThrow(
      /^facts\.json: field subnet\.subnetId: /,
    );
  });
});
