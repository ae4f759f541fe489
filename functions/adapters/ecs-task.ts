import {
  type ContainerDefinition,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { ContainerRequirementFacts, TaskDefinitionFacts } from '../core/network/facts';
import { AwsCallError, toAwsCallError } from './aws-call-error';
import type { CallOptions } from './ec2-network';

/** What a service tells about how its tasks are placed on the network and what they run. */
export interface ServiceNetworkConfig {
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly taskDefinitionArn?: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: 'ENABLED' | 'DISABLED' | null;
  /** `FARGATE`, `EC2`, `EXTERNAL`; absent when the service uses a capacity provider strategy. */
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly enableExecuteCommand: boolean;
  /** Capacity providers of the service's strategy (`FARGATE`, `FARGATE_SPOT`, or an ASG provider). */
  readonly capacityProviders: readonly string[];
}

/** A container instance of a cluster and the EC2 instance behind it. */
export interface ContainerInstanceRef {
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
  /**
   * The instance's subnet and VPC, from the `ecs.subnet-id` and `ecs.vpc-id` attributes the
   * agent records at registration; absent when an old agent did not record them.
   */
  readonly subnetId?: string;
  readonly vpcId?: string;
}

/** The ECS Describe calls the network check makes. */
export interface EcsTaskPort {
  taskDefinition(taskDefinition: string, options?: CallOptions): Promise<TaskDefinitionFacts>;
  service(cluster: string, service: string, options?: CallOptions): Promise<ServiceNetworkConfig>;
  containerInstance(cluster: string, containerInstance: string, options?: CallOptions): Promise<ContainerInstanceRef>;
}

/** Reads task definitions and services with the ECS API, returning the product's own types. */
export class EcsTasks implements EcsTaskPort {
  constructor(private readonly client: ECSClient) {}

  async taskDefinition(taskDefinition: string, options: CallOptions = {}): Promise<TaskDefinitionFacts> {
    const output = await this.call('DescribeTaskDefinition', () =>
      this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: options.abortSignal }),
    );
    if (!output.taskDefinition)
      throw new AwsCallError('DescribeTaskDefinition', 'not-found', `${taskDefinition} was not in the answer`);
    return toTaskDefinitionFacts(output.taskDefinition);
  }

  async service(cluster: string, service: string, options: CallOptions = {}): Promise<ServiceNetworkConfig> {
    const output = await this.call('DescribeServices', () =>
      this.client.send(new DescribeServicesCommand({ cluster, services: [service] }), {
        abortSignal: options.abortSignal,
      }),
    );
    const found = output.services?.find((s) => s.status !== 'INACTIVE') ?? output.services?.[0];
    if (!found?.serviceArn) {
      const failure = output.failures?.[0];
      throw new AwsCallError(
        'DescribeServices',
        'not-found',
        `service ${service} not found in cluster ${cluster}${failure?.reason ? ` (${failure.reason})` : ''}`,
      );
    }
    const awsvpc = found.networkConfiguration?.awsvpcConfiguration;
    return {
      serviceArn: found.serviceArn,
      serviceName: found.serviceName ?? service,
      ...(found.taskDefinition ? { taskDefinitionArn: found.taskDefinition } : {}),
      subnetIds: awsvpc?.subnets ?? [],
      securityGroupIds: awsvpc?.securityGroups ?? [],
      assignPublicIp:
        awsvpc?.assignPublicIp === 'ENABLED' ? 'ENABLED' : awsvpc?.assignPublicIp === 'DISABLED' ? 'DISABLED' : null,
      ...(found.launchType ? { launchType: found.launchType } : {}),
      ...(found.platformVersion ? { platformVersion: found.platformVersion } : {}),
      enableExecuteCommand: found.enableExecuteCommand === true,
      capacityProviders: (found.capacityProviderStrategy ?? []).flatMap((s) =>
        s.capacityProvider ? [s.capacityProvider] : [],
      ),
    };
  }

  async containerInstance(
    cluster: string,
    containerInstance: string,
    options: CallOptions = {},
  ): Promise<ContainerInstanceRef> {
    const output = await this.call('DescribeContainerInstances', () =>
      this.client.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [containerInstance] }), {
        abortSignal: options.abortSignal,
      }),
    );
    const found = output.containerInstances?.[0];
    // ECS Anywhere puts the managed instance id (`mi-…`) there: such a host has no subnet.
    if (!found?.ec2InstanceId?.startsWith('i-')) {
      const failure = output.failures?.[0];
      throw new AwsCallError(
        'DescribeContainerInstances',
        'not-found',
        found
          ? `container instance ${containerInstance} is not an EC2 instance (an external instance has no VPC subnet)`
          : `container instance ${containerInstance} not found in cluster ${cluster}${failure?.reason ? ` (${failure.reason})` : ''}`,
      );
    }
    const attribute = (name: string) => found.attributes?.find((a) => a.name === name)?.value ?? undefined;
    const subnetId = attribute('ecs.subnet-id');
    const vpcId = attribute('ecs.vpc-id');
    return {
      containerInstanceArn: found.containerInstanceArn ?? containerInstance,
      ec2InstanceId: found.ec2InstanceId,
      ...(subnetId ? { subnetId } : {}),
      ...(vpcId ? { vpcId } : {}),
    };
  }

  private async call<T>(call: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toAwsCallError(error, 'ecs', call);
    }
  }
}

/** The parts of a task definition that decide what the task needs from its network. */
export function toTaskDefinitionFacts(definition: TaskDefinition): TaskDefinitionFacts {
  return {
    ...(definition.taskDefinitionArn ? { taskDefinitionArn: definition.taskDefinitionArn } : {}),
    ...(definition.networkMode ? { networkMode: definition.networkMode } : {}),
    ...(definition.requiresCompatibilities ? { requiresCompatibilities: definition.requiresCompatibilities } : {}),
    ...(definition.executionRoleArn ? { executionRoleArn: definition.executionRoleArn } : {}),
    containers: (definition.containerDefinitions ?? []).map(toContainer),
    efsVolumes: (definition.volumes ?? []).flatMap((volume) =>
      volume.efsVolumeConfiguration?.fileSystemId
        ? [
            {
              fileSystemId: volume.efsVolumeConfiguration.fileSystemId,
              transitEncryption: volume.efsVolumeConfiguration.transitEncryption === 'ENABLED',
            },
          ]
        : [],
    ),
  };
}

function toContainer(container: ContainerDefinition): ContainerRequirementFacts {
  return {
    name: container.name ?? '',
    image: container.image ?? '',
    // ECS treats a container without `essential` as essential.
    essential: container.essential !== false,
    secrets: (container.secrets ?? []).flatMap((s) => (s.valueFrom ? [s.valueFrom] : [])),
    ...(container.repositoryCredentials?.credentialsParameter
      ? { repositoryCredentials: container.repositoryCredentials.credentialsParameter }
      : {}),
    ...(container.logConfiguration?.logDriver ? { logDriver: container.logConfiguration.logDriver } : {}),
    environmentFiles: (container.environmentFiles ?? []).flatMap((f) =>
      f.value && (f.type ?? 's3') === 's3' ? [f.value] : [],
    ),
  };
}
