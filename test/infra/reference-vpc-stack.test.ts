import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { scrubbed, synthesize } from '../helpers/cdk';

const vpc = synthesize().referenceVpc;
const withSample = synthesize({ sampleService: true }).referenceVpc;

/** `com.amazonaws.<region>.<name>` as CDK writes it for an environment-agnostic stack. */
function serviceName(name: string) {
  return { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${name}`]] };
}

function interfaceEndpointNames(template: typeof vpc): string[] {
  return Object.values(
    template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
  )
    .map((r) => JSON.stringify(r.Properties.ServiceName).match(/\.([a-z.-]+)"\]\]\}$/)?.[1] ?? '?')
    .sort();
}

describe('reference VPC: no way to the internet', () => {
  it('has no NAT gateway, no internet gateway, no egress-only gateway and no public subnet', () => {
    for (const type of [
      'AWS::EC2::NatGateway',
      'AWS::EC2::InternetGateway',
      'AWS::EC2::VPCGatewayAttachment',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::EIP',
    ])
      vpc.resourceCountIs(type, 0);
    for (const subnet of Object.values(vpc.findResources('AWS::EC2::Subnet')))
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
  });

  it('routes nothing but the VPC itself (and S3 through its gateway endpoint)', () => {
    vpc.resourceCountIs('AWS::EC2::Route', 0);
  });

  it('has isolated task subnets in two Availability Zones', () => {
    const subnets = Object.values(vpc.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(2);
    expect(subnets.map((s) => s.Properties.AvailabilityZone)).toEqual([
      { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
    ]);
    expect(subnets.map((s) => s.Properties.CidrBlock)).toEqual(['10.0.0.0/20', '10.0.16.0/20']);
  });

  it('adds a small endpoint subnet per zone when asked (seed 004)', () => {
    const template = synthesize({ endpointSubnets: 'true' }).referenceVpc;
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    const endpoint = Object.values(
      template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
    )[0];
    expect(JSON.stringify(endpoint?.Properties.SubnetIds)).toMatch(/EndpointsSubnet1.*EndpointsSubnet2/);
  });

  it('turns on DNS support and DNS hostnames, which private DNS needs', () => {
    vpc.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.0.0.0/16',
      EnableDnsSupport: true,
      EnableDnsHostnames: true,
    });
  });

  it('logs rejected flows to CloudWatch Logs for a month', () => {
    vpc.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
    vpc.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    synthesize({ flowLogTraffic: 'ALL' }).referenceVpc.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
    });
  });
});

describe('reference VPC: endpoints', () => {
  it('has the interface endpoints a Fargate task needs, each with private DNS, in both zones', () => {
    expect(interfaceEndpointNames(vpc)).toEqual([
      'ecr.api',
      'ecr.dkr',
      'kms',
      'logs',
      'secretsmanager',
      'ssm',
      'ssmmessages',
    ]);
    for (const endpoint of Object.values(
      vpc.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
    )) {
      expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
      expect(endpoint.Properties.SubnetIds).toHaveLength(2);
      expect(endpoint.Properties.SecurityGroupIds).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^NetworkEndpointSecurityGroup/), 'GroupId'] },
      ]);
    }
  });

  it('adds ecs, ecs-agent and ecs-telemetry for EC2 capacity', () => {
    expect(interfaceEndpointNames(synthesize({ ec2Capacity: true }).referenceVpc)).toEqual([
      'ecr.api',
      'ecr.dkr',
      'ecs',
      'ecs-agent',
      'ecs-telemetry',
      'kms',
      'logs',
      'secretsmanager',
      'ssm',
      'ssmmessages',
    ]);
  });

  it('puts the s3 gateway endpoint on every subnet route table, allowing only the ECR layer bucket', () => {
    const tables = Object.keys(vpc.findResources('AWS::EC2::RouteTable'));
    vpc.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: serviceName('s3'),
      RouteTableIds: tables.map((id) => ({ Ref: id })),
      PolicyDocument: {
        Statement: [
          {
            Sid: 'EcrImageLayers',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':s3:::prod-', { Ref: 'AWS::Region' }, '-starport-layer-bucket/*'],
              ],
            },
          },
        ],
      },
    });
    expect(tables).toHaveLength(2);
  });

  it('accepts HTTPS on the endpoints from the VPC CIDR by default', () => {
    vpc.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^VPC interface endpoints'),
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '10.0.0.0/16', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ],
    });
  });

  it('accepts HTTPS only from the task security group when asked (seed 002)', () => {
    const template = synthesize({ endpointIngress: 'task-security-group' }).referenceVpc;
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkEndpointSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkTaskSecurityGroup'), 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^VPC interface endpoints'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('lets tasks out on 443 only', () => {
    vpc.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'ECS tasks: HTTPS out only',
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    });
  });
});

describe('reference VPC: the sample service', () => {
  it('is absent unless asked for', () => {
    vpc.resourceCountIs('AWS::ECS::Service', 0);
    vpc.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
  });

  it('runs on Fargate (latest platform) in the task subnets with ECS Exec, no public IP, behind the target group', () => {
    withSample.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      PlatformVersion: 'LATEST',
      EnableExecuteCommand: true,
      DesiredCount: 2,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          Subnets: [
            { Ref: Match.stringLikeRegexp('^NetworkVpcTasksSubnet1') },
            { Ref: Match.stringLikeRegexp('^NetworkVpcTasksSubnet2') },
          ],
          SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkTaskSecurityGroup'), 'GroupId'] }],
        },
      },
      LoadBalancers: [Match.objectLike({ ContainerName: 'web', ContainerPort: 80 })],
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
  });

  it('pulls an image from this account’s ECR, logs with awslogs, and injects a secret and a parameter', () => {
    withSample.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Image: {
            'Fn::Sub': Match.stringLikeRegexp('^\\$\\{AWS::AccountId\\}\\.dkr\\.ecr\\.\\$\\{AWS::Region\\}\\.'),
          },
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Secrets: [
            { Name: 'SAMPLE_SECRET', ValueFrom: { Ref: Match.stringLikeRegexp('^SampleSecret') } },
            Match.objectLike({ Name: 'SAMPLE_PARAMETER' }),
          ],
        }),
      ],
    });
  });

  it('sits behind an internal load balancer reachable from the VPC only', () => {
    withSample.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    withSample.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Sample service load balancer'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 80, ToPort: 80 })],
    });
    withSample.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'ip', Port: 80 });
  });
});

describe('reference VPC: snapshots', () => {
  it('matches the reviewed template', () => {
    expect(scrubbed(vpc)).toMatchSnapshot();
  });

  it('matches the reviewed template with the sample service (asset hashes scrubbed)', () => {
    expect(scrubbed(withSample)).toMatchSnapshot();
  });
});
