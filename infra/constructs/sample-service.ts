import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Secret as EcsSecret,
  FargatePlatformVersion,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { ReferencePrivateVpc } from './reference-private-vpc';
import { acknowledge } from './stopped-task-doctor';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '../sample-app');

/** Properties of {@link SampleService}. */
export interface SampleServiceProps {
  /** The VPC to run in. */
  readonly network: ReferencePrivateVpc;
  /**
   * Tasks to run; one per zone shows both zones' endpoints work.
   * @default 2
   */
  readonly desiredCount?: number;
}

/**
 * A Fargate service that exercises everything the private VPC must provide (seeds 001/002):
 * an image from ECR, the awslogs driver, a Secrets Manager secret and a Parameter Store
 * parameter injected at start, and ECS Exec, behind an internal Application Load Balancer.
 * Healthy targets prove the VPC works; when it does not, the checker says why.
 */
export class SampleService extends Construct {
  readonly cluster: Cluster;
  readonly service: FargateService;
  readonly loadBalancer: ApplicationLoadBalancer;

  constructor(scope: Construct, id: string, props: SampleServiceProps) {
    super(scope, id);
    const { network } = props;
    const vpc = network.vpc;

    this.cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });
    const secret = new Secret(this, 'Secret', {
      description: 'ECS stop doctor sample service: a secret injected at task start',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const parameter = new StringParameter(this, 'Parameter', {
      description: 'ECS stop doctor sample service: a parameter injected at task start',
      stringValue: 'hello from Parameter Store',
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: CpuArchitecture.ARM64, operatingSystemFamily: OperatingSystemFamily.LINUX },
    });
    taskDefinition.addContainer('web', {
      // Built for the same architecture as the task: a mismatch stops it with `exec format error`.
      image: ContainerImage.fromAsset(APP_DIR, { platform: Platform.LINUX_ARM64 }),
      logging: LogDrivers.awsLogs({ streamPrefix: 'web', logGroup }),
      secrets: {
        SAMPLE_SECRET: EcsSecret.fromSecretsManager(secret),
        SAMPLE_PARAMETER: EcsSecret.fromSsmParameter(parameter),
      },
      portMappings: [{ containerPort: 80 }],
      healthCheck: {
        command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/ || exit 1'],
        interval: Duration.seconds(30),
      },
    });

    this.service = new FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      platformVersion: FargatePlatformVersion.LATEST,
      vpcSubnets: network.taskSubnets,
      securityGroups: [network.taskSecurityGroup],
      assignPublicIp: false,
      enableExecuteCommand: true,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
    });

    // Internal: the VPC has no internet gateway. Reach it from a peered network, a VPN, or
    // with ECS Exec (`curl` from inside a task).
    const albSecurityGroup = new SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'Sample service load balancer: HTTP in from the VPC',
      allowAllOutbound: false,
    });
    albSecurityGroup.addIngressRule(Peer.ipv4(network.cidr), Port.tcp(80), 'HTTP from the VPC');
    this.loadBalancer = new ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: false,
      vpcSubnets: network.taskSubnets,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    network.taskSecurityGroup.addIngressRule(albSecurityGroup, Port.tcp(80), 'HTTP from the load balancer');
    albSecurityGroup.addEgressRule(network.taskSecurityGroup, Port.tcp(80), 'HTTP to the tasks');
    this.loadBalancer
      .addListener('Http', { port: 80, protocol: ApplicationProtocol.HTTP, open: false })
      .addTargets('Web', {
        port: 80,
        protocol: ApplicationProtocol.HTTP,
        targets: [this.service],
        healthCheck: { path: '/', healthyHttpCodes: '200' },
        deregistrationDelay: Duration.seconds(10),
      });

    acknowledge(this.loadBalancer, {
      'AwsSolutions-ELB2':
        'Sample service: access logs would add an S3 bucket to a demo; turn them on for production load balancers',
    });
    acknowledge(taskDefinition.taskRole.node.tryFindChild('DefaultPolicy') ?? taskDefinition.taskRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ECS Exec: ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel support no resource-level permissions',
    });
    const executionRole = taskDefinition.obtainExecutionRole();
    acknowledge(executionRole.node.tryFindChild('DefaultPolicy') ?? executionRole, {
      'AwsSolutions-IAM5[Resource::*]': 'ecr:GetAuthorizationToken supports no resource-level permissions',
    });
    acknowledge(secret, {
      'AwsSolutions-SMG4': 'Sample service: the secret is a placeholder value with nothing to rotate',
    });
  }
}
