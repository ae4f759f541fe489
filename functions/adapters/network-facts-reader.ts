import type {
  NetworkFacts,
  PrefixListFacts,
  RouteTableFacts,
  SecurityGroupFacts,
  SubnetFacts,
  TaskDefinitionFacts,
  UnavailableFact,
  VpcEndpointFacts,
  VpcFacts,
} from '../core/network/facts';
import { naclAllowsReturn, naclDecision } from '../core/network/network-acls';
import type { StoppedTask } from '../core/stopped-task';
import { AwsCallError } from './aws-call-error';
import type {
  CallOptions,
  DhcpOptionSet,
  Ec2NetworkPort,
  InstanceNetwork,
  SubnetNetworkAcl,
  VpcRouteTable,
  VpcSummary,
} from './ec2-network';
import type { ContainerInstanceRef, EcsTaskPort, ServiceNetworkConfig } from './ecs-task';

/** The remote readers for one region. */
export interface AwsPorts {
  readonly ec2: Ec2NetworkPort;
  readonly ecs: EcsTaskPort;
}

/** Whose network to read: the task's subnet, or its container instance's, and what else is known about the task. */
export type FactsTarget = TargetDetails &
  (
    | { readonly subnetId: string; readonly containerInstanceArn?: undefined }
    | {
        readonly subnetId?: undefined;
        /**
         * A task in `bridge` or `host` network mode has no network interface of its own: its
         * subnet and security groups are those of this container instance's EC2 instance.
         */
        readonly containerInstanceArn: string;
        readonly cluster: string;
      }
  );

interface TargetDetails {
  readonly region: string;
  /** The task's security groups when the caller knows them (`check --security-groups`); else the service's. */
  readonly securityGroupIds?: readonly string[];
  readonly assignPublicIp?: 'ENABLED' | 'DISABLED';
  readonly privateIpv4Address?: string;
  /** Task definition ARN or `family:revision`. Defaults to the service's. */
  readonly taskDefinition?: string;
  /** Cluster name or ARN, with `service`, to read the service's awsvpcConfiguration. */
  readonly cluster?: string;
  readonly service?: string;
  /** A service already read by the caller (the `check` command); saves the DescribeServices call. */
  readonly serviceConfig?: ServiceNetworkConfig;
}

/** Facts, plus how they were read: sequential rounds of calls and the calls made (cache hits excluded). */
export interface FactsReading {
  readonly facts: NetworkFacts;
  readonly rounds: number;
  readonly calls: readonly string[];
}

export interface NetworkFactsReaderOptions {
  /** The readers for a region; called once per region and kept. */
  readonly portsFor: (region: string) => AwsPorts;
  /** How long VPC and service facts stay fresh in a warm process. @default 60000 */
  readonly ttlMs?: number;
  /** Overall time for one reading; what is not read by then is reported unavailable. @default 10000 */
  readonly deadlineMs?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
  /** How many task definitions to keep (they never change: a revision is immutable). @default 200 */
  readonly maxTaskDefinitions?: number;
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AwsCallError };

const NOT_READ: Settled<never> = {
  ok: false,
  error: new AwsCallError('-', 'failed', 'not needed'),
};

/**
 * Reads the network facts of a task's subnet live, in two sequential rounds of calls on a
 * cold read (parallel within a round):
 *
 * 1. DescribeNetworkAcls (by subnet association: it names the VPC), DescribeDhcpOptions,
 *    DescribeTaskDefinition, DescribeServices;
 * 2. with the VPC known: DescribeSubnets, DescribeRouteTables, DescribeVpcEndpoints,
 *    DescribeSecurityGroups, DescribeVpcAttribute ×2; and only when they can change the
 *    answer, DescribeVpcs (when some DHCP options set has custom DNS servers: it says which
 *    set the VPC uses) and DescribePrefixLists (when the ACL does not let HTTPS through to
 *    every address, so S3's CIDRs matter).
 *
 * A task in `bridge` or `host` mode names no subnet: round 1 asks DescribeContainerInstances
 * instead of the ACL (its `ecs.subnet-id` and `ecs.vpc-id` attributes name the subnet and
 * VPC), and round 2 adds DescribeInstances (the instance's security groups and addresses),
 * the subnet's ACL and the prefix list (whether it matters is not known before the ACL).
 * Only when an old agent recorded no such attributes does DescribeInstances take a round of
 * its own, before the VPC: three rounds.
 *
 * Answers are cached per warm process: VPC, instance and service facts for `ttlMs`, task
 * definitions by ARN for good. A call that fails makes its facts `null` and is listed in
 * `unavailable` with the reason and the IAM permission to grant; after `deadlineMs` the calls
 * still out are abandoned and reported the same way, so the diagnosis is `partial`, never wrong.
 */
export class NetworkFactsReader {
  private readonly ports = new Map<string, AwsPorts>();
  private readonly cache = new Map<string, { readonly expires: number; readonly value: Promise<unknown> }>();
  private readonly ttlMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private readonly maxTaskDefinitions: number;

  constructor(private readonly options: NetworkFactsReaderOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.maxTaskDefinitions = options.maxTaskDefinitions ?? 200;
  }

  /** Reads the target's facts; never throws: what fails is in `facts.unavailable`. */
  async read(target: FactsTarget, options: { readonly deadlineMs?: number } = {}): Promise<FactsReading> {
    const { region } = target;
    const { ec2, ecs } = this.portsIn(region);
    const deadlineMs = Math.max(1, Math.min(options.deadlineMs ?? this.deadlineMs, this.deadlineMs));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadlineMs);
    const signal: CallOptions = { abortSignal: controller.signal };
    const calls: string[] = [];
    let rounds = 0;
    let roundCalls = 0;
    // Runs `fetch` unless a fresh answer is cached; counts the calls that really go out.
    const get = <T>(call: string, key: string, ttl: number, fetch: () => Promise<T>): Promise<Settled<T>> => {
      const hit = this.cache.get(key);
      if (hit && hit.expires > this.now()) return settle(hit.value as Promise<T>, call);
      if (controller.signal.aborted) return Promise.resolve(deadlinePassed(call, deadlineMs));
      calls.push(call);
      roundCalls += 1;
      const value = fetch();
      this.remember(key, ttl, value);
      return settle(value, call).then((s) =>
        !s.ok && s.error.kind === 'timeout' && controller.signal.aborted ? deadlinePassed(call, deadlineMs) : s,
      );
    };
    const endRound = () => {
      if (roundCalls > 0) rounds += 1;
      roundCalls = 0;
    };
    const ttl = this.ttlMs;
    const forever = Number.POSITIVE_INFINITY;
    const skip = <T>() => Promise.resolve(NOT_READ as Settled<T>);
    const readTaskDefinition = (arn: string) =>
      get(`DescribeTaskDefinition`, `td|${region}|${arn}`, forever, () => ecs.taskDefinition(arn, signal));
    const readAcl = (subnetId: string) =>
      get('DescribeNetworkAcls', `acl|${region}|${subnetId}`, ttl, () => ec2.subnetNetworkAcl(subnetId, signal));

    try {
      // Round 1: nothing is known but the subnet (or the container instance), the task definition and the service.
      const [firstAclRead, placementRead, dhcpRead, serviceRead, taskDefinitionRead] = await Promise.all([
        target.subnetId !== undefined ? readAcl(target.subnetId) : skip<SubnetNetworkAcl>(),
        target.containerInstanceArn !== undefined
          ? get(
              'DescribeContainerInstances',
              `ci|${region}|${target.cluster}|${target.containerInstanceArn}`,
              ttl,
              () => ecs.containerInstance(target.cluster, target.containerInstanceArn, signal),
            )
          : skip<ContainerInstanceRef>(),
        get('DescribeDhcpOptions', `dhcp|${region}`, ttl, () => ec2.dhcpOptionSets(signal)),
        target.serviceConfig
          ? Promise.resolve<Settled<ServiceNetworkConfig>>({ ok: true, value: target.serviceConfig })
          : target.cluster && target.service
            ? get('DescribeServices', `svc|${region}|${target.cluster}|${target.service}`, ttl, () =>
                ecs.service(target.cluster as string, target.service as string, signal),
              )
            : skip<ServiceNetworkConfig>(),
        target.taskDefinition ? readTaskDefinition(target.taskDefinition) : skip<TaskDefinitionFacts>(),
      ]);
      endRound();
      const service = serviceRead.ok ? serviceRead.value : undefined;
      const serviceTaskDefinition = !target.taskDefinition ? service?.taskDefinitionArn : undefined;

      // Bridge or host mode: the container instance's EC2 instance holds the network. Its
      // attributes name the subnet and VPC; without them the instance must be read first.
      const placed = placementRead.ok ? placementRead.value : undefined;
      const readHost = (instanceId: string) =>
        get('DescribeInstances', `i|${region}|${instanceId}`, ttl, () => ec2.instance(instanceId, signal));
      let earlyHostRead: Settled<InstanceNetwork> = NOT_READ;
      if (placed && !(placed.subnetId && placed.vpcId)) {
        earlyHostRead = await readHost(placed.ec2InstanceId);
        endRound();
      }
      const earlyHost = earlyHostRead.ok ? earlyHostRead.value : undefined;
      const subnetId = target.subnetId ?? placed?.subnetId ?? earlyHost?.subnetId;

      // Round 2: the VPC is known from the subnet's network ACL, or from the container instance.
      const vpcId = firstAclRead.ok ? firstAclRead.value.vpcId : (placed?.vpcId ?? earlyHost?.vpcId);
      const customDns = !dhcpRead.ok || dhcpRead.value.some((set) => hasCustomDns(set.domainNameServers));
      const aclOpenToAll = firstAclRead.ok && allowsHttpsEverywhere(firstAclRead.value);
      const s3ListName = `com.amazonaws.${region}.s3`;
      const readMountTargets = (definition: TaskDefinitionFacts | null) =>
        Promise.all(
          fileSystemsOf(definition).map((fs) =>
            get('DescribeNetworkInterfaces', `efs|${region}|${fs}`, ttl, () => ec2.efsMountTargets(fs, signal)),
          ),
        );
      const early = taskDefinitionRead.ok ? taskDefinitionRead.value : null;
      const [
        [subnets, tables, endpoints, groups, dnsSupport, dnsHostnames, vpc, prefixList, lateTaskDefinition],
        earlyMountTargets,
        lateAclRead,
        lateHostRead,
      ] = await Promise.all([
        Promise.all([
          vpcId
            ? get('DescribeSubnets', `subnets|${region}|${vpcId}`, ttl, () => ec2.subnetsOfVpc(vpcId, signal))
            : skip<SubnetFacts[]>(),
          vpcId
            ? get('DescribeRouteTables', `rtb|${region}|${vpcId}`, ttl, () => ec2.routeTablesOfVpc(vpcId, signal))
            : skip<VpcRouteTable[]>(),
          vpcId
            ? get('DescribeVpcEndpoints', `vpce|${region}|${vpcId}`, ttl, () => ec2.endpointsOfVpc(vpcId, signal))
            : skip<VpcEndpointFacts[]>(),
          vpcId
            ? get('DescribeSecurityGroups', `sg|${region}|${vpcId}`, ttl, () => ec2.securityGroupsOfVpc(vpcId, signal))
            : skip<SecurityGroupFacts[]>(),
          vpcId
            ? get('DescribeVpcAttribute', `dns|${region}|${vpcId}`, ttl, () =>
                ec2.vpcAttribute(vpcId, 'enableDnsSupport', signal),
              )
            : skip<boolean>(),
          vpcId
            ? get('DescribeVpcAttribute', `hostnames|${region}|${vpcId}`, ttl, () =>
                ec2.vpcAttribute(vpcId, 'enableDnsHostnames', signal),
              )
            : skip<boolean>(),
          vpcId && customDns
            ? get('DescribeVpcs', `vpc|${region}|${vpcId}`, ttl, () => ec2.vpc(vpcId, signal))
            : skip<VpcSummary>(),
          vpcId && !aclOpenToAll
            ? get('DescribePrefixLists', `pl|${region}`, ttl, () => ec2.prefixList(s3ListName, signal))
            : skip<PrefixListFacts | null>(),
          serviceTaskDefinition ? readTaskDefinition(serviceTaskDefinition) : skip<TaskDefinitionFacts>(),
        ]),
        readMountTargets(early),
        target.subnetId === undefined && subnetId ? readAcl(subnetId) : skip<SubnetNetworkAcl>(),
        placed && earlyHostRead === NOT_READ ? readHost(placed.ec2InstanceId) : skip<InstanceNetwork>(),
      ]);
      endRound();
      const aclRead = target.subnetId !== undefined ? firstAclRead : lateAclRead;
      const hostRead = earlyHostRead === NOT_READ ? lateHostRead : earlyHostRead;
      const host = hostRead.ok ? hostRead.value : undefined;

      // EFS volumes: the mount targets, in round 3 when the task definition came in round 2.
      const late = !early && lateTaskDefinition.ok ? lateTaskDefinition.value : null;
      let mountTargetReads = earlyMountTargets;
      if (fileSystemsOf(late).length > 0) {
        mountTargetReads = await readMountTargets(late);
        endRound();
      }

      const unavailable: UnavailableFact[] = [];
      const value = <T>(read: Settled<T>): T | null => {
        if (read.ok) return read.value;
        if (read !== NOT_READ && !unavailable.some((u) => u.call === read.error.call && u.reason === read.error.reason))
          unavailable.push(read.error.toUnavailable());
        return null;
      };
      const placement = value(placementRead);
      value(hostRead);
      const acl = value(aclRead);
      if (!vpcId) {
        // Without the VPC nothing of round 2 could be asked.
        unavailable.push({
          call: 'DescribeSubnets',
          reason: subnetId
            ? `the VPC of ${subnetId} is unknown because DescribeNetworkAcls failed`
            : `the subnet of container instance ${target.containerInstanceArn} is unknown because ${placement ? 'DescribeInstances' : 'DescribeContainerInstances'} failed`,
        });
      }
      const dhcpSets = value(dhcpRead);
      value(serviceRead);
      const taskDefinition = value(taskDefinitionRead) ?? value(lateTaskDefinition);
      const vpcSubnets = value(subnets);
      const routeTables = value(tables);
      const vpcEndpoints = value(endpoints);
      const vpcGroups = value(groups);
      const vpcSummary = value(vpc);
      const s3List = value(prefixList);
      const support = value(dnsSupport);
      const hostnames = value(dnsHostnames);

      const mountTargets = mountTargetReads.map(value);
      const efsMountTargets = mountTargets.some((m) => m === null) ? null : mountTargets.flatMap((list) => list ?? []);
      const mountTargetGroupIds = new Set((efsMountTargets ?? []).flatMap((t) => t.securityGroupIds ?? []));
      const subnet = (subnetId && vpcSubnets?.find((s) => s.subnetId === subnetId)) || null;
      if (vpcSubnets && !subnet)
        unavailable.push({ call: 'DescribeSubnets', reason: `${subnetId} is not among the subnets of ${vpcId}` });
      const routeTable = subnetId ? routeTableOf(subnetId, routeTables) : null;
      // On its container instance's network the task has the instance's groups, whatever the service says.
      const taskGroupIds =
        target.containerInstanceArn !== undefined
          ? (host?.securityGroupIds ?? null)
          : (target.securityGroupIds ?? (service?.securityGroupIds.length ? service.securityGroupIds : null));
      const privateIp = host ? host.privateIpAddress : target.privateIpv4Address;
      const endpointGroupIds = new Set((vpcEndpoints ?? []).flatMap((e) => e.securityGroupIds));
      const endpointSubnetIds = new Set(
        (vpcEndpoints ?? []).filter((e) => e.type === 'Interface').flatMap((e) => e.subnetIds),
      );
      const vpcFacts: VpcFacts | null = vpcId
        ? {
            vpcId,
            cidrBlocks: vpcSummary?.cidrBlocks ?? localCidrs(routeTable),
            enableDnsSupport: support,
            enableDnsHostnames: hostnames,
            domainNameServers: domainNameServersOf(dhcpSets, vpcSummary, customDns),
            ...(vpcSummary?.dhcpOptionsId ? { dhcpOptionsId: vpcSummary.dhcpOptionsId } : {}),
          }
        : null;

      const facts: NetworkFacts = {
        version: 1,
        region,
        capturedAt: new Date(this.now()).toISOString(),
        vpc: vpcFacts,
        subnet,
        endpointSubnets: (vpcSubnets ?? []).filter((s) => s.subnetId !== subnetId && endpointSubnetIds.has(s.subnetId)),
        routeTable,
        endpoints: vpcEndpoints,
        securityGroups: vpcGroups
          ? vpcGroups.filter(
              (g) =>
                endpointGroupIds.has(g.groupId) ||
                mountTargetGroupIds.has(g.groupId) ||
                taskGroupIds?.includes(g.groupId),
            )
          : null,
        networkAcl: acl?.networkAcl ?? null,
        prefixLists: s3PrefixLists(s3List, s3ListName, routeTable, vpcEndpoints),
        task: {
          subnetId: subnetId ?? null,
          securityGroupIds: taskGroupIds ? [...taskGroupIds] : null,
          assignPublicIp: publicIpOf(target, host, hostRead, service),
          ...(privateIp ? { privateIpv4Address: privateIp } : {}),
          ...(target.containerInstanceArn !== undefined
            ? {
                containerInstance: {
                  ec2InstanceId: placement?.ec2InstanceId ?? null,
                  containerInstanceArn: placement?.containerInstanceArn ?? target.containerInstanceArn,
                },
              }
            : {}),
        },
        taskDefinition,
        ...(mountTargetReads.length > 0 ? { efsMountTargets } : {}),
        unavailable,
      };
      return { facts, rounds, calls };
    } finally {
      clearTimeout(timer);
      this.trimTaskDefinitions();
    }
  }

  /** The readers for a region, created once; also for callers that need the same clients. */
  portsIn(region: string): AwsPorts {
    let ports = this.ports.get(region);
    if (!ports) {
      ports = this.options.portsFor(region);
      this.ports.set(region, ports);
    }
    return ports;
  }

  private remember(key: string, ttl: number, value: Promise<unknown>): void {
    const entry = { expires: this.now() + ttl, value };
    this.cache.set(key, entry);
    // Failures are not cached: the next stop asks again.
    value.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
  }

  /** Drops expired entries and the oldest task definitions beyond the limit. */
  private trimTaskDefinitions(): void {
    const now = this.now();
    let definitions = 0;
    for (const [key, entry] of [...this.cache].reverse()) {
      if (entry.expires <= now) this.cache.delete(key);
      else if (key.startsWith('td|') && ++definitions > this.maxTaskDefinitions) this.cache.delete(key);
    }
  }
}

/**
 * What to read for a stopped task: its subnet (from the ENI attachment) or, with no ENI on
 * the EC2 launch type (`bridge` or `host` mode), its container instance; and its service,
 * task definition and address. A string says why there is nothing to read.
 */
export function factsTargetOf(task: StoppedTask, region: string): FactsTarget | string {
  const cluster = task.clusterArn ?? task.cluster;
  const details = {
    region,
    ...(cluster && task.service ? { cluster, service: task.service } : {}),
    ...(task.taskDefinitionArn ? { taskDefinition: task.taskDefinitionArn } : {}),
  };
  const subnetId = task.eni?.subnetId;
  if (subnetId)
    return {
      ...details,
      subnetId,
      ...(task.eni?.privateIpv4Address ? { privateIpv4Address: task.eni.privateIpv4Address } : {}),
    };
  if (task.launchType === 'EXTERNAL') return 'an ECS Anywhere task runs outside any VPC';
  if (task.containerInstanceArn && cluster)
    return { ...details, cluster, containerInstanceArn: task.containerInstanceArn };
  return task.launchType === 'EC2'
    ? 'the stop names no subnet and no container instance (it stopped before ECS placed it)'
    : 'the stop names no subnet (not an awsvpc task, or it stopped before ECS attached its network interface)';
}

/**
 * Whether the task had a public IP: the instance's, for a task on its container instance's
 * network (unknown when the instance could not be read); else as launched.
 */
function publicIpOf(
  target: FactsTarget,
  host: InstanceNetwork | undefined,
  hostRead: Settled<InstanceNetwork>,
  service: ServiceNetworkConfig | undefined,
): 'ENABLED' | 'DISABLED' | null {
  if (target.containerInstanceArn !== undefined) {
    if (!hostRead.ok) return null;
    return host?.publicIpAddress ? 'ENABLED' : 'DISABLED';
  }
  return target.assignPublicIp ?? service?.assignPublicIp ?? null;
}

function settle<T>(value: Promise<T>, call: string): Promise<Settled<T>> {
  return value.then(
    (v): Settled<T> => ({ ok: true, value: v }),
    (error: unknown): Settled<T> => ({
      ok: false,
      error:
        error instanceof AwsCallError
          ? error
          : new AwsCallError(call, 'failed', (error as Error)?.message ?? String(error), undefined, { cause: error }),
    }),
  );
}

function deadlinePassed(call: string, deadlineMs: number): Settled<never> {
  return {
    ok: false,
    error: new AwsCallError(call, 'timeout', `not answered within the ${deadlineMs / 1000} s deadline`),
  };
}

/** The EFS file systems a task definition mounts. */
function fileSystemsOf(definition: TaskDefinitionFacts | null): string[] {
  return [...new Set((definition?.efsVolumes ?? []).map((v) => v.fileSystemId))];
}

function hasCustomDns(servers: readonly string[]): boolean {
  return servers.some((s) => s !== 'AmazonProvidedDNS');
}

/** Does the ACL let HTTPS out to, and its replies back from, every IPv4 address? Then S3's CIDRs cannot matter. */
function allowsHttpsEverywhere(read: SubnetNetworkAcl): boolean {
  const acl = read.networkAcl;
  return naclDecision(acl, 'egress', 443, '0.0.0.0/0').allowed && naclAllowsReturn(acl, 'ingress', '0.0.0.0/0').allowed;
}

/**
 * The route table in effect: the subnet's explicit association, else the VPC's main table.
 * Null when the tables could not be read.
 */
function routeTableOf(subnetId: string, tables: readonly VpcRouteTable[] | null): RouteTableFacts | null {
  if (!tables) return null;
  const explicit = tables.find((t) => t.subnetIds.includes(subnetId));
  const table = explicit ?? tables.find((t) => t.main);
  if (!table) return null;
  return { routeTableId: table.routeTableId, main: !explicit, routes: table.routes };
}

/** The VPC's IPv4 CIDRs as its route tables show them: one `local` route per associated CIDR. */
function localCidrs(table: RouteTableFacts | null): string[] {
  return (table?.routes ?? []).flatMap((r) =>
    r.target === 'local' && r.destinationCidrBlock ? [r.destinationCidrBlock] : [],
  );
}

/**
 * The VPC's DNS servers. When no DHCP options set in the region names custom servers, every
 * VPC uses the Amazon resolver whichever set it has, so DescribeVpcs is not needed.
 */
function domainNameServersOf(
  sets: readonly DhcpOptionSet[] | null,
  vpc: VpcSummary | null,
  customDns: boolean,
): readonly string[] | null {
  if (!sets) return null;
  if (!customDns) return ['AmazonProvidedDNS'];
  if (!vpc) return null;
  if (!vpc.dhcpOptionsId || vpc.dhcpOptionsId === 'default') return ['AmazonProvidedDNS'];
  const set = sets.find((s) => s.dhcpOptionsId === vpc.dhcpOptionsId);
  if (!set) return null;
  return set.domainNameServers.length > 0 ? set.domainNameServers : ['AmazonProvidedDNS'];
}

/**
 * The S3 prefix list: read when its CIDRs matter; otherwise its id as the subnet's s3 gateway
 * route names it (security groups refer to it by id), without CIDRs.
 */
function s3PrefixLists(
  read: PrefixListFacts | null,
  name: string,
  table: RouteTableFacts | null,
  endpoints: readonly { vpcEndpointId: string; serviceName: string }[] | null,
): PrefixListFacts[] {
  if (read) return [read];
  const s3Endpoints = new Set((endpoints ?? []).filter((e) => e.serviceName === name).map((e) => e.vpcEndpointId));
  const route = table?.routes.find((r) => r.destinationPrefixListId && s3Endpoints.has(r.target));
  return route?.destinationPrefixListId
    ? [{ prefixListId: route.destinationPrefixListId, prefixListName: name, cidrs: [] }]
    : [];
}
