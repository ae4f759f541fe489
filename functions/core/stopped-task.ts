import * as z from 'zod/mini';
import './zod-messages';
import { formatPath, InputError } from './errors';

/**
 * The stopped task as the product sees it, built from an EventBridge "ECS Task State
 * Change" event or from a Task object as `aws ecs describe-tasks` prints it.
 * Only the fields the diagnosis uses are kept; unknown fields are ignored (AWS adds
 * fields without notice: reference/ecs-task-state-change-event.md §3.5).
 */
export interface StoppedTask {
  readonly taskArn: string | null;
  /** EventBridge event id, when the input was an event. */
  readonly eventId?: string;
  readonly eventTime?: string;
  readonly region?: string;
  readonly account?: string;
  readonly clusterArn?: string;
  readonly cluster?: string;
  /** `service:<name>` or `family:<name>`. */
  readonly group?: string;
  readonly service?: string;
  readonly family?: string;
  readonly taskDefinitionArn?: string;
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly capacityProviderName?: string;
  readonly availabilityZone?: string;
  readonly containerInstanceArn?: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly startedBy?: string;
  /** `detail.version`: increments on each state change; duplicates share it. */
  readonly version?: number;
  readonly enableExecuteCommand?: boolean;
  readonly containers: readonly ContainerState[];
  readonly eni?: TaskEni;
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly stoppingAt?: string;
  readonly stoppedAt?: string;
}

/** One container of the task, as far as the diagnosis needs it. */
export interface ContainerState {
  readonly name: string;
  /** Absent for the GuardDuty runtime-monitoring sidecar. */
  readonly image?: string;
  readonly imageDigest?: string;
  readonly lastStatus?: string;
  readonly reason?: string;
  readonly exitCode?: number;
}

/** The task's elastic network interface (awsvpc), from the `eni` attachment. */
export interface TaskEni {
  readonly subnetId?: string;
  readonly networkInterfaceId?: string;
  readonly privateIpv4Address?: string;
}

/** What reading one input value produced: a task to diagnose, an ignored event, or an error. */
export type TaskInput =
  | { readonly kind: 'task'; readonly task: StoppedTask; readonly location: string }
  | { readonly kind: 'ignored'; readonly reason: string; readonly taskArn: string | null; readonly location: string }
  | { readonly kind: 'error'; readonly error: InputError; readonly location: string };

// Timestamps are ISO strings in events and epoch seconds in describe-tasks output.
const timestamp = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((value: string | number) => toIsoTime(value)),
);

const containerSchema = z.object({
  name: z.optional(z.string()),
  image: z.optional(z.string()),
  imageDigest: z.optional(z.string()),
  lastStatus: z.optional(z.string()),
  reason: z.optional(z.string()),
  exitCode: z.optional(z.nullable(z.number())),
});

const attachmentSchema = z.object({
  type: z.optional(z.string()),
  details: z.optional(z.array(z.object({ name: z.optional(z.string()), value: z.optional(z.unknown()) }))),
});

const taskSchema = z.object({
  taskArn: z.optional(z.string()),
  clusterArn: z.optional(z.string()),
  group: z.optional(z.string()),
  taskDefinitionArn: z.optional(z.string()),
  launchType: z.optional(z.string()),
  platformVersion: z.optional(z.string()),
  capacityProviderName: z.optional(z.string()),
  availabilityZone: z.optional(z.string()),
  containerInstanceArn: z.optional(z.string()),
  lastStatus: z.optional(z.string()),
  desiredStatus: z.optional(z.string()),
  stopCode: z.optional(z.string()),
  stoppedReason: z.optional(z.string()),
  startedBy: z.optional(z.string()),
  version: z.optional(z.number()),
  enableExecuteCommand: z.optional(z.boolean()),
  containers: z.optional(z.array(containerSchema)),
  attachments: z.optional(z.array(attachmentSchema)),
  createdAt: z.optional(timestamp),
  startedAt: z.optional(timestamp),
  stoppingAt: z.optional(timestamp),
  stoppedAt: z.optional(timestamp),
});

const eventEnvelopeSchema = z.object({
  id: z.optional(z.string()),
  time: z.optional(z.string()),
  region: z.optional(z.string()),
  account: z.optional(z.string()),
  source: z.optional(z.string()),
  'detail-type': z.optional(z.string()),
});

/** The detail-type of the only EventBridge events the product diagnoses. */
export const TASK_STATE_CHANGE = 'ECS Task State Change';

/**
 * Reads any accepted input value: an EventBridge event, a bare Task, the
 * `{ "tasks": [...] }` output of `aws ecs describe-tasks`, or an array of any of these.
 * Never throws: each element yields a task, an ignored entry with its reason, or an
 * {@link InputError} naming the field (and `file`, when given).
 */
export function readTaskInputs(value: unknown, file?: string): TaskInput[] {
  const out: TaskInput[] = [];
  collect(value, [], file, out);
  return out;
}

/**
 * Parses one EventBridge event for the Lambda handler.
 * @returns the stopped task, or the reason the event is ignored.
 * @throws InputError when the event is malformed.
 */
export function parseTaskStateChangeEvent(value: unknown): { task: StoppedTask } | { ignored: string } {
  const [first, ...rest] = readTaskInputs(value);
  if (!first || rest.length > 0) {
    throw new InputError('expected exactly one EventBridge event', undefined, undefined);
  }
  if (first.kind === 'error') throw first.error;
  return first.kind === 'task' ? { task: first.task } : { ignored: first.reason };
}

/**
 * How deep arrays (and `tasks` lists) may nest. Real input nests one or two levels; a hostile
 * file of 10,000 nested arrays would otherwise exhaust the stack, and this function never throws.
 */
const MAX_NESTING = 16;

function collect(value: unknown, path: PropertyKey[], file: string | undefined, out: TaskInput[]): void {
  const location = formatPath(path);
  if (Array.isArray(value)) {
    if (path.length >= MAX_NESTING) {
      const error = new InputError(
        `arrays nested more than ${MAX_NESTING} levels deep: expected an ECS event or task, or an array of them`,
        location || undefined,
        file,
      );
      out.push({ kind: 'error', error, location });
      return;
    }
    value.forEach((item, index) => {
      collect(item, [...path, index], file, out);
    });
    return;
  }
  try {
    if (!isRecord(value)) {
      throw new InputError(
        `expected an ECS event or task object, got ${describeType(value)}`,
        location || undefined,
        file,
      );
    }
    if ('detail-type' in value || ('detail' in value && 'source' in value)) {
      out.push(fromEvent(value, path, file));
    } else if (Array.isArray(value.tasks)) {
      collect(value.tasks, [...path, 'tasks'], file, out);
    } else if (looksLikeTask(value)) {
      out.push(fromTask(value, {}, path, file));
    } else {
      throw new InputError(
        'not an ECS Task State Change event or an ECS task: expected "detail-type" and "detail", or a task with "taskArn"',
        location || undefined,
        file,
      );
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    out.push({ kind: 'error', error, location });
  }
}

function fromEvent(value: Record<string, unknown>, path: PropertyKey[], file: string | undefined): TaskInput {
  const envelope = validate(eventEnvelopeSchema, value, path, file);
  const detailType = envelope['detail-type'];
  const taskArn = isRecord(value.detail) && typeof value.detail.taskArn === 'string' ? value.detail.taskArn : null;
  const location = formatPath(path);
  if (detailType !== undefined && detailType !== TASK_STATE_CHANGE) {
    return { kind: 'ignored', reason: `detail-type is "${detailType}", not "${TASK_STATE_CHANGE}"`, taskArn, location };
  }
  if (envelope.source !== undefined && envelope.source !== 'aws.ecs') {
    return { kind: 'ignored', reason: `source is "${envelope.source}", not "aws.ecs"`, taskArn, location };
  }
  if (!isRecord(value.detail)) {
    throw new InputError(
      `expected an object, got ${describeType(value.detail)}`,
      formatPath([...path, 'detail']),
      file,
    );
  }
  return fromTask(value.detail, envelope, [...path, 'detail'], file);
}

function fromTask(
  value: Record<string, unknown>,
  envelope: z.output<typeof eventEnvelopeSchema>,
  path: PropertyKey[],
  file: string | undefined,
): TaskInput {
  const raw = validate(taskSchema, value, path, file);
  const location = formatPath(path.filter((key) => key !== 'detail'));
  const taskArn = raw.taskArn ?? null;
  const stopped =
    raw.lastStatus === 'STOPPED' ||
    (raw.lastStatus === undefined && (raw.stoppedReason !== undefined || raw.stopCode !== undefined));
  if (!stopped) {
    const status = raw.lastStatus ? `lastStatus is ${raw.lastStatus}` : 'no lastStatus, stoppedReason or stopCode';
    return { kind: 'ignored', reason: `${status}; only STOPPED tasks are diagnosed`, taskArn, location };
  }
  return { kind: 'task', task: toStoppedTask(raw, envelope), location };
}

function toStoppedTask(raw: z.output<typeof taskSchema>, envelope: z.output<typeof eventEnvelopeSchema>): StoppedTask {
  const arn = parseArn(raw.taskArn) ?? parseArn(raw.clusterArn);
  const service = raw.group?.startsWith('service:') ? raw.group.slice('service:'.length) : undefined;
  const family =
    raw.taskDefinitionArn?.match(/task-definition\/([^:/]+)/)?.[1] ??
    (raw.group?.startsWith('family:') ? raw.group.slice('family:'.length) : undefined);
  const task: StoppedTask = {
    taskArn: raw.taskArn ?? null,
    eventId: envelope.id,
    eventTime: envelope.time,
    region: envelope.region ?? arn?.region,
    account: envelope.account ?? arn?.account,
    clusterArn: raw.clusterArn,
    cluster: clusterName(raw.clusterArn, raw.taskArn),
    group: raw.group,
    service,
    family,
    taskDefinitionArn: raw.taskDefinitionArn,
    launchType: raw.launchType,
    platformVersion: raw.platformVersion,
    capacityProviderName: raw.capacityProviderName,
    availabilityZone: raw.availabilityZone,
    containerInstanceArn: raw.containerInstanceArn,
    lastStatus: raw.lastStatus,
    desiredStatus: raw.desiredStatus,
    stopCode: raw.stopCode,
    stoppedReason: raw.stoppedReason,
    startedBy: raw.startedBy,
    version: raw.version,
    enableExecuteCommand: raw.enableExecuteCommand,
    containers: (raw.containers ?? []).map((c, index) => ({
      name: c.name ?? `container-${index + 1}`,
      image: c.image,
      imageDigest: c.imageDigest,
      lastStatus: c.lastStatus,
      reason: c.reason,
      exitCode: c.exitCode ?? undefined,
    })),
    eni: eniOf(raw.attachments ?? []),
    createdAt: raw.createdAt,
    startedAt: raw.startedAt,
    stoppingAt: raw.stoppingAt,
    stoppedAt: raw.stoppedAt,
  };
  return dropUndefined(task);
}

function eniOf(attachments: z.output<typeof attachmentSchema>[]): TaskEni | undefined {
  // Events say "eni"; DescribeTasks says "ElasticNetworkInterface".
  const eni = attachments.find((a) => /^(eni|ElasticNetworkInterface)$/i.test(a.type ?? ''));
  if (!eni) return undefined;
  const detail = (name: string): string | undefined => {
    const value = eni.details?.find((d) => d.name === name)?.value;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return dropUndefined({
    subnetId: detail('subnetId'),
    networkInterfaceId: detail('networkInterfaceId'),
    privateIpv4Address: detail('privateIPv4Address'),
  });
}

function validate<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
  path: PropertyKey[],
  file: string | undefined,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = formatPath([...path, ...(issue?.path ?? [])]);
  throw new InputError(issue?.message ?? 'invalid value', field || undefined, file, { cause: result.error });
}

function looksLikeTask(value: Record<string, unknown>): boolean {
  return ['taskArn', 'lastStatus', 'stoppedReason', 'stopCode', 'containers'].some((key) => key in value);
}

function parseArn(arn: string | undefined): { region: string; account: string } | undefined {
  const match = arn?.match(/^arn:aws[\w-]*:ecs:([\w-]+):(\d{12}):/);
  return match?.[1] && match[2] ? { region: match[1], account: match[2] } : undefined;
}

function clusterName(clusterArn: string | undefined, taskArn: string | undefined): string | undefined {
  const fromCluster = clusterArn?.match(/:cluster\/(.+)$/)?.[1];
  // New-format task ARNs carry the cluster: task/<cluster>/<id>.
  return fromCluster ?? taskArn?.match(/:task\/([^/]+)\/[^/]+$/)?.[1];
}

function toIsoTime(value: string | number): string {
  if (typeof value === 'string') return value;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
