import type { AlertContext } from '../alert';
import type { Diagnosis, Finding } from '../diagnosis';
import type { Severity } from '../taxonomy';
import type { SlackBlock, SlackMessage, SlackText } from './slack-message';

// Slack limits, quoted in reference/slack-message-limits.md §6.1. Exceeding any of them makes
// Slack answer HTTP 400, and a refused alert is worse than a shortened one.

/** "You can include up to 50 blocks in each message." */
export const MAX_BLOCKS = 50;
/** A section's `text`: "Maximum length for the text in this field is 3000 characters." */
export const MAX_SECTION_TEXT = 3000;
/** A section's `fields`: "Maximum number of items is 10." */
export const MAX_FIELDS = 10;
/** Each item of a section's `fields`: "Maximum length for the text in each item is 2000 characters." */
export const MAX_FIELD_TEXT = 2000;
/** A header's plain_text: "Maximum length for the text in this field is 150 characters." */
export const MAX_HEADER_TEXT = 150;
/** A context block: "Maximum number of items is 10." */
export const MAX_CONTEXT_ELEMENTS = 10;
/**
 * All block texts together. Slack refuses messages with `msg_blocks_too_long` at about
 * 13,200 characters across blocks, a limit it does not document (slackapi/bolt-js#2509).
 */
export const MAX_TOTAL_BLOCK_TEXT = 12_000;
/** The top-level `text` fallback; Slack asks clients to stay under 4,000 characters. */
export const MAX_FALLBACK_TEXT = 3000;

/** Appended where a text was cut. */
const TRUNCATED = '… (truncated)';
const ELLIPSIS = '…';
const FENCE = '```';
/**
 * Stands in for ``` inside untrusted text. Slack has no escape for a code fence, so a stop
 * reason holding ``` would close our code block early and let the rest of it format (or
 * open a block that swallows the rest of the message). U+02BC looks like an apostrophe.
 */
const FENCE_STAND_IN = 'ʼʼʼ';

// Budgets per piece, chosen so that each block stays under its Slack limit by construction
// and the fixed part of a message (everything but findings, remediation and docs) leaves
// room for the findings even when every field is hostile.
const LABEL_MAX = 200;
/** ECS names are ≤ 255 characters of [A-Za-z0-9_-], so a real console URL stays far below this. */
const URL_MAX = 1000;
const SUBJECT_IN_HEADER_MAX = 60;
const FALLBACK_PART_MAX = 300;
const EXPLANATION_MAX = 2000;
const REASON_MAX = 1200;
const CONTAINERS_MAX = 1000;
const CONTAINERS_SHOWN = 10;
const FACT_MAX = 200;
const FINDING_ID_MAX = 120;
const FINDING_MESSAGE_MAX = 600;
const EVIDENCE_SHOWN = 5;
const EVIDENCE_MAX = 250;
const FIX_SUMMARY_MAX = 400;
/** Three of these plus their labels fit one section (3 × 900 + labels < 3000). */
const CODE_MAX = 900;
const UNDECIDED_MAX = 1000;
const UNDECIDED_SHOWN = 20;
const REMEDIATION_STEPS_SHOWN = 8;
const REMEDIATION_STEP_MAX = 340;
const DOCS_SHOWN = MAX_CONTEXT_ELEMENTS;
/** Characters and one block kept back for the note that says what was left out. */
const OMISSION_NOTE_MAX = 400;

const SEVERITY_ICON: Record<Severity, string> = {
  critical: '🚨',
  high: '🔴',
  medium: '🟠',
  low: '🟡',
  info: '🔵',
};

/** Untrusted text with every ``` replaced by a look-alike, so it cannot open or close a code block. */
export function withoutFences(text: string): string {
  return text.replaceAll(FENCE, FENCE_STAND_IN);
}

/**
 * Escapes text for Slack mrkdwn: `&` first (so the entities added next are not escaped
 * again), then `<` and `>`. Slack's formatting reference: only these three are control
 * characters, and HTML-encoding anything else would show up literally.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Renders a diagnosis as a Slack Block Kit message: header (cause and service), console
 * links, explanation, failing and warning findings with their evidence and fixes, the raw
 * stop reason in a code block, doc links and account-free facts.
 *
 * Every text from the event or from AWS is escaped with {@link escapeMrkdwn} (and ``` in it
 * replaced), so a stop reason cannot ping a channel or forge a link. The message always
 * fits Slack's limits; it is shortened, never refused:
 * - each text has its own cap and ends in "…" or "… (truncated)" when cut, inside the code
 *   block for code, whose fence is always closed; pass findings never appear;
 * - the header, links, explanation, stop reason and facts always appear; the rest is added
 *   by priority while the 12,000-character and 50-block budgets last: failing findings
 *   (message, evidence, fix summary), their CLI fixes, remediation steps, warning findings,
 *   the undecided-checks summary, Terraform/CDK fixes (earlier findings first), then docs;
 * - a closing note says what was left out ("…and 3 more findings", Terraform/CDK, docs).
 */
export function renderSlackMessage(diagnosis: Diagnosis, context: AlertContext = {}): SlackMessage {
  const head: SlackBlock[] = [headerBlock(diagnosis)];
  if (context.suppressed) head.push(contextBlock([suppressedLine(context.suppressed.count, context.suppressed.since)]));
  head.push({ type: 'section', fields: linkFields(diagnosis) });
  if (diagnosis.explanation.trim()) {
    head.push(section(shown(diagnosis.explanation.trim(), EXPLANATION_MAX, TRUNCATED, true)));
  }
  const reason = section(reasonText(diagnosis));
  const footer: SlackBlock[] = [{ type: 'divider' }, contextBlock(facts(diagnosis, context))];

  const fixed = [...head, reason, ...footer];
  const body = planBody(diagnosis, {
    chars: MAX_TOTAL_BLOCK_TEXT - textLength(fixed) - OMISSION_NOTE_MAX,
    // One block is kept for the omission note; the docs context is charged to the body.
    blocks: MAX_BLOCKS - fixed.length - 1,
  });
  const blocks = [...head, ...body.main];
  if (body.note) blocks.push(contextBlock([body.note]));
  blocks.push(reason);
  if (body.docs.length > 0) blocks.push(contextBlock(body.docs));
  blocks.push(...footer);
  return { text: fallbackText(diagnosis), blocks };
}

/**
 * Untrusted text as the message shows it: on one line unless `multiline`, ``` neutralised,
 * escaped, and cut to `max` characters with `marker`. Escaping never shortens text, so only
 * the first `max` characters can show: reading no further keeps a 100 kB reason cheap.
 */
function shown(raw: string, max: number, marker = ELLIPSIS, multiline = false): string {
  const clipped = raw.length > max;
  const head = clipped ? raw.slice(0, max) : raw;
  const text = escapeMrkdwn(withoutFences(multiline ? head : oneLine(head)));
  return cut(text, max, marker, clipped);
}

/** Collapses white space so a name or message stays on one line (and inside its link or bullet). */
function oneLine(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts escaped text to `max` characters including `marker` (always marked when `more` says
 * the text was already clipped). Cutting after escaping keeps the limit exact; the cut backs
 * off so it never splits an entity (`&amp;` half-cut would leave a raw `&`) or a surrogate pair.
 */
function cut(escaped: string, max: number, marker: string = ELLIPSIS, more = false): string {
  if (escaped.length <= max && !more) return escaped;
  let end = Math.min(escaped.length, Math.max(0, max - marker.length));
  const amp = escaped.lastIndexOf('&', end - 1);
  if (amp >= 0 && end - amp < 5) {
    const semicolon = escaped.indexOf(';', amp);
    if (semicolon === -1 || semicolon >= end) end = amp;
  }
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return escaped.slice(0, end) + marker;
}

/** A code block of at most `max` characters whose closing fence survives truncation. */
function codeBlock(raw: string, max: number): string {
  const open = `${FENCE}\n`;
  const close = `\n${FENCE}`;
  return open + shown(raw, max - open.length - close.length, TRUNCATED, true) + close;
}

function mrkdwn(text: string): SlackText {
  return { type: 'mrkdwn', text, verbatim: true };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function contextBlock(texts: readonly string[]): SlackBlock {
  return { type: 'context', elements: texts.map(mrkdwn) };
}

/** Characters of text across blocks, as Slack counts toward `msg_blocks_too_long`. */
function textLength(blocks: readonly SlackBlock[]): number {
  let total = 0;
  for (const block of blocks) {
    if (block.type === 'header') total += block.text.text.length;
    else if (block.type === 'section') {
      total += block.text?.text.length ?? 0;
      for (const field of block.fields ?? []) total += field.text.length;
    } else if (block.type === 'context') {
      for (const element of block.elements) total += element.text.length;
    }
  }
  return total;
}

/** The service, else the task group (`family:…` for a standalone task), else the cluster. */
function subjectOf(d: Diagnosis): string {
  return d.service || d.group || d.cluster || 'ECS task';
}

function headerBlock(d: Diagnosis): SlackBlock {
  const subject = shown(subjectOf(d), SUBJECT_IN_HEADER_MAX);
  const title = shown(d.title, MAX_HEADER_TEXT);
  const text = `${SEVERITY_ICON[d.severity] ?? '⚪'} ${shown(d.cause, FACT_MAX)} · ${subject}: ${title}`;
  return { type: 'header', text: { type: 'plain_text', text: cut(text, MAX_HEADER_TEXT) } };
}

function fallbackText(d: Diagnosis): string {
  const part = (raw: string) => shown(raw, FALLBACK_PART_MAX);
  const subject = subjectOf(d);
  const cluster = d.cluster && d.cluster !== subject ? ` (cluster ${part(d.cluster)})` : '';
  const text = `${SEVERITY_ICON[d.severity] ?? '⚪'} ${part(d.cause)} · ${part(subject)}${cluster}: ${part(d.title)}`;
  return cut(text, MAX_FALLBACK_TEXT);
}

// Console deep links. The region goes into the host name and the query, the names into
// path segments; all are encoded so a hostile name cannot leave its segment or the link.

/** Unpaired UTF-16 surrogates, which `encodeURIComponent` refuses with a URIError. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `encodeURIComponent` that cannot throw: a lone surrogate becomes U+FFFD, as `toWellFormed` would do. */
function encode(component: string): string {
  return encodeURIComponent(component.replace(LONE_SURROGATE, '\uFFFD'));
}

function consoleBase(region: string): string {
  return `https://${encode(region)}.console.aws.amazon.com/ecs/v2`;
}

function regionQuery(region: string): string {
  return `?region=${encode(region)}`;
}

/** `<url|label>` with an escaped label, or the escaped label alone when there is no usable URL. */
function linkOrPlain(label: string, url: string | null): string {
  const text = shown(label, LABEL_MAX);
  return url && url.length <= URL_MAX && text ? `<${url}|${text}>` : text;
}

function field(name: string, value: string): SlackText {
  return mrkdwn(`*${name}*\n${value || '—'}`);
}

/** The last segment of an ARN's resource part (`…:task/cluster/<id>` → `<id>`). */
function lastSegment(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function linkFields(d: Diagnosis): SlackText[] {
  const { region, cluster, service } = d;
  const inRegion = (path: string) => (region ? `${consoleBase(region)}${path}${regionQuery(region)}` : null);
  const inCluster = (path: string) => (cluster ? inRegion(`/clusters/${encode(cluster)}${path}`) : null);

  const fields = [field('Cluster', linkOrPlain(cluster ?? '', inCluster('/services')))];
  if (service || !d.group) {
    const url = service ? inCluster(`/services/${encode(service)}/health`) : null;
    fields.push(field('Service', linkOrPlain(service ?? '', url)));
  } else {
    fields.push(field('Task group', linkOrPlain(d.group, null)));
  }
  const taskId = d.taskArn ? lastSegment(d.taskArn) : '';
  const taskUrl = taskId ? inCluster(`/tasks/${encode(taskId)}/configuration`) : null;
  fields.push(field('Task', linkOrPlain(taskId, taskUrl)));
  const familyRevision = d.taskDefinitionArn ? lastSegment(d.taskDefinitionArn) : '';
  const [, family, revision] = /^(.+):(\d+)$/.exec(familyRevision) ?? [];
  const taskDefinitionUrl =
    family && revision ? inRegion(`/task-definitions/${encode(family)}/${revision}/containers`) : null;
  fields.push(field('Task definition', linkOrPlain(familyRevision, taskDefinitionUrl)));
  return fields;
}

function suppressedLine(count: number, since: string): string {
  const times = count === 1 ? 'time' : 'times';
  return `🔁 Also stopped ${shown(String(count), 20)} more ${times} since ${shown(since, 60)} (suppressed)`;
}

/**
 * The raw reason in a code block, so untrusted text shows as typed and cannot format, plus
 * each container's exit code and reason (an OOM kill is only in the container's reason).
 */
function reasonText(d: Diagnosis): string {
  const reason = d.stoppedReason ?? d.containers.find((c) => c.reason)?.reason ?? null;
  const parts = [`*Stop reason*\n${reason ? codeBlock(reason, REASON_MAX) : '_none given_'}`];
  if (d.containers.length > 0) {
    const lines = d.containers.slice(0, CONTAINERS_SHOWN).map((c) => {
      const exit = c.exitCode === null ? 'no exit code' : `exit ${c.exitCode}`;
      // Clipped: one container cannot be longer than the block, which is cut (and marked) below.
      const why = c.reason && c.reason !== reason ? `: ${oneLine(c.reason.slice(0, CONTAINERS_MAX))}` : '';
      return `${oneLine(c.name.slice(0, CONTAINERS_MAX))} (${exit})${why}`;
    });
    const more = d.containers.length - CONTAINERS_SHOWN;
    if (more > 0) lines.push(`…and ${more} more containers`);
    parts.push(`*Containers*\n${codeBlock(lines.join('\n'), CONTAINERS_MAX)}`);
  }
  return parts.join('\n');
}

/** Facts that carry no account id: safe to show in any channel. */
function facts(d: Diagnosis, context: AlertContext): string[] {
  const fact = (text: string) => shown(text, FACT_MAX);
  const out: string[] = [];
  if (d.eventId) out.push(`Event ${fact(d.eventId)}`);
  if (d.stopCode) out.push(`Stop code ${fact(d.stopCode)}`);
  if (d.launchType) {
    out.push(`Launch type ${fact(d.launchType)}${d.platformVersion ? `, platform ${fact(d.platformVersion)}` : ''}`);
  }
  if (d.region) out.push(`Region ${fact(d.region)}`);
  out.push(`Severity ${fact(d.severity)}`);
  out.push(d.patternId ? `Pattern ${fact(d.patternId)}` : 'No pattern matched');
  out.push(`Network ${fact(d.network.status)}: ${fact(d.network.reason)}`);
  if (context.incidentKey) out.push(`Incident ${fact(context.incidentKey)}`);
  return out;
}

/** How a shown finding renders: its own section, then an optional section of fix code. */
interface FindingPlan {
  readonly finding: Finding;
  readonly core: string;
  /** Labelled code blocks in display order (CLI, Terraform, CDK); `iac` marks the last two. */
  readonly code: ReadonlyArray<{ readonly text: string; readonly iac: boolean }>;
}

interface Body {
  readonly main: SlackBlock[];
  readonly docs: string[];
  readonly note: string | null;
}

/**
 * Chooses the findings, fixes, remediation and docs that fit the remaining budgets, by
 * priority (see {@link renderSlackMessage}), and lays them out in the diagnosis's order.
 */
function planBody(d: Diagnosis, budget: { chars: number; blocks: number }): Body {
  let { chars, blocks } = budget;
  const charged = new Set<string>();
  /** Takes `size` characters, plus a block the first time `block` is used. */
  const take = (size: number, block: string): boolean => {
    const extra = charged.has(block) ? 0 : 1;
    if (size > chars || extra > blocks) return false;
    chars -= size;
    blocks -= extra;
    charged.add(block);
    return true;
  };

  const plans = findingPlans(d.findings);
  const shown = new Set<number>();
  const codeShown = new Set<string>();
  let findingsStopped = false;
  const takeFindings = (status: Finding['status']) => {
    plans.forEach((plan, i) => {
      if (plan.finding.status !== status || findingsStopped) return;
      // Stop at the first finding that does not fit, so "…and N more" means the last N.
      if (take(plan.core.length, `finding ${i}`)) shown.add(i);
      else findingsStopped = true;
    });
  };
  const takeCode = (iac: boolean) => {
    plans.forEach((plan, i) => {
      if (!shown.has(i)) return;
      plan.code.forEach((part, j) => {
        if (part.iac === iac && take(part.text.length + 1, `code ${i}`)) codeShown.add(`${i} ${j}`);
      });
    });
  };

  takeFindings('fail');
  takeCode(false);
  const hasFixes = d.findings.some((f) => f.status === 'fail' && f.fix);
  const remediation = !hasFixes && d.remediation.length > 0 ? remediationText(d.remediation) : null;
  const remediationShown = remediation !== null && take(remediation.length, 'remediation');
  takeFindings('warn');
  const undecided = undecidedText(d.findings);
  const undecidedShown = undecided !== null && take(undecided.length, 'undecided');
  takeCode(true);
  const docElements = docs(d.docs);
  const docsShown = docElements.filter((element) => take(element.length, 'docs'));

  const main: SlackBlock[] = [];
  plans.forEach((plan, i) => {
    if (!shown.has(i)) return;
    main.push(section(plan.core));
    const code = plan.code.filter((_, j) => codeShown.has(`${i} ${j}`)).map((part) => part.text);
    if (code.length > 0) main.push(section(code.join('\n')));
  });
  if (undecidedShown && undecided) main.push(section(undecided));
  if (remediationShown && remediation) main.push(section(remediation));

  const left: string[] = [];
  const findingsLeft = plans.length - shown.size;
  if (findingsLeft > 0) left.push(`…and ${findingsLeft} more ${findingsLeft === 1 ? 'finding' : 'findings'}`);
  const codeLeft = plans.reduce((n, plan, i) => {
    if (!shown.has(i)) return n;
    return n + plan.code.filter((_, j) => !codeShown.has(`${i} ${j}`)).length;
  }, 0);
  if (codeLeft > 0) left.push(`${codeLeft} fix ${codeLeft === 1 ? 'snippet' : 'snippets'} (CLI/Terraform/CDK)`);
  if (undecided && !undecidedShown) left.push('the checks that could not be decided');
  if (remediation && !remediationShown) left.push('the remediation steps');
  const docsLeft = d.docs.length - docsShown.length;
  if (docsLeft > 0) left.push(`${docsLeft} doc ${docsLeft === 1 ? 'link' : 'links'}`);
  const note = left.length > 0 ? `✂️ Shortened to fit Slack's message limits; not shown: ${left.join(', ')}.` : null;
  return { main, docs: docsShown, note };
}

const STATUS_LABEL: Partial<Record<Finding['status'], string>> = { fail: '❌ *FAIL*', warn: '⚠️ *WARN*' };

/**
 * Renders each failing or warning finding. A fix identical to an earlier finding's (three
 * endpoints behind one security group) points back to it instead of repeating its code.
 */
function findingPlans(findings: readonly Finding[]): FindingPlan[] {
  const fixOwners = new Map<string, string>();
  const plans: FindingPlan[] = [];
  for (const finding of findings) {
    const label = STATUS_LABEL[finding.status];
    if (!label) continue;
    const id = shown(finding.id, FINDING_ID_MAX);
    const lines = [`${label} · ${id}`, shown(finding.message, FINDING_MESSAGE_MAX, TRUNCATED)];
    for (const evidence of finding.evidence.slice(0, EVIDENCE_SHOWN)) lines.push(`• ${shown(evidence, EVIDENCE_MAX)}`);
    const moreEvidence = finding.evidence.length - EVIDENCE_SHOWN;
    if (moreEvidence > 0) lines.push(`• …and ${moreEvidence} more`);
    const code: Array<{ text: string; iac: boolean }> = [];
    const fix = finding.status === 'fail' ? finding.fix : null;
    if (fix) {
      const summary = `*Fix:* ${shown(fix.summary, FIX_SUMMARY_MAX, TRUNCATED)}`;
      const fixCode: Array<{ text: string; iac: boolean }> = [];
      if (fix.cli) fixCode.push({ text: `*CLI*\n${codeBlock(fix.cli, CODE_MAX)}`, iac: false });
      if (fix.terraform) fixCode.push({ text: `*Terraform*\n${codeBlock(fix.terraform, CODE_MAX)}`, iac: true });
      if (fix.cdk) fixCode.push({ text: `*CDK*\n${codeBlock(fix.cdk, CODE_MAX)}`, iac: true });
      // Keyed by what would be shown, so "same as" is true of the message as read.
      const key = [summary, ...fixCode.map((part) => part.text)].join('\u0000');
      const owner = fixOwners.get(key);
      if (owner !== undefined) {
        lines.push(`*Fix:* same as ${owner} above`);
      } else {
        fixOwners.set(key, id);
        lines.push(summary);
        code.push(...fixCode);
      }
    }
    plans.push({ finding, core: lines.join('\n'), code });
  }
  return plans;
}

/** "2 checks could not be decided: a (why); b (why)", one line per message. */
function undecidedText(findings: readonly Finding[]): string | null {
  const unknown = findings.filter((f) => f.status === 'unknown');
  if (unknown.length === 0) return null;
  // More than UNDECIDED_SHOWN would be cut anyway; the count says how many there are.
  const list = unknown
    .slice(0, UNDECIDED_SHOWN)
    .map((f) => `${shown(f.id, FINDING_ID_MAX)} (${shown(f.message, UNDECIDED_MAX)})`)
    .join('; ');
  const checks = unknown.length === 1 ? 'check' : 'checks';
  const more = unknown.length > UNDECIDED_SHOWN;
  return cut(`❔ ${unknown.length} ${checks} could not be decided: ${list}`, UNDECIDED_MAX, ELLIPSIS, more);
}

function remediationText(steps: readonly string[]): string {
  const lines = steps
    .slice(0, REMEDIATION_STEPS_SHOWN)
    .map((step, i) => `${i + 1}. ${shown(step, REMEDIATION_STEP_MAX, TRUNCATED)}`);
  const more = steps.length - REMEDIATION_STEPS_SHOWN;
  if (more > 0) lines.push(`…and ${more} more steps`);
  return `*What to do*\n${lines.join('\n')}`;
}

/** An http(s) URL that can sit inside `<url|label>`: no white space, `<`, `>`, `|` or backtick. */
const LINKABLE = /^https?:\/\/[^\s<>|`]+$/;

/** One context element per doc: a link labelled with the page name, or the escaped text. */
function docs(urls: readonly string[]): string[] {
  return urls.slice(0, DOCS_SHOWN).map((url) => {
    if (url.length > URL_MAX || !LINKABLE.test(url)) return `📖 ${shown(url, LABEL_MAX)}`;
    const [, host = url, path = ''] = /^https?:\/\/([^/?#]+)(.*)$/.exec(url) ?? [];
    // The page's file name reads better than the URL: "resource-initialization-error".
    const page = path
      .split('/')
      .filter(Boolean)
      .pop()
      ?.replace(/\.html?(?=#|$)/, '');
    return `📖 ${linkOrPlain(page || host, escapeMrkdwn(url))}`;
  });
}
