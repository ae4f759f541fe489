import * as z from 'zod/mini';
import '../zod-messages';
import { formatPath, InputError } from '../errors';
import type { NetworkFacts } from './facts';

const str = () => z.string();
const strs = () => z.array(z.string());
const opt = <T extends z.ZodMiniType>(schema: T) => z.optional(schema);

const subnet = z.object({
  subnetId: str(),
  vpcId: str(),
  availabilityZone: str(),
  cidrBlock: str(),
  availableIpAddressCount: z.number(),
  mapPublicIpOnLaunch: z.boolean(),
});
const sgRule = z.object({
  protocol: str(),
  fromPort: opt(z.number()),
  toPort: opt(z.number()),
  cidrs: strs(),
  ipv6Cidrs: strs(),
  prefixListIds: strs(),
  groupIds: strs(),
});

/** Schema of a facts snapshot (`doctor snapshot` output, `replay --facts` input), version 1. */
export const networkFactsSchema = z.object({
  version: z.literal(1),
  region: str(),
  capturedAt: opt(str()),
  vpc: z.nullable(
    z.object({
      vpcId: str(),
      cidrBlocks: strs(),
      enableDnsSupport: z.nullable(z.boolean()),
      enableDnsHostnames: z.nullable(z.boolean()),
      domainNameServers: z.nullable(strs()),
      dhcpOptionsId: opt(str()),
    }),
  ),
  subnet: z.nullable(subnet),
  endpointSubnets: z.array(subnet),
  routeTable: z.nullable(
    z.object({
      routeTableId: str(),
      main: z.boolean(),
      routes: z.array(
        z.object({
          destinationCidrBlock: opt(str()),
          destinationPrefixListId: opt(str()),
          target: str(),
          state: str(),
        }),
      ),
    }),
  ),
  endpoints: z.nullable(
    z.array(
      z.object({
        vpcEndpointId: str(),
        serviceName: str(),
        type: str(),
        state: str(),
        privateDnsEnabled: z.boolean(),
        subnetIds: strs(),
        securityGroupIds: strs(),
        routeTableIds: strs(),
        policyDocument: z.nullable(str()),
      }),
    ),
  ),
  securityGroups: z.nullable(
    z.array(
      z.object({
        groupId: str(),
        groupName: opt(str()),
        vpcId: opt(str()),
        ingress: z.array(sgRule),
        egress: z.array(sgRule),
      }),
    ),
  ),
  networkAcl: z.nullable(
    z.object({
      networkAclId: str(),
      entries: z.array(
        z.object({
          ruleNumber: z.number(),
          egress: z.boolean(),
          protocol: str(),
          action: z.enum(['allow', 'deny']),
          cidrBlock: opt(str()),
          ipv6CidrBlock: opt(str()),
          portRange: opt(z.object({ from: z.number(), to: z.number() })),
        }),
      ),
    }),
  ),
  prefixLists: z.array(z.object({ prefixListId: str(), prefixListName: str(), cidrs: strs() })),
  task: z.object({
    subnetId: z.nullable(str()),
    securityGroupIds: z.nullable(strs()),
    assignPublicIp: z.nullable(z.enum(['ENABLED', 'DISABLED'])),
    privateIpv4Address: opt(str()),
    containerInstance: opt(z.object({ ec2InstanceId: z.nullable(str()), containerInstanceArn: opt(str()) })),
  }),
  taskDefinition: z.nullable(
    z.object({
      taskDefinitionArn: opt(str()),
      networkMode: opt(str()),
      requiresCompatibilities: opt(strs()),
      executionRoleArn: opt(str()),
      containers: z.array(
        z.object({
          name: str(),
          image: str(),
          essential: z.boolean(),
          secrets: strs(),
          repositoryCredentials: opt(str()),
          logDriver: opt(str()),
          environmentFiles: strs(),
        }),
      ),
      efsVolumes: z.array(z.object({ fileSystemId: str(), transitEncryption: opt(z.boolean()) })),
    }),
  ),
  efsMountTargets: opt(
    z.nullable(
      z.array(
        z.object({
          mountTargetId: str(),
          fileSystemId: str(),
          subnetId: str(),
          availabilityZone: str(),
          state: str(),
          ipAddress: opt(str()),
          securityGroupIds: z.nullable(strs()),
        }),
      ),
    ),
  ),
  unavailable: z.array(z.object({ call: str(), reason: str(), permission: opt(str()) })),
});

/**
 * Validates a facts snapshot.
 * @throws InputError naming the file and the first bad field.
 */
export function parseNetworkFacts(value: unknown, file?: string): NetworkFacts {
  const result = networkFactsSchema.safeParse(value);
  if (result.success) return result.data as NetworkFacts;
  const issue = result.error.issues[0];
  throw new InputError(issue?.message ?? 'invalid facts', formatPath(issue?.path ?? []) || undefined, file, {
    cause: result.error,
  });
}
