import type { AlertContext } from '../alert';
import type { SnsFormat } from '../config';
import type { Diagnosis, Finding } from '../diagnosis';
import { oneLine, visibleControls } from '../text';
import { escapeMrkdwn, withoutFences } from './slack';

/** One SNS publish: what `Publish` takes, in the product's terms. */
export interface SnsMessage {
  /** Printable ASCII, no line breaks, under 100 characters (SNS rejects anything else). */
  readonly subject: string;
  readonly message: string;
  /** String message attributes for subscription filter policies; absent values are left out. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** SNS: "Subjects must be … less than 100 characters long". */
export const SNS_SUBJECT_MAX = 99;
/** SNS caps a message at 256 KB with its attributes; the body keeps well inside. */
export const SNS_BODY_MAX_BYTES = 240_000;
/** Amazon Q Developer (Chatbot) custom notification limits (reference/chatbot-custom-notifications.md). */
export const CHATBOT_LIMITS = { title: 250, description: 8_000, nextStep: 350, keyword: 75, nextSteps: 5 } as const;

/**
 * Renders a diagnosis for SNS: a subject within SNS's rules, a body (readable text, or the
 * Amazon Q Developer custom notification JSON so the topic can feed Slack, Teams or Chime
 * through Chatbot), and the attributes `cause`, `severity`, `cluster`, `service` and
 * `patternId` for filter policies.
 */
export function renderSnsMessage(diagnosis: Diagnosis, context: AlertContext, format: SnsFormat): SnsMessage {
  return {
    subject: snsSubject(diagnosis),
    message: format === 'chatbot' ? chatbotNotification(diagnosis, context) : textBody(diagnosis, context),
    attributes: attributesOf(diagnosis),
  };
}

/** `ECS network: web: Task could not reach…`, made printable ASCII and cut to SNS's length. */
export function snsSubject(diagnosis: Diagnosis): string {
  const where = diagnosis.service ?? diagnosis.group ?? diagnosis.cluster ?? 'task';
  const raw = `ECS ${diagnosis.cause}: ${where}: ${diagnosis.title}`;
  const ascii = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= SNS_SUBJECT_MAX ? ascii : `${ascii.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...`;
}

function attributesOf(d: Diagnosis): Record<string, string> {
  const values: Array<[string, string | null]> = [
    ['cause', d.cause],
    ['severity', d.severity],
    ['cluster', d.cluster],
    ['service', d.service],
    ['patternId', d.patternId],
  ];
  // SNS refuses empty attribute values; a filter policy treats an absent attribute as no match.
  return Object.fromEntries(values.filter((entry): entry is [string, string] => !!entry[1]));
}

const MARK: Record<Finding['status'], string> = { fail: 'FAIL', warn: 'WARN', unknown: '????', pass: 'PASS' };

/**
 * The plain-text body. Text from the event or a snapshot stays where it belongs: one-line
 * values are kept on one line and the stop reason's own lines are indented under it, so a
 * newline in a name or reason cannot forge a line of its own ("Fix: …"); control characters
 * are shown as escapes.
 */
function textBody(d: Diagnosis, context: AlertContext): string {
  const lines: string[] = [
    `ECS task stopped: ${oneLine(d.title)}`,
    `Cause: ${d.cause} (${d.severity})${d.patternId ? ` · pattern ${oneLine(d.patternId)}` : ''}`,
    '',
    ...where(d).map(([label, value]) => `${label}: ${value}`),
  ];
  if (context.suppressed)
    lines.push(
      `Repeats: stopped ${context.suppressed.count} more time(s) since ${oneLine(context.suppressed.since)} (not alerted separately)`,
    );
  lines.push('', visibleControls(d.explanation));
  const problems = d.findings.filter((f) => f.status !== 'pass');
  if (problems.length > 0) {
    lines.push('', `Network check (${d.network.status}): ${oneLine(d.network.reason)}`);
    for (const f of problems) {
      lines.push(`  ${MARK[f.status]} ${f.endpoint ? `[${oneLine(f.endpoint)}] ` : ''}${oneLine(f.message)}`);
      for (const e of f.evidence) lines.push(`       ${oneLine(e)}`);
      if (f.fix) {
        lines.push(`       Fix: ${oneLine(f.fix.summary)}`);
        if (f.fix.cli)
          lines.push(
            ...visibleControls(f.fix.cli)
              .split('\n')
              .map((l) => `         $ ${l}`),
          );
      }
    }
  } else if (d.network.status !== 'skipped' || d.endpoints.length > 0) {
    lines.push('', `Network check (${d.network.status}): ${oneLine(d.network.reason)}`);
  }
  if (d.remediation.length > 0) lines.push('', 'What to do:', ...d.remediation.map((r) => `  - ${oneLine(r)}`));
  const reason = d.stoppedReason ?? d.containers.find((c) => c.reason)?.reason;
  if (reason)
    lines.push(
      '',
      'Stopped reason:',
      ...visibleControls(reason)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  if (d.docs.length > 0) lines.push('', 'Docs:', ...d.docs.map((u) => `  ${oneLine(u)}`));
  return fitBytes(lines.join('\n'), SNS_BODY_MAX_BYTES, '\n… (truncated)');
}

/** The places a reader looks the task up: cluster, service or group, task, task definition, region. */
function where(d: Diagnosis): Array<[string, string]> {
  const pairs: Array<[string, string | null]> = [
    ['Cluster', d.cluster],
    ['Service', d.service],
    ['Group', d.service ? null : d.group],
    ['Task', d.taskArn],
    ['Task definition', d.taskDefinitionArn?.split('/').pop() ?? null],
    ['Launch type', d.launchType ? `${d.launchType}${d.platformVersion ? ` ${d.platformVersion}` : ''}` : null],
    ['Region', d.region],
    ['Event', d.eventId],
  ];
  return pairs.flatMap(([label, value]) => (value ? [[label, oneLine(value)] as [string, string]] : []));
}

/**
 * The Amazon Q Developer in chat applications custom notification (version 1.0): Chatbot
 * renders `client-markdown` in the chat's own markdown, so untrusted text is escaped for
 * Slack mrkdwn and the raw reason goes in a code block. Repeats of an incident share its
 * `threadId`, so the channel threads them.
 */
function chatbotNotification(d: Diagnosis, context: AlertContext): string {
  const problems = d.findings.filter((f) => f.status === 'fail' || f.status === 'warn');
  const reason = d.stoppedReason ?? d.containers.find((c) => c.reason)?.reason;
  const description = [
    d.explanation,
    ...(context.suppressed
      ? [
          `_Stopped ${context.suppressed.count} more time(s) since ${context.suppressed.since}; not alerted separately._`,
        ]
      : []),
    ...(problems.length > 0
      ? [
          '',
          '*What is wrong*',
          ...problems.map((f) => `• ${f.status === 'fail' ? ':x:' : ':warning:'} ${withoutFences(f.message)}`),
        ]
      : []),
    '',
    where(d)
      .map(([label, value]) => `*${label}:* ${withoutFences(value)}`)
      .join('  '),
    ...(reason ? ['', '*Stopped reason*', `\`\`\`${codeSafe(reason)}\`\`\``] : []),
  ].join('\n');
  const fixes = problems.flatMap((f) =>
    f.fix
      ? [f.fix.cli ? `${withoutFences(f.fix.summary)}: \`${codeSafe(f.fix.cli)}\`` : withoutFences(f.fix.summary)]
      : [],
  );
  const nextSteps = (fixes.length > 0 ? fixes : d.remediation.map(withoutFences)).slice(0, CHATBOT_LIMITS.nextSteps);
  const notification = {
    version: '1.0',
    source: 'custom',
    ...(d.eventId ? { id: d.eventId } : {}),
    content: {
      textType: 'client-markdown',
      title: cut(
        escapeMrkdwn(withoutFences(`${d.cause} · ${d.service ?? d.group ?? d.cluster ?? 'task'}: ${d.title}`)),
        CHATBOT_LIMITS.title,
      ),
      description: cut(escapeMrkdwn(description), CHATBOT_LIMITS.description),
      nextSteps: nextSteps.map((step) => cut(escapeMrkdwn(step), CHATBOT_LIMITS.nextStep)),
      keywords: [d.cause, d.severity, d.cluster, d.service, d.patternId]
        .filter((k): k is string => !!k)
        .map((k) => cut(escapeMrkdwn(withoutFences(k)), CHATBOT_LIMITS.keyword)),
    },
    metadata: {
      ...(context.incidentKey ? { threadId: context.incidentKey } : {}),
      summary: cut(escapeMrkdwn(withoutFences(d.title)), CHATBOT_LIMITS.title),
      additionalContext: Object.fromEntries(
        Object.entries({
          cause: d.cause,
          severity: d.severity,
          cluster: d.cluster,
          service: d.service,
          patternId: d.patternId,
          taskArn: d.taskArn,
        }).filter((entry): entry is [string, string] => !!entry[1]),
      ),
    },
  };
  return JSON.stringify(notification);
}

/** Untrusted text inside a code span or block must not close it. */
function codeSafe(text: string): string {
  return text.replace(/`/g, 'ʼ');
}

/** Cuts escaped text to `max` characters without splitting an entity or a character, closing an open code block. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  // Room for the marker and a closing fence.
  const head = text
    .slice(0, max - 4)
    .replace(/[\ud800-\udbff]$/, '')
    .replace(/&[a-z]{0,3}$/, '');
  return (head.match(/```/g)?.length ?? 0) % 2 === 1 ? `${head}…\`\`\`` : `${head}…`;
}

function fitBytes(text: string, maxBytes: number, marker: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let end = Math.min(text.length, maxBytes);
  while (end > 0 && encoder.encode(text.slice(0, end)).length + encoder.encode(marker).length > maxBytes)
    end = Math.floor(end * 0.9);
  return `${text.slice(0, end)}${marker}`;
}
