import {
  DescribeInstancesCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  type NetworkAcl,
  paginateDescribeDhcpOptions,
  paginateDescribeNetworkAcls,
  paginateDescribeNetworkInterfaces,
  paginateDescribePrefixLists,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  type Route,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import type {
  EfsMountTargetFacts,
  NetworkAclEntryFacts,
  NetworkAclFacts,
  PrefixListFacts,
  RouteFacts,
  SecurityGroupFacts,
  SecurityGroupRuleFacts,
  SubnetFacts,
  VpcEndpointFacts,
} from '../core/network/facts';
import { AwsCallError, toAwsCallError } from './aws-call-error';

/** A DHCP options set: its id and `domain-name-servers` (empty when the set has none). */
export interface DhcpOptionSet {
  readonly dhcpOptionsId: string;
  readonly domainNameServers: readonly string[];
}

/** A route table of the VPC with the subnets explicitly associated with it. */
export interface VpcRouteTable {
  readonly routeTableId: string;
  readonly main: boolean;
  readonly subnetIds: readonly string[];
  readonly routes: readonly RouteFacts[];
}

/** The network ACL of one subnet, with the VPC it belongs to (the first fact that names the VPC). */
export interface SubnetNetworkAcl {
  readonly vpcId: string;
  readonly networkAcl: NetworkAclFacts;
}

export interface VpcSummary {
  readonly vpcId: string;
  readonly cidrBlocks: readonly string[];
  readonly dhcpOptionsId?: string;
}

/** Where an EC2 instance sits on the network: what a task in `bridge` or `host` mode uses. */
export interface InstanceNetwork {
  readonly instanceId: string;
  readonly subnetId: string;
  readonly vpcId: string;
  /** The security groups of the instance's primary network interface. */
  readonly securityGroupIds: readonly string[];
  readonly privateIpAddress?: string;
  readonly publicIpAddress?: string;
}

/** Per-call options: the caller's deadline. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal;
}

/** The EC2 Describe calls the network check makes, as the rest of the product needs them. */
export interface Ec2NetworkPort {
  subnetNetworkAcl(subnetId: string, options?: CallOptions): Promise<SubnetNetworkAcl>;
  dhcpOptionSets(options?: CallOptions): Promise<DhcpOptionSet[]>;
  subnetsOfVpc(vpcId: string, options?: CallOptions): Promise<SubnetFacts[]>;
  routeTablesOfVpc(vpcId: string, options?: CallOptions): Promise<VpcRouteTable[]>;
  endpointsOfVpc(vpcId: string, options?: CallOptions): Promise<VpcEndpointFacts[]>;
  securityGroupsOfVpc(vpcId: string, options?: CallOptions): Promise<SecurityGroupFacts[]>;
  vpcAttribute(vpcId: string, attribute: VpcDnsAttribute, options?: CallOptions): Promise<boolean>;
  vpc(vpcId: string, options?: CallOptions): Promise<VpcSummary>;
  prefixList(name: string, options?: CallOptions): Promise<PrefixListFacts | null>;
  efsMountTargets(fileSystemId: string, options?: CallOptions): Promise<EfsMountTargetFacts[]>;
  instance(instanceId: string, options?: CallOptions): Promise<InstanceNetwork>;
}

export type VpcDnsAttribute = 'enableDnsSupport' | 'enableDnsHostnames';

/** EC2 caps MaxResults at 1000 for these calls; bigger pages mean fewer calls in big VPCs. */
const PAGE_SIZE = 1000;

/**
 * Reads a VPC's network facts with EC2 Describe calls (all paginated) and returns them in the
 * product's own types. Every SDK error is translated once, here, into an {@link AwsCallError}.
 */
export class Ec2Network implements Ec2NetworkPort {
  constructor(private readonly client: EC2Client) {}

  async subnetNetworkAcl(subnetId: string, options: CallOptions = {}): Promise<SubnetNetworkAcl> {
    const acls = await this.all(
      'DescribeNetworkAcls',
      paginateDescribeNetworkAcls,
      [filter('association.subnet-id', subnetId)],
      (page) => page.NetworkAcls,
      options,
    );
    const acl = acls.find((a) => a.Associations?.some((x) => x.SubnetId === subnetId)) ?? acls[0];
    if (!acl?.NetworkAclId || !acl.VpcId) {
      throw new AwsCallError(
        'DescribeNetworkAcls',
        'not-found',
        `no network ACL is associated with ${subnetId}: the subnet does not exist in this account and region`,
      );
    }
    return { vpcId: acl.VpcId, networkAcl: toNetworkAcl(acl) };
  }

  async dhcpOptionSets(options: CallOptions = {}): Promise<DhcpOptionSet[]> {
    const sets = await this.all(
      'DescribeDhcpOptions',
      paginateDescribeDhcpOptions,
      [],
      (page) => page.DhcpOptions,
      options,
    );
    return sets.flatMap((set) =>
      set.DhcpOptionsId
        ? [
            {
              dhcpOptionsId: set.DhcpOptionsId,
              domainNameServers: (set.DhcpConfigurations ?? [])
                .filter((c) => c.Key === 'domain-name-servers')
                .flatMap((c) => (c.Values ?? []).map((v) => v.Value ?? ''))
                .filter((v) => v !== ''),
            },
          ]
        : [],
    );
  }

  async subnetsOfVpc(vpcId: string, options: CallOptions = {}): Promise<SubnetFacts[]> {
    const subnets = await this.all(
      'DescribeSubnets',
      paginateDescribeSubnets,
      [filter('vpc-id', vpcId)],
      (page) => page.Subnets,
      options,
    );
    return subnets.flatMap(toSubnet);
  }

  async routeTablesOfVpc(vpcId: string, options: CallOptions = {}): Promise<VpcRouteTable[]> {
    const tables = await this.all(
      'DescribeRouteTables',
      paginateDescribeRouteTables,
      [filter('vpc-id', vpcId)],
      (page) => page.RouteTables,
      options,
      100,
    );
    return tables.flatMap(toRouteTable);
  }

  async endpointsOfVpc(vpcId: string, options: CallOptions = {}): Promise<VpcEndpointFacts[]> {
    const endpoints = await this.all(
      'DescribeVpcEndpoints',
      paginateDescribeVpcEndpoints,
      [filter('vpc-id', vpcId)],
      (page) => page.VpcEndpoints,
      options,
    );
    return endpoints.flatMap(toVpcEndpoint);
  }

  async securityGroupsOfVpc(vpcId: string, options: CallOptions = {}): Promise<SecurityGroupFacts[]> {
    const groups = await this.all(
      'DescribeSecurityGroups',
      paginateDescribeSecurityGroups,
      [filter('vpc-id', vpcId)],
      (page) => page.SecurityGroups,
      options,
    );
    return groups.flatMap(toSecurityGroup);
  }

  async vpcAttribute(vpcId: string, attribute: VpcDnsAttribute, options: CallOptions = {}): Promise<boolean> {
    const output = await this.call('DescribeVpcAttribute', () =>
      this.client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute }), {
        abortSignal: options.abortSignal,
      }),
    );
    const value = output[attribute === 'enableDnsSupport' ? 'EnableDnsSupport' : 'EnableDnsHostnames']?.Value;
    if (typeof value !== 'boolean')
      throw new AwsCallError('DescribeVpcAttribute', 'failed', `the answer for ${vpcId} has no ${attribute} value`);
    return value;
  }

  async vpc(vpcId: string, options: CallOptions = {}): Promise<VpcSummary> {
    const output = await this.call('DescribeVpcs', () =>
      this.client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }), { abortSignal: options.abortSignal }),
    );
    const vpc = output.Vpcs?.find((v) => v.VpcId === vpcId);
    if (!vpc) throw new AwsCallError('DescribeVpcs', 'not-found', `${vpcId} was not in the answer`);
    const associated = (vpc.CidrBlockAssociationSet ?? [])
      .filter((a) => a.CidrBlockState?.State === undefined || a.CidrBlockState.State === 'associated')
      .flatMap((a) => (a.CidrBlock ? [a.CidrBlock] : []));
    const cidrBlocks = [...new Set([...(vpc.CidrBlock ? [vpc.CidrBlock] : []), ...associated])];
    return { vpcId, cidrBlocks, ...(vpc.DhcpOptionsId ? { dhcpOptionsId: vpc.DhcpOptionsId } : {}) };
  }

  async prefixList(name: string, options: CallOptions = {}): Promise<PrefixListFacts | null> {
    const lists = await this.all(
      'DescribePrefixLists',
      paginateDescribePrefixLists,
      [filter('prefix-list-name', name)],
      (page) => page.PrefixLists,
      options,
      100,
    );
    const list = lists.find((l) => l.PrefixListName === name);
    if (!list?.PrefixListId) return null;
    return { prefixListId: list.PrefixListId, prefixListName: name, cidrs: list.Cidrs ?? [] };
  }

  /**
   * The mount targets of an EFS file system, from their network interfaces: EFS names each
   * one `EFS mount target for fs-… (fsmt-…)`. One EC2 call gives the zone, subnet, address and
   * security groups, where the EFS API would take two more calls (and another SDK client).
   */
  async efsMountTargets(fileSystemId: string, options: CallOptions = {}): Promise<EfsMountTargetFacts[]> {
    const interfaces = await this.all(
      'DescribeNetworkInterfaces',
      paginateDescribeNetworkInterfaces,
      [filter('description', `EFS mount target for ${fileSystemId} (*)`)],
      (page) => page.NetworkInterfaces,
      options,
    );
    return interfaces.flatMap((eni) => {
      const mountTargetId = /^EFS mount target for (fs-[0-9a-f]+) \((fsmt-[0-9a-f]+)\)$/.exec(eni.Description ?? '');
      if (!mountTargetId || mountTargetId[1] !== fileSystemId || !eni.SubnetId) return [];
      return [
        {
          mountTargetId: mountTargetId[2] ?? '',
          fileSystemId,
          subnetId: eni.SubnetId,
          availabilityZone: eni.AvailabilityZone ?? '',
          // A mount target's interface is `in-use` while the mount target is usable; any other
          // interface state (attaching, detaching) means it is not there yet, or going.
          state: eni.Status === 'in-use' ? 'available' : `interface ${eni.Status ?? 'unknown'}`,
          ...(eni.PrivateIpAddress ? { ipAddress: eni.PrivateIpAddress } : {}),
          securityGroupIds: (eni.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
        },
      ];
    });
  }

  async instance(instanceId: string, options: CallOptions = {}): Promise<InstanceNetwork> {
    const output = await this.call('DescribeInstances', () =>
      this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
        abortSignal: options.abortSignal,
      }),
    );
    const instance = (output.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .find((i) => i.InstanceId === instanceId);
    if (!instance) throw new AwsCallError('DescribeInstances', 'not-found', `${instanceId} was not in the answer`);
    // A terminated instance keeps its id for a while but loses its network interface.
    if (!instance.SubnetId || !instance.VpcId)
      throw new AwsCallError(
        'DescribeInstances',
        'not-found',
        `${instanceId} is ${instance.State?.Name ?? 'in an unknown state'} and no longer has a subnet`,
      );
    const primary = instance.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0);
    const groups = primary?.Groups ?? instance.SecurityGroups ?? [];
    return {
      instanceId,
      subnetId: instance.SubnetId,
      vpcId: instance.VpcId,
      securityGroupIds: groups.flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
      ...(instance.PrivateIpAddress ? { privateIpAddress: instance.PrivateIpAddress } : {}),
      ...(instance.PublicIpAddress ? { publicIpAddress: instance.PublicIpAddress } : {}),
    };
  }

  /** Runs one paginated Describe call with these filters to the last page and flattens its items. */
  private all<Page, Item>(
    call: string,
    paginate: (
      config: { client: EC2Client; pageSize: number; stopOnSameToken: boolean },
      input: { Filters?: Filter[] },
      options: { abortSignal?: AbortSignal },
    ) => AsyncIterable<Page>,
    filters: Filter[],
    items: (page: Page) => Item[] | undefined,
    options: CallOptions,
    pageSize = PAGE_SIZE,
  ): Promise<Item[]> {
    return this.call(call, async () => {
      const out: Item[] = [];
      const pages = paginate(
        { client: this.client, pageSize, stopOnSameToken: true },
        filters.length > 0 ? { Filters: filters } : {},
        { abortSignal: options.abortSignal },
      );
      for await (const page of pages) out.push(...(items(page) ?? []));
      return out;
    });
  }

  private async call<T>(call: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toAwsCallError(error, 'ec2', call);
    }
  }
}

function filter(name: string, value: string): Filter {
  return { Name: name, Values: [value] };
}

function toSubnet(subnet: Subnet): SubnetFacts[] {
  if (!subnet.SubnetId || !subnet.VpcId) return [];
  return [
    {
      subnetId: subnet.SubnetId,
      vpcId: subnet.VpcId,
      availabilityZone: subnet.AvailabilityZone ?? '',
      cidrBlock: subnet.CidrBlock ?? '',
      availableIpAddressCount: subnet.AvailableIpAddressCount ?? 0,
      mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch === true,
    },
  ];
}

function toRouteTable(table: RouteTable): VpcRouteTable[] {
  if (!table.RouteTableId) return [];
  const associations = table.Associations ?? [];
  return [
    {
      routeTableId: table.RouteTableId,
      main: associations.some((a) => a.Main === true),
      subnetIds: associations.flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
      routes: (table.Routes ?? []).flatMap(toRoute),
    },
  ];
}

/** The route's target, whichever field EC2 put it in. IPv6-only routes are left out: tasks use IPv4 here. */
function toRoute(route: Route): RouteFacts[] {
  if (!route.DestinationCidrBlock && !route.DestinationPrefixListId) return [];
  const target =
    route.GatewayId ??
    route.NatGatewayId ??
    route.TransitGatewayId ??
    route.NetworkInterfaceId ??
    route.VpcPeeringConnectionId ??
    route.InstanceId ??
    route.LocalGatewayId ??
    route.CarrierGatewayId ??
    route.EgressOnlyInternetGatewayId ??
    route.CoreNetworkArn ??
    'unknown';
  return [
    {
      ...(route.DestinationCidrBlock ? { destinationCidrBlock: route.DestinationCidrBlock } : {}),
      ...(route.DestinationPrefixListId ? { destinationPrefixListId: route.DestinationPrefixListId } : {}),
      target,
      state: route.State ?? 'active',
    },
  ];
}

function toVpcEndpoint(endpoint: VpcEndpoint): VpcEndpointFacts[] {
  if (!endpoint.VpcEndpointId || !endpoint.ServiceName) return [];
  return [
    {
      vpcEndpointId: endpoint.VpcEndpointId,
      serviceName: endpoint.ServiceName,
      type: endpoint.VpcEndpointType ?? 'Interface',
      // EC2 reports states capitalised in some answers (`Available`); the rules compare lower case.
      state: (endpoint.State ?? 'unknown').toLowerCase(),
      privateDnsEnabled: endpoint.PrivateDnsEnabled === true,
      subnetIds: endpoint.SubnetIds ?? [],
      securityGroupIds: (endpoint.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
      routeTableIds: endpoint.RouteTableIds ?? [],
      policyDocument: endpoint.PolicyDocument ?? null,
    },
  ];
}

function toSecurityGroup(group: SecurityGroup): SecurityGroupFacts[] {
  if (!group.GroupId) return [];
  return [
    {
      groupId: group.GroupId,
      ...(group.GroupName ? { groupName: group.GroupName } : {}),
      ...(group.VpcId ? { vpcId: group.VpcId } : {}),
      ingress: (group.IpPermissions ?? []).map(toRule),
      egress: (group.IpPermissionsEgress ?? []).map(toRule),
    },
  ];
}

function toRule(permission: IpPermission): SecurityGroupRuleFacts {
  return {
    protocol: permission.IpProtocol ?? '-1',
    ...(permission.FromPort !== undefined ? { fromPort: permission.FromPort } : {}),
    ...(permission.ToPort !== undefined ? { toPort: permission.ToPort } : {}),
    cidrs: (permission.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [r.CidrIp] : [])),
    ipv6Cidrs: (permission.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [r.CidrIpv6] : [])),
    prefixListIds: (permission.PrefixListIds ?? []).flatMap((p) => (p.PrefixListId ? [p.PrefixListId] : [])),
    groupIds: (permission.UserIdGroupPairs ?? []).flatMap((p) => (p.GroupId ? [p.GroupId] : [])),
  };
}

function toNetworkAcl(acl: NetworkAcl): NetworkAclFacts {
  return {
    networkAclId: acl.NetworkAclId ?? '',
    entries: (acl.Entries ?? []).flatMap((entry): NetworkAclEntryFacts[] =>
      entry.RuleNumber === undefined || !entry.RuleAction
        ? []
        : [
            {
              ruleNumber: entry.RuleNumber,
              egress: entry.Egress === true,
              protocol: entry.Protocol ?? '-1',
              action: entry.RuleAction === 'deny' ? 'deny' : 'allow',
              ...(entry.CidrBlock ? { cidrBlock: entry.CidrBlock } : {}),
              ...(entry.Ipv6CidrBlock ? { ipv6CidrBlock: entry.Ipv6CidrBlock } : {}),
              ...(entry.PortRange?.From !== undefined && entry.PortRange.To !== undefined
                ? { portRange: { from: entry.PortRange.From, to: entry.PortRange.To } }
                : {}),
            },
          ],
    ),
  };
}
