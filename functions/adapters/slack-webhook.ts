import { setTimeout as delay } from 'node:timers/promises';
import { DoctorError } from '../core/errors';
import type { SlackMessage } from '../core/render/slack-message';

/** What a failed delivery knows, besides its message. */
export interface SlackDeliveryFailure {
  readonly permanent: boolean;
  readonly status?: number;
  readonly slackError?: string;
  readonly attempts: number;
}

/**
 * A Slack message that was not delivered, translated once at the adapter boundary. The
 * message, fields and `cause` never contain the webhook URL: its path is the credential.
 */
export class SlackDeliveryError extends DoctorError {
  override readonly name = 'SlackDeliveryError';
  /** true: retrying cannot help (404 no_service, 403/401, 400 invalid_payload / no_text / invalid_blocks..., 410 channel_is_archived, action_prohibited, posting_to_general_channel_denied, other 4xx except 408/429). */
  readonly permanent: boolean;
  /** The last attempt's HTTP status, when that attempt got a response. */
  readonly status?: number;
  /** Slack's short error body, e.g. `no_service`, `invalid_payload` (trimmed, at most 100 chars). */
  readonly slackError?: string;
  /** Requests sent; 0 when there was no time (or no usable URL) for even one. */
  readonly attempts: number;

  constructor(message: string, failure: SlackDeliveryFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.permanent = failure.permanent;
    if (failure.status !== undefined) this.status = failure.status;
    if (failure.slackError !== undefined) this.slackError = failure.slackError;
    this.attempts = failure.attempts;
  }
}

/** How {@link postToSlack} spends its time. */
export interface SlackPostOptions {
  /** Epoch ms by which delivery must be done (the Lambda's remaining time minus a reserve); no attempt or wait goes past it. */
  readonly deadline: number;
  /** @default 4 */
  readonly maxAttempts?: number;
  /** Injected for tests. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default real timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout cap. @default 5000 */
  readonly requestTimeoutMs?: number;
}

/** First backoff ceiling and its cap, for exponential backoff with full jitter. */
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 4_000;
/**
 * An attempt given less than this cannot finish a TLS handshake with Slack, so it would only
 * spend the budget; below it the deadline counts as reached.
 */
const MIN_ATTEMPT_MS = 50;
const SLACK_ERROR_MAX = 100;

/**
 * What Slack's error strings mean for the operator, from the incoming-webhook docs
 * (https://api.slack.com/messaging/webhooks#handling_errors). Every one is permanent.
 */
const GONE = 'the webhook was deleted or disabled, or its app removed; create a new incoming webhook';
const REVOKED = 'the webhook token is revoked or the app uninstalled; create a new incoming webhook';
const ARCHIVED = "the webhook's channel is archived; unarchive it or create a webhook for another channel";
const HINTS: Readonly<Record<string, string>> = {
  no_service: GONE,
  no_service_id: 'the webhook URL is incomplete; copy it again from the Slack app settings',
  invalid_token: REVOKED,
  no_team: "the webhook's workspace no longer exists; create a webhook in the current workspace",
  team_disabled: "the webhook's workspace is disabled; create a webhook in an active workspace",
  channel_not_found: "the webhook's channel was deleted; create a webhook for an existing channel",
  channel_is_archived: ARCHIVED,
  action_prohibited: 'a workspace admin restricted posting to this channel; ask an admin or pick another channel',
  posting_to_general_channel_denied: 'only admins may post to #general here; create a webhook for another channel',
  user_not_found: "the webhook's user no longer exists; create a new incoming webhook",
};
/** Errors about the message itself: the renderer built something Slack refuses. */
const PAYLOAD_ERRORS = /^(invalid_payload|no_text|invalid_blocks.*|too_many_attachments|missing_text.*|msg_too_long)$/;

/** Posts one message; resolves with the number of attempts it took; rejects with SlackDeliveryError. */
export async function postToSlack(
  webhookUrl: string,
  message: SlackMessage,
  options: SlackPostOptions,
): Promise<{ attempts: number }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const send = options.fetch ?? globalThis.fetch;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 4));
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const { deadline } = options;

  // Checked first because fetch's own "Failed to parse URL from …" quotes the secret.
  const problem = webhookUrlProblem(webhookUrl);
  if (problem) {
    throw new SlackDeliveryError(`cannot post to Slack: ${problem}`, { permanent: true, attempts: 0 });
  }
  const redact = redactor(webhookUrl);
  const body = JSON.stringify({ text: message.text, blocks: message.blocks });

  let attempts = 0;
  let last: Transient | undefined;
  while (attempts < maxAttempts) {
    const remaining = deadline - now();
    if (remaining < MIN_ATTEMPT_MS) break;
    attempts += 1;
    const timeoutMs = Math.min(requestTimeoutMs, remaining);
    const outcome = await attempt(send, webhookUrl, body, timeoutMs, redact);
    if (outcome.kind === 'delivered') return { attempts };
    if (outcome.kind === 'rejected') {
      const hint = hintFor(outcome.status, outcome.slackError);
      throw new SlackDeliveryError(
        `Slack rejected the message with ${describeStatus(outcome.status, outcome.slackError)}: ${hint}`,
        { permanent: true, status: outcome.status, ...slackErrorField(outcome.slackError), attempts },
      );
    }
    last = outcome;
    if (attempts >= maxAttempts) break;
    const waitMs = outcome.retryAfterMs ?? fullJitter(attempts);
    if (now() + waitMs + MIN_ATTEMPT_MS > deadline) {
      const why =
        outcome.retryAfterMs === undefined
          ? 'no time is left for another attempt before the deadline'
          : `waiting ${formatSeconds(outcome.retryAfterMs)} as Slack asked (Retry-After) would pass the deadline`;
      throw transientError(
        `gave up posting to Slack after ${plural(attempts)} (${outcome.what}): ${why}`,
        outcome,
        attempts,
      );
    }
    await sleep(waitMs);
  }
  if (!last) {
    throw new SlackDeliveryError('no time was left to post to Slack before the deadline', {
      permanent: false,
      attempts,
    });
  }
  const why = attempts >= maxAttempts ? '' : '; the deadline leaves no time for another attempt';
  throw transientError(`could not post to Slack after ${plural(attempts)}: ${last.what}${why}`, last, attempts);
}

/** Checks that a string is a Slack incoming-webhook URL (https://hooks.slack.com/services/… or workflows …; for tests, http://127.0.0.1:PORT/… and http://localhost:PORT/… are also accepted); returns a reason when it is not. Never echo the URL in the reason. */
export function webhookUrlProblem(url: string): string | null {
  // Reasons name what is wrong in general terms only: the input may be the secret itself.
  if (!url.trim()) return 'the Slack webhook URL is empty';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the Slack webhook URL is not a URL; copy it from the Slack app's Incoming Webhooks page";
  }
  if (parsed.username || parsed.password) return 'the Slack webhook URL must not carry a user name or password';
  const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost';
  if (loopback) {
    return parsed.protocol === 'http:' || parsed.protocol === 'https:'
      ? null
      : 'a local test webhook URL must use http or https';
  }
  if (parsed.hostname !== 'hooks.slack.com') {
    return 'the Slack webhook URL must point at hooks.slack.com (https://hooks.slack.com/services/…)';
  }
  if (parsed.protocol !== 'https:') return 'the Slack webhook URL must use https';
  if (parsed.port) return 'the Slack webhook URL must not name a port';
  if (!/^\/(services|workflows)\/[^/]+/.test(parsed.pathname)) {
    return "the Slack webhook URL path must start with /services/ or /workflows/ followed by the webhook's ids";
  }
  return null;
}

/** One attempt's result: delivered, refused for good, or worth another try. */
type Outcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly status: number; readonly slackError?: string }
  | Transient;

interface Transient {
  readonly kind: 'transient';
  /** The failure in words, without the URL, e.g. `HTTP 503 service_unavailable`. */
  readonly what: string;
  readonly status?: number;
  readonly slackError?: string;
  readonly retryAfterMs?: number;
  /** A plain, redacted record of the network error; never the fetch error itself. */
  readonly cause?: NetworkFailure;
}

/** The parts of a fetch failure safe to keep: undici's errors and stacks may quote the URL. */
export interface NetworkFailure {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
}

async function attempt(
  send: typeof fetch,
  url: string,
  body: string,
  timeoutMs: number,
  redact: (text: string) => string,
): Promise<Outcome> {
  let response: Response;
  let text: string;
  try {
    response = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      // A redirect would carry the alert somewhere Slack did not intend; treat it as an answer.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs, redact);
  }
  try {
    text = await response.text();
  } catch (error) {
    // Slack accepted the message once it said 2xx; retrying would post it twice.
    if (response.ok) return { kind: 'delivered' };
    return networkFailure(error, timeoutMs, redact);
  }
  if (response.ok) return { kind: 'delivered' };
  const status = response.status;
  const slackError = parseSlackError(text, redact);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return {
      kind: 'transient',
      what: describeStatus(status, slackError),
      status,
      ...slackErrorField(slackError),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (status === 408 || status >= 500) {
    return { kind: 'transient', what: describeStatus(status, slackError), status, ...slackErrorField(slackError) };
  }
  return { kind: 'rejected', status, ...slackErrorField(slackError) };
}

/** Undici wraps the socket error (`ECONNREFUSED`, `UND_ERR_SOCKET`) as the `cause` of "fetch failed". */
const NETWORK_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  ETIMEDOUT: 'connect timeout',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
};

function networkFailure(error: unknown, timeoutMs: number, redact: (text: string) => string): Transient {
  const innermost = innermostError(error);
  const name = redact(String(innermost.name ?? 'Error'));
  if (name === 'TimeoutError' || name === 'AbortError') {
    return {
      kind: 'transient',
      what: `no answer within ${timeoutMs} ms`,
      cause: { name, code: 'TIMEOUT', message: `no answer within ${timeoutMs} ms` },
    };
  }
  const code = typeof innermost.code === 'string' ? redact(innermost.code) : undefined;
  const words = (code && NETWORK_WORDS[code]) ?? 'network error';
  return {
    kind: 'transient',
    what: code ? `${words} (${code})` : words,
    cause: {
      name,
      ...(code ? { code } : {}),
      message: redact(String(innermost.message ?? words)),
    },
  };
}

/** Follows `cause` to the socket-level error, which names the real failure. */
function innermostError(error: unknown): { name?: unknown; code?: unknown; message?: unknown } {
  let current = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && current?.cause && typeof current.cause === 'object'; depth += 1) {
    current = current.cause as typeof current;
  }
  return current ?? {};
}

/**
 * Returns a function that replaces every piece of the URL that could be the secret (the
 * whole URL, its path and query, each long path segment) with `[redacted]`. The host alone
 * is not secret and is kept so `ECONNREFUSED 127.0.0.1:PORT` stays useful.
 */
function redactor(url: string): (text: string) => string {
  const secrets = new Set<string>([url, url.trim()]);
  try {
    const parsed = new URL(url);
    secrets.add(parsed.href);
    if (parsed.pathname.length > 1) secrets.add(parsed.pathname);
    if (parsed.search) secrets.add(parsed.search.slice(1));
    for (const segment of parsed.pathname.split('/')) {
      if (segment.length >= 4) {
        secrets.add(segment);
        secrets.add(decodeURIComponentSafe(segment));
      }
    }
  } catch {
    // webhookUrlProblem rejects such a URL before anything is sent.
  }
  const ordered = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Slack answers webhooks with a bare token (`no_service`); workflow webhooks may answer JSON `{ error }`. */
function parseSlackError(body: string, redact: (text: string) => string): string | undefined {
  let text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string') text = parsed.error.trim();
    } catch {
      // Not JSON after all: keep the raw text.
    }
  }
  const clean = redact(text.replace(/\s+/g, ' ')).slice(0, SLACK_ERROR_MAX).trim();
  return clean || undefined;
}

/** `Retry-After` is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); anything else means "use backoff". */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(n-1))). */
function fullJitter(failedAttempts: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failedAttempts - 1));
  return Math.floor(Math.random() * ceiling);
}

function hintFor(status: number, slackError: string | undefined): string {
  if (slackError) {
    const hint = HINTS[slackError];
    if (hint) return hint;
    if (PAYLOAD_ERRORS.test(slackError)) {
      return "Slack refused the message body, which is a bug in ecs-stop-doctor's rendering; retrying cannot help";
    }
  }
  if (status === 401 || status === 403) return REVOKED;
  if (status === 404) return GONE;
  if (status === 410) return ARCHIVED;
  if (status >= 300 && status < 400) return 'the webhook URL redirects, which a Slack webhook never does; check it';
  return 'retrying cannot help; check the webhook and the message';
}

function describeStatus(status: number, slackError: string | undefined): string {
  return slackError ? `HTTP ${status} ${slackError}` : `HTTP ${status}`;
}

function slackErrorField(slackError: string | undefined): { slackError?: string } {
  return slackError === undefined ? {} : { slackError };
}

function transientError(message: string, failure: Transient, attempts: number): SlackDeliveryError {
  return new SlackDeliveryError(
    message,
    {
      permanent: false,
      ...(failure.status === undefined ? {} : { status: failure.status }),
      ...slackErrorField(failure.slackError),
      attempts,
    },
    failure.cause ? { cause: failure.cause } : undefined,
  );
}

function plural(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
