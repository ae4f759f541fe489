import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Interface endpoints every private ECS VPC gets, by their short name (`com.amazonaws.<region>.<name>`). */
export const BASE_INTERFACE_ENDPOINTS = {
  'ecr.api': InterfaceVpcEndpointAwsService.ECR,
  'ecr.dkr': InterfaceVpcEndpointAwsService.ECR_DOCKER,
  logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  secretsmanager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ssm: InterfaceVpcEndpointAwsService.SSM,
  ssmmessages: InterfaceVpcEndpointAwsService.SSM_MESSAGES,
  kms: InterfaceVpcEndpointAwsService.KMS,
} as const;

/**
 * Added when EC2 container instances run in the VPC: the agent registers, polls and sends
 * telemetry through these (ECS guide, vpc-endpoints.html; seed 003). Fargate needs none.
 */
export const EC2_CAPACITY_INTERFACE_ENDPOINTS = {
  ecs: InterfaceVpcEndpointAwsService.ECS,
  'ecs-agent': InterfaceVpcEndpointAwsService.ECS_AGENT,
  'ecs-telemetry': InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
} as const;

export type InterfaceEndpointName =
  | keyof typeof BASE_INTERFACE_ENDPOINTS
  | keyof typeof EC2_CAPACITY_INTERFACE_ENDPOINTS;

/** Properties of {@link ReferencePrivateVpc}. */
export interface ReferencePrivateVpcProps {
  /**
   * The VPC's IPv4 range.
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Availability Zones. An environment-agnostic stack (no account and Region) has two.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Put the interface endpoints in their own small subnets, one per zone (seed 004), instead
   * of the task subnets. Tasks in any subnet of the zone reach them over the local route.
   * @default false
   */
  readonly endpointSubnets?: boolean;
  /**
   * Also create the `ecs`, `ecs-agent` and `ecs-telemetry` endpoints that EC2 container
   * instances need.
   * @default false
   */
  readonly ec2Capacity?: boolean;
  /**
   * Who may reach the interface endpoints on 443: every address in the VPC (`vpc-cidr`, as
   * the ECS and ECR guides and seed 001 do) or only the task security group
   * (`task-security-group`, seed 002).
   * @default 'vpc-cidr'
   */
  readonly endpointIngress?: 'vpc-cidr' | 'task-security-group';
  /**
   * Further S3 object ARNs the s3 gateway endpoint lets tasks read (environment files, for
   * one). The ECR layer bucket of the Region is always allowed; nothing else is.
   * @default none
   */
  readonly s3ObjectArns?: readonly string[];
  /**
   * Which traffic the VPC flow log records.
   * @default FlowLogTrafficType.REJECT (what was blocked: the flows a diagnosis needs)
   */
  readonly flowLogTraffic?: FlowLogTrafficType;
  /**
   * How long flow logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: RetentionDays;
}

/**
 * A VPC for ECS tasks with no internet path at all: isolated subnets in two zones, no NAT
 * gateway, no internet gateway, and every endpoint a Fargate (or, optionally, EC2) task
 * needs to pull from ECR, log with awslogs, read Secrets Manager and Parameter Store
 * secrets and use ECS Exec, with private DNS on. It passes every ecs-stop-doctor check.
 */
export class ReferencePrivateVpc extends Construct {
  readonly vpc: Vpc;
  /** The VPC's IPv4 range, as a literal (security group rules use it, so checks can read it). */
  readonly cidr: string;
  /** Attach to tasks: HTTPS out to the endpoints and, through the s3 gateway, to S3. */
  readonly taskSecurityGroup: SecurityGroup;
  /** Attached to every interface endpoint. */
  readonly endpointSecurityGroup: SecurityGroup;
  /** The subnets tasks run in. */
  readonly taskSubnets: SubnetSelection;
  readonly s3Endpoint: GatewayVpcEndpoint;
  /** Interface endpoints by short name. */
  readonly interfaceEndpoints: Readonly<Partial<Record<InterfaceEndpointName, InterfaceVpcEndpoint>>>;

  constructor(scope: Construct, id: string, props: ReferencePrivateVpcProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 2)
      throw new Error(
        `maxAzs must be 2 or more: one zone makes every endpoint a single point of failure; got ${maxAzs}`,
      );

    const cidr = props.cidr ?? '10.0.0.0/16';
    this.cidr = cidr;
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(cidr),
      maxAzs,
      natGateways: 0,
      // Both are needed for private DNS names of interface endpoints to resolve.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      subnetConfiguration: [
        { name: 'Tasks', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 },
        ...(props.endpointSubnets
          ? [{ name: 'Endpoints', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 27 }]
          : []),
      ],
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'FlowLogGroup', {
          retention: props.flowLogRetention ?? RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
      trafficType: props.flowLogTraffic ?? FlowLogTrafficType.REJECT,
    });
    this.taskSubnets = { subnetGroupName: 'Tasks' };

    this.taskSecurityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'ECS tasks: HTTPS out only',
      allowAllOutbound: false,
    });
    // Any address: the s3 gateway is reached at S3's public addresses (its prefix list, whose
    // id an environment-agnostic template cannot name). With no internet gateway and no NAT,
    // 443 anywhere still reaches only the endpoints and S3.
    this.taskSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to VPC endpoints and the s3 gateway');

    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS in from the tasks',
      allowAllOutbound: false,
    });
    if ((props.endpointIngress ?? 'vpc-cidr') === 'vpc-cidr')
      this.endpointSecurityGroup.addIngressRule(
        Peer.ipv4(cidr),
        Port.tcp(443),
        'HTTPS from the VPC (ECS and ECR endpoint guides)',
      );
    else this.endpointSecurityGroup.addIngressRule(this.taskSecurityGroup, Port.tcp(443), 'HTTPS from the ECS tasks');

    // On every isolated subnet's route table. Its policy lets tasks read the Region's ECR
    // layer bucket (ECR guide: layers live in prod-<region>-starport-layer-bucket) and
    // nothing else unless asked.
    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3', {
      service: GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: SubnetType.PRIVATE_ISOLATED }],
    });
    this.s3Endpoint.addToPolicy(
      new PolicyStatement({
        sid: 'EcrImageLayers',
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [`arn:${Aws.PARTITION}:s3:::prod-${Aws.REGION}-starport-layer-bucket/*`],
      }),
    );
    if (props.s3ObjectArns?.length)
      this.s3Endpoint.addToPolicy(
        new PolicyStatement({
          sid: 'TaskObjects',
          principals: [new AnyPrincipal()],
          actions: ['s3:GetObject', 's3:GetBucketLocation'],
          resources: [...props.s3ObjectArns],
        }),
      );

    const services = {
      ...BASE_INTERFACE_ENDPOINTS,
      ...(props.ec2Capacity ? EC2_CAPACITY_INTERFACE_ENDPOINTS : {}),
    } as Record<InterfaceEndpointName, InterfaceVpcEndpointAwsService>;
    const endpoints: Partial<Record<InterfaceEndpointName, InterfaceVpcEndpoint>> = {};
    for (const [name, service] of Object.entries(services) as [InterfaceEndpointName, InterfaceVpcEndpointAwsService][])
      endpoints[name] = this.vpc.addInterfaceEndpoint(endpointId(name), {
        service,
        privateDnsEnabled: true,
        subnets: { subnetGroupName: props.endpointSubnets ? 'Endpoints' : 'Tasks' },
        securityGroups: [this.endpointSecurityGroup],
        // The shared security group above decides who may connect.
        open: false,
      });
    this.interfaceEndpoints = endpoints;
  }
}

/** `ecr.api` → `EcrApi`: stable construct ids. */
function endpointId(name: string): string {
  return name
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
