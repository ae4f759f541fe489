import type { Diagnosis, Finding, IgnoredInput } from '../core/diagnosis';
import type { Cause } from '../core/taxonomy';
import { visibleControls } from '../core/text';
import type { Style } from './style';

const WIDTH = 100;
const LABEL = 10;
const RAW_LIMIT = 600;

/**
 * Renders one diagnosis as a block a person reads at a glance. Every text in it may come from
 * the event or a snapshot file, so control characters are shown as escapes (see
 * {@link visibleControls}): a stop reason cannot clear the terminal or forge a link in it.
 */
export function renderDiagnosis(diagnosis: Diagnosis, style: Style): string {
  const d = printable(diagnosis);
  const lines: string[] = [];
  const mark = d.alert ? style.red('✖') : style.green('✔');
  const cause = causeColor(d.cause, style)(style.bold(d.cause.toUpperCase()));
  const alert = d.alert ? style.bold(`[${d.severity}]`) : style.dim('(no alert)');
  lines.push(`${mark} ${cause}  ${style.bold(d.title)}  ${alert}`);
  const row = (label: string, value: string | null | undefined): void => {
    if (value) lines.push(...labelled(label, value, style));
  };
  row('task', d.taskArn ?? '(no task ARN)');
  row('where', [d.cluster, d.service ?? d.group, d.taskDefinitionArn?.split('/').pop()].filter(Boolean).join(' · '));
  row(
    'stop',
    [d.stopCode, d.launchType && `${d.launchType}${d.platformVersion ? ` ${d.platformVersion}` : ''}`]
      .filter(Boolean)
      .join(' · '),
  );
  if (d.matched) {
    const origin = d.matched.origin === 'container' ? `container ${d.matched.container}` : 'stoppedReason';
    row(
      'reason',
      `${clip(d.matched.text)}  ${style.dim(`(${origin}${d.matched.truncated ? ', truncated by ECS' : ''})`)}`,
    );
  } else if (d.stoppedReason) {
    row('reason', clip(d.stoppedReason));
  }
  row('pattern', d.patternId ?? style.dim('none matched'));
  if (!d.alert) return lines.join('\n');
  if (d.endpoints.length > 0) row('needs', d.endpoints.join(', '));
  row('why', d.explanation);
  row('network', `${d.network.status}: ${d.network.reason}`);
  // Problems first, in the order that unblocks the task; passes only as a count.
  for (const finding of d.findings.filter((f) => f.status !== 'pass')) lines.push(...renderFinding(finding, style));
  const passed = d.findings.filter((f) => f.status === 'pass').length;
  if (passed > 0) lines.push(...labelled('', style.green(`${passed} check(s) passed`), style));
  d.remediation.forEach((step, index) => {
    lines.push(...labelled(index === 0 ? 'fix' : '', `${index + 1}. ${step}`, style));
  });
  d.docs.forEach((url, index) => {
    lines.push(...labelled(index === 0 ? 'docs' : '', url, style));
  });
  return lines.join('\n');
}

/** Renders an input that was read but is not a stopped task. */
export function renderIgnored(entry: IgnoredInput, where: string, style: Style): string {
  return `${style.dim('–')} ${style.dim('IGNORED')}  ${visibleControls(where)}: ${visibleControls(entry.reason)}`;
}

/** Renders one finding: status, message, evidence and the CLI fix, indented under a diagnosis. */
export function renderFinding(untrusted: Finding, style: Style): string[] {
  const finding = printable(untrusted);
  const color = { fail: style.red, warn: style.yellow, pass: style.green, unknown: style.dim }[finding.status];
  const head = `${color(finding.status.toUpperCase())} ${finding.endpoint ? `[${finding.endpoint}] ` : ''}${finding.message}`;
  const lines = labelled('', head, style);
  for (const evidence of finding.evidence) lines.push(...labelled('', `  ${style.dim(evidence)}`, style));
  if (finding.fix?.cli) lines.push(...labelled('', `  $ ${finding.fix.cli}`, style));
  return lines;
}

/** A copy of a value with {@link visibleControls} applied to every string in it. */
function printable<T>(value: T): T {
  if (typeof value === 'string') return visibleControls(value) as T;
  if (Array.isArray(value)) return value.map(printable) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, printable(item)])) as T;
  return value;
}

function labelled(label: string, value: string, style: Style): string[] {
  const pad = ' '.repeat(LABEL);
  return wrapText(value, WIDTH - LABEL - 2).map((line, index) =>
    index === 0 ? `  ${style.dim(label.padEnd(LABEL))}${line}` : `  ${pad}${line}`,
  );
}

function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && visibleLength(line) + 1 + visibleLength(word) > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return text.replace(/\u001b\[\d+m/g, '').length;
}

function clip(text: string): string {
  return text.length > RAW_LIMIT ? `${text.slice(0, RAW_LIMIT)}…` : text;
}

function causeColor(cause: Cause, style: Style): (text: string) => string {
  if (cause === 'expected') return style.green;
  if (cause === 'unknown' || cause === 'platform') return style.yellow;
  return style.red;
}
