/**
 * A local stand-in of Discord for the real discord.js: the REST API (gateway/bot, channel
 * messages with scripted 429s, typing, interaction follow-up webhooks, command registration) on
 * the recording HTTP stand-in, and a gateway WebSocket speaking HELLO / IDENTIFY → READY +
 * GUILD_CREATE / MESSAGE_CREATE / heartbeat ACK / RESUME → replay + RESUMED / INVALID_SESSION.
 * The gateway keeps each session's dispatch log, so a dropped connection that resumes gets the
 * events it missed (and, with `resumeOverlap`, some it already had, as Discord may send).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { reply, startHttpStandin, type HttpStandin, type RecordedRequest, type StandinHandler, type StandinReply } from './http-standin.ts';

/** Who the stand-in's bot is and where it lives. */
export interface DiscordStandinOptions {
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guildId: string;
  readonly channelIds: readonly string[];
  readonly heartbeatIntervalMs?: number;
}

/** One op the client sent on the gateway. */
export interface GatewayFrame {
  readonly op: number;
  readonly d: unknown;
  readonly connection: number;
  readonly at: number;
}

/** What the stand-in does when a client sends RESUME. */
export type ResumeMode = 'replay' | 'invalid-session';

/** A running stand-in. */
export interface DiscordStandin {
  /** The REST base to give discord.js (`rest.api`), e.g. http://127.0.0.1:1234/api. */
  readonly apiUrl: string;
  readonly http: HttpStandin;
  /** Every op the client sent, oldest first. */
  readonly frames: readonly GatewayFrame[];
  /** Gateway connections opened so far. */
  connections(): number;
  /** Whether a connection is open and identified or resumed. */
  live(): boolean;
  identifies(): GatewayFrame[];
  resumes(): GatewayFrame[];
  /** Sends (or, while disconnected, logs for the resume replay) a dispatch; returns its sequence. */
  dispatch(type: string, data: unknown): number;
  /** A MESSAGE_CREATE `d` with sensible defaults. */
  message(fields: Partial<DiscordMessageFields> & { readonly content: string }): Record<string, unknown>;
  /** Cuts the live connection without a close frame (the client sees 1006 and resumes). */
  drop(): void;
  /** What RESUME gets; `overlap` already-seen events are replayed too. */
  setResume(mode: ResumeMode, overlap?: number): void;
  /** Adds the follow-up webhook route of an interaction token. */
  allowInteraction(token: string): void;
  /** Channel message creates, follow-ups and typing calls. */
  messagesIn(channelId: string): RecordedRequest[];
  followups(token: string): RecordedRequest[];
  typingIn(channelId: string): RecordedRequest[];
  /** When a request arrived (ms since the epoch). */
  arrivedAt(request: RecordedRequest | undefined): number;
  /** Scripts a 429 for the next message create in a channel. */
  rateLimitNext(channelId: string, retryAfterSeconds: number): void;
  /** Resolves when `probe` holds; rejects after `timeoutMs`. */
  waitFor(probe: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Fields of a test message. */
export interface DiscordMessageFields {
  readonly id: string;
  readonly channelId: string;
  readonly guildId: string | null;
  readonly author: { readonly id: string; readonly username: string; readonly bot?: boolean };
  readonly content: string;
  readonly mentions: ReadonlyArray<{ readonly id: string; readonly username: string; readonly bot?: boolean }>;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
let snowflakeCounter = 0n;

/** A fresh snowflake id (time-ordered, unique in this process). */
export function snowflake(): string {
  snowflakeCounter = (snowflakeCounter + 1n) & 0x3fffffn;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | snowflakeCounter);
}

interface Session {
  readonly id: string;
  seq: number;
  readonly log: Array<{ s: number; t: string; d: unknown }>;
}

/** Starts the stand-in on 127.0.0.1 (REST and gateway on two free ports). */
export async function startDiscordStandin(options: DiscordStandinOptions): Promise<DiscordStandin> {
  const { botToken, applicationId, botUserId, guildId } = options;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
  const frames: GatewayFrame[] = [];
  let connectionCount = 0;
  let session: Session | undefined;
  let liveSocket: WebSocket | undefined;
  let resumeMode: ResumeMode = 'replay';
  let resumeOverlap = 0;

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  const send = (socket: WebSocket, payload: object): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  };
  const dispatchOn = (socket: WebSocket | undefined, current: Session, t: string, d: unknown): number => {
    current.seq += 1;
    current.log.push({ s: current.seq, t, d });
    if (socket) send(socket, { op: 0, t, s: current.seq, d });
    return current.seq;
  };
  const botUser = { id: botUserId, username: 'switchboard', discriminator: '0', global_name: null, avatar: null, bot: true };
  const guildCreate = () => ({
    id: guildId,
    name: 'Test guild',
    icon: null,
    owner_id: '1',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [{ id: guildId, name: '@everyone', permissions: '0', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    member_count: 2,
    members: [],
    channels: options.channelIds.map((id, position) => ({ id, type: 0, name: `channel-${position}`, position, permission_overwrites: [], guild_id: guildId })),
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    joined_at: new Date().toISOString(),
    large: false,
    unavailable: false,
    premium_tier: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
  });

  wss.on('connection', (socket) => {
    connectionCount += 1;
    const connection = connectionCount;
    send(socket, { op: 10, d: { heartbeat_interval: heartbeatIntervalMs } });
    socket.on('message', (data: RawData) => {
      let frame: { op?: unknown; d?: unknown };
      try {
        frame = JSON.parse(data.toString()) as { op?: unknown; d?: unknown };
      } catch {
        socket.close(4002, 'decode error');
        return;
      }
      const op = typeof frame.op === 'number' ? frame.op : -1;
      frames.push({ op, d: frame.d, connection, at: Date.now() });
      const d = (frame.d ?? {}) as { token?: unknown; session_id?: unknown; seq?: unknown };
      if (op === 1) return send(socket, { op: 11 });
      if (op === 2) {
        if (d.token !== botToken) return socket.close(4004, 'Authentication failed');
        if (liveSocket && liveSocket !== socket) liveSocket.terminate();
        liveSocket = socket;
        session = { id: randomBytes(8).toString('hex'), seq: 0, log: [] };
        dispatchOn(socket, session, 'READY', {
          v: 10,
          user: botUser,
          guilds: [{ id: guildId, unavailable: true }],
          session_id: session.id,
          resume_gateway_url: wsUrl,
          shard: [0, 1],
          application: { id: applicationId, flags: 0 },
        });
        dispatchOn(socket, session, 'GUILD_CREATE', guildCreate());
        return;
      }
      if (op === 6) {
        if (d.token !== botToken) return socket.close(4004, 'Authentication failed');
        const current = session;
        if (resumeMode === 'invalid-session' || !current || d.session_id !== current.id || typeof d.seq !== 'number') {
          return send(socket, { op: 9, d: false });
        }
        if (liveSocket && liveSocket !== socket) liveSocket.terminate();
        liveSocket = socket;
        const from = d.seq - resumeOverlap;
        for (const event of current.log.filter((e) => e.s > from)) send(socket, { op: 0, t: event.t, s: event.s, d: event.d });
        dispatchOn(socket, current, 'RESUMED', null);
      }
    });
    socket.on('close', () => {
      if (liveSocket === socket) liveSocket = undefined;
    });
    socket.on('error', () => undefined);
  });

  const arrivals = new WeakMap<RecordedRequest, number>();
  const requireBot = (request: RecordedRequest): StandinReply | undefined => {
    arrivals.set(request, Date.now());
    if (request.path.startsWith('/api/v10/webhooks/')) return undefined;
    if (request.headers.authorization !== `Bot ${botToken}`) return reply.json({ message: '401: Unauthorized', code: 0 }, { status: 401 });
    return undefined;
  };
  const createdMessage: StandinHandler = (request) => {
    const body = (request.body ?? {}) as { content?: unknown };
    const channelId = request.path.split('/')[4] ?? '';
    return reply.json({
      id: snowflake(),
      channel_id: channelId,
      type: 0,
      content: typeof body.content === 'string' ? body.content : '',
      author: botUser,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
    });
  };
  const routes: Record<string, StandinHandler> = {
    'GET /api/v10/gateway/bot': () =>
      reply.json({
        url: wsUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
      }),
    [`PUT /api/v10/applications/${applicationId}/commands`]: (request) => reply.json(request.body ?? []),
  };
  for (const channelId of options.channelIds) {
    routes[`POST /api/v10/channels/${channelId}/messages`] = createdMessage;
    routes[`POST /api/v10/channels/${channelId}/typing`] = () => reply.json(undefined, { status: 204, headers: { 'content-type': 'text/plain' } });
  }
  const http = await startHttpStandin({ routes, authorize: requireBot });

  const live = () => liveSocket !== undefined && liveSocket.readyState === WebSocket.OPEN;
  return {
    apiUrl: `${http.url}/api`,
    http,
    frames,
    connections: () => connectionCount,
    live,
    identifies: () => frames.filter((f) => f.op === 2),
    resumes: () => frames.filter((f) => f.op === 6),
    dispatch: (type, data) => {
      if (!session) throw new Error('no gateway session yet');
      return dispatchOn(live() ? liveSocket : undefined, session, type, data);
    },
    message: (fields) => {
      const guild = fields.guildId === undefined ? guildId : fields.guildId;
      return {
        id: fields.id ?? snowflake(),
        channel_id: fields.channelId ?? options.channelIds[0],
        ...(guild === null ? {} : { guild_id: guild, member: { nick: null, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false } }),
        author: { discriminator: '0', global_name: null, avatar: null, ...(fields.author ?? { id: '200000000000000001', username: 'alice' }) },
        content: fields.content,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: (fields.mentions ?? []).map((u) => ({ discriminator: '0', global_name: null, avatar: null, ...u })),
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        type: 0,
      };
    },
    drop: () => liveSocket?.terminate(),
    setResume: (mode, overlap = 0) => {
      resumeMode = mode;
      resumeOverlap = overlap;
    },
    allowInteraction: (token) => {
      routes[`POST /api/v10/webhooks/${applicationId}/${token}`] = createdMessage;
    },
    arrivedAt: (request) => (request === undefined ? Number.NaN : (arrivals.get(request) ?? Number.NaN)),
    messagesIn: (channelId) => http.requestsTo(`POST /api/v10/channels/${channelId}/messages`),
    followups: (token) => http.requestsTo(`POST /api/v10/webhooks/${applicationId}/${token}`),
    typingIn: (channelId) => http.requestsTo(`POST /api/v10/channels/${channelId}/typing`),
    rateLimitNext: (channelId, retryAfterSeconds) => {
      http.enqueue(
        `POST /api/v10/channels/${channelId}/messages`,
        reply.json(
          { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
          {
            status: 429,
            headers: {
              'retry-after': String(Math.ceil(retryAfterSeconds)),
              'x-ratelimit-limit': '5',
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset-after': String(retryAfterSeconds),
              'x-ratelimit-bucket': `bucket-${channelId}`,
              'x-ratelimit-scope': 'user',
            },
          },
        ),
      );
    },
    waitFor: async (probe, what, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`discord stand-in: timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await http.close();
    },
  };
}
