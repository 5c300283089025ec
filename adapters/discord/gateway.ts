/**
 * One gateway session: a discord.js Client logged in with our identify budget as its identify
 * throttler and our jittered, closable reconnects as its sharding strategy. It reports raw
 * MESSAGE_CREATE payloads (normalized and zod-parsed by the adapter, so nothing depends on the
 * client's caches), READY (the bot's user id), resumes, and close codes Discord means as fatal
 * (bad token, disallowed intents). discord.js resumes by itself (op 6 with the session id and
 * sequence) and re-identifies only when Discord refuses the resume.
 */
import { Client, Events, GatewayIntentBits, Options, Partials } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/core/logger.ts';
import type { DiscordSettings } from './config.ts';
import type { IdentifyBudget } from './identify-budget.ts';
import { GatedShardingStrategy, createReconnectGate } from './reconnect.ts';

/** What a session reports. */
export interface GatewayEvents {
  readonly onMessageCreate: (raw: unknown) => void;
  readonly onReady: (botUserId: string) => void;
  readonly onResumed: () => void;
  /** Discord closed the connection for good (e.g. 4004 bad token, 4014 disallowed intents). */
  readonly onFatal: (closeCode: number) => void;
}

/** A gateway connection that can be opened once and closed. */
export interface GatewaySession {
  /** Logs in; resolves on READY, rejects on a refused token. May stay pending while identify is refused. */
  open(): Promise<void>;
  /** Disconnects for good; no reconnect follows. */
  close(): Promise<void>;
}

/** How a session is built. */
export interface GatewaySessionOptions {
  readonly settings: DiscordSettings;
  readonly budget: IdentifyBudget;
  readonly events: GatewayEvents;
  readonly log: Logger;
  readonly random?: () => number;
}

const RawPacketSchema = z.object({ t: z.string().max(100).nullish(), d: z.unknown() });
const ReadySchema = z.object({ user: z.object({ id: z.string().regex(/^\d{1,22}$/) }) });

/** The intents the adapter needs: guild channels, their messages and content, and DMs. */
export const GATEWAY_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
] as const;

/** Creates a session (nothing connects until `open`). */
export function createGatewaySession(options: GatewaySessionOptions): GatewaySession {
  const { settings, budget, events, log } = options;
  const gate = createReconnectGate({
    baseMs: settings.reconnectBaseMs,
    maxMs: settings.reconnectMaxMs,
    ...(options.random ? { random: options.random } : {}),
    onBackoff: (delayMs, attempt) => log.info({ delayMs, attempt }, 'discord gateway reconnecting after backoff'),
  });
  const client = new Client({
    intents: [...GATEWAY_INTENTS],
    partials: [Partials.Channel, Partials.Message],
    allowedMentions: { parse: [], repliedUser: false },
    rest: { api: settings.apiUrl, retries: 0, timeout: settings.restTimeoutMs },
    ws: {
      buildIdentifyThrottler: () => budget,
      buildStrategy: (manager) => new GatedShardingStrategy(manager, gate),
    },
    // We read raw dispatches; the message cache would only grow.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
  });

  client.on(Events.Raw, (packet: unknown) => {
    const parsed = RawPacketSchema.safeParse(packet);
    if (!parsed.success) return;
    if (parsed.data.t === 'MESSAGE_CREATE') events.onMessageCreate(parsed.data.d);
    if (parsed.data.t === 'READY') {
      const ready = ReadySchema.safeParse(parsed.data.d);
      if (ready.success) events.onReady(ready.data.user.id);
    }
  });
  client.on(Events.ShardResume, (_shardId, replayed) => {
    log.info({ replayed }, 'discord gateway resumed');
    events.onResumed();
  });
  client.on(Events.ShardReconnecting, () => log.info('discord gateway connection closed; reconnecting'));
  client.on(Events.ShardDisconnect, (event) => {
    log.error({ code: event.code }, 'discord gateway closed for good');
    events.onFatal(event.code);
  });
  client.on(Events.ShardError, (error) => log.warn({ error: error.name }, 'discord gateway socket error'));
  // discord.js's own narration (connects, resumes, heartbeats). It masks only a token's last
  // part, so the token never reaches the log from here.
  client.on(Events.Debug, (message) => {
    if (!log.isLevelEnabled('trace') || message.startsWith('Provided token')) return;
    log.trace({ sdk: message.replaceAll(settings.botToken, '[token]').slice(0, 500) }, 'discord.js debug');
  });
  client.on(Events.Error, (error) => log.warn({ error: error.name }, 'discord client error'));

  let closed = false;
  return {
    open: async () => {
      await client.login(settings.botToken);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      gate.close();
      await client.destroy().catch((err: unknown) => log.warn({ error: err instanceof Error ? err.name : 'unknown' }, 'discord client destroy failed'));
    },
  };
}
