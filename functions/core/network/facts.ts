/**
 * What the product knows about a task's network, in its own types (never SDK output
 * types). Adapters fill it from EC2/ECS Describe calls; `doctor snapshot` records it as
 * JSON (`version: 1`) and `replay --facts FILE` reads it back. Anything that could not be
 * read is `null` and listed in `unavailable`, so rules answer `unknown`, never `pass`.
 */
export interface NetworkFacts {
  readonly version: 1;
  readonly region: string;
  readonly capturedAt?: string;
  readonly vpc: VpcFacts | null;
  /** The task's subnet. */
  readonly subnet: SubnetFacts | null;
  /** Other subnets of the VPC that interface endpoints use (for their Availability Zones). */
  readonly endpointSubnets: readonly SubnetFacts[];
  /** The route table in effect for the task's subnet: its explicit association, else the VPC's main table. */
  readonly routeTable: RouteTableFacts | null;
  /** Every VPC endpoint of the VPC (interface and gateway). */
  readonly endpoints: readonly VpcEndpointFacts[] | null;
  /** The task's security groups and every endpoint's security groups. */
  readonly securityGroups: readonly SecurityGroupFacts[] | null;
  /** The network ACL associated with the task's subnet. */
  readonly networkAcl: NetworkAclFacts | null;
  /** AWS-managed prefix lists by name (`com.amazonaws.<region>.s3` → its id and CIDRs). */
  readonly prefixLists: readonly PrefixListFacts[];
  /** How the task is attached: from DescribeServices (awsvpcConfiguration) or the event's ENI. */
  readonly task: TaskNetworkFacts;
  /** What the task definition asks of the network; null when it could not be read. */
  readonly taskDefinition: TaskDefinitionFacts | null;
  /**
   * Mount targets of the task definition's EFS file systems. Absent when the task has no EFS
   * volume (or the snapshot predates it); null when DescribeMountTargets failed.
   */
  readonly efsMountTargets?: readonly EfsMountTargetFacts[] | null;
  /** Describe calls that failed, and why: the rules that need them answer `unknown`. */
  readonly unavailable: readonly UnavailableFact[];
}

/** An EFS mount target: the NFS endpoint of a file system in one Availability Zone. */
export interface EfsMountTargetFacts {
  readonly mountTargetId: string;
  readonly fileSystemId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  /** `available`, `creating`, `deleting`, … */
  readonly state: string;
  readonly ipAddress?: string;
  /** Null when not read (only the mount target in the task's zone is asked for). */
  readonly securityGroupIds: readonly string[] | null;
}

export interface VpcFacts {
  readonly vpcId: string;
  readonly cidrBlocks: readonly string[];
  /** `enableDnsSupport`; null when DescribeVpcAttribute failed. */
  readonly enableDnsSupport: boolean | null;
  readonly enableDnsHostnames: boolean | null;
  /** DHCP options `domain-name-servers`; `['AmazonProvidedDNS']` by default; null when unknown. */
  readonly domainNameServers: readonly string[] | null;
  readonly dhcpOptionsId?: string;
}

export interface SubnetFacts {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly cidrBlock: string;
  readonly availableIpAddressCount: number;
  readonly mapPublicIpOnLaunch: boolean;
}

export interface RouteTableFacts {
  readonly routeTableId: string;
  /** The table applies because it is the VPC's main table (no explicit association). */
  readonly main: boolean;
  readonly routes: readonly RouteFacts[];
}

export interface RouteFacts {
  /** IPv4 CIDR, or absent for prefix-list routes. */
  readonly destinationCidrBlock?: string;
  readonly destinationPrefixListId?: string;
  /** `igw-…`, `nat-…`, `tgw-…`, `vpce-…` (gateway endpoint or firewall), `eni-…`, `pcx-…`, `local`. */
  readonly target: string;
  /** `active` or `blackhole`. */
  readonly state: string;
}

export interface VpcEndpointFacts {
  readonly vpcEndpointId: string;
  /** `com.amazonaws.<region>.<name>`. */
  readonly serviceName: string;
  readonly type: 'Interface' | 'Gateway' | string;
  /** `available`, `pending`, `failed`, … */
  readonly state: string;
  readonly privateDnsEnabled: boolean;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly routeTableIds: readonly string[];
  /** The endpoint policy document (JSON text); null when absent (full access). */
  readonly policyDocument: string | null;
}

/** One security group rule, as EC2 reports it (one permission may hold several sources). */
export interface SecurityGroupRuleFacts {
  /** `-1` for all, `tcp`, `udp`, `icmp`, or a protocol number as text. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrs: readonly string[];
  readonly ipv6Cidrs: readonly string[];
  readonly prefixListIds: readonly string[];
  /** Referenced security groups (`sg-…`). */
  readonly groupIds: readonly string[];
}

export interface SecurityGroupFacts {
  readonly groupId: string;
  readonly groupName?: string;
  readonly vpcId?: string;
  readonly ingress: readonly SecurityGroupRuleFacts[];
  readonly egress: readonly SecurityGroupRuleFacts[];
}

export interface NetworkAclEntryFacts {
  readonly ruleNumber: number;
  readonly egress: boolean;
  /** `-1` for all, or a protocol number as text (`6` is TCP). */
  readonly protocol: string;
  readonly action: 'allow' | 'deny';
  readonly cidrBlock?: string;
  readonly ipv6CidrBlock?: string;
  readonly portRange?: { readonly from: number; readonly to: number };
}

export interface NetworkAclFacts {
  readonly networkAclId: string;
  readonly entries: readonly NetworkAclEntryFacts[];
}

export interface PrefixListFacts {
  readonly prefixListId: string;
  readonly prefixListName: string;
  readonly cidrs: readonly string[];
}

export interface TaskNetworkFacts {
  readonly subnetId: string | null;
  readonly securityGroupIds: readonly string[] | null;
  /**
   * From the service's awsvpcConfiguration; null when unknown (not a service, or not read).
   * For a task on its container instance's network: whether the instance has a public IP.
   */
  readonly assignPublicIp: 'ENABLED' | 'DISABLED' | null;
  readonly privateIpv4Address?: string;
  /**
   * Set when the task has no network interface of its own (EC2 launch type, `bridge` or
   * `host` network mode): it uses its container instance's, so `subnetId`,
   * `securityGroupIds`, `assignPublicIp` and `privateIpv4Address` above are the instance's.
   */
  readonly containerInstance?: ContainerInstanceFacts;
}

/** The EC2 instance a task in `bridge` or `host` network mode ran on. */
export interface ContainerInstanceFacts {
  /** Null when DescribeContainerInstances could not say. */
  readonly ec2InstanceId: string | null;
  readonly containerInstanceArn?: string;
}

export interface TaskDefinitionFacts {
  readonly taskDefinitionArn?: string;
  readonly networkMode?: string;
  readonly requiresCompatibilities?: readonly string[];
  readonly executionRoleArn?: string;
  readonly containers: readonly ContainerRequirementFacts[];
  /** EFS volumes: file system id and whether IAM/transit encryption is on. */
  readonly efsVolumes: readonly { readonly fileSystemId: string; readonly transitEncryption?: boolean }[];
}

export interface ContainerRequirementFacts {
  readonly name: string;
  readonly image: string;
  readonly essential: boolean;
  /** `valueFrom` of each secret: a Secrets Manager ARN, an SSM parameter ARN or name. */
  readonly secrets: readonly string[];
  /** `repositoryCredentials.credentialsParameter` (a Secrets Manager ARN). */
  readonly repositoryCredentials?: string;
  readonly logDriver?: string;
  /** S3 ARNs of `environmentFiles`. */
  readonly environmentFiles: readonly string[];
}

export interface UnavailableFact {
  /** What could not be read: `DescribeVpcEndpoints`, `DescribeSecurityGroups`, … */
  readonly call: string;
  readonly reason: string;
  /** The IAM action that was denied, when the failure was a permission error. */
  readonly permission?: string;
}
