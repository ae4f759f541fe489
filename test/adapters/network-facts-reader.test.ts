import { describe, expect, it } from 'vitest';
import { AwsCallError } from '../../functions/adapters/aws-call-error';
import type { CallOptions, Ec2NetworkPort } from '../../functions/adapters/ec2-network';
import type { EcsTaskPort, ServiceNetworkConfig } from '../../functions/adapters/ecs-task';
import { type FactsTarget, NetworkFactsReader } from '../../functions/adapters/network-facts-reader';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import { fixture } from '../helpers/fixtures';

function snapshot(name: string): NetworkFacts {
  return parseNetworkFacts(fixture(`facts/${name}`), name);
}

/**
 * EC2 and ECS ports answering from a facts snapshot, but only when the test releases the
 * calls in flight: what was asked before a release is one round, by construction.
 */
class GatedAws {
  readonly issued: string[] = [];
  private pending: Array<() => void> = [];
  /** Calls that fail, by name, with the error to throw. */
  readonly failing = new Map<string, AwsCallError>();
  /** Calls that never answer (until the caller aborts). */
  readonly hanging = new Set<string>();

  constructor(
    private readonly facts: NetworkFacts,
    private readonly dhcpServers: readonly string[] = ['AmazonProvidedDNS'],
  ) {}

  /** Answers every call in flight; returns what they were. */
  async release(): Promise<string[]> {
    await settle();
    const issued = this.issued.splice(0);
    const answers = this.pending;
    this.pending = [];
    for (const answer of answers) answer();
    await settle();
    return issued;
  }

  private gate<T>(call: string, options: CallOptions | undefined, value: () => T): Promise<T> {
    this.issued.push(call);
    return new Promise<T>((resolve, reject) => {
      options?.abortSignal?.addEventListener('abort', () =>
        reject(new AwsCallError(call, 'timeout', 'no answer in time (aborted)')),
      );
      if (this.hanging.has(call)) return;
      this.pending.push(() => {
        const error = this.failing.get(call);
        if (error) reject(error);
        else resolve(value());
      });
    });
  }

  readonly ec2: Ec2NetworkPort = {
    subnetNetworkAcl: (_subnetId, o) =>
      this.gate('DescribeNetworkAcls', o, () => {
        const acl = this.facts.networkAcl;
        if (!acl) throw new Error('no acl in snapshot');
        return { vpcId: this.facts.vpc?.vpcId ?? '', networkAcl: acl };
      }),
    dhcpOptionSets: (o) =>
      this.gate('DescribeDhcpOptions', o, () => [
        { dhcpOptionsId: 'dopt-1', domainNameServers: [...this.dhcpServers] },
      ]),
    subnetsOfVpc: (_vpc, o) =>
      this.gate('DescribeSubnets', o, () => [
        ...(this.facts.subnet ? [this.facts.subnet] : []),
        ...this.facts.endpointSubnets,
        { ...(this.facts.subnet as NonNullable<NetworkFacts['subnet']>), subnetId: 'subnet-other' },
      ]),
    routeTablesOfVpc: (_vpc, o) =>
      this.gate('DescribeRouteTables', o, () => {
        const table = this.facts.routeTable;
        return table
          ? [{ ...table, subnetIds: table.main ? [] : [this.facts.task.subnetId ?? '', 'subnet-other'] }]
          : [];
      }),
    endpointsOfVpc: (_vpc, o) => this.gate('DescribeVpcEndpoints', o, () => [...(this.facts.endpoints ?? [])]),
    securityGroupsOfVpc: (_vpc, o) =>
      this.gate('DescribeSecurityGroups', o, () => [...(this.facts.securityGroups ?? [])]),
    vpcAttribute: (_vpc, attribute, o) =>
      this.gate('DescribeVpcAttribute', o, () => this.facts.vpc?.[attribute] === true),
    vpc: (vpcId, o) =>
      this.gate('DescribeVpcs', o, () => ({ vpcId, cidrBlocks: ['10.0.0.0/16'], dhcpOptionsId: 'dopt-1' })),
    efsMountTargets: (fileSystemId, o) =>
      this.gate('DescribeNetworkInterfaces', o, () =>
        (this.facts.efsMountTargets ?? []).filter((t) => t.fileSystemId === fileSystemId),
      ),
    prefixList: (name, o) =>
      this.gate('DescribePrefixLists', o, () => this.facts.prefixLists.find((p) => p.prefixListName === name) ?? null),
  };

  readonly ecs: EcsTaskPort = {
    taskDefinition: (_arn, o) =>
      this.gate('DescribeTaskDefinition', o, () => {
        if (!this.facts.taskDefinition) throw new Error('no task definition in snapshot');
        return this.facts.taskDefinition;
      }),
    service: (_cluster, service, o) =>
      this.gate(
        'DescribeServices',
        o,
        (): ServiceNetworkConfig => ({
          serviceArn: `arn:aws:ecs:${this.facts.region}:1:service/demo/${service}`,
          serviceName: service,
          taskDefinitionArn: 'arn:aws:ecs:ap-northeast-1:1:task-definition/from-service:3',
          subnetIds: [this.facts.task.subnetId ?? ''],
          securityGroupIds: [...(this.facts.task.securityGroupIds ?? [])],
          assignPublicIp: this.facts.task.assignPublicIp ?? 'DISABLED',
          enableExecuteCommand: false,
          capacityProviders: [],
        }),
      ),
  };
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function targetOf(facts: NetworkFacts, extra: Partial<FactsTarget> = {}): FactsTarget {
  return {
    region: facts.region,
    subnetId: facts.task.subnetId ?? '',
    cluster: 'demo',
    service: 'web',
    taskDefinition: 'arn:aws:ecs:ap-northeast-1:1:task-definition/web:1',
    ...extra,
  };
}

/** Runs a read to the end, releasing round after round; returns the calls of each round. */
async function readInRounds(reader: NetworkFactsReader, aws: GatedAws, target: FactsTarget) {
  const reading = reader.read(target);
  const rounds: string[][] = [];
  for (let i = 0; i < 5; i += 1) {
    const calls = await aws.release();
    if (calls.length > 0) rounds.push(calls.sort());
  }
  return { reading: await reading, rounds };
}

const ROUND_1 = ['DescribeDhcpOptions', 'DescribeNetworkAcls', 'DescribeServices', 'DescribeTaskDefinition'];
const ROUND_2 = [
  'DescribeRouteTables',
  'DescribeSecurityGroups',
  'DescribeSubnets',
  'DescribeVpcAttribute',
  'DescribeVpcAttribute',
  'DescribeVpcEndpoints',
];

describe('NetworkFactsReader', () => {
  it('reads a cold VPC in two rounds: what names the VPC first, then the VPC', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const { reading, rounds } = await readInRounds(reader, aws, targetOf(facts));
    expect(rounds).toEqual([ROUND_1, ROUND_2]);
    expect(reading.rounds).toBe(2);
    expect(reading.calls).toHaveLength(10);
    expect(reading.facts.unavailable).toEqual([]);
    expect(reading.facts.subnet).toEqual(facts.subnet);
    expect(reading.facts.vpc).toEqual({
      vpcId: facts.vpc?.vpcId,
      cidrBlocks: ['10.0.0.0/16'],
      enableDnsSupport: true,
      enableDnsHostnames: true,
      domainNameServers: ['AmazonProvidedDNS'],
    });
    // The task's security groups come from the service; only they and the endpoints' are kept.
    expect(reading.facts.task.securityGroupIds).toEqual(facts.task.securityGroupIds);
    expect(reading.facts.securityGroups?.map((g) => g.groupId).sort()).toEqual(
      facts.securityGroups?.map((g) => g.groupId).sort(),
    );
  });

  it('makes no call for a second stop in the same subnet while the facts are fresh, and one for another subnet of the VPC', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    let now = 1_000_000;
    const reader = new NetworkFactsReader({ portsFor: () => aws, ttlMs: 60_000, now: () => now });
    await readInRounds(reader, aws, targetOf(facts));
    now += 30_000;
    const warm = await readInRounds(reader, aws, targetOf(facts));
    expect(warm.rounds).toEqual([]);
    expect(warm.reading).toMatchObject({ rounds: 0, calls: [] });
    expect(warm.reading.facts.endpoints).toEqual(facts.endpoints);

    const other = await readInRounds(reader, aws, targetOf(facts, { subnetId: 'subnet-other' }));
    expect(other.rounds).toEqual([['DescribeNetworkAcls']]);
    expect(other.reading.facts.subnet?.subnetId).toBe('subnet-other');
  });

  it('asks again once the TTL has passed, but never again for a task definition', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    let now = 1_000_000;
    const reader = new NetworkFactsReader({ portsFor: () => aws, ttlMs: 60_000, now: () => now });
    await readInRounds(reader, aws, targetOf(facts));
    now += 61_000;
    const { rounds } = await readInRounds(reader, aws, targetOf(facts));
    expect(rounds).toEqual([ROUND_1.filter((c) => c !== 'DescribeTaskDefinition'), ROUND_2]);
  });

  it('asks DescribeVpcs only when some DHCP options set names custom DNS servers', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts, ['10.0.0.2', '192.168.1.53']);
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const { reading, rounds } = await readInRounds(reader, aws, targetOf(facts));
    expect(rounds[1]).toContain('DescribeVpcs');
    expect(reading.facts.vpc).toMatchObject({
      dhcpOptionsId: 'dopt-1',
      domainNameServers: ['10.0.0.2', '192.168.1.53'],
    });
  });

  it("asks for S3's CIDRs only when the network ACL does not let HTTPS through to everywhere", async () => {
    const open = snapshot('seed002-good.json');
    const openAws = new GatedAws(open);
    const openRead = await readInRounds(new NetworkFactsReader({ portsFor: () => openAws }), openAws, targetOf(open));
    expect(openRead.rounds.flat()).not.toContain('DescribePrefixLists');
    // The s3 prefix list's id still comes from the subnet's gateway route, for security group rules.
    expect(openRead.reading.facts.prefixLists).toEqual([
      { prefixListId: 'pl-61a54008', prefixListName: 'com.amazonaws.ap-northeast-1.s3', cidrs: [] },
    ]);

    const strict = snapshot('nacl-blocks-ephemeral.json');
    const strictAws = new GatedAws(strict);
    const strictRead = await readInRounds(
      new NetworkFactsReader({ portsFor: () => strictAws }),
      strictAws,
      targetOf(strict),
    );
    expect(strictRead.rounds[1]).toContain('DescribePrefixLists');
    expect(strictRead.reading.facts.prefixLists).toEqual(strict.prefixLists);
  });

  it("reads the service's task definition in round two when the stop did not name one", async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const { reading, rounds } = await readInRounds(reader, aws, targetOf(facts, { taskDefinition: undefined }));
    expect(rounds[0]).not.toContain('DescribeTaskDefinition');
    expect(rounds[1]).toContain('DescribeTaskDefinition');
    expect(reading.rounds).toBe(2);
    expect(reading.facts.taskDefinition).toEqual(facts.taskDefinition);
  });

  it('uses a service the caller already read instead of asking for it', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const serviceConfig: ServiceNetworkConfig = {
      serviceArn: 'arn:aws:ecs:ap-northeast-1:1:service/demo/web',
      serviceName: 'web',
      subnetIds: [facts.task.subnetId ?? ''],
      securityGroupIds: ['sg-from-caller'],
      assignPublicIp: 'ENABLED',
      enableExecuteCommand: false,
      capacityProviders: [],
    };
    const { reading, rounds } = await readInRounds(reader, aws, targetOf(facts, { serviceConfig }));
    expect(rounds.flat()).not.toContain('DescribeServices');
    expect(reading.facts.task).toMatchObject({ securityGroupIds: ['sg-from-caller'], assignPublicIp: 'ENABLED' });
  });

  it('makes the facts of a denied call null, names the permission, and asks again next time', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    aws.failing.set(
      'DescribeVpcEndpoints',
      new AwsCallError('DescribeVpcEndpoints', 'denied', 'UnauthorizedOperation: no', 'ec2:DescribeVpcEndpoints'),
    );
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const { reading } = await readInRounds(reader, aws, targetOf(facts));
    expect(reading.facts.endpoints).toBeNull();
    expect(reading.facts.unavailable).toEqual([
      { call: 'DescribeVpcEndpoints', reason: 'UnauthorizedOperation: no', permission: 'ec2:DescribeVpcEndpoints' },
    ]);
    // Without endpoints, their security groups are unknown: only the task's are kept.
    expect(reading.facts.securityGroups?.map((g) => g.groupId)).toEqual(facts.task.securityGroupIds);

    aws.failing.clear();
    const again = await readInRounds(reader, aws, targetOf(facts));
    expect(again.rounds).toEqual([['DescribeVpcEndpoints']]);
    expect(again.reading.facts.endpoints).toEqual(facts.endpoints);
  });

  it('cannot read the VPC when the network ACL lookup that names it fails, and says why', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    aws.failing.set(
      'DescribeNetworkAcls',
      new AwsCallError('DescribeNetworkAcls', 'denied', 'UnauthorizedOperation: no', 'ec2:DescribeNetworkAcls'),
    );
    const { reading, rounds } = await readInRounds(
      new NetworkFactsReader({ portsFor: () => aws }),
      aws,
      targetOf(facts),
    );
    expect(rounds).toHaveLength(1);
    expect(reading.facts).toMatchObject({
      vpc: null,
      subnet: null,
      routeTable: null,
      endpoints: null,
      networkAcl: null,
    });
    expect(reading.facts.unavailable.map((u) => u.call)).toEqual(['DescribeNetworkAcls', 'DescribeSubnets']);
    expect(reading.facts.unavailable[0]?.permission).toBe('ec2:DescribeNetworkAcls');
  });

  it('gives up on calls still out at the deadline and reports them, keeping what was read', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    aws.hanging.add('DescribeSecurityGroups');
    const reader = new NetworkFactsReader({ portsFor: () => aws, deadlineMs: 200 });
    const reading = reader.read(targetOf(facts));
    await aws.release();
    await aws.release();
    const { facts: read } = await reading;
    expect(read.securityGroups).toBeNull();
    expect(read.endpoints).toEqual(facts.endpoints);
    expect(read.unavailable).toEqual([
      { call: 'DescribeSecurityGroups', reason: 'not answered within the 0.2 s deadline' },
    ]);
  });

  it('reads the mount targets of EFS volumes with the VPC, from their network interfaces', async () => {
    const facts = snapshot('efs-good.json');
    const aws = new GatedAws(facts);
    const reader = new NetworkFactsReader({ portsFor: () => aws });
    const { reading, rounds } = await readInRounds(reader, aws, targetOf(facts));
    expect(rounds).toEqual([ROUND_1, [...ROUND_2, 'DescribeNetworkInterfaces'].sort()]);
    expect(reading.rounds).toBe(2);
    expect(reading.facts.efsMountTargets).toEqual(facts.efsMountTargets);
    expect(reading.facts.securityGroups?.map((g) => g.groupId)).toContain('sg-0e5f5a1b2c3d4e5f6');
  });

  it('keeps at most the configured number of task definitions', async () => {
    const facts = snapshot('seed002-good.json');
    const aws = new GatedAws(facts);
    const reader = new NetworkFactsReader({ portsFor: () => aws, maxTaskDefinitions: 2 });
    for (const revision of [1, 2, 3])
      await readInRounds(reader, aws, targetOf(facts, { taskDefinition: `web:${revision}` }));
    const first = await readInRounds(reader, aws, targetOf(facts, { taskDefinition: 'web:1' }));
    expect(first.rounds).toEqual([['DescribeTaskDefinition']]);
    const latest = await readInRounds(reader, aws, targetOf(facts, { taskDefinition: 'web:3' }));
    expect(latest.rounds).toEqual([]);
  });
});
