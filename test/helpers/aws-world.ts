import type {
  NetworkAclFacts,
  NetworkFacts,
  RouteFacts,
  SecurityGroupFacts,
  SecurityGroupRuleFacts,
  SubnetFacts,
  TaskDefinitionFacts,
  VpcEndpointFacts,
} from '../../functions/core/network/facts';
import {
  type AwsRequest,
  ec2Error,
  ec2Reply,
  ecsError,
  ecsReply,
  escapeXml,
  type Reply,
  type Routes,
} from './aws-replay-server';

/** Extra parts of the account the facts snapshot does not hold. */
export interface WorldOptions {
  /** The service the task belongs to: cluster and name. @default cluster `demo`, service `web` */
  readonly cluster?: string;
  readonly service?: string;
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly enableExecuteCommand?: boolean;
  /** Route table of the subnet other than the facts' (e.g. extra tables in the VPC). */
  readonly extraRouteTables?: readonly {
    routeTableId: string;
    main: boolean;
    subnetIds: string[];
    routes: RouteFacts[];
  }[];
  /** Other DHCP option sets in the region. */
  readonly extraDhcpSets?: readonly { dhcpOptionsId: string; servers: string[] }[];
  /** Other security groups in the VPC (the snapshot holds only the relevant ones). */
  readonly extraSecurityGroups?: readonly SecurityGroupFacts[];
}

/**
 * Answers for every EC2 and ECS call the network check makes, generated from a facts
 * snapshot as AWS would render them (EC2 Query XML, ECS JSON) and honouring the filters the
 * reader sends. Facts the snapshot lists as unavailable answer `UnauthorizedOperation` /
 * `AccessDeniedException`, so a snapshot read back through the real SDK clients gives the
 * same facts: the round trip that proves the adapters' mapping.
 */
export function awsWorld(facts: NetworkFacts, options: WorldOptions = {}): Routes {
  const denied = new Set(facts.unavailable.map((u) => u.call));
  const vpcId = facts.vpc?.vpcId ?? facts.subnet?.vpcId ?? 'vpc-unknown';
  const subnets: SubnetFacts[] = [...(facts.subnet ? [facts.subnet] : []), ...facts.endpointSubnets];
  const cluster = options.cluster ?? 'demo';
  const service = options.service ?? 'web';
  const deny = (action: string): Reply | undefined =>
    denied.has(action)
      ? ec2Error(
          'UnauthorizedOperation',
          `You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/doctor/x is not authorized to perform: ec2:${action}`,
          403,
        )
      : undefined;
  const ec2 = (action: string, render: (request: AwsRequest) => string) => (request: AwsRequest) =>
    deny(action) ?? ec2Reply(action, render(request));
  const dhcpId = facts.vpc?.dhcpOptionsId ?? 'dopt-0default000000000';

  return {
    DescribeNetworkAcls: ec2('DescribeNetworkAcls', (request) => {
      const subnetFilter = filterValue(request, 'association.subnet-id');
      const acl = facts.networkAcl;
      if (!acl || (subnetFilter && subnetFilter !== facts.task.subnetId)) return '<networkAclSet/>';
      return `<networkAclSet>${networkAclXml(acl, vpcId, facts.task.subnetId ?? '')}</networkAclSet>`;
    }),
    DescribeDhcpOptions: ec2('DescribeDhcpOptions', () => {
      const sets = [
        ...(facts.vpc?.domainNameServers ? [{ dhcpOptionsId: dhcpId, servers: [...facts.vpc.domainNameServers] }] : []),
        ...(options.extraDhcpSets ?? []),
      ];
      return `<dhcpOptionsSet>${sets.map((s) => `<item><dhcpOptionsId>${s.dhcpOptionsId}</dhcpOptionsId><ownerId>123456789012</ownerId><dhcpConfigurationSet><item><key>domain-name-servers</key><valueSet>${s.servers.map((v) => `<item><value>${v}</value></item>`).join('')}</valueSet></item></dhcpConfigurationSet></item>`).join('')}</dhcpOptionsSet>`;
    }),
    DescribeSubnets: ec2('DescribeSubnets', (request) => {
      const vpc = filterValue(request, 'vpc-id');
      return `<subnetSet>${subnets
        .filter((s) => !vpc || s.vpcId === vpc)
        .map(subnetXml)
        .join('')}</subnetSet>`;
    }),
    DescribeRouteTables: ec2('DescribeRouteTables', () => {
      const tables = [
        ...(facts.routeTable
          ? [
              {
                routeTableId: facts.routeTable.routeTableId,
                main: facts.routeTable.main,
                subnetIds: facts.routeTable.main || !facts.task.subnetId ? [] : [facts.task.subnetId],
                routes: [...facts.routeTable.routes],
              },
            ]
          : []),
        ...(options.extraRouteTables ?? []),
      ];
      return `<routeTableSet>${tables.map((t) => routeTableXml(t, vpcId)).join('')}</routeTableSet>`;
    }),
    DescribeVpcEndpoints: ec2(
      'DescribeVpcEndpoints',
      () => `<vpcEndpointSet>${(facts.endpoints ?? []).map((e) => endpointXml(e, vpcId)).join('')}</vpcEndpointSet>`,
    ),
    DescribeSecurityGroups: ec2('DescribeSecurityGroups', () => {
      const groups = [...(facts.securityGroups ?? []), ...(options.extraSecurityGroups ?? [])];
      return `<securityGroupInfo>${groups.map((g) => securityGroupXml(g, vpcId)).join('')}</securityGroupInfo>`;
    }),
    DescribeVpcAttribute: (request) => {
      const attribute = String(request.params.Attribute);
      const value = attribute === 'enableDnsSupport' ? facts.vpc?.enableDnsSupport : facts.vpc?.enableDnsHostnames;
      if (denied.has('DescribeVpcAttribute') || value === null || value === undefined)
        return deny('DescribeVpcAttribute') ?? ec2Error('UnauthorizedOperation', 'not authorized', 403);
      return ec2Reply(
        'DescribeVpcAttribute',
        `<vpcId>${vpcId}</vpcId><${attribute}><value>${value}</value></${attribute}>`,
      );
    },
    DescribeVpcs: ec2('DescribeVpcs', () => {
      const cidrs = facts.vpc?.cidrBlocks ?? [];
      return `<vpcSet><item><vpcId>${vpcId}</vpcId><ownerId>123456789012</ownerId><state>available</state><cidrBlock>${cidrs[0] ?? ''}</cidrBlock><cidrBlockAssociationSet>${cidrs.map((c, i) => `<item><cidrBlock>${c}</cidrBlock><associationId>vpc-cidr-assoc-${i}</associationId><cidrBlockState><state>associated</state></cidrBlockState></item>`).join('')}</cidrBlockAssociationSet><dhcpOptionsId>${dhcpId}</dhcpOptionsId><instanceTenancy>default</instanceTenancy><isDefault>false</isDefault></item></vpcSet>`;
    }),
    DescribePrefixLists: ec2(
      'DescribePrefixLists',
      () =>
        `<prefixListSet>${facts.prefixLists.map((p) => `<item><prefixListId>${p.prefixListId}</prefixListId><prefixListName>${p.prefixListName}</prefixListName><cidrSet>${p.cidrs.map((c) => `<item>${c}</item>`).join('')}</cidrSet></item>`).join('')}</prefixListSet>`,
    ),
    DescribeNetworkInterfaces: ec2('DescribeNetworkInterfaces', (request) => {
      const fileSystemId = /^EFS mount target for (fs-[0-9a-f]+) \(\*\)$/.exec(
        filterValue(request, 'description') ?? '',
      )?.[1];
      const targets = (facts.efsMountTargets ?? []).filter((t) => t.fileSystemId === fileSystemId);
      return `<networkInterfaceSet>${targets
        .map(
          (t) =>
            `<item><networkInterfaceId>eni-${t.mountTargetId.slice(5)}</networkInterfaceId><subnetId>${t.subnetId}</subnetId><vpcId>${vpcId}</vpcId><availabilityZone>${t.availabilityZone}</availabilityZone><description>EFS mount target for ${t.fileSystemId} (${t.mountTargetId})</description><ownerId>123456789012</ownerId><requesterId>641247547298</requesterId><requesterManaged>true</requesterManaged><status>${t.state === 'available' ? 'in-use' : t.state.replace('interface ', '')}</status>${t.ipAddress ? `<privateIpAddress>${t.ipAddress}</privateIpAddress>` : ''}<groupSet>${(t.securityGroupIds ?? []).map((g) => `<item><groupId>${g}</groupId><groupName>${g}</groupName></item>`).join('')}</groupSet><interfaceType>interface</interfaceType></item>`,
        )
        .join('')}</networkInterfaceSet>`;
    }),
    DescribeInstances: ec2('DescribeInstances', (request) => {
      const instance = facts.task.containerInstance;
      const wanted = String(request.params['InstanceId.1'] ?? '');
      if (!instance || instance.ec2InstanceId !== wanted || !facts.task.subnetId) return '<reservationSet/>';
      return `<reservationSet><item><reservationId>r-0${wanted.slice(3)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>${instanceXml(wanted, facts, vpcId)}</instancesSet></item></reservationSet>`;
    }),
    DescribeContainerInstances: (request) => {
      if (denied.has('DescribeContainerInstances'))
        return ecsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeContainerInstances');
      const wanted = (request.params.containerInstances as string[] | undefined)?.[0] ?? '';
      const instance = facts.task.containerInstance;
      if (!instance?.ec2InstanceId || instance.containerInstanceArn !== wanted)
        return ecsReply({ containerInstances: [], failures: [{ arn: wanted, reason: 'MISSING' }] });
      return ecsReply({
        containerInstances: [
          {
            containerInstanceArn: wanted,
            ec2InstanceId: instance.ec2InstanceId,
            version: 12,
            versionInfo: { agentVersion: '1.89.2', agentHash: '6b8c6b4e', dockerVersion: 'DockerVersion: 25.0.8' },
            status: 'ACTIVE',
            agentConnected: true,
            runningTasksCount: 0,
            pendingTasksCount: 0,
            attributes: [
              { name: 'ecs.availability-zone', value: facts.subnet?.availabilityZone ?? '' },
              { name: 'ecs.vpc-id', value: vpcId },
              { name: 'ecs.subnet-id', value: facts.task.subnetId ?? '' },
            ],
            registeredAt: 1773216000,
          },
        ],
        failures: [],
      });
    },
    DescribeTaskDefinition: () =>
      denied.has('DescribeTaskDefinition') || !facts.taskDefinition
        ? ecsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeTaskDefinition')
        : ecsReply({ taskDefinition: taskDefinitionJson(facts.taskDefinition, facts.region) }),
    DescribeServices: (request) => {
      if (denied.has('DescribeServices'))
        return ecsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeServices');
      const wanted = (request.params.services as string[] | undefined)?.[0];
      if (wanted !== service && !wanted?.endsWith(`/${service}`))
        return ecsReply({
          services: [],
          failures: [
            { arn: `arn:aws:ecs:${facts.region}:123456789012:service/${cluster}/${wanted}`, reason: 'MISSING' },
          ],
        });
      return ecsReply({
        services: [
          {
            serviceArn: `arn:aws:ecs:${facts.region}:123456789012:service/${cluster}/${service}`,
            serviceName: service,
            clusterArn: `arn:aws:ecs:${facts.region}:123456789012:cluster/${cluster}`,
            status: 'ACTIVE',
            desiredCount: 2,
            runningCount: 0,
            ...(facts.taskDefinition?.taskDefinitionArn
              ? { taskDefinition: facts.taskDefinition.taskDefinitionArn }
              : {}),
            ...(options.launchType ? { launchType: options.launchType } : {}),
            ...(options.platformVersion ? { platformVersion: options.platformVersion } : {}),
            enableExecuteCommand: options.enableExecuteCommand ?? false,
            // A bridge or host mode service has no network configuration: its tasks use their instances'.
            ...(facts.task.containerInstance
              ? {}
              : {
                  networkConfiguration: {
                    awsvpcConfiguration: {
                      subnets: facts.task.subnetId ? [facts.task.subnetId] : [],
                      securityGroups: facts.task.securityGroupIds ?? [],
                      assignPublicIp: facts.task.assignPublicIp ?? 'DISABLED',
                    },
                  },
                }),
          },
        ],
        failures: [],
      });
    },
  };
}

/** The value of the first `Filter.N.Name = name` in an EC2 request. */
export function filterValue(request: AwsRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.params)) {
    const match = /^Filter\.(\d+)\.Name$/.exec(key);
    if (match && value === name) return request.params[`Filter.${match[1]}.Value.1`] as string | undefined;
  }
  return undefined;
}

/** An EC2 instance as DescribeInstances renders it: where a bridge or host mode task's traffic leaves from. */
function instanceXml(instanceId: string, facts: NetworkFacts, vpcId: string): string {
  const groups = (facts.task.securityGroupIds ?? [])
    .map((g) => `<item><groupId>${g}</groupId><groupName>${g}-name</groupName></item>`)
    .join('');
  const ip = facts.task.privateIpv4Address ?? '10.0.0.10';
  const publicIp = facts.task.assignPublicIp === 'ENABLED' ? '<ipAddress>203.0.113.7</ipAddress>' : '';
  return `<item><instanceId>${instanceId}</instanceId><imageId>ami-0f4a6c2e8b1d3a5c7</imageId><instanceState><code>16</code><name>running</name></instanceState><privateDnsName>ip-${ip.replace(/\./g, '-')}.${facts.region}.compute.internal</privateDnsName><dnsName/><instanceType>m7g.large</instanceType><placement><availabilityZone>${facts.subnet?.availabilityZone ?? ''}</availabilityZone><tenancy>default</tenancy></placement><subnetId>${facts.task.subnetId}</subnetId><vpcId>${vpcId}</vpcId><privateIpAddress>${ip}</privateIpAddress>${publicIp}<groupSet>${groups}</groupSet><networkInterfaceSet><item><networkInterfaceId>eni-0${instanceId.slice(3)}</networkInterfaceId><subnetId>${facts.task.subnetId}</subnetId><vpcId>${vpcId}</vpcId><status>in-use</status><privateIpAddress>${ip}</privateIpAddress><groupSet>${groups}</groupSet><attachment><attachmentId>eni-attach-0${instanceId.slice(3)}</attachmentId><deviceIndex>0</deviceIndex><status>attached</status></attachment></item></networkInterfaceSet></item>`;
}

function subnetXml(s: SubnetFacts): string {
  return `<item><subnetId>${s.subnetId}</subnetId><subnetArn>arn:aws:ec2:region:123456789012:subnet/${s.subnetId}</subnetArn><state>available</state><ownerId>123456789012</ownerId><vpcId>${s.vpcId}</vpcId><cidrBlock>${s.cidrBlock}</cidrBlock><ipv6CidrBlockAssociationSet/><availableIpAddressCount>${s.availableIpAddressCount}</availableIpAddressCount><availabilityZone>${s.availabilityZone}</availabilityZone><availabilityZoneId>apne1-az4</availabilityZoneId><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>${s.mapPublicIpOnLaunch}</mapPublicIpOnLaunch><assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation></item>`;
}

const TARGET_FIELD: ReadonlyArray<[RegExp, string]> = [
  [/^nat-/, 'natGatewayId'],
  [/^tgw-/, 'transitGatewayId'],
  [/^eni-/, 'networkInterfaceId'],
  [/^pcx-/, 'vpcPeeringConnectionId'],
  [/^i-/, 'instanceId'],
];

function routeXml(route: RouteFacts): string {
  const field = TARGET_FIELD.find(([prefix]) => prefix.test(route.target))?.[1] ?? 'gatewayId';
  const destination = route.destinationCidrBlock
    ? `<destinationCidrBlock>${route.destinationCidrBlock}</destinationCidrBlock>`
    : `<destinationPrefixListId>${route.destinationPrefixListId}</destinationPrefixListId>`;
  return `<item>${destination}<${field}>${route.target}</${field}><state>${route.state}</state><origin>${route.target === 'local' ? 'CreateRouteTable' : 'CreateRoute'}</origin></item>`;
}

function routeTableXml(
  table: { routeTableId: string; main: boolean; subnetIds: readonly string[]; routes: readonly RouteFacts[] },
  vpcId: string,
): string {
  const associations = [
    ...(table.main
      ? [
          `<item><routeTableAssociationId>rtbassoc-main${table.routeTableId.slice(4)}</routeTableAssociationId><routeTableId>${table.routeTableId}</routeTableId><main>true</main><associationState><state>associated</state></associationState></item>`,
        ]
      : []),
    ...table.subnetIds.map(
      (subnetId) =>
        `<item><routeTableAssociationId>rtbassoc-${subnetId.slice(7)}</routeTableAssociationId><routeTableId>${table.routeTableId}</routeTableId><subnetId>${subnetId}</subnetId><main>false</main><associationState><state>associated</state></associationState></item>`,
    ),
  ];
  return `<item><routeTableId>${table.routeTableId}</routeTableId><vpcId>${vpcId}</vpcId><ownerId>123456789012</ownerId><routeSet>${table.routes.map(routeXml).join('')}</routeSet><associationSet>${associations.join('')}</associationSet><propagatingVgwSet/><tagSet/></item>`;
}

function endpointXml(e: VpcEndpointFacts, vpcId: string): string {
  const items = (values: readonly string[]) => values.map((v) => `<item>${v}</item>`).join('');
  return `<item><vpcEndpointId>${e.vpcEndpointId}</vpcEndpointId><vpcEndpointType>${e.type}</vpcEndpointType><vpcId>${vpcId}</vpcId><serviceName>${e.serviceName}</serviceName><state>${e.state}</state>${e.policyDocument === null ? '' : `<policyDocument>${escapeXml(e.policyDocument)}</policyDocument>`}<routeTableIdSet>${items(e.routeTableIds)}</routeTableIdSet><subnetIdSet>${items(e.subnetIds)}</subnetIdSet><groupSet>${e.securityGroupIds.map((g) => `<item><groupId>${g}</groupId><groupName>${g}-name</groupName></item>`).join('')}</groupSet><privateDnsEnabled>${e.privateDnsEnabled}</privateDnsEnabled><requesterManaged>false</requesterManaged><networkInterfaceIdSet/><dnsEntrySet/><creationTimestamp>2026-03-11T08:00:00.000Z</creationTimestamp><ownerId>123456789012</ownerId></item>`;
}

function permissionXml(rule: SecurityGroupRuleFacts): string {
  const ports =
    rule.fromPort !== undefined
      ? `<fromPort>${rule.fromPort}</fromPort><toPort>${rule.toPort ?? rule.fromPort}</toPort>`
      : '';
  return `<item><ipProtocol>${rule.protocol}</ipProtocol>${ports}<groups>${rule.groupIds.map((g) => `<item><userId>123456789012</userId><groupId>${g}</groupId></item>`).join('')}</groups><ipRanges>${rule.cidrs.map((c) => `<item><cidrIp>${c}</cidrIp></item>`).join('')}</ipRanges><ipv6Ranges>${rule.ipv6Cidrs.map((c) => `<item><cidrIpv6>${c}</cidrIpv6></item>`).join('')}</ipv6Ranges><prefixListIds>${rule.prefixListIds.map((p) => `<item><prefixListId>${p}</prefixListId></item>`).join('')}</prefixListIds></item>`;
}

function securityGroupXml(g: SecurityGroupFacts, vpcId: string): string {
  return `<item><ownerId>123456789012</ownerId><groupId>${g.groupId}</groupId><groupName>${escapeXml(g.groupName ?? g.groupId)}</groupName><groupDescription>test</groupDescription><vpcId>${g.vpcId ?? vpcId}</vpcId><ipPermissions>${g.ingress.map(permissionXml).join('')}</ipPermissions><ipPermissionsEgress>${g.egress.map(permissionXml).join('')}</ipPermissionsEgress></item>`;
}

function networkAclXml(acl: NetworkAclFacts, vpcId: string, subnetId: string): string {
  const entries = acl.entries
    .map(
      (e) =>
        `<item><ruleNumber>${e.ruleNumber}</ruleNumber><protocol>${e.protocol}</protocol><ruleAction>${e.action}</ruleAction><egress>${e.egress}</egress>${e.cidrBlock ? `<cidrBlock>${e.cidrBlock}</cidrBlock>` : ''}${e.ipv6CidrBlock ? `<ipv6CidrBlock>${e.ipv6CidrBlock}</ipv6CidrBlock>` : ''}${e.portRange ? `<portRange><from>${e.portRange.from}</from><to>${e.portRange.to}</to></portRange>` : ''}</item>`,
    )
    .join('');
  return `<item><networkAclId>${acl.networkAclId}</networkAclId><vpcId>${vpcId}</vpcId><default>false</default><entrySet>${entries}</entrySet><associationSet><item><networkAclAssociationId>aclassoc-${subnetId.slice(7)}</networkAclAssociationId><networkAclId>${acl.networkAclId}</networkAclId><subnetId>${subnetId}</subnetId></item></associationSet><tagSet/><ownerId>123456789012</ownerId></item>`;
}

/** A DescribeTaskDefinition `taskDefinition` as ECS renders it, from the facts that matter. */
export function taskDefinitionJson(td: TaskDefinitionFacts, region: string): Record<string, unknown> {
  const arn = td.taskDefinitionArn ?? `arn:aws:ecs:${region}:123456789012:task-definition/app:1`;
  const [family, revision] = (arn.split('/').pop() ?? 'app:1').split(':');
  return {
    taskDefinitionArn: arn,
    family,
    revision: Number(revision ?? 1),
    status: 'ACTIVE',
    ...(td.networkMode ? { networkMode: td.networkMode } : {}),
    ...(td.requiresCompatibilities ? { requiresCompatibilities: td.requiresCompatibilities } : {}),
    ...(td.executionRoleArn ? { executionRoleArn: td.executionRoleArn } : {}),
    cpu: '256',
    memory: '512',
    containerDefinitions: td.containers.map((c) => ({
      name: c.name,
      image: c.image,
      essential: c.essential,
      cpu: 0,
      portMappings: [],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      secrets: c.secrets.map((valueFrom, i) => ({ name: `SECRET_${i}`, valueFrom })),
      ...(c.repositoryCredentials ? { repositoryCredentials: { credentialsParameter: c.repositoryCredentials } } : {}),
      ...(c.logDriver
        ? {
            logConfiguration: {
              logDriver: c.logDriver,
              options: { 'awslogs-group': '/ecs/app', 'awslogs-region': region },
            },
          }
        : {}),
      environmentFiles: c.environmentFiles.map((value) => ({ value, type: 's3' })),
    })),
    volumes: td.efsVolumes.map((v, i) => ({
      name: `efs-${i}`,
      efsVolumeConfiguration: {
        fileSystemId: v.fileSystemId,
        ...(v.transitEncryption ? { transitEncryption: 'ENABLED' } : {}),
      },
    })),
    registeredAt: 1773216000,
  };
}
