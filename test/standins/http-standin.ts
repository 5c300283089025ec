/**
 * A tiny recording HTTP server for pointing real SDKs at: routes keyed "METHOD /path", every
 * request recorded (method, path, query, headers, body), and replies scripted per call: JSON,
 * SSE, status + headers, hang (before or after the headers), or a dropped connection.
 * Binds 127.0.0.1 on port 0. Vendor stand-ins (llm-openai.ts, llm-anthropic.ts) build on it.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** The path without the query string, e.g. /v1/chat/completions. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body parsed as JSON, or undefined when it was empty or not JSON. */
  readonly body: unknown;
  /** Settles when the response finished or the client went away (e.g. after an abort). */
  readonly closed: Promise<void>;
}

/** One server-sent event; object data is JSON-encoded. */
export interface SseEvent {
  readonly event?: string;
  readonly data: string | object;
}

/** A scripted answer to one request. */
export type StandinReply =
  | { readonly kind: 'json'; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body: unknown }
  | {
      readonly kind: 'sse';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly events: readonly SseEvent[];
    }
  /** Never answers (or sends headers and then never the body); held until the client leaves or close(). */
  | { readonly kind: 'hang'; readonly afterHeaders: boolean }
  /** Destroys the socket without answering: a connection error for the client. */
  | { readonly kind: 'drop' };

/** Builders for the generic replies. */
export const reply = {
  /** A JSON body, 200 unless told otherwise. */
  json: (body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): StandinReply => ({
    kind: 'json',
    status: init.status ?? 200,
    body,
    ...(init.headers ? { headers: init.headers } : {}),
  }),
  /** A server-sent event stream, closed after the last event. */
  sse: (events: readonly SseEvent[], init: { status?: number; headers?: Record<string, string> } = {}): StandinReply => ({
    kind: 'sse',
    status: init.status ?? 200,
    events,
    ...(init.headers ? { headers: init.headers } : {}),
  }),
  /** No answer at all: the client waits until it gives up. */
  hang: (): StandinReply => ({ kind: 'hang', afterHeaders: false }),
  /** A 200 with JSON headers, then silence: tests deadlines that must cover the body read too. */
  hangAfterHeaders: (): StandinReply => ({ kind: 'hang', afterHeaders: true }),
  /** The connection is cut without a response. */
  drop: (): StandinReply => ({ kind: 'drop' }),
};

/** Computes the reply for a request to one route. */
export type StandinHandler = (request: RecordedRequest) => StandinReply | Promise<StandinReply>;

/** Options for startHttpStandin. */
export interface HttpStandinOptions {
  /** Default handlers by "METHOD /path"; scripted replies (enqueue) take precedence. */
  readonly routes: Readonly<Record<string, StandinHandler>>;
  /** Checked before anything else; a reply here (e.g. 401) is sent and no scripted reply is used. */
  readonly authorize?: (request: RecordedRequest) => StandinReply | undefined;
}

/** A running stand-in. */
export interface HttpStandin {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Requests to one route ("METHOD /path"), oldest first. */
  requestsTo(route: string): RecordedRequest[];
  /** Scripts the next replies for a route, consumed one per request in order. */
  enqueue(route: string, ...replies: StandinReply[]): void;
  /** Resolves once at least `count` requests arrived in all; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Cuts every open connection (hanging ones included) and stops listening. */
  close(): Promise<void>;
}

function writeReply(res: ServerResponse, answer: StandinReply): void {
  switch (answer.kind) {
    case 'json':
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      return;
    case 'sse':
      res.writeHead(answer.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...answer.headers });
      for (const event of answer.events) {
        const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
        res.write(`${event.event === undefined ? '' : `event: ${event.event}\n`}data: ${data}\n\n`);
      }
      res.end();
      return;
    case 'hang':
      if (answer.afterHeaders) res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      return;
    case 'drop':
      res.socket?.destroy();
      return;
  }
}

/** Starts a stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startHttpStandin(options: HttpStandinOptions): Promise<HttpStandin> {
  const requests: RecordedRequest[] = [];
  const queues = new Map<string, StandinReply[]>();
  const waiters = new Set<{ count: number; resolve: () => void }>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody,
        body,
        closed,
      };
      requests.push(recorded);
      for (const waiter of waiters) if (requests.length >= waiter.count) waiter.resolve();

      const route = `${recorded.method} ${recorded.path}`;
      const answer = async (): Promise<StandinReply> => {
        const denied = options.authorize?.(recorded);
        if (denied) return denied;
        const scripted = queues.get(route)?.shift();
        if (scripted) return scripted;
        const handler = options.routes[route];
        if (handler) return handler(recorded);
        return reply.json({ error: { message: `stand-in has no route for ${route}` } }, { status: 404 });
      };
      answer().then(
        (a) => writeReply(res, a),
        (error: unknown) => writeReply(res, reply.json({ error: { message: String(error) } }, { status: 500 })),
      );
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (route) => requests.filter((r) => `${r.method} ${r.path}` === route),
    enqueue(route, ...replies) {
      const queue = queues.get(route) ?? [];
      queue.push(...replies);
      queues.set(route, queue);
    },
    waitForRequests(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`stand-in saw ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
