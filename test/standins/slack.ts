/**
 * A local stand-in for Slack, for driving the real `@slack/web-api` and `@slack/socket-mode`
 * SDKs: the Web API methods the adapter calls (auth.test, chat.postMessage with 429 + Retry-After
 * or platform errors on demand, oauth.v2.access for codes and token rotation, users.info,
 * apps.connections.open), a Socket Mode WebSocket (hello, events_api envelopes, acks), and
 * helpers that sign Events API requests the way Slack does.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { reply, startHttpStandin, type HttpStandin, type RecordedRequest } from './http-standin.ts';
import { slackSignature } from '../../adapters/slack/verify.ts';

/** A bot token the stand-in knows. */
export interface StandinBot {
  readonly token: string;
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string;
  /** ms since the epoch after which chat.postMessage answers token_expired. */
  readonly expiresAt?: number;
}

/** What an OAuth code exchanges for. */
export interface StandinGrant {
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string;
  /** Token rotation on: the access token lives this many seconds and a refresh token is issued. */
  readonly rotateEverySeconds?: number;
}

/** One chat.postMessage as the stand-in received it. */
export interface StandinPost {
  readonly at: number;
  readonly token: string | undefined;
  readonly channel: string;
  readonly text: string;
  readonly threadTs: string | undefined;
  readonly fields: Readonly<Record<string, string>>;
}

/** One chat.postMessage attempt and how the stand-in answered it. */
export interface StandinAttempt {
  readonly at: number;
  readonly channel: string;
  readonly outcome: 'ok' | '429' | string;
}

/** One Socket Mode acknowledgement. */
export interface StandinAck {
  readonly envelopeId: string;
  readonly at: number;
}

/** The running stand-in. */
export interface SlackStandin {
  /** The Web API base to configure (SLACK_API_URL), ending in /api/. */
  readonly apiUrl: string;
  readonly http: HttpStandin;
  addBot(bot: StandinBot): void;
  /** Registers an OAuth code. */
  addCode(code: string, grant: StandinGrant): void;
  /** The OAuth client the stand-in accepts. */
  readonly client: { readonly id: string; readonly secret: string };
  /** Every successful chat.postMessage, oldest first. */
  posts(): StandinPost[];
  /** Every chat.postMessage attempt (answered or refused), oldest first. */
  postAttempts(): StandinAttempt[];
  /** The next chat.postMessage answers 429 with Retry-After (seconds). */
  rateLimitNextPost(retryAfterSeconds: number): void;
  /** Refresh-token exchanges seen. */
  refreshes(): number;
  readonly socket: {
    readonly openCount: () => number;
    /** Open WebSocket connections. */
    readonly connections: () => number;
    /** Pushes an events_api envelope to every open connection (normally one); returns its envelope id. */
    push(payload: unknown, options?: { retryAttempt?: number }): string;
    readonly acks: () => StandinAck[];
    waitForAck(envelopeId: string, timeoutMs?: number): Promise<StandinAck>;
    waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  };
  close(): Promise<void>;
}

function fieldsOf(request: RecordedRequest): Record<string, string> {
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('json')) {
    const body = request.body;
    if (body === null || typeof body !== 'object') return {};
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  return Object.fromEntries(new URLSearchParams(request.rawBody));
}

function bearer(request: RecordedRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice('Bearer '.length);
  return fieldsOf(request)['token'];
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`stand-in: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts the stand-in (HTTP and WebSocket on 127.0.0.1, OS-chosen ports). */
export async function startSlackStandin(): Promise<SlackStandin> {
  const bots = new Map<string, StandinBot>();
  const codes = new Map<string, StandinGrant>();
  const refreshTokens = new Map<string, StandinGrant>();
  const client = { id: '1111.2222', secret: randomBytes(16).toString('hex') };
  const posts: StandinPost[] = [];
  const acks: StandinAck[] = [];
  const sockets = new Set<WebSocket>();
  const attempts: StandinAttempt[] = [];
  const rateLimits: number[] = [];
  let tsCounter = 0;
  let refreshCount = 0;
  let openCount = 0;

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const wsPort = (wss.address() as AddressInfo).port;
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      try {
        const frame = JSON.parse(String(data)) as { envelope_id?: unknown };
        if (typeof frame.envelope_id === 'string') acks.push({ envelopeId: frame.envelope_id, at: Date.now() });
      } catch {
        // not JSON: ignored, as Slack would
      }
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: sockets.size, connection_info: { app_id: 'A0STANDIN' } }));
  });

  const issueToken = (grant: StandinGrant): { token: string; refresh?: string } => {
    const token = `xoxb-${grant.rotateEverySeconds === undefined ? '' : 'xoxe-'}${randomBytes(8).toString('hex')}`;
    bots.set(token, {
      token,
      teamId: grant.teamId,
      teamName: grant.teamName,
      botUserId: grant.botUserId,
      botId: grant.botId,
      ...(grant.rotateEverySeconds === undefined ? {} : { expiresAt: Date.now() + grant.rotateEverySeconds * 1000 }),
    });
    if (grant.rotateEverySeconds === undefined) return { token };
    const refresh = `xoxe-1-${randomBytes(12).toString('hex')}`;
    refreshTokens.set(refresh, grant);
    return { token, refresh };
  };

  const http = await startHttpStandin({
    routes: {
      'POST /api/auth.test': (request) => {
        const bot = bots.get(bearer(request) ?? '');
        if (!bot) return reply.json({ ok: false, error: 'invalid_auth' });
        return reply.json({ ok: true, url: 'https://standin.slack.test/', team: bot.teamName, user: 'switchboard', team_id: bot.teamId, user_id: bot.botUserId, bot_id: bot.botId, is_enterprise_install: false });
      },
      'POST /api/chat.postMessage': (request) => {
        const token = bearer(request);
        const fields = fieldsOf(request);
        const channel = fields['channel'] ?? '';
        const refuse = (error: string) => {
          attempts.push({ at: Date.now(), channel, outcome: error });
          return reply.json({ ok: false, error });
        };
        const retryAfter = rateLimits.shift();
        if (retryAfter !== undefined) {
          attempts.push({ at: Date.now(), channel, outcome: '429' });
          return reply.json({ ok: false, error: 'ratelimited' }, { status: 429, headers: { 'retry-after': String(retryAfter) } });
        }
        const bot = bots.get(token ?? '');
        if (!bot) return refuse('invalid_auth');
        if (bot.expiresAt !== undefined && Date.now() > bot.expiresAt) return refuse('token_expired');
        if (channel === '') return refuse('channel_not_found');
        if ((fields['text'] ?? '') === '') return refuse('no_text');
        attempts.push({ at: Date.now(), channel, outcome: 'ok' });
        tsCounter += 1;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, '0')}`;
        posts.push({ at: Date.now(), token, channel, text: fields['text'] ?? '', threadTs: fields['thread_ts'], fields });
        return reply.json({ ok: true, channel, ts, message: { type: 'message', text: fields['text'], bot_id: bot.botId, ts } });
      },
      'POST /api/oauth.v2.access': (request) => {
        const fields = fieldsOf(request);
        if (fields['client_id'] !== client.id || fields['client_secret'] !== client.secret) return reply.json({ ok: false, error: 'invalid_client_id' });
        let grant: StandinGrant | undefined;
        if (fields['grant_type'] === 'refresh_token') {
          grant = refreshTokens.get(fields['refresh_token'] ?? '');
          if (!grant) return reply.json({ ok: false, error: 'invalid_refresh_token' });
          refreshTokens.delete(fields['refresh_token'] ?? '');
          refreshCount += 1;
        } else {
          grant = codes.get(fields['code'] ?? '');
          if (!grant) return reply.json({ ok: false, error: 'invalid_code' });
          codes.delete(fields['code'] ?? '');
        }
        const issued = issueToken(grant);
        return reply.json({
          ok: true,
          access_token: issued.token,
          token_type: 'bot',
          scope: 'app_mentions:read,chat:write,im:history',
          bot_user_id: grant.botUserId,
          app_id: 'A0STANDIN',
          team: { id: grant.teamId, name: grant.teamName },
          enterprise: null,
          is_enterprise_install: false,
          ...(issued.refresh === undefined ? {} : { refresh_token: issued.refresh, expires_in: grant.rotateEverySeconds }),
        });
      },
      'POST /api/users.info': (request) => {
        const user = fieldsOf(request)['user'] ?? '';
        if (!bots.has(bearer(request) ?? '')) return reply.json({ ok: false, error: 'invalid_auth' });
        return reply.json({ ok: true, user: { id: user, name: user.toLowerCase(), profile: { display_name: `Person ${user}`, email: `${user.toLowerCase()}@example.test` } } });
      },
      'POST /api/apps.connections.open': (request) => {
        if (!(bearer(request) ?? '').startsWith('xapp-')) return reply.json({ ok: false, error: 'invalid_auth' });
        openCount += 1;
        return reply.json({ ok: true, url: `ws://127.0.0.1:${wsPort}/link/?ticket=${openCount}` });
      },
    },
  });

  return {
    apiUrl: `${http.url}/api/`,
    http,
    client,
    addBot: (bot) => bots.set(bot.token, bot),
    addCode: (code, grant) => codes.set(code, grant),
    posts: () => [...posts],
    postAttempts: () => [...attempts],
    rateLimitNextPost: (seconds) => rateLimits.push(seconds),
    refreshes: () => refreshCount,
    socket: {
      openCount: () => openCount,
      connections: () => sockets.size,
      push: (payload, options = {}) => {
        const envelopeId = `env-${randomBytes(6).toString('hex')}`;
        const frame = JSON.stringify({
          envelope_id: envelopeId,
          type: 'events_api',
          accepts_response_payload: false,
          retry_attempt: options.retryAttempt ?? 0,
          retry_reason: options.retryAttempt ? 'timeout' : '',
          payload,
        });
        for (const ws of sockets) ws.send(frame);
        return envelopeId;
      },
      acks: () => [...acks],
      waitForAck: async (envelopeId, timeoutMs = 10_000) => {
        await until(() => acks.some((a) => a.envelopeId === envelopeId), timeoutMs, `ack of ${envelopeId}`);
        return acks.find((a) => a.envelopeId === envelopeId) as StandinAck;
      },
      waitForConnections: (count, timeoutMs = 10_000) => until(() => sockets.size === count, timeoutMs, `${count} socket connection(s)`),
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await http.close();
    },
  };
}

/** Headers that make `body` a correctly signed Events API request at `nowSeconds`. */
export function slackSignedHeaders(signingSecret: string, body: string, nowSeconds: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': slackSignature(signingSecret, timestamp, Buffer.from(body, 'utf8')),
  };
}
