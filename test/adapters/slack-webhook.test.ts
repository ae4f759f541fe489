import { describe, expect, it, vi } from 'vitest';
import { postToSlack, SlackDeliveryError, webhookUrlProblem } from '../../functions/adapters/slack-webhook';
import type { SlackMessage } from '../../functions/core/render/slack-message';
import { rejectionOf } from '../helpers/rejection';
import { closedPort, SECRET_WEBHOOK_PATH, useSlackReceiver } from '../helpers/slack-receiver';

const slack = useSlackReceiver();

const MESSAGE: SlackMessage = {
  text: 'api-7f9c stopped: ResourceInitializationError',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: 'Task stopped', emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: '*Cause* — no route to `secretsmanager` ✓', verbatim: true } },
    { type: 'divider' },
  ],
};

/**
 * A clock that only moves when the code under test sleeps, and records each sleep: retry
 * waits are asserted without real waiting.
 */
function fakeTime(start = 1_700_000_000_000) {
  let time = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => time,
    sleep: async (ms: number) => {
      slept.push(ms);
      time += ms;
    },
  };
}

/** Options with a fake clock and a generous deadline. */
function fastOptions(extra: { maxAttempts?: number; deadlineInMs?: number } = {}) {
  const time = fakeTime();
  return {
    time,
    options: {
      deadline: time.now() + (extra.deadlineInMs ?? 60_000),
      now: time.now,
      sleep: time.sleep,
      ...(extra.maxAttempts ? { maxAttempts: extra.maxAttempts } : {}),
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<SlackDeliveryError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(SlackDeliveryError);
  return error as SlackDeliveryError;
}

describe('postToSlack', () => {
  it('posts the message as JSON and resolves after one attempt when Slack answers ok', async () => {
    const { options, time } = fastOptions();
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, options)).resolves.toEqual({ attempts: 1 });
    const [post, ...more] = slack().posts;
    expect(more).toEqual([]);
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe(SECRET_WEBHOOK_PATH);
    expect(post?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(post?.rawBody).toBe(JSON.stringify({ text: MESSAGE.text, blocks: MESSAGE.blocks }));
    expect(post?.body).toEqual(MESSAGE);
    expect(time.slept).toEqual([]);
  });

  it('waits as long as Retry-After says after a 429, then delivers', async () => {
    slack().script([{ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }]);
    const { options, time } = fastOptions();
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, options)).resolves.toEqual({ attempts: 2 });
    expect(time.slept).toEqual([1_000]);
    expect(slack().posts).toHaveLength(2);
  });

  it('backs off with jitter after a 429 without Retry-After', async () => {
    slack().script([{ status: 429, body: 'rate_limited' }]);
    const { options, time } = fastOptions();
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, options)).resolves.toEqual({ attempts: 2 });
    expect(time.slept).toHaveLength(1);
    expect(time.slept[0]).toBeGreaterThanOrEqual(0);
    expect(time.slept[0]).toBeLessThan(250);
  });

  it.each([500, 502, 503, 504, 408])('retries after HTTP %i, then delivers', async (status) => {
    slack().script([{ status, body: 'internal_error' }]);
    const { options, time } = fastOptions();
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, options)).resolves.toEqual({ attempts: 2 });
    expect(time.slept).toHaveLength(1);
    expect(time.slept[0]).toBeLessThan(250);
    const [first, second] = slack().posts;
    expect(second?.rawBody).toBe(first?.rawBody);
  });

  it('retries when the connection is closed without an answer, then delivers', async () => {
    slack().script([{ hangUp: true }]);
    const { options } = fastOptions();
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, options)).resolves.toEqual({ attempts: 2 });
  });

  it.each([
    [404, 'no_service', /deleted or disabled/],
    [400, 'invalid_payload', /bug in ecs-stop-doctor/],
    [400, 'no_text', /bug in ecs-stop-doctor/],
    [400, 'invalid_blocks', /bug in ecs-stop-doctor/],
    [403, 'invalid_token', /revoked/],
    [403, 'action_prohibited', /admin/],
    [410, 'channel_is_archived', /archived/],
    [404, 'channel_not_found', /channel was deleted/],
    [400, 'posting_to_general_channel_denied', /#general/],
    [401, 'unknown_error', /revoked/],
    [422, 'unprocessable', /retrying cannot help/],
    [302, 'moved', /redirects/],
  ])('rejects at once as permanent on HTTP %i %s', async (status, body, hint) => {
    slack().script([{ status, body: `${body}\n` }]);
    const { options, time } = fastOptions();
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, options));
    expect(error).toMatchObject({ name: 'SlackDeliveryError', permanent: true, status, slackError: body, attempts: 1 });
    expect(error.message).toContain(`HTTP ${status} ${body}`);
    expect(error.message).toMatch(hint);
    expect(slack().posts).toHaveLength(1);
    expect(time.slept).toEqual([]);
  });

  it('reads the error of a JSON answer and keeps at most 100 characters of any answer', async () => {
    slack().script([{ status: 400, body: JSON.stringify({ ok: false, error: 'invalid_blocks' }) }]);
    const json = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, fastOptions().options));
    expect(json.slackError).toBe('invalid_blocks');

    slack().script([{ status: 400, body: `  ${'x'.repeat(500)}  ` }]);
    const long = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, fastOptions().options));
    expect(long.slackError).toBe('x'.repeat(100));
  });

  it('gives up after maxAttempts on a persistent 503, not as permanent', async () => {
    slack().script([], { status: 503, body: 'service_unavailable' });
    const { options, time } = fastOptions({ maxAttempts: 3 });
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, options));
    expect(error).toMatchObject({ permanent: false, status: 503, slackError: 'service_unavailable', attempts: 3 });
    expect(error.message).toBe('could not post to Slack after 3 attempts: HTTP 503 service_unavailable');
    expect(slack().posts).toHaveLength(3);
    // Full jitter: each wait is uniform below base·2^(n-1).
    expect(time.slept).toHaveLength(2);
    expect(time.slept[0]).toBeLessThan(250);
    expect(time.slept[1]).toBeLessThan(500);
  });

  it('leaves slackError unset when the failing answer has no body', async () => {
    slack().script([], { status: 503 });
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, fastOptions({ maxAttempts: 2 }).options));
    expect(error.slackError).toBeUndefined();
    expect(error.message).toBe('could not post to Slack after 2 attempts: HTTP 503');
  });

  it('makes 4 attempts by default', async () => {
    slack().script([], { status: 500, body: 'internal_error' });
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, fastOptions().options));
    expect(error.attempts).toBe(4);
    expect(slack().posts).toHaveLength(4);
  });

  it('times out a slow Slack and rejects within the deadline', async () => {
    slack().script([], { delayMs: 2_000 });
    const started = Date.now();
    const error = await rejection(
      postToSlack(slack().webhookUrl(), MESSAGE, { deadline: started + 600, requestTimeoutMs: 200 }),
    );
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ permanent: false, status: undefined });
    expect(error.attempts).toBeGreaterThanOrEqual(2);
    expect(error.message).toMatch(/no answer within \d+ ms/);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(600 + 250);
  });

  it('caps each request at the time left before the deadline', async () => {
    slack().script([], { delayMs: 2_000 });
    const started = Date.now();
    const error = await rejection(
      postToSlack(slack().webhookUrl(), MESSAGE, { deadline: started + 300, requestTimeoutMs: 5_000 }),
    );
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(/no answer within \d+ ms/);
    expect(Date.now() - started).toBeLessThan(300 + 250);
  });

  it('retries a refused connection, then rejects as not permanent', async () => {
    const port = await closedPort();
    const { options, time } = fastOptions({ maxAttempts: 3 });
    const error = await rejection(postToSlack(`http://127.0.0.1:${port}${SECRET_WEBHOOK_PATH}`, MESSAGE, options));
    expect(error).toMatchObject({ permanent: false, attempts: 3, status: undefined });
    expect(error.message).toBe('could not post to Slack after 3 attempts: connection refused (ECONNREFUSED)');
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(time.slept).toHaveLength(2);
  });

  it('rejects without waiting when Retry-After would pass the deadline', async () => {
    slack().script([], { status: 429, headers: { 'retry-after': '120' }, body: 'rate_limited' });
    const { options, time } = fastOptions({ deadlineInMs: 10_000 });
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, options));
    expect(error).toMatchObject({ permanent: false, status: 429, slackError: 'rate_limited', attempts: 1 });
    expect(error.message).toMatch(/Retry-After.*deadline/);
    expect(time.slept).toEqual([]);
    expect(slack().posts).toHaveLength(1);
  });

  it('sends nothing when the deadline has already passed', async () => {
    const { options } = fastOptions({ deadlineInMs: 0 });
    const error = await rejection(postToSlack(slack().webhookUrl(), MESSAGE, options));
    expect(error).toMatchObject({ permanent: false, attempts: 0 });
    expect(slack().posts).toEqual([]);
  });

  it('refuses a URL that is not a Slack webhook without sending anything', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const error = await rejection(
      postToSlack('https://example.com/services/T000/B000/SECRETxyz', MESSAGE, { deadline: Date.now() + 5_000, fetch }),
    );
    expect(error).toMatchObject({ permanent: true, attempts: 0 });
    expect(fetch).not.toHaveBeenCalled();
  });

  it('uses the injected fetch', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => new Response('ok'));
    await expect(postToSlack(slack().webhookUrl(), MESSAGE, { deadline: Date.now() + 5_000, fetch })).resolves.toEqual({
      attempts: 1,
    });
    expect(fetch).toHaveBeenCalledOnce();
    expect(slack().posts).toEqual([]);
  });
});

describe('postToSlack keeps the webhook URL secret', () => {
  const SECRET = 'SECRETxyz';

  /** Everything a log line or a caller could show of an error and its cause chain. */
  function everythingShown(error: unknown): string {
    const parts: string[] = [];
    let current: unknown = error;
    for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
      const shaped = current as { message?: unknown; stack?: unknown; cause?: unknown };
      parts.push(String(current), String(shaped.message), String(shaped.stack), JSON.stringify(current));
      parts.push(JSON.stringify(Object.getOwnPropertyNames(current).map((k) => [k, String(shaped[k as 'message'])])));
      current = shaped.cause;
    }
    return parts.join('\n');
  }

  const failures: ReadonlyArray<[string, () => Promise<string>]> = [
    ['a refused connection', async () => `http://127.0.0.1:${await closedPort()}${SECRET_WEBHOOK_PATH}`],
    [
      'a permanent 404',
      async () => {
        slack().script([{ status: 404, body: 'no_service' }]);
        return slack().webhookUrl();
      },
    ],
    [
      'an answer that quotes the path',
      async () => {
        slack().script([{ status: 400, body: `invalid_payload at ${SECRET_WEBHOOK_PATH}` }]);
        return slack().webhookUrl();
      },
    ],
    [
      'exhausted 503s',
      async () => {
        slack().script([], { status: 503 });
        return slack().webhookUrl();
      },
    ],
    [
      'a dropped connection',
      async () => {
        slack().script([], { hangUp: true });
        return slack().webhookUrl();
      },
    ],
    ['a URL that does not parse', async () => `not a url ${SECRET_WEBHOOK_PATH}`],
  ];

  it.each(failures)('shows no part of the path after %s', async (_, setUp) => {
    const url = await setUp();
    const { options } = fastOptions({ maxAttempts: 2 });
    const error = await rejection(postToSlack(url, MESSAGE, options));
    const shown = everythingShown(error);
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('/services/T000');
  });

  it('shows no part of the path after a timeout', async () => {
    slack().script([], { delayMs: 1_000 });
    const error = await rejection(
      postToSlack(slack().webhookUrl(), MESSAGE, { deadline: Date.now() + 300, requestTimeoutMs: 100 }),
    );
    expect(everythingShown(error)).not.toContain(SECRET);
  });

  it('shows no part of the path when fetch itself throws an error quoting the URL', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
      throw new TypeError('fetch failed', { cause: new Error(`socket hang up on ${String(input)}`) });
    });
    const time = fakeTime();
    const error = await rejection(
      postToSlack(slack().webhookUrl(), MESSAGE, {
        deadline: time.now() + 60_000,
        now: time.now,
        sleep: time.sleep,
        maxAttempts: 2,
        fetch,
      }),
    );
    expect(fetch).toHaveBeenCalledTimes(2);
    const shown = everythingShown(error);
    expect(shown).toContain('[redacted]');
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('/services/T000');
  });
});

describe('webhookUrlProblem', () => {
  it.each([
    'https://hooks.slack.com/services/T000/B000/SECRETxyz',
    'https://hooks.slack.com/workflows/T000/A000/123/SECRETxyz',
    'http://127.0.0.1:8080/services/T000/B000/SECRETxyz',
    'http://localhost:3000/anything',
  ])('accepts %s', (url) => {
    expect(webhookUrlProblem(url)).toBeNull();
  });

  it.each([
    ['another host', 'http://example.com/services/T000/B000/SECRETxyz'],
    ['another host over https', 'https://example.com/services/T000/B000/SECRETxyz'],
    ['a look-alike host', 'https://hooks.slack.com.example.com/services/T000/B000/SECRETxyz'],
    ['plain http to Slack', 'http://hooks.slack.com/services/T000/B000/SECRETxyz'],
    ['another path', 'https://hooks.slack.com/api/SECRETxyz'],
    ['a bare services path', 'https://hooks.slack.com/services/'],
    ['credentials', 'https://user:SECRETxyz@hooks.slack.com/services/T000/B000/SECRETxyz'],
    ['a non-URL', 'SECRETxyz'],
    ['a non-URL with spaces', 'not a url /services/SECRETxyz'],
    ['an empty string', ''],
  ])('rejects %s without quoting it', (_, url) => {
    const problem = webhookUrlProblem(url);
    expect(problem).toEqual(expect.any(String));
    expect(problem).not.toContain('SECRETxyz');
    if (url) expect(problem).not.toContain(url);
  });
});
