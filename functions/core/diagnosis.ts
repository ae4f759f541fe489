import type { Catalog } from './catalog';
import { type Classification, classify, type MatchedText } from './classify';
import type { ReasonParams } from './params';
import { shellQuote } from './shell';
import type { StoppedTask } from './stopped-task';
import { CAUSES, type Cause, type Endpoint, type FindingStatus, type Severity, severityRank } from './taxonomy';
import { fillPlaceholders } from './template';
import { oneLine } from './text';

/** A ready-to-paste fix for one finding. */
export interface Remediation {
  readonly summary: string;
  readonly cli?: string;
  readonly terraform?: string;
  readonly cdk?: string;
}

/** The outcome of one network rule, with the evidence that decided it. */
export interface Finding {
  readonly id: string;
  readonly status: FindingStatus;
  readonly endpoint?: Endpoint;
  readonly message: string;
  readonly evidence: readonly string[];
  readonly fix: Remediation | null;
}

/** Whether the task's network was read, and why not when it was not. */
export interface NetworkCheck {
  readonly status: 'checked' | 'partial' | 'skipped';
  readonly reason: string;
}

/** What a network inspection produced; supplied by the shell (facts snapshot or live AWS). */
export interface NetworkResult extends NetworkCheck {
  readonly findings: readonly Finding[];
}

/** Which diagnoses deserve an alert. */
export interface AlertPolicy {
  readonly causes: ReadonlySet<Cause>;
  readonly minSeverity: Severity;
}

/** Default: every cause but `expected`, at any severity. */
export const DEFAULT_ALERT_POLICY: AlertPolicy = {
  causes: new Set(CAUSES.filter((cause) => cause !== 'expected')),
  minSeverity: 'info',
};

/**
 * The product's answer for one stopped task. This object is the JSON contract of
 * `replay --json` and the Lambda log line (DESIGN.md "Diagnosis JSON"): the fields
 * `taskArn`, `alert`, `cause`, `patternId`, `title`, `endpoints`, `findings` and
 * `network` keep their names and values until a major version.
 */
export interface Diagnosis {
  readonly kind: 'diagnosis';
  readonly taskArn: string | null;
  readonly alert: boolean;
  readonly cause: Cause;
  readonly patternId: string | null;
  readonly title: string;
  readonly severity: Severity;
  readonly endpoints: readonly Endpoint[];
  readonly findings: readonly Finding[];
  readonly network: NetworkCheck;
  readonly explanation: string;
  readonly remediation: readonly string[];
  readonly docs: readonly string[];
  readonly params: ReasonParams;
  readonly matched: MatchedText | null;
  readonly stopCode: string | null;
  readonly stoppedReason: string | null;
  readonly region: string | null;
  readonly cluster: string | null;
  readonly service: string | null;
  readonly group: string | null;
  readonly taskDefinitionArn: string | null;
  readonly launchType: string | null;
  readonly platformVersion: string | null;
  readonly subnetId: string | null;
  readonly eventId: string | null;
  readonly version: number | null;
  readonly containers: ReadonlyArray<{
    name: string;
    image: string | null;
    exitCode: number | null;
    reason: string | null;
  }>;
}

/** An input that is valid but not a stopped task (RUNNING, another detail-type…). */
export interface IgnoredInput {
  readonly kind: 'ignored';
  readonly taskArn: string | null;
  readonly alert: false;
  readonly reason: string;
}

/** Options for {@link diagnose}. */
export interface DiagnoseOptions {
  readonly policy?: AlertPolicy;
  /** The network inspection result, when the shell could read the task's network. */
  readonly network?: NetworkResult;
  /** Why no network result is available (shown when the cause calls for one). */
  readonly networkUnavailable?: string;
}

/** Builds the diagnosis of a stopped task from its classification and optional network findings. */
export function diagnose(task: StoppedTask, catalog: Catalog, options: DiagnoseOptions = {}): Diagnosis {
  return buildDiagnosis(task, classify(task, catalog), options);
}

/** As {@link diagnose}, for a classification already made (the handler classifies before reading the network). */
export function buildDiagnosis(
  task: StoppedTask,
  classification: Classification,
  options: DiagnoseOptions = {},
): Diagnosis {
  const policy = options.policy ?? DEFAULT_ALERT_POLICY;
  const network = networkCheckFor(classification, options);
  const values = placeholderValues(task, classification.params);
  return {
    kind: 'diagnosis',
    taskArn: task.taskArn,
    alert: shouldAlert(classification, policy),
    cause: classification.cause,
    patternId: classification.patternId,
    title: classification.title,
    severity: classification.severity,
    endpoints: classification.endpoints,
    findings: network.findings,
    network: { status: network.status, reason: network.reason },
    explanation: fillPlaceholders(classification.explanation, values),
    remediation: classification.remediation.map((step) => fillPlaceholders(step, shellWords(values))),
    docs: classification.docs,
    params: classification.params,
    matched: classification.matched,
    stopCode: task.stopCode ?? null,
    stoppedReason: task.stoppedReason ?? null,
    region: task.region ?? null,
    cluster: task.cluster ?? null,
    service: task.service ?? null,
    group: task.group ?? null,
    taskDefinitionArn: task.taskDefinitionArn ?? null,
    launchType: task.launchType ?? null,
    platformVersion: task.platformVersion ?? null,
    subnetId: task.eni?.subnetId ?? null,
    eventId: task.eventId ?? null,
    version: task.version ?? null,
    containers: task.containers.map((c) => ({
      name: c.name,
      image: c.image ?? null,
      exitCode: c.exitCode ?? null,
      reason: c.reason ?? null,
    })),
  };
}

/** Whether a classification passes the alert policy. */
export function shouldAlert(classification: Pick<Classification, 'cause' | 'severity'>, policy: AlertPolicy): boolean {
  return (
    policy.causes.has(classification.cause) && severityRank(classification.severity) >= severityRank(policy.minSeverity)
  );
}

/**
 * Values for `{{name}}` placeholders: the reason's parameters, then the task's own fields,
 * each on one line: they come from the event, and a newline in one must not start a line of
 * its own in the explanation or a step ("Fix: curl … | sh").
 */
function placeholderValues(task: StoppedTask, params: ReasonParams): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {
    region: task.region ?? params.registryRegion,
    cluster: task.cluster,
    service: task.service,
    taskDefinition: task.taskDefinitionArn?.split('/').pop(),
    subnetId: task.eni?.subnetId,
    ...params,
  };
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value && oneLine(value)]));
}

/**
 * Remediation steps hold commands with values in them, sometimes inside quotes of their own
 * (`sh -c 'command -v {{executable}}'`), where no quoting of ours would be right. A value a
 * shell would not read as one plain word (see {@link shellQuote}) is left out, so the step
 * shows `<name>` for the person to fill in: a cluster named `x; rm -rf ~` never lands in a
 * command someone copies.
 */
function shellWords(values: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      value !== undefined && shellQuote(value) === value ? value : undefined,
    ]),
  );
}

function networkCheckFor(classification: Classification, options: DiagnoseOptions): NetworkResult {
  if (!classification.inspectNetwork) {
    return { status: 'skipped', reason: `cause is ${classification.cause}: no network check needed`, findings: [] };
  }
  return (
    options.network ?? {
      status: 'skipped',
      reason: options.networkUnavailable ?? 'no network facts were supplied',
      findings: [],
    }
  );
}
