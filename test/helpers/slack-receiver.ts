import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { readBody } from './http-body';

/** One POST the receiver got, decoded. */
export interface SlackPost {
  readonly method: string;
  /** The request path, e.g. `/services/T000/B000/SECRETxyz`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body parsed as JSON; `undefined` when it was not JSON. */
  readonly body: unknown;
  /** Arrival order, from 0. */
  readonly seq: number;
}

/** How the receiver answers one request. */
export interface SlackReply {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** @default 'ok' for a 200, else empty */
  readonly body?: string;
  /** Hold the answer this long (a slow Slack). */
  readonly delayMs?: number;
  /** Close the connection after reading the request, without answering (a reset). */
  readonly hangUp?: boolean;
}

/** Slack's answer to a good incoming-webhook post. */
export const SLACK_OK: SlackReply = { status: 200, body: 'ok' };

export interface SlackReceiver {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request received since the last {@link SlackReceiver.script} or reset. */
  readonly posts: readonly SlackPost[];
  /** A webhook URL on this receiver, shaped like Slack's. @default path '/services/T000/B000/SECRETxyz' */
  webhookUrl(path?: string): string;
  /**
   * Answers the next requests with `replies`, in order, then every later one with
   * `otherwise`; forgets the requests so far, like a fresh Slack for the next test.
   */
  script(replies: readonly SlackReply[], otherwise?: SlackReply): void;
  /** Back to answering `200 ok` to everything, with no requests recorded. */
  reset(): void;
  close(): Promise<void>;
}

/** The path tests use as the webhook's secret part. */
export const SECRET_WEBHOOK_PATH = '/services/T000/B000/SECRETxyz';

/**
 * A local stand-in for a Slack incoming webhook: an HTTP server on 127.0.0.1 (random port)
 * that records every request and answers per a script, so retries, timeouts and error
 * handling run against a real socket. Nothing leaves the machine.
 */
export async function startSlackReceiver(): Promise<SlackReceiver> {
  const posts: SlackPost[] = [];
  let queue: SlackReply[] = [];
  let otherwise: SlackReply = SLACK_OK;
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    posts.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rawBody,
      body: parseJson(rawBody),
      seq: posts.length,
    });
    const reply = queue.shift() ?? otherwise;
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, reply.delayMs);
        timers.add(timer);
      });
    }
    if (reply.hangUp) {
      req.socket.destroy();
      return;
    }
    // The client may have given up (timeout) while the reply was held.
    if (res.destroyed) return;
    const status = reply.status ?? 200;
    res.writeHead(status, { 'content-type': 'text/html', ...reply.headers });
    res.end(reply.body ?? (status === 200 ? 'ok' : ''));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    posts,
    webhookUrl: (path = SECRET_WEBHOOK_PATH) => `${url}${path}`,
    script(replies, fallback = SLACK_OK) {
      queue = [...replies];
      otherwise = fallback;
      posts.length = 0;
    },
    reset() {
      queue = [];
      otherwise = SLACK_OK;
      posts.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 127.0.0.1 port that nothing listens on (bound, then released), for "connection refused". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * One Slack receiver for a test file: started in beforeAll, reset before each test, closed in
 * afterAll. Returns a getter.
 */
export function useSlackReceiver(): () => SlackReceiver {
  let receiver: SlackReceiver | undefined;
  beforeAll(async () => {
    receiver = await startSlackReceiver();
  });
  beforeEach(() => {
    receiver?.reset();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  return () => {
    if (!receiver) throw new Error('the Slack receiver starts in beforeAll');
    return receiver;
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
