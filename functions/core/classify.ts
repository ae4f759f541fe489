import type { Catalog, CompiledMatch, CompiledPattern } from './catalog';
import { extractParams, imagePullEndpoints, type ReasonParams } from './params';
import type { Step } from './pattern';
import type { Cause, Endpoint, Severity } from './taxonomy';
import { normalizeText } from './text';

/** What classification reads from a stopped task. A `StoppedTask` is one. */
export interface StopSignal {
  readonly stoppedReason?: string;
  readonly stopCode?: string;
  readonly region?: string;
  readonly platformVersion?: string;
  readonly containers: ReadonlyArray<{
    readonly name: string;
    readonly image?: string;
    readonly reason?: string;
    readonly exitCode?: number;
  }>;
}

/** Which text decided the classification. */
export interface MatchedText {
  /** `stoppedReason`, or the container's name. */
  readonly origin: 'stoppedReason' | 'container';
  readonly container?: string;
  /** The raw text as ECS sent it. */
  readonly text: string;
  readonly truncated: boolean;
}

/** The catalog's verdict on one stop. */
export interface Classification {
  readonly patternId: string | null;
  readonly cause: Cause;
  readonly severity: Severity;
  readonly title: string;
  readonly explanation: string;
  readonly remediation: readonly string[];
  readonly docs: readonly string[];
  readonly step?: Step;
  /** The endpoints the failed step depends on; empty unless the cause is `network`. */
  readonly endpoints: readonly Endpoint[];
  /** Whether the task's network should be read to confirm or refute the cause. */
  readonly inspectNetwork: boolean;
  readonly matched: MatchedText | null;
  readonly params: ReasonParams;
}

interface Candidate {
  readonly origin: 'stoppedReason' | 'container';
  readonly container?: string;
  readonly image?: string;
  readonly raw: string;
  readonly text: string;
  /** `text` in lower case, for the literal prefilter. */
  readonly lower: string;
  /** Which catalog literals occur in the text (by id), when classifying against a catalog. */
  found?: Uint8Array;
  readonly truncated: boolean;
  readonly exitCode?: number;
}

/**
 * Classifies a stop against the catalog.
 *
 * Precedence (documented in patterns/README.md): patterns are tried from the highest
 * `priority` down (ties by id); for each, the task's stoppedReason is tried first, then
 * each container's reason and exit code in event order. The first hit wins, so a specific
 * container reason ("OutOfMemoryError…") beats a generic task reason ("Essential
 * container in task exited"). No hit yields cause `unknown` with the raw text kept.
 */
export function classify(signal: StopSignal, catalog: Catalog): Classification {
  const candidates = candidatesOf(signal);
  for (const candidate of candidates) candidate.found = catalog.literalIndex.scan(candidate.lower);
  for (const pattern of catalog.patterns) {
    for (const candidate of candidates) {
      const match = matchCandidate(pattern, candidate, signal.stopCode);
      if (match) return fromPattern(pattern, candidate, match, signal);
    }
  }
  return unknownClassification(candidates);
}

/** Whether one pattern matches a stop on its own, ignoring precedence. */
export function patternMatches(pattern: CompiledPattern, signal: StopSignal): boolean {
  return candidatesOf(signal).some((candidate) => matchCandidate(pattern, candidate, signal.stopCode) !== null);
}

function candidatesOf(signal: StopSignal): Candidate[] {
  const candidates: Candidate[] = [];
  const reason = normalizeText(signal.stoppedReason ?? '');
  candidates.push({
    origin: 'stoppedReason',
    raw: signal.stoppedReason ?? '',
    ...reason,
    lower: reason.text.toLowerCase(),
  });
  for (const container of signal.containers) {
    if (container.reason === undefined && container.exitCode === undefined) continue;
    const text = normalizeText(container.reason ?? '');
    candidates.push({
      origin: 'container',
      container: container.name,
      image: container.image,
      raw: container.reason ?? '',
      ...text,
      lower: text.text.toLowerCase(),
      exitCode: container.exitCode,
    });
  }
  return candidates;
}

function matchCandidate(
  pattern: CompiledPattern,
  candidate: Candidate,
  stopCode: string | undefined,
): RegExpExecArray | true | null {
  for (const block of pattern.matchers) {
    const hit = matchBlock(block, candidate, stopCode);
    if (hit) return hit;
  }
  return null;
}

function matchBlock(
  block: CompiledMatch,
  candidate: Candidate,
  stopCode: string | undefined,
): RegExpExecArray | true | null {
  if (block.stopCode && (stopCode === undefined || !block.stopCode.includes(stopCode))) return null;
  if (block.exitCode && (candidate.exitCode === undefined || !block.exitCode.includes(candidate.exitCode))) return null;
  // A stop-code-only block speaks about the task, not about each container.
  if (!block.reason && !block.exitCode && candidate.origin !== 'stoppedReason') return null;
  if (!block.reason) return excluded(block, candidate) ? null : true;
  if (candidate.text === '') return null;
  if (block.literals && !hasLiteral(block, candidate)) return null;
  for (const regex of block.reason) {
    const hit = regex.exec(candidate.text);
    if (hit) return excluded(block, candidate) ? null : hit;
  }
  return null;
}

function hasLiteral(block: CompiledMatch, candidate: Candidate): boolean {
  const { found } = candidate;
  const ids = block.literalIds;
  if (found && ids) {
    for (let i = 0; i < ids.length; i += 1) if (found[ids[i] as number] === 1) return true;
    return false;
  }
  // A pattern checked on its own (not through a catalog) has no index.
  return (block.literals ?? []).some((literal) => candidate.lower.includes(literal));
}

// Exclusions run only after a hit: most texts miss most patterns, so this is the cheap order.
function excluded(block: CompiledMatch, candidate: Candidate): boolean {
  return block.notReason.some((regex) => regex.test(candidate.text));
}

function fromPattern(
  pattern: CompiledPattern,
  candidate: Candidate,
  match: RegExpExecArray | true,
  signal: StopSignal,
): Classification {
  const params: ReasonParams = { ...extractParams(candidate.text) };
  if (match !== true && match.groups) {
    for (const [name, value] of Object.entries(match.groups)) {
      if (value !== undefined) params[name] = value;
    }
  }
  if (pattern.step === 'image-pull' && params.image === undefined) {
    const image = candidate.image ?? signal.containers.find((c) => c.reason !== undefined && c.image)?.image;
    if (image) params.image = image;
  }
  return {
    patternId: pattern.id,
    cause: pattern.cause,
    severity: pattern.severity,
    title: pattern.title,
    explanation: pattern.explanation,
    remediation: pattern.remediation,
    docs: pattern.docs,
    step: pattern.step,
    endpoints: pattern.cause === 'network' ? endpointsFor(pattern, params, signal) : [],
    inspectNetwork: pattern.inspectNetwork ?? pattern.cause === 'network',
    matched: matchedText(candidate),
    params,
  };
}

function endpointsFor(pattern: CompiledPattern, params: ReasonParams, signal: StopSignal): Endpoint[] {
  if (pattern.step === 'image-pull' && params.image) {
    return imagePullEndpoints(params.image, signal.region, signal.platformVersion);
  }
  return [...pattern.endpoints];
}

function matchedText(candidate: Candidate): MatchedText {
  return {
    origin: candidate.origin,
    ...(candidate.container === undefined ? {} : { container: candidate.container }),
    text: candidate.raw,
    truncated: candidate.truncated,
  };
}

function unknownClassification(candidates: readonly Candidate[]): Classification {
  const withText = candidates.find((c) => c.text !== '');
  return {
    patternId: null,
    cause: 'unknown',
    severity: 'medium',
    title: 'Unrecognised stop reason',
    explanation:
      'No pattern in the catalog matches this stop. The raw reason is quoted below; if it recurs, add a pattern for it (see patterns/README.md).',
    remediation: [],
    docs: ['https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html'],
    endpoints: [],
    inspectNetwork: false,
    matched: withText ? matchedText(withText) : null,
    params: withText ? extractParams(withText.text) : {},
  };
}
