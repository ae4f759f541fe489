import { writeFileSync } from 'node:fs';
import type { AwsCallError } from '../adapters/aws-call-error';
import { awsPorts, defaultRegion } from '../adapters/aws-clients';
import type { ServiceNetworkConfig } from '../adapters/ecs-task';
import { type FactsTarget, factsTargetOf, NetworkFactsReader } from '../adapters/network-facts-reader';
import { DoctorError } from '../core/errors';
import type { NetworkFacts } from '../core/network/facts';
import { checkPlannedTask } from '../core/network/preflight';
import type { StoppedTask } from '../core/stopped-task';
import { type CliIo, EXIT } from './io';
import type { FactsLookup } from './read-facts';
import { renderFinding } from './render-text';
import { styleFor } from './style';

/** How the CLI reaches AWS: the standard SDK chain, plus these overrides. */
export interface LiveOptions {
  /** Used when the input does not say its region (events and task ARNs do). */
  readonly region?: string;
  readonly profile?: string;
  /** Overall time for reading one subnet's facts. */
  readonly deadlineSeconds: number;
}

/** Reads network facts live for the CLI; one reader (and its caches) per command run. */
export class LiveAws {
  private readonly reader: NetworkFactsReader;
  private fallbackRegion: Promise<string | undefined> | undefined;

  constructor(private readonly options: LiveOptions) {
    this.reader = new NetworkFactsReader({
      portsFor: awsPorts(options.profile ? { profile: options.profile } : {}),
      deadlineMs: options.deadlineSeconds * 1000,
    });
  }

  /** The region for a task: its own (the event's, or its ARN's as the parser read it), else --region, else the SDK chain's. */
  async regionFor(task?: StoppedTask): Promise<string> {
    if (task?.region) return task.region;
    if (this.options.region) return this.options.region;
    this.fallbackRegion ??= defaultRegion(this.options.profile);
    const region = await this.fallbackRegion;
    if (!region) throw new DoctorError('no AWS region: pass --region, or set AWS_REGION or a region in your profile');
    return region;
  }

  /** The facts of the subnet a stopped task ran in. */
  async factsFor(task: StoppedTask): Promise<FactsLookup> {
    let region: string;
    try {
      region = await this.regionFor(task);
    } catch (error) {
      return { kind: 'none', reason: (error as Error).message };
    }
    const target = factsTargetOf(task, region);
    if (typeof target === 'string') return { kind: 'none', reason: target };
    return { kind: 'facts', facts: await this.read(target) };
  }

  async read(target: FactsTarget): Promise<NetworkFacts> {
    return (await this.reader.read(target)).facts;
  }

  /** A service's network configuration. @throws DoctorError when it cannot be read. */
  async service(region: string, cluster: string, service: string): Promise<ServiceNetworkConfig> {
    try {
      return await this.reader.portsIn(region).ecs.service(cluster, service);
    } catch (error) {
      throw new DoctorError((error as AwsCallError).message, { cause: error });
    }
  }
}

/** What `check` was asked to check. */
export interface CheckRequest {
  readonly cluster?: string;
  readonly service?: string;
  readonly taskDefinition?: string;
  readonly subnets?: readonly string[];
  readonly securityGroups?: readonly string[];
  readonly assignPublicIp?: 'ENABLED' | 'DISABLED';
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly enableExecuteCommand?: boolean;
  readonly json: boolean;
}

/**
 * `check`: the network check of a service (or a task definition about to run in given
 * subnets) with no stop needed, one result per subnet. Exit 3 when any check fails.
 */
export async function check(request: CheckRequest, live: LiveAws, io: CliIo): Promise<number> {
  const style = styleFor(io.stdout, io.env);
  const region = await live.regionFor();
  const plan = await planOf(request, live, region);
  let failing = 0;
  const blocks: string[] = [];
  for (const subnetId of plan.subnets) {
    const facts = await live.read({
      region,
      subnetId,
      securityGroupIds: plan.securityGroups,
      ...(plan.assignPublicIp ? { assignPublicIp: plan.assignPublicIp } : {}),
      ...(plan.taskDefinition ? { taskDefinition: plan.taskDefinition } : {}),
    });
    const result = checkPlannedTask(
      {
        subnetId,
        enableExecuteCommand: plan.enableExecuteCommand,
        ...(plan.launchType ? { launchType: plan.launchType } : {}),
        ...(plan.platformVersion ? { platformVersion: plan.platformVersion } : {}),
        ...(plan.taskDefinition ? { taskDefinitionArn: plan.taskDefinition } : {}),
        ...(request.cluster ? { cluster: request.cluster } : {}),
        ...(request.service ? { service: request.service } : {}),
      },
      facts,
    );
    const fails = result.findings.filter((f) => f.status === 'fail').length;
    if (fails > 0) failing += 1;
    const counts = (['fail', 'warn', 'unknown', 'pass'] as const)
      .map((status) => `${result.findings.filter((f) => f.status === status).length} ${status}`)
      .join(', ');
    if (request.json) {
      io.stdout.write(
        `${JSON.stringify({
          kind: 'check',
          region,
          cluster: request.cluster ?? null,
          service: request.service ?? null,
          taskDefinitionArn: facts.taskDefinition?.taskDefinitionArn ?? plan.taskDefinition ?? null,
          subnetId,
          availabilityZone: facts.subnet?.availabilityZone ?? null,
          ok: fails === 0,
          network: { status: result.status, reason: result.reason },
          findings: result.findings,
        })}\n`,
      );
      continue;
    }
    const mark = fails > 0 ? style.red('✖') : style.green('✔');
    const zone = facts.subnet?.availabilityZone ? ` (${facts.subnet.availabilityZone})` : '';
    const lines = [`${mark} ${style.bold(`subnet ${subnetId}${zone}`)}  ${counts}  ${style.dim(result.status)}`];
    for (const finding of result.findings.filter((f) => f.status !== 'pass'))
      lines.push(...renderFinding(finding, style));
    blocks.push(lines.join('\n'));
  }
  if (!request.json) {
    const what = request.service
      ? `service ${request.service} in cluster ${request.cluster}`
      : `task definition ${plan.taskDefinition}`;
    io.stdout.write(`${style.bold(what)}  ${style.dim(`${region}, ${plan.describe}`)}\n\n${blocks.join('\n\n')}\n\n`);
    io.stdout.write(`${plan.subnets.length} subnet(s) checked: ${failing} with failing checks\n`);
  }
  return failing > 0 ? EXIT.findings : EXIT.ok;
}

interface Plan {
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp?: 'ENABLED' | 'DISABLED';
  readonly taskDefinition?: string;
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly enableExecuteCommand: boolean;
  readonly describe: string;
}

/** What to check: the service's own configuration, overridden by what the command line says. */
async function planOf(request: CheckRequest, live: LiveAws, region: string): Promise<Plan> {
  const service =
    request.cluster && request.service ? await live.service(region, request.cluster, request.service) : undefined;
  const subnets = request.subnets ?? service?.subnetIds ?? [];
  const securityGroups = request.securityGroups ?? service?.securityGroupIds ?? [];
  if (subnets.length === 0)
    throw new DoctorError(
      service
        ? `service ${request.service} has no awsvpc subnets to check (in bridge or host mode its tasks use their container instances' network): pass the --subnets and --security-groups to check`
        : 'nothing to check: pass --cluster and --service, or --task-definition with --subnets and --security-groups',
    );
  if (securityGroups.length === 0)
    throw new DoctorError('the task security groups are unknown: pass --security-groups sg-…[,sg-…]');
  const taskDefinition = request.taskDefinition ?? service?.taskDefinitionArn;
  const launchType =
    request.launchType ??
    service?.launchType ??
    (service?.capacityProviders.some((p) => p.startsWith('FARGATE')) ? 'FARGATE' : undefined);
  const platformVersion = request.platformVersion ?? service?.platformVersion;
  const assignPublicIp = request.assignPublicIp ?? service?.assignPublicIp ?? undefined;
  return {
    subnets,
    securityGroups,
    ...(assignPublicIp ? { assignPublicIp } : {}),
    ...(taskDefinition ? { taskDefinition } : {}),
    ...(launchType ? { launchType } : {}),
    ...(platformVersion ? { platformVersion } : {}),
    enableExecuteCommand: request.enableExecuteCommand ?? service?.enableExecuteCommand ?? false,
    describe: [
      taskDefinition?.split('/').pop(),
      launchType && `${launchType}${platformVersion ? ` ${platformVersion}` : ''}`,
      `security groups ${securityGroups.join(', ')}`,
      assignPublicIp && `assignPublicIp ${assignPublicIp}`,
    ]
      .filter(Boolean)
      .join(' · '),
  };
}

/** What `snapshot` records. */
export interface SnapshotRequest {
  readonly subnet: string;
  readonly cluster?: string;
  readonly service?: string;
  readonly taskDefinition?: string;
  readonly securityGroups?: readonly string[];
  readonly out?: string;
}

/** `snapshot`: records a subnet's facts as JSON, for `replay --facts` offline. */
export async function snapshot(request: SnapshotRequest, live: LiveAws, io: CliIo): Promise<number> {
  const region = await live.regionFor();
  const facts = await live.read({
    region,
    subnetId: request.subnet,
    ...(request.cluster && request.service ? { cluster: request.cluster, service: request.service } : {}),
    ...(request.taskDefinition ? { taskDefinition: request.taskDefinition } : {}),
    ...(request.securityGroups ? { securityGroupIds: request.securityGroups } : {}),
  });
  const json = `${JSON.stringify(facts, null, 2)}\n`;
  if (request.out) {
    writeFileSync(request.out, json);
    io.stderr.write(`wrote ${request.out}\n`);
  } else io.stdout.write(json);
  for (const missing of facts.unavailable)
    io.stderr.write(
      `warning: ${missing.call} could not be read: ${missing.reason}${missing.permission ? ` (needs ${missing.permission})` : ''}\n`,
    );
  return EXIT.ok;
}
