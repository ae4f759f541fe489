import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, vi } from 'vitest';
import { ROOT } from './fixtures';
import { readBody } from './http-body';

/** One request the server received, decoded. */
export interface AwsRequest {
  /** `ec2` (Query protocol, XML answers) or `ecs` (JSON 1.1). */
  readonly service: 'ec2' | 'ecs';
  readonly action: string;
  /** EC2: the form parameters (`Filter.1.Name` …); ECS: the JSON body. */
  readonly params: Record<string, unknown>;
  /** Arrival order, from 0. */
  readonly seq: number;
}

/** An HTTP answer. */
export interface Reply {
  readonly status?: number;
  readonly body: string;
  readonly contentType?: string;
  /** Hold the answer this long (a slow AWS). */
  readonly delayMs?: number;
}

/** What to answer for an action: a fixed reply, one per call in order (the last repeats), or a function. */
export type Responder = Reply | readonly Reply[] | ((request: AwsRequest, nth: number) => Reply);

export type Routes = Partial<Record<string, Responder>>;

export interface AwsReplayServer {
  /** `http://127.0.0.1:PORT`, for the client `endpoint` or `AWS_ENDPOINT_URL`. */
  readonly url: string;
  readonly requests: readonly AwsRequest[];
  /** Requests for actions no route answers (they get an error); a test expects none. */
  readonly unrouted: readonly AwsRequest[];
  /** Replaces the routes and forgets the requests so far: a fresh AWS for the next test. */
  setRoutes(routes: Routes): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for AWS: an HTTP server on 127.0.0.1 that answers the real SDK clients
 * with recorded or generated AWS responses (EC2 Query/XML, ECS JSON), so serialisation, XML
 * parsing, pagination, retries and error codes run for real. Nothing leaves the machine.
 */
export async function startAwsReplayServer(initial: Routes = {}): Promise<AwsReplayServer> {
  let routes = initial;
  const requests: AwsRequest[] = [];
  const unrouted: AwsRequest[] = [];
  const counts = new Map<string, number>();

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    let request: AwsRequest;
    if (typeof target === 'string') {
      request = {
        service: 'ecs',
        action: target.split('.').pop() ?? '',
        params: body ? (JSON.parse(body) as Record<string, unknown>) : {},
        seq: requests.length,
      };
    } else {
      const form = Object.fromEntries(new URLSearchParams(body));
      request = { service: 'ec2', action: form.Action ?? '', params: form, seq: requests.length };
    }
    requests.push(request);
    const nth = counts.get(request.action) ?? 0;
    counts.set(request.action, nth + 1);
    const responder = routes[request.action];
    let reply: Reply;
    if (!responder) {
      unrouted.push(request);
      const message = `the replay server has no answer for ${request.action}`;
      reply =
        request.service === 'ec2' ? ec2Error('InvalidAction', message) : ecsError('UnknownOperationException', message);
    } else if (typeof responder === 'function') reply = responder(request, nth);
    else if (isReplyList(responder)) reply = responder[Math.min(nth, responder.length - 1)] as Reply;
    else reply = responder;
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (res.destroyed) return;
    const contentType = { ec2: 'text/xml;charset=UTF-8', ecs: 'application/x-amz-json-1.1' };
    res.writeHead(reply.status ?? 200, {
      'content-type': reply.contentType ?? contentType[request.service],
      'x-amzn-requestid': `replay-${request.seq}`,
    });
    res.end(reply.body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unrouted,
    setRoutes(next) {
      routes = next;
      counts.clear();
      requests.length = 0;
      unrouted.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isReplyList(responder: Responder): responder is readonly Reply[] {
  return Array.isArray(responder);
}

/** An EC2 Query API answer: `<ActionResponse>` around the given XML. */
export function ec2Reply(action: string, innerXml: string): Reply {
  return {
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>${innerXml}</${action}Response>`,
  };
}

/** An EC2 error in the documented shape (`Response/Errors/Error/Code`). */
export function ec2Error(code: string, message: string, status = 400): Reply {
  return {
    status,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`,
  };
}

/** An ECS (JSON 1.1) answer. */
export function ecsReply(body: unknown): Reply {
  return { body: JSON.stringify(body) };
}

/** An ECS error: JSON 1.1 names the type in `__type`. */
export function ecsError(type: string, message: string, status = 400): Reply {
  return { status, body: JSON.stringify({ __type: type, message }) };
}

/** An SNS (Query protocol) `Publish` answer. */
export function snsPublishReply(messageId: string): Reply {
  return {
    body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>`,
  };
}

/** An SNS (Query protocol) error: `ErrorResponse/Error/Code`. */
export function snsError(code: string, message: string, status = 400): Reply {
  return {
    status,
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId></ErrorResponse>`,
  };
}

/** A recorded answer from `test/fixtures/aws/<service>/<Action>/<name>`. */
export function recorded(service: 'ec2' | 'ecs', action: string, name: string): Reply {
  return { body: readFileSync(join(ROOT, 'test/fixtures/aws', service, action, name), 'utf8') };
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Environment for SDK clients (or the CLI) that talk to the replay server with dummy credentials. */
export function replayEnv(url: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'AKIAREPLAYEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'replay-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

/**
 * One replay server for a test file, with the SDK's environment (endpoint, dummy
 * credentials, region) pointing at it for the file's duration. Returns a getter.
 */
export function useAwsReplayServer(): () => AwsReplayServer {
  let server: AwsReplayServer | undefined;
  beforeAll(async () => {
    server = await startAwsReplayServer();
    for (const [name, value] of Object.entries(replayEnv(server.url))) vi.stubEnv(name, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the replay server starts in beforeAll');
    return server;
  };
}
