import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ReferencePrivateVpc, type ReferencePrivateVpcProps } from '../constructs/reference-private-vpc';
import { SampleService } from '../constructs/sample-service';

/** Properties of {@link ReferenceVpcStack}. */
export interface ReferenceVpcStackProps extends StackProps {
  /** How the VPC is built. @default the construct's defaults */
  readonly network?: ReferencePrivateVpcProps;
  /**
   * Also run a sample Fargate service (an image built from infra/sample-app, pushed to ECR
   * by `cdk deploy`: Docker needed) behind an internal load balancer.
   * @default false
   */
  readonly sampleService?: boolean;
}

/** The reference private VPC (and optionally a service that proves it works). */
export class ReferenceVpcStack extends Stack {
  readonly network: ReferencePrivateVpc;
  readonly sample?: SampleService;

  constructor(scope: Construct, id: string, props: ReferenceVpcStackProps = {}) {
    super(scope, id, {
      description:
        'ECS stop doctor reference VPC: private subnets with no NAT or internet gateway, and every endpoint ECS needs',
      ...props,
    });
    this.network = new ReferencePrivateVpc(this, 'Network', props.network);
    if (props.sampleService) this.sample = new SampleService(this, 'Sample', { network: this.network });

    new CfnOutput(this, 'VpcId', { value: this.network.vpc.vpcId });
    new CfnOutput(this, 'TaskSubnetIds', {
      description: 'Run tasks here (awsvpcConfiguration subnets)',
      value: this.network.vpc.selectSubnets(this.network.taskSubnets).subnetIds.join(','),
    });
    new CfnOutput(this, 'TaskSecurityGroupId', {
      description: 'Attach to tasks (awsvpcConfiguration securityGroups)',
      value: this.network.taskSecurityGroup.securityGroupId,
    });
    if (this.sample)
      new CfnOutput(this, 'SampleCheckCommand', {
        description: 'Check the sample service with the CLI, before or after it runs',
        value: `npm run --silent doctor -- check --cluster ${this.sample.cluster.clusterName} --service ${this.sample.service.serviceName} --region ${this.region}`,
      });
  }
}
