import { createHash } from 'node:crypto';
import type {
  ContainerRequirementFacts,
  NetworkAclFacts,
  NetworkFacts,
  RouteFacts,
  RouteTableFacts,
  SecurityGroupFacts,
  SecurityGroupRuleFacts,
  SubnetFacts,
  TaskDefinitionFacts,
  VpcEndpointFacts,
} from '../../functions/core/network/facts';
import type { PlannedTask } from '../../functions/core/network/preflight';

/**
 * Turns a synthesized CloudFormation template into the network facts the checker reads
 * from EC2 after deployment, as EC2 would report them: each resource gets a stable fake id
 * (`subnet-…`, `sg-…`, `vpce-…`), intrinsic functions are resolved for one account and
 * Region, and CloudFormation's defaults apply where a property is absent (all egress on a
 * security group with no egress rules, `enableDnsHostnames` off, the VPC's default network
 * ACL allowing everything, a gateway endpoint adding a prefix-list route to each of its
 * route tables). So the reference VPC can be checked by the same rules before it exists.
 */

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}
interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export const REGION = 'ap-northeast-1';
export const ACCOUNT = '123456789012';
/** The s3 prefix list as EC2 names it in the Region. */
const S3_PREFIX_LIST = { prefixListId: 'pl-61a54008', cidrs: ['52.219.0.0/16', '3.5.152.0/21'] };

const ID_PREFIX: Record<string, string> = {
  'AWS::EC2::VPC': 'vpc',
  'AWS::EC2::Subnet': 'subnet',
  'AWS::EC2::RouteTable': 'rtb',
  'AWS::EC2::SecurityGroup': 'sg',
  'AWS::EC2::VPCEndpoint': 'vpce',
  'AWS::EC2::InternetGateway': 'igw',
  'AWS::EC2::NatGateway': 'nat',
  'AWS::EC2::NetworkAcl': 'acl',
};

/** The planned task and the facts of its subnet, for every subnet an ECS service in the template runs in. */
export interface ServiceCheckInput {
  readonly service: string;
  readonly planned: PlannedTask;
  readonly facts: NetworkFacts;
}

export function serviceCheckInputs(template: CfnTemplate): ServiceCheckInput[] {
  const world = new TemplateWorld(template);
  return world.ofType('AWS::ECS::Service').flatMap(([logicalId, service]) => {
    const props = service.Properties ?? {};
    const awsvpc = world.resolve(
      (props.NetworkConfiguration as { AwsvpcConfiguration?: unknown } | undefined)?.AwsvpcConfiguration,
    ) as { Subnets?: string[]; SecurityGroups?: string[]; AssignPublicIp?: string } | undefined;
    if (!awsvpc?.Subnets) throw new Error(`service ${logicalId} has no awsvpcConfiguration: not modelled`);
    const taskDefinition = world.taskDefinition(world.logicalIdOf(props.TaskDefinition));
    return awsvpc.Subnets.map((subnetId) => ({
      service: logicalId,
      planned: {
        subnetId,
        launchType: String(props.LaunchType ?? 'FARGATE'),
        // LATEST on Fargate Linux is 1.4.0.
        platformVersion:
          props.PlatformVersion === undefined || props.PlatformVersion === 'LATEST'
            ? '1.4.0'
            : String(props.PlatformVersion),
        enableExecuteCommand: props.EnableExecuteCommand === true,
        cluster: String(world.resolve(props.Cluster)),
        service: logicalId,
      },
      facts: world.factsFor(subnetId, awsvpc.SecurityGroups ?? [], awsvpc.AssignPublicIp ?? 'DISABLED', taskDefinition),
    }));
  });
}

class TemplateWorld {
  private readonly resources: Record<string, CfnResource>;

  constructor(template: CfnTemplate) {
    this.resources = template.Resources;
    if (
      this.ofType('AWS::EC2::NetworkAcl').length > 0 ||
      this.ofType('AWS::EC2::SubnetNetworkAclAssociation').length > 0
    )
      throw new Error('custom network ACLs are not modelled: extend template-facts.ts first');
  }

  ofType(type: string): [string, CfnResource][] {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /** EC2-style id of a resource: a stable hash of its logical id. */
  physicalId(logicalId: string): string {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template`);
    const hash = createHash('sha256').update(logicalId).digest('hex').slice(0, 17);
    const prefix = ID_PREFIX[resource.Type];
    if (prefix) return `${prefix}-${hash}`;
    switch (resource.Type) {
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${logicalId}-AbCdEf`;
      case 'AWS::SSM::Parameter':
        return `CFN-${logicalId}`;
      case 'AWS::IAM::Role':
        return `${logicalId}-role`;
      default:
        return logicalId;
    }
  }

  logicalIdOf(value: unknown): string {
    const ref = (value as { Ref?: unknown } | undefined)?.Ref;
    if (typeof ref !== 'string') throw new Error(`expected a Ref, got ${JSON.stringify(value)}`);
    return ref;
  }

  /** Resolves CloudFormation intrinsic functions for {@link REGION} and {@link ACCOUNT}. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && (key?.startsWith('Fn::') || key === 'Ref')) return this.intrinsic(key as string, arg);
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private intrinsic(name: string, arg: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = arg as [string, string];
        return this.getAtt(logicalId, attribute);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number | string, unknown];
        return (this.resolve(list) as unknown[])[Number(index)];
      }
      case 'Fn::GetAZs':
        return [`${REGION}a`, `${REGION}c`, `${REGION}d`];
      case 'Fn::Sub': {
        const [text, variables] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
        return text.replace(/\$\{([^}]+)\}/g, (_, ref: string) =>
          ref in variables
            ? String(this.resolve(variables[ref]))
            : ref.includes('.')
              ? String(this.getAtt(...(ref.split('.', 2) as [string, string])))
              : String(this.ref(ref)),
        );
      }
      default:
        throw new Error(`${name} is not modelled`);
    }
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'stack';
      default:
        return this.physicalId(name);
    }
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.resources[logicalId];
    if (resource?.Type === 'AWS::EC2::VPC' && attribute === 'CidrBlock') return resource.Properties?.CidrBlock;
    if (resource?.Type === 'AWS::EC2::SecurityGroup' && attribute === 'GroupId') return this.physicalId(logicalId);
    if (attribute === 'Arn') return `arn:aws:${logicalId}`;
    return `${this.physicalId(logicalId)}.${attribute}`;
  }

  private props(logicalId: string): Record<string, unknown> {
    return (this.resolve(this.resources[logicalId]?.Properties ?? {}) as Record<string, unknown>) ?? {};
  }

  private byPhysicalId(type: string, id: string): [string, Record<string, unknown>] {
    const found = this.ofType(type).find(([logicalId]) => this.physicalId(logicalId) === id);
    if (!found) throw new Error(`no ${type} ${id} in the template`);
    return [found[0], this.props(found[0])];
  }

  private subnets(): SubnetFacts[] {
    return this.ofType('AWS::EC2::Subnet').map(([logicalId]) => {
      const p = this.props(logicalId);
      const cidr = String(p.CidrBlock);
      const prefix = Number(cidr.split('/')[1]);
      return {
        subnetId: this.physicalId(logicalId),
        vpcId: String(p.VpcId),
        availabilityZone: String(p.AvailabilityZone),
        cidrBlock: cidr,
        // AWS keeps five addresses of every subnet.
        availableIpAddressCount: 2 ** (32 - prefix) - 5,
        mapPublicIpOnLaunch: p.MapPublicIpOnLaunch === true,
      };
    });
  }

  private endpoints(): VpcEndpointFacts[] {
    return this.ofType('AWS::EC2::VPCEndpoint').map(([logicalId]) => {
      const p = this.props(logicalId);
      return {
        vpcEndpointId: this.physicalId(logicalId),
        serviceName: String(p.ServiceName),
        type: String(p.VpcEndpointType ?? 'Gateway'),
        state: 'available',
        privateDnsEnabled: p.PrivateDnsEnabled === true,
        subnetIds: (p.SubnetIds as string[] | undefined) ?? [],
        securityGroupIds: (p.SecurityGroupIds as string[] | undefined) ?? [],
        routeTableIds: (p.RouteTableIds as string[] | undefined) ?? [],
        policyDocument: p.PolicyDocument ? JSON.stringify(p.PolicyDocument) : null,
      };
    });
  }

  private routeTable(subnetId: string, vpcId: string, vpcCidr: string, endpoints: VpcEndpointFacts[]): RouteTableFacts {
    const association = this.ofType('AWS::EC2::SubnetRouteTableAssociation')
      .map(([logicalId]) => this.props(logicalId))
      .find((p) => p.SubnetId === subnetId);
    // With no explicit association the VPC's main table applies: it has only the local route.
    const routeTableId = association ? String(association.RouteTableId) : `rtb-main-${vpcId}`;
    const routes: RouteFacts[] = [{ destinationCidrBlock: vpcCidr, target: 'local', state: 'active' }];
    for (const [logicalId] of this.ofType('AWS::EC2::Route')) {
      const p = this.props(logicalId);
      if (p.RouteTableId !== routeTableId) continue;
      const target =
        p.GatewayId ??
        p.NatGatewayId ??
        p.TransitGatewayId ??
        p.VpcEndpointId ??
        p.NetworkInterfaceId ??
        p.VpcPeeringConnectionId;
      routes.push({
        ...(p.DestinationCidrBlock ? { destinationCidrBlock: String(p.DestinationCidrBlock) } : {}),
        ...(p.DestinationPrefixListId ? { destinationPrefixListId: String(p.DestinationPrefixListId) } : {}),
        target: String(target),
        state: 'active',
      });
    }
    // A gateway endpoint adds a route to its service's prefix list in each table it is associated with.
    for (const endpoint of endpoints)
      if (endpoint.type === 'Gateway' && endpoint.routeTableIds.includes(routeTableId))
        routes.push({
          destinationPrefixListId: S3_PREFIX_LIST.prefixListId,
          target: endpoint.vpcEndpointId,
          state: 'active',
        });
    return { routeTableId, main: !association, routes };
  }

  private securityGroups(vpcId: string): SecurityGroupFacts[] {
    const groups = this.ofType('AWS::EC2::SecurityGroup').map(([logicalId]) => {
      const p = this.props(logicalId);
      const egress = p.SecurityGroupEgress as Record<string, unknown>[] | undefined;
      return {
        groupId: this.physicalId(logicalId),
        vpcId,
        ingress: ((p.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []).map(ruleOf),
        // CloudFormation gives a group with no egress rules the default allow-all rule.
        egress: egress ? egress.map(ruleOf) : [ruleOf({ IpProtocol: '-1', CidrIp: '0.0.0.0/0' })],
      };
    });
    for (const [type, direction] of [
      ['AWS::EC2::SecurityGroupIngress', 'ingress'],
      ['AWS::EC2::SecurityGroupEgress', 'egress'],
    ] as const)
      for (const [logicalId] of this.ofType(type)) {
        const p = this.props(logicalId);
        const group = groups.find((g) => g.groupId === p.GroupId);
        if (!group) throw new Error(`${logicalId} names security group ${String(p.GroupId)}, not in the template`);
        group[direction].push(ruleOf(p));
      }
    return groups;
  }

  taskDefinition(logicalId: string): TaskDefinitionFacts {
    const p = this.props(logicalId);
    const containers = (p.ContainerDefinitions as Record<string, unknown>[]).map(
      (c): ContainerRequirementFacts => ({
        name: String(c.Name),
        image: String(c.Image),
        essential: c.Essential !== false,
        secrets: ((c.Secrets as { ValueFrom: string }[] | undefined) ?? []).map((s) => s.ValueFrom),
        ...((c.RepositoryCredentials as { CredentialsParameter?: string } | undefined)?.CredentialsParameter
          ? {
              repositoryCredentials: (c.RepositoryCredentials as { CredentialsParameter: string }).CredentialsParameter,
            }
          : {}),
        ...((c.LogConfiguration as { LogDriver?: string } | undefined)?.LogDriver
          ? { logDriver: (c.LogConfiguration as { LogDriver: string }).LogDriver }
          : {}),
        environmentFiles: ((c.EnvironmentFiles as { Value: string }[] | undefined) ?? []).map((f) => f.Value),
      }),
    );
    return {
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${String(p.Family ?? logicalId)}:1`,
      ...(p.NetworkMode ? { networkMode: String(p.NetworkMode) } : {}),
      ...(p.RequiresCompatibilities ? { requiresCompatibilities: p.RequiresCompatibilities as string[] } : {}),
      ...(p.ExecutionRoleArn ? { executionRoleArn: String(p.ExecutionRoleArn) } : {}),
      containers,
      efsVolumes: ((p.Volumes as { EFSVolumeConfiguration?: { FilesystemId: string } }[] | undefined) ?? []).flatMap(
        (v) => (v.EFSVolumeConfiguration ? [{ fileSystemId: v.EFSVolumeConfiguration.FilesystemId }] : []),
      ),
    };
  }

  factsFor(
    subnetId: string,
    securityGroupIds: readonly string[],
    assignPublicIp: string,
    taskDefinition: TaskDefinitionFacts,
  ): NetworkFacts {
    const subnets = this.subnets();
    const subnet = subnets.find((s) => s.subnetId === subnetId);
    if (!subnet) throw new Error(`subnet ${subnetId} is not in the template`);
    const [, vpc] = this.byPhysicalId('AWS::EC2::VPC', subnet.vpcId);
    const vpcCidr = String(vpc.CidrBlock);
    const endpoints = this.endpoints();
    const endpointSubnetIds = new Set(endpoints.flatMap((e) => e.subnetIds));
    return {
      version: 1,
      region: REGION,
      vpc: {
        vpcId: subnet.vpcId,
        cidrBlocks: [vpcCidr],
        // CloudFormation's defaults: DNS support on, DNS hostnames off.
        enableDnsSupport: vpc.EnableDnsSupport !== false,
        enableDnsHostnames: vpc.EnableDnsHostnames === true,
        domainNameServers: ['AmazonProvidedDNS'],
      },
      subnet,
      endpointSubnets: subnets.filter((s) => s.subnetId !== subnetId && endpointSubnetIds.has(s.subnetId)),
      routeTable: this.routeTable(subnetId, subnet.vpcId, vpcCidr, endpoints),
      endpoints,
      securityGroups: this.securityGroups(subnet.vpcId),
      networkAcl: defaultNetworkAcl(subnet.vpcId),
      prefixLists: [{ ...S3_PREFIX_LIST, prefixListName: `com.amazonaws.${REGION}.s3` }],
      task: {
        subnetId,
        securityGroupIds: [...securityGroupIds],
        assignPublicIp: assignPublicIp === 'ENABLED' ? 'ENABLED' : 'DISABLED',
      },
      taskDefinition,
      unavailable: [],
    };
  }
}

function ruleOf(p: Record<string, unknown>): SecurityGroupRuleFacts {
  const protocol = String(p.IpProtocol);
  const all = protocol === '-1';
  return {
    protocol,
    ...(!all && p.FromPort !== undefined ? { fromPort: Number(p.FromPort) } : {}),
    ...(!all && p.ToPort !== undefined ? { toPort: Number(p.ToPort) } : {}),
    cidrs: p.CidrIp ? [String(p.CidrIp)] : [],
    ipv6Cidrs: p.CidrIpv6 ? [String(p.CidrIpv6)] : [],
    prefixListIds: [p.SourcePrefixListId ?? p.DestinationPrefixListId].filter(
      (x): x is string => typeof x === 'string',
    ),
    groupIds: [p.SourceSecurityGroupId ?? p.DestinationSecurityGroupId].filter(
      (x): x is string => typeof x === 'string',
    ),
  };
}

/** Every VPC's default network ACL: all traffic allowed both ways. */
function defaultNetworkAcl(vpcId: string): NetworkAclFacts {
  const entries = [true, false].flatMap((egress) => [
    { ruleNumber: 100, egress, protocol: '-1', action: 'allow' as const, cidrBlock: '0.0.0.0/0' },
    { ruleNumber: 32767, egress, protocol: '-1', action: 'deny' as const, cidrBlock: '0.0.0.0/0' },
  ]);
  return { networkAclId: `acl-default-${vpcId}`, entries };
}
