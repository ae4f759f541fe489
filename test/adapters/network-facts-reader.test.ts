import { describe, expect, it } from 'vitest';
import { AwsCallError } from '../../functions/adapters/aws-call-error';
import type { CallOptions, Ec2NetworkPort } from '../../functions/adapters/ec2-network';
import type { EcsTaskPort, ServiceNetworkConfig } from '../../functions/adapters/ecs-task';
import { type FactsTarget, factsTargetOf, NetworkFactsReader } from '../../functions/adapters/network-facts-reader';
import type { NetworkFacts } from '../../functions/core/network/facts';
import { parseNetworkFacts } from '../../functions/core/network/facts-schema';
import { demoTask, fixture } from '../helpers/fixtures';

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
  /** Container instances registered by an agent that recorded no `ecs.subnet-id` / `ecs.vpc-id`. */
  oldAgent = false;

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
    instance: (instanceId, o) =>
      this.gate('DescribeInstances', o, () => ({
        instanceId,
        subnetId: this.facts.task.subnetId ?? '',
        vpcId: this.facts.vpc?.vpcId ?? '',
        securityGroupIds: [...(this.facts.task.securityGroupIds ?? [])],
        ...(this.facts.task.privateIpv4Address ? { privateIpAddress: this.facts.task.privateIpv4Address } : {}),
        ...(this.facts.task.assignPublicIp === 'ENABLED' ? { publicIpAddress: '203.0.113.7' } : {}),
      })),
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
    containerInstance: (_cluster, containerInstanceArn, o) =>
      this.gate('DescribeContainerInstances', o, () => ({
        containerInstanceArn,
        ec2InstanceId: this.facts.task.containerInstance?.ec2InstanceId ?? 'i-0000000000000000',
        ...(this.oldAgent ? {} : { subnetId: this.facts.task.subnetId ?? '', vpcId: this.facts.vpc?.vpcId ?? '' }),
      })),
  };
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function targetOf(facts: NetworkFacts, extra: Partial<Omit<FactsTarget, 'containerInstanceArn'>> = {}): FactsTarget {
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

  describe("a task on its container instance's network (EC2 launch type, bridge or host mode)", () => {
    const facts = snapshot('ec2-bridge-good.json');
    const containerInstanceArn = facts.task.containerInstance?.containerInstanceArn ?? '';
    const bridgeTarget: FactsTarget = {
      region: facts.region,
      cluster: 'web-ec2',
      service: 'web-ec2',
      taskDefinition: 'arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web-ec2:7',
      containerInstanceArn,
    };

    const BRIDGE_ROUND_1 = [
      'DescribeContainerInstances',
      'DescribeDhcpOptions',
      'DescribeServices',
      'DescribeTaskDefinition',
    ];
    // Whether S3's CIDRs matter is not known before the ACL is: the prefix list is asked along.
    const VPC_AND_ACL = [...ROUND_2, 'DescribeNetworkAcls', 'DescribePrefixLists'];

    it("reads in two rounds: the container instance's attributes name its subnet and VPC", async () => {
      const aws = new GatedAws(facts);
      const reader = new NetworkFactsReader({ portsFor: () => aws });
      const { reading, rounds } = await readInRounds(reader, aws, bridgeTarget);
      expect(rounds).toEqual([BRIDGE_ROUND_1, [...VPC_AND_ACL, 'DescribeInstances'].sort()]);
      expect(reading.rounds).toBe(2);
      expect(reading.calls).toHaveLength(13);
      expect(reading.facts.unavailable).toEqual([]);
      expect(reading.facts.task).toEqual({
        subnetId: facts.task.subnetId,
        securityGroupIds: facts.task.securityGroupIds,
        assignPublicIp: 'DISABLED',
        privateIpv4Address: facts.task.privateIpv4Address,
        containerInstance: { ec2InstanceId: 'i-05d1e8a7c3b2f4960', containerInstanceArn },
      });
      // The instance's groups stand for the task's, not the service's.
      expect(reading.facts.securityGroups?.map((g) => g.groupId)).toContain('sg-09e2b7c4d1a3f5e68');
      expect(reading.facts.networkAcl).toEqual(facts.networkAcl);
      expect(reading.facts.subnet).toEqual(facts.subnet);
    });

    it('reads the instance in a round of its own when an old agent recorded no subnet, then the VPC', async () => {
      const aws = new GatedAws(facts);
      aws.oldAgent = true;
      const { reading, rounds } = await readInRounds(
        new NetworkFactsReader({ portsFor: () => aws }),
        aws,
        bridgeTarget,
      );
      expect(rounds).toEqual([BRIDGE_ROUND_1, ['DescribeInstances'], [...VPC_AND_ACL].sort()]);
      expect(reading.rounds).toBe(3);
      expect(reading.facts.unavailable).toEqual([]);
      expect(reading.facts.subnet).toEqual(facts.subnet);
      expect(reading.facts.task.securityGroupIds).toEqual(facts.task.securityGroupIds);
    });

    it("keeps the subnet's checks when only the instance cannot be read, and makes its groups unknown", async () => {
      const aws = new GatedAws(facts);
      aws.failing.set(
        'DescribeInstances',
        new AwsCallError('DescribeInstances', 'denied', 'UnauthorizedOperation: no', 'ec2:DescribeInstances'),
      );
      const { reading } = await readInRounds(new NetworkFactsReader({ portsFor: () => aws }), aws, bridgeTarget);
      expect(reading.facts.unavailable).toEqual([
        { call: 'DescribeInstances', reason: 'UnauthorizedOperation: no', permission: 'ec2:DescribeInstances' },
      ]);
      expect(reading.facts.subnet).toEqual(facts.subnet);
      expect(reading.facts.endpoints).toEqual(facts.endpoints);
      expect(reading.facts.task).toMatchObject({ securityGroupIds: null, assignPublicIp: null });
    });

    it('makes no call for a second stop on the same instance while the facts are fresh', async () => {
      const aws = new GatedAws(facts);
      const reader = new NetworkFactsReader({ portsFor: () => aws });
      await readInRounds(reader, aws, bridgeTarget);
      const warm = await readInRounds(reader, aws, bridgeTarget);
      expect(warm.reading).toMatchObject({ rounds: 0, calls: [] });
      expect(warm.reading.facts.task.containerInstance?.ec2InstanceId).toBe('i-05d1e8a7c3b2f4960');
    });

    it('says the instance has a public IP when it has one', async () => {
      const aws = new GatedAws({ ...facts, task: { ...facts.task, assignPublicIp: 'ENABLED' } });
      const { reading } = await readInRounds(new NetworkFactsReader({ portsFor: () => aws }), aws, bridgeTarget);
      expect(reading.facts.task.assignPublicIp).toBe('ENABLED');
    });

    it('names the permission when the container instance cannot be described, and reads nothing it would need', async () => {
      const aws = new GatedAws(facts);
      aws.failing.set(
        'DescribeContainerInstances',
        new AwsCallError(
          'DescribeContainerInstances',
          'denied',
          'AccessDeniedException: no',
          'ecs:DescribeContainerInstances',
        ),
      );
      const { reading, rounds } = await readInRounds(
        new NetworkFactsReader({ portsFor: () => aws }),
        aws,
        bridgeTarget,
      );
      expect(rounds).toHaveLength(1);
      expect(reading.facts.unavailable).toEqual([
        {
          call: 'DescribeContainerInstances',
          reason: 'AccessDeniedException: no',
          permission: 'ecs:DescribeContainerInstances',
        },
        {
          call: 'DescribeSubnets',
          reason: `the subnet of container instance ${containerInstanceArn} is unknown because DescribeContainerInstances failed`,
        },
      ]);
      expect(reading.facts.task).toMatchObject({
        subnetId: null,
        securityGroupIds: null,
        assignPublicIp: null,
        containerInstance: { ec2InstanceId: null, containerInstanceArn },
      });
    });

    it('says so when the instance is gone', async () => {
      const aws = new GatedAws(facts);
      aws.oldAgent = true;
      aws.failing.set(
        'DescribeInstances',
        new AwsCallError(
          'DescribeInstances',
          'not-found',
          'i-05d1e8a7c3b2f4960 is terminated and no longer has a subnet',
        ),
      );
      const { reading } = await readInRounds(new NetworkFactsReader({ portsFor: () => aws }), aws, bridgeTarget);
      expect(reading.facts.unavailable.map((u) => u.reason)).toEqual([
        'i-05d1e8a7c3b2f4960 is terminated and no longer has a subnet',
        `the subnet of container instance ${containerInstanceArn} is unknown because DescribeInstances failed`,
      ]);
      expect(reading.facts.task.containerInstance?.ec2InstanceId).toBe('i-05d1e8a7c3b2f4960');
    });
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

describe('factsTargetOf', () => {
  it("reads an awsvpc task's subnet from its network interface", () => {
    expect(factsTargetOf(demoTask('04-seed002-logs-unreachable.json'), 'ap-northeast-1')).toEqual({
      region: 'ap-northeast-1',
      subnetId: 'subnet-07b5d13883607188a',
      privateIpv4Address: '10.0.20.53',
      cluster: 'arn:aws:ecs:ap-northeast-1:123456789012:cluster/cf-ecs-sample-cluster',
      service: 'cf-ecs-sample-service',
      taskDefinition: 'arn:aws:ecs:ap-northeast-1:123456789012:task-definition/cf-ecs-sample-taskdef:4',
    });
  });

  it('reads a bridge mode task through its container instance', () => {
    expect(factsTargetOf(demoTask('13-ecr-pull-access-denied.json'), 'ap-northeast-1')).toEqual({
      region: 'ap-northeast-1',
      cluster: 'arn:aws:ecs:ap-northeast-1:123456789012:cluster/web-ec2',
      service: 'web-ec2',
      taskDefinition: 'arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web-ec2:6',
      containerInstanceArn:
        'arn:aws:ecs:ap-northeast-1:123456789012:container-instance/web-ec2/852cd0c7d131aa7e8ebc575e1a86fb47',
    });
  });

  it('says why there is nothing to read', () => {
    const bridge = demoTask('13-ecr-pull-access-denied.json');
    expect(factsTargetOf({ ...bridge, containerInstanceArn: undefined }, 'ap-northeast-1')).toBe(
      'the stop names no subnet and no container instance (it stopped before ECS placed it)',
    );
    expect(factsTargetOf({ ...bridge, launchType: 'EXTERNAL' }, 'ap-northeast-1')).toBe(
      'an ECS Anywhere task runs outside any VPC',
    );
    expect(
      factsTargetOf({ ...demoTask('04-seed002-logs-unreachable.json'), eni: undefined }, 'ap-northeast-1'),
    ).toMatch(/^the stop names no subnet \(not an awsvpc task/);
  });
});
