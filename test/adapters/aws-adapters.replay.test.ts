import { beforeEach, describe, expect, it } from 'vitest';
import { awsPorts } from '../../functions/adapters/aws-clients';
import type { AwsPorts } from '../../functions/adapters/network-facts-reader';
import {
  type AwsReplayServer,
  ec2Error,
  ec2Reply,
  ecsError,
  ecsReply,
  recorded,
  useAwsReplayServer,
} from '../helpers/aws-replay-server';
import { filterValue } from '../helpers/aws-world';
import { fixture } from '../helpers/fixtures';
import { awsFailure } from '../helpers/rejection';

const replayServer = useAwsReplayServer();
let server: AwsReplayServer;
let aws: AwsPorts;
beforeEach(() => {
  server = replayServer();
  server.setRoutes({});
  aws = awsPorts()('us-east-1');
});

describe('Ec2Network reads AWS documentation samples', () => {
  it('maps DescribeVpcEndpoints: gateway, interface and other endpoint types, policies with tabs kept', async () => {
    server.setRoutes({ DescribeVpcEndpoints: recorded('ec2', 'DescribeVpcEndpoints', 'aws-doc-sample.xml') });
    const endpoints = await aws.ec2.endpointsOfVpc('vpc-1a2b3c4d');
    expect(endpoints.map((e) => [e.vpcEndpointId, e.type, e.state])).toEqual([
      ['vpce-032a826a', 'Gateway', 'available'],
      ['vpce-0f89a33420c1931d7', 'Interface', 'available'],
      ['vpce-22223333bbbbaaaa1', 'GatewayLoadBalancer', 'available'],
    ]);
    expect(endpoints[0]).toMatchObject({
      serviceName: 'com.amazonaws.us-east-1.dynamodb',
      routeTableIds: ['rtb-3d560345'],
      subnetIds: [],
    });
    expect(endpoints[0]?.policyDocument).toContain('"Version":"2008-10-17",\t\t \t \t "Statement"');
    expect(endpoints[1]).toMatchObject({
      privateDnsEnabled: false,
      subnetIds: ['subnet-d6fcaa8d', 'subnet-7b16de0c'],
      securityGroupIds: ['sg-54e8bf31'],
    });
    expect(endpoints[2]?.policyDocument).toBeNull();
    const request = server.requests[0];
    expect(request?.action).toBe('DescribeVpcEndpoints');
    expect(request && filterValue(request, 'vpc-id')).toBe('vpc-1a2b3c4d');
    expect(request?.params.MaxResults).toBe('1000');
  });

  it('maps DescribeRouteTables: the main table, the local route and the IGW default route', async () => {
    server.setRoutes({ DescribeRouteTables: recorded('ec2', 'DescribeRouteTables', 'aws-doc-main-table.xml') });
    const [table] = await aws.ec2.routeTablesOfVpc('vpc-12345678912345678');
    expect(table).toEqual({
      routeTableId: 'rtb-1122334455667788a',
      main: true,
      subnetIds: [],
      routes: [
        { destinationCidrBlock: '10.0.1.0/32', target: 'igw-012345678901abcdef', state: 'active' },
        { destinationCidrBlock: '172.31.0.0/16', target: 'local', state: 'active' },
        { destinationCidrBlock: '0.0.0.0/0', target: 'igw-012345678901abcdef', state: 'active' },
      ],
    });
    // DescribeRouteTables accepts at most 100 per page.
    expect(server.requests[0]?.params.MaxResults).toBe('100');
  });

  it('maps DescribeSecurityGroups: group references, IPv6 ranges and all-protocol rules', async () => {
    server.setRoutes({
      DescribeSecurityGroups: recorded('ec2', 'DescribeSecurityGroups', 'aws-doc-references-group.xml'),
    });
    const [group] = await aws.ec2.securityGroupsOfVpc('vpc-81326ae4');
    expect(group).toEqual({
      groupId: 'sg-1a2b3c4d',
      groupName: 'MySecurityGroup',
      vpcId: 'vpc-81326ae4',
      ingress: [
        {
          protocol: 'tcp',
          fromPort: 22,
          toPort: 22,
          cidrs: ['0.0.0.0/0'],
          ipv6Cidrs: [],
          prefixListIds: [],
          groupIds: [],
        },
        {
          protocol: 'icmp',
          fromPort: -1,
          toPort: -1,
          cidrs: [],
          ipv6Cidrs: [],
          prefixListIds: [],
          groupIds: ['sg-11aa22bb'],
        },
      ],
      egress: [{ protocol: '-1', cidrs: ['0.0.0.0/0'], ipv6Cidrs: [], prefixListIds: [], groupIds: [] }],
    });
    server.setRoutes({ DescribeSecurityGroups: recorded('ec2', 'DescribeSecurityGroups', 'aws-doc-ipv6.xml') });
    const [ipv6] = await aws.ec2.securityGroupsOfVpc('vpc-31896b55');
    expect(ipv6?.egress[0]?.ipv6Cidrs).toEqual(['::/0']);
  });

  it('finds the network ACL of a subnet and the VPC it names (DescribeNetworkAcls by association)', async () => {
    server.setRoutes({ DescribeNetworkAcls: recorded('ec2', 'DescribeNetworkAcls', 'aws-doc-sample.xml') });
    const read = await aws.ec2.subnetNetworkAcl('subnet-0931fc2fa5EXAMPLE');
    expect(read.vpcId).toBe('vpc-06e4ab6c6cEXAMPLE');
    expect(read.networkAcl.networkAclId).toBe('acl-0ea1f54ca7EXAMPLE');
    expect(read.networkAcl.entries).toContainEqual({
      ruleNumber: 32767,
      egress: false,
      protocol: '-1',
      action: 'deny',
      cidrBlock: '0.0.0.0/0',
    });
    const request = server.requests[0];
    expect(request && filterValue(request, 'association.subnet-id')).toBe('subnet-0931fc2fa5EXAMPLE');
  });

  it('says the subnet does not exist when no network ACL is associated with it', async () => {
    server.setRoutes({ DescribeNetworkAcls: ec2Reply('DescribeNetworkAcls', '<networkAclSet/>') });
    const error = await awsFailure(aws.ec2.subnetNetworkAcl('subnet-gone'));
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('subnet-gone');
  });

  it.each([
    ['enableDnsSupport', 'aws-doc-enable-dns-support.xml'],
    ['enableDnsHostnames', 'aws-doc-enable-dns-hostnames.xml'],
  ] as const)('reads the VPC attribute %s', async (attribute, file) => {
    server.setRoutes({ DescribeVpcAttribute: recorded('ec2', 'DescribeVpcAttribute', file) });
    await expect(aws.ec2.vpcAttribute('vpc-1a2b3c4d', attribute)).resolves.toBe(true);
    expect(server.requests[0]?.params).toMatchObject({ VpcId: 'vpc-1a2b3c4d', Attribute: attribute });
  });

  it('follows nextToken to the last page and sends it back', async () => {
    server.setRoutes({
      DescribeSubnets: (request) =>
        recorded('ec2', 'DescribeSubnets', request.params.NextToken ? 'page-2-of-2.xml' : 'page-1-of-2.xml'),
    });
    const subnets = await aws.ec2.subnetsOfVpc('vpc-0056ae9ffdEXAMPLE');
    expect(subnets.map((s) => s.subnetId)).toEqual([
      'subnet-0bb1c79de301436ee',
      'subnet-02bf4c428bf44ebce',
      'subnet-0f8c6c2f37EXAMPLE',
    ]);
    expect(subnets[2]).toEqual({
      subnetId: 'subnet-0f8c6c2f37EXAMPLE',
      vpcId: 'vpc-0056ae9ffdEXAMPLE',
      availabilityZone: 'us-west-2b',
      cidrBlock: '172.168.0.0/16',
      availableIpAddressCount: 65531,
      mapPublicIpOnLaunch: false,
    });
    expect(server.requests.map((r) => r.params.NextToken)).toEqual([undefined, 'eyJ2IjoiMiIsImMiOiJwYWdlLTIifQ==']);
  });

  it('reads DHCP option sets and their DNS servers', async () => {
    server.setRoutes({
      DescribeDhcpOptions: ec2Reply(
        'DescribeDhcpOptions',
        '<dhcpOptionsSet><item><dhcpOptionsId>dopt-7a8b9c2d</dhcpOptionsId><dhcpConfigurationSet><item><key>domain-name</key><valueSet><item><value>example.com</value></item></valueSet></item><item><key>domain-name-servers</key><valueSet><item><value>10.2.5.1</value></item><item><value>10.2.5.2</value></item></valueSet></item></dhcpConfigurationSet><tagSet/></item></dhcpOptionsSet>',
      ),
    });
    await expect(aws.ec2.dhcpOptionSets()).resolves.toEqual([
      { dhcpOptionsId: 'dopt-7a8b9c2d', domainNameServers: ['10.2.5.1', '10.2.5.2'] },
    ]);
  });

  it('reads the S3 prefix list with its CIDRs', async () => {
    server.setRoutes({
      DescribePrefixLists: ec2Reply(
        'DescribePrefixLists',
        '<prefixListSet><item><prefixListId>pl-63a5400a</prefixListId><prefixListName>com.amazonaws.us-east-1.s3</prefixListName><cidrSet><item>54.231.0.0/17</item><item>52.216.0.0/15</item></cidrSet></item></prefixListSet>',
      ),
    });
    await expect(aws.ec2.prefixList('com.amazonaws.us-east-1.s3')).resolves.toEqual({
      prefixListId: 'pl-63a5400a',
      prefixListName: 'com.amazonaws.us-east-1.s3',
      cidrs: ['54.231.0.0/17', '52.216.0.0/15'],
    });
  });
});

describe('Ec2Network and EcsTasks translate failures once', () => {
  it('names the IAM permission when EC2 answers UnauthorizedOperation', async () => {
    server.setRoutes({
      DescribeVpcEndpoints: ec2Error(
        'UnauthorizedOperation',
        'You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/doctor/fn is not authorized to perform: ec2:DescribeVpcEndpoints because no identity-based policy allows the ec2:DescribeVpcEndpoints action',
        403,
      ),
    });
    const error = await awsFailure(aws.ec2.endpointsOfVpc('vpc-1'));
    expect(error.kind).toBe('denied');
    expect(error.toUnavailable()).toMatchObject({
      call: 'DescribeVpcEndpoints',
      permission: 'ec2:DescribeVpcEndpoints',
    });
    // A permission error is not retried: retrying cannot grant it.
    expect(server.requests).toHaveLength(1);
  });

  it('retries RequestLimitExceeded and returns the answer that follows', async () => {
    const throttled = ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
    server.setRoutes({
      DescribeVpcAttribute: [
        throttled,
        throttled,
        recorded('ec2', 'DescribeVpcAttribute', 'aws-doc-enable-dns-support.xml'),
      ],
    });
    await expect(aws.ec2.vpcAttribute('vpc-1a2b3c4d', 'enableDnsSupport')).resolves.toBe(true);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up on persistent throttling after the configured attempts, as a throttled failure', async () => {
    server.setRoutes({ DescribeRouteTables: ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503) });
    const ports = awsPorts({ maxAttempts: 2 })('us-east-1');
    const error = await awsFailure(ports.ec2.routeTablesOfVpc('vpc-1'));
    expect(error.kind).toBe('throttled');
    expect(error.call).toBe('DescribeRouteTables');
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 500 from EC2 and reports the HTTP status when it persists', async () => {
    server.setRoutes({ DescribeSubnets: ec2Error('InternalError', 'An internal error has occurred', 500) });
    const error = await awsFailure(awsPorts({ maxAttempts: 2 })('us-east-1').ec2.subnetsOfVpc('vpc-1'));
    expect(error.kind).toBe('failed');
    expect(error.reason).toContain('InternalError');
    expect(server.requests).toHaveLength(2);
  });

  it('abandons a call when the caller aborts (the overall deadline)', async () => {
    server.setRoutes({
      DescribeSecurityGroups: { ...ec2Reply('DescribeSecurityGroups', '<securityGroupInfo/>'), delayMs: 5_000 },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await awsFailure(aws.ec2.securityGroupsOfVpc('vpc-1', { abortSignal: controller.signal }));
    expect(error.kind).toBe('timeout');
  });

  it('names ecs:DescribeServices when ECS answers AccessDeniedException', async () => {
    server.setRoutes({
      DescribeServices: ecsError('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/x is not authorized'),
    });
    const error = await awsFailure(aws.ecs.service('prod', 'web'));
    expect(error).toMatchObject({ kind: 'denied', permission: 'ecs:DescribeServices' });
  });

  it('reports a missing service with the reason ECS gives', async () => {
    server.setRoutes({
      DescribeServices: ecsReply({
        services: [],
        failures: [{ arn: 'arn:aws:ecs:us-east-1:1:service/prod/nope', reason: 'MISSING' }],
      }),
    });
    const error = await awsFailure(aws.ecs.service('prod', 'nope'));
    expect(error.kind).toBe('not-found');
    expect(error.reason).toBe('service nope not found in cluster prod (MISSING)');
  });
});

describe('EcsTasks', () => {
  it('reads the AWS documentation task definition: public images, essential containers', async () => {
    server.setRoutes({ DescribeTaskDefinition: recorded('ecs', 'DescribeTaskDefinition', 'aws-doc-hello-world.json') });
    const definition = await aws.ecs.taskDefinition('hello_world:10');
    expect(definition).toEqual({
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:012345678910:task-definition/hello_world:10',
      containers: [
        {
          name: 'wordpress',
          image: 'public.ecr.aws/docker/library/wordpress:latest',
          essential: true,
          secrets: [],
          environmentFiles: [],
        },
        {
          name: 'mysql',
          image: 'public.ecr.aws/docker/library/mysql:latest',
          essential: true,
          secrets: [],
          environmentFiles: [],
        },
      ],
      efsVolumes: [],
    });
    expect(server.requests[0]?.params).toEqual({ taskDefinition: 'hello_world:10' });
  });

  it('reads what a Fargate task needs from the network: secrets, registry credentials, awslogs, env files, EFS', async () => {
    server.setRoutes({
      DescribeTaskDefinition: ecsReply(fixture('aws/ecs/DescribeTaskDefinition/fargate-secrets-logs-efs.json')),
    });
    const definition = await aws.ecs.taskDefinition('arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:42');
    expect(definition).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      efsVolumes: [{ fileSystemId: 'fs-0123456789abcdef0', transitEncryption: true }],
    });
    expect(definition.containers).toEqual([
      {
        name: 'app',
        image: '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/web:1.4.2',
        essential: true,
        secrets: [
          'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/db-AbCdEf:password::',
          '/prod/web/api-key',
        ],
        logDriver: 'awslogs',
        environmentFiles: ['arn:aws:s3:::web-config/prod.env'],
      },
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
        essential: false,
        secrets: [],
        repositoryCredentials: 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:registry-XyZ123',
        environmentFiles: [],
      },
    ]);
  });

  it("reads a service's awsvpcConfiguration", async () => {
    server.setRoutes({
      DescribeServices: ecsReply({
        services: [
          {
            serviceArn: 'arn:aws:ecs:us-east-1:1:service/prod/web',
            serviceName: 'web',
            status: 'ACTIVE',
            taskDefinition: 'arn:aws:ecs:us-east-1:1:task-definition/web:7',
            platformVersion: 'LATEST',
            capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
            enableExecuteCommand: true,
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: ['subnet-a', 'subnet-b'],
                securityGroups: ['sg-1'],
                assignPublicIp: 'DISABLED',
              },
            },
          },
        ],
        failures: [],
      }),
    });
    await expect(aws.ecs.service('prod', 'web')).resolves.toEqual({
      serviceArn: 'arn:aws:ecs:us-east-1:1:service/prod/web',
      serviceName: 'web',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/web:7',
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroupIds: ['sg-1'],
      assignPublicIp: 'DISABLED',
      platformVersion: 'LATEST',
      enableExecuteCommand: true,
      capacityProviders: ['FARGATE_SPOT'],
    });
    expect(server.requests[0]?.params).toEqual({ cluster: 'prod', services: ['web'] });
  });
});

describe('Ec2Network finds EFS mount targets by their network interfaces', () => {
  const eni = (mountTarget: string, zone: string, status = 'in-use') =>
    `<item><networkInterfaceId>eni-${mountTarget.slice(5)}</networkInterfaceId><subnetId>subnet-${zone}</subnetId><vpcId>vpc-1</vpcId><availabilityZone>${zone}</availabilityZone><description>EFS mount target for fs-0123456789abcdef0 (${mountTarget})</description><ownerId>123456789012</ownerId><requesterId>641247547298</requesterId><requesterManaged>true</requesterManaged><status>${status}</status><macAddress>02:00:00:00:00:01</macAddress><privateIpAddress>10.0.1.10</privateIpAddress><sourceDestCheck>true</sourceDestCheck><groupSet><item><groupId>sg-efs</groupId><groupName>efs</groupName></item></groupSet><interfaceType>interface</interfaceType></item>`;

  it('maps each interface to a mount target, following nextToken, and asks by description', async () => {
    server.setRoutes({
      DescribeNetworkInterfaces: (request) =>
        request.params.NextToken
          ? ec2Reply(
              'DescribeNetworkInterfaces',
              `<networkInterfaceSet>${eni('fsmt-0b', 'us-east-1b', 'attaching')}</networkInterfaceSet>`,
            )
          : ec2Reply(
              'DescribeNetworkInterfaces',
              `<networkInterfaceSet>${eni('fsmt-0a', 'us-east-1a')}</networkInterfaceSet><nextToken>page-2</nextToken>`,
            ),
    });
    const targets = await aws.ec2.efsMountTargets('fs-0123456789abcdef0');
    expect(targets).toEqual([
      {
        mountTargetId: 'fsmt-0a',
        fileSystemId: 'fs-0123456789abcdef0',
        subnetId: 'subnet-us-east-1a',
        availabilityZone: 'us-east-1a',
        state: 'available',
        ipAddress: '10.0.1.10',
        securityGroupIds: ['sg-efs'],
      },
      // An interface not attached yet: the mount target is still being created.
      expect.objectContaining({ mountTargetId: 'fsmt-0b', state: 'interface attaching' }),
    ]);
    const request = server.requests[0];
    expect(request && filterValue(request, 'description')).toBe('EFS mount target for fs-0123456789abcdef0 (*)');
  });
});

describe('where a task in bridge or host mode sits: its container instance', () => {
  it("reads the EC2 instance of a container instance, then the instance's subnet and primary interface's groups", async () => {
    server.setRoutes({
      DescribeContainerInstances: recorded('ecs', 'DescribeContainerInstances', 'ec2-instance.json'),
      DescribeInstances: recorded('ec2', 'DescribeInstances', 'container-instance-two-enis.xml'),
    });
    const arn = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/f2756532-8f13-4d53-87c9-aed50dc94cd7';
    // The agent records the instance's subnet and VPC as attributes.
    await expect(aws.ecs.containerInstance('prod', arn)).resolves.toEqual({
      containerInstanceArn: arn,
      ec2InstanceId: 'i-1234567890abcdef0',
      subnetId: 'subnet-0bb1c79de3EXAMPLE',
      vpcId: 'vpc-0dc9a2c8c6EXAMPLE',
    });
    expect(server.requests[0]?.params).toEqual({ cluster: 'prod', containerInstances: [arn] });

    // The secondary interface (device 1, another subnet and group) is not where the agent's traffic leaves.
    await expect(aws.ec2.instance('i-1234567890abcdef0')).resolves.toEqual({
      instanceId: 'i-1234567890abcdef0',
      subnetId: 'subnet-0bb1c79de3EXAMPLE',
      vpcId: 'vpc-0dc9a2c8c6EXAMPLE',
      securityGroupIds: ['sg-0ecs1instance0EXAMPLE'],
      privateIpAddress: '10.0.1.114',
    });
    expect(server.requests[1]?.params).toMatchObject({
      Action: 'DescribeInstances',
      'InstanceId.1': 'i-1234567890abcdef0',
    });
  });

  it('says a terminated instance no longer has a subnet', async () => {
    server.setRoutes({ DescribeInstances: recorded('ec2', 'DescribeInstances', 'terminated.xml') });
    const error = await awsFailure(aws.ec2.instance('i-1234567890abcdef0'));
    expect(error).toMatchObject({
      call: 'DescribeInstances',
      kind: 'not-found',
      reason: 'i-1234567890abcdef0 is terminated and no longer has a subnet',
    });
  });

  it('names the instance EC2 does not know', async () => {
    server.setRoutes({
      DescribeInstances: ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-1234567890abcdef0' does not exist"),
    });
    const error = await awsFailure(aws.ec2.instance('i-1234567890abcdef0'));
    expect(error).toMatchObject({ kind: 'not-found' });
    expect(error.reason).toContain("The instance ID 'i-1234567890abcdef0' does not exist");
  });

  it('refuses an ECS Anywhere instance (no VPC subnet) and reports a missing one with the reason ECS gives', async () => {
    server.setRoutes({
      DescribeContainerInstances: recorded('ecs', 'DescribeContainerInstances', 'external-instance.json'),
    });
    const external = await awsFailure(aws.ecs.containerInstance('onprem', '7b3c1e2f9a8d4c6e8f0a1b2c3d4e5f60'));
    expect(external.reason).toBe(
      'container instance 7b3c1e2f9a8d4c6e8f0a1b2c3d4e5f60 is not an EC2 instance (an external instance has no VPC subnet)',
    );

    server.setRoutes({
      DescribeContainerInstances: ecsReply({ containerInstances: [], failures: [{ arn: 'ci-1', reason: 'MISSING' }] }),
    });
    const missing = await awsFailure(aws.ecs.containerInstance('prod', 'ci-1'));
    expect(missing).toMatchObject({
      kind: 'not-found',
      reason: 'container instance ci-1 not found in cluster prod (MISSING)',
    });
  });

  it('names ecs:DescribeContainerInstances and ec2:DescribeInstances when they are denied', async () => {
    server.setRoutes({
      DescribeContainerInstances: ecsError('AccessDeniedException', 'User is not authorized'),
      DescribeInstances: ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
    });
    expect((await awsFailure(aws.ecs.containerInstance('prod', 'ci-1'))).permission).toBe(
      'ecs:DescribeContainerInstances',
    );
    expect((await awsFailure(aws.ec2.instance('i-1'))).permission).toBe('ec2:DescribeInstances');
  });
});
