/**
 * A rate-limit enforcing front for the Slack stand-in, for the burst benchmark: an HTTP proxy on
 * 127.0.0.1 that forwards every request to the stand-in unchanged, except that a
 * chat.postMessage to a channel that already got one less than a second ago (Slack's published
 * "about 1 message per second per channel"; 20 ms of grace for clock granularity, as the Telegram
 * stand-in allows) is answered 429 with `Retry-After` and not forwarded. Every 429 is counted.
 * The same for the Discord stand-in's REST API: 50 requests/s per bot over every route, and the
 * channel message-create bucket of 5 per 5 s per channel, answered 429 with Discord's body
 * (`retry_after` in seconds, `global`) and headers.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Slack's per-channel minimum gap between messages, in ms. */
export const SLACK_CHANNEL_GAP_MS = 1000;
const GRACE_MS = 20;

/** One 429 the front answered. */
export interface LimitRefusal {
  readonly at: number;
  readonly channel: string;
  readonly retryAfterSeconds: number;
  /** Time since the channel's previous accepted post. */
  readonly gapMs: number;
}

/** The running front. */
export interface SlackLimitsFront {
  /** The Web API base to configure (SLACK_API_URL), ending in /api/. */
  readonly apiUrl: string;
  /** Every 429 answered, oldest first. */
  refusals(): LimitRefusal[];
  close(): Promise<void>;
}

function channelOf(contentType: string, body: Buffer): string {
  const text = body.toString('utf8');
  if (contentType.includes('json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object') {
        const channel = (parsed as Record<string, unknown>)['channel'];
        return typeof channel === 'string' ? channel : '';
      }
    } catch {
      return '';
    }
    return '';
  }
  return new URLSearchParams(text).get('channel') ?? '';
}

/** Discord's global limit: requests per second per bot. */
export const DISCORD_GLOBAL_PER_SECOND = 50;
/** Discord's message-create bucket per channel: this many per window. */
export const DISCORD_CHANNEL_BUCKET = { count: 5, windowMs: 5000 } as const;

/** The running Discord front. */
export interface DiscordLimitsFront {
  /** The REST base to configure (DISCORD_API_URL), as the stand-in's (…/api). */
  readonly apiUrl: string;
  /** Every 429 answered, oldest first (`channel` is empty for a global refusal). */
  refusals(): LimitRefusal[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

type Gate = (req: IncomingMessage, body: Buffer, res: ServerResponse) => boolean;

/** A proxy to `upstreamUrl` that lets `gate` answer a request itself (returning true) before forwarding. */
async function startFront(upstreamUrl: string, gate: Gate): Promise<{ apiUrl: string; close: () => Promise<void> }> {
  const upstream = new URL(upstreamUrl);
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: `proxy: ${err.message}` }));
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    void readBody(req).then(
      (body) => {
        if (!gate(req, body, res)) forward(req, res, body);
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts a front for the Slack stand-in whose Web API base is `upstreamApiUrl` (…/api/). */
export async function startSlackLimitsFront(upstreamApiUrl: string): Promise<SlackLimitsFront> {
  const lastSent = new Map<string, number>();
  const refusals: LimitRefusal[] = [];
  const front = await startFront(upstreamApiUrl, (req, body, res) => {
    if (req.method !== 'POST' || !((req.url ?? '').split('?')[0] ?? '').endsWith('/chat.postMessage')) return false;
    const channel = channelOf(String(req.headers['content-type'] ?? ''), body);
    const now = Date.now();
    const last = lastSent.get(channel);
    if (last !== undefined && now - last < SLACK_CHANNEL_GAP_MS - GRACE_MS) {
      const retryAfterSeconds = Math.max(1, Math.ceil((last + SLACK_CHANNEL_GAP_MS - now) / 1000));
      refusals.push({ at: now, channel, retryAfterSeconds, gapMs: now - last });
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfterSeconds) });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return true;
    }
    // Counted when let through: a send the stand-in then refuses for another reason is rare here.
    lastSent.set(channel, now);
    return false;
  });
  return { apiUrl: front.apiUrl, refusals: () => [...refusals], close: front.close };
}

/** Starts a front for the Discord stand-in whose REST base is `upstreamApiUrl` (…/api). */
export async function startDiscordLimitsFront(upstreamApiUrl: string): Promise<DiscordLimitsFront> {
  let global: number[] = [];
  const perChannel = new Map<string, number[]>();
  const refusals: LimitRefusal[] = [];
  const refuse = (res: ServerResponse, channel: string, retryAfterMs: number, isGlobal: boolean, now: number, gapMs: number): true => {
    const retryAfter = Math.max(0.001, retryAfterMs / 1000);
    refusals.push({ at: now, channel, retryAfterSeconds: retryAfter, gapMs });
    res.writeHead(429, {
      'content-type': 'application/json',
      'retry-after': String(Math.ceil(retryAfter)),
      ...(isGlobal
        ? { 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' }
        : {
            'x-ratelimit-limit': String(DISCORD_CHANNEL_BUCKET.count),
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset-after': retryAfter.toFixed(3),
            'x-ratelimit-bucket': `front-${channel}`,
            'x-ratelimit-scope': 'user',
          }),
    });
    res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: retryAfter, global: isGlobal }));
    return true;
  };
  const front = await startFront(upstreamApiUrl, (req, _body, res) => {
    const now = Date.now();
    global = global.filter((t) => now - t < 1000);
    const oldest = global[0];
    if (global.length >= DISCORD_GLOBAL_PER_SECOND && oldest !== undefined) return refuse(res, '', oldest + 1000 - now, true, now, now - (global.at(-1) ?? now));
    const channel = req.method === 'POST' ? /\/channels\/(\d+)\/messages$/.exec((req.url ?? '').split('?')[0] ?? '')?.[1] : undefined;
    if (channel !== undefined) {
      const recent = (perChannel.get(channel) ?? []).filter((t) => now - t < DISCORD_CHANNEL_BUCKET.windowMs);
      const first = recent[0];
      if (recent.length >= DISCORD_CHANNEL_BUCKET.count && first !== undefined) {
        return refuse(res, channel, first + DISCORD_CHANNEL_BUCKET.windowMs - now, false, now, now - (recent.at(-1) ?? now));
      }
      perChannel.set(channel, [...recent, now]);
    }
    global.push(now);
    return false;
  });
  return { apiUrl: front.apiUrl, refusals: () => [...refusals], close: front.close };
}
