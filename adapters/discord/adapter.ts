/**
 * The Discord adapter: gateway (mentions and DMs, one holder per bot, identify budget, jittered
 * reconnects), interactions endpoint (`/ask`), and outbound (messages, follow-ups, typing, pacing).
 * discord.js itself is loaded on first use (see live.ts); nothing here imports it at run time.
 */
import type { KeyObject } from 'node:crypto';
import type { AdapterStatus, PlatformAdapter, PlatformAdapterDeps } from '../../src/core/platform.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import { DISCORD_MAX_MESSAGE_CHARS, discordPaceRules, type DiscordSettings } from './config.ts';
import { ed25519PublicKeyFromHex } from './verify.ts';
import { createIdentifyBudget } from './identify-budget.ts';
import { createGatewaySupervisor, type GatewaySupervisor } from './supervisor.ts';
import type { GatewayEvents, GatewaySession } from './gateway.ts';
import { createInteractionsRouter } from './interactions.ts';
import { createInteractionTokenStore } from './interaction-tokens.ts';
import { createAccept, createGatewayMessageHandler } from './inbound.ts';
import type { NormalizeContext } from './normalize.ts';
import type { LiveParts } from './live.ts';

/** Test seams: randomness for the reconnect jitter. */
export interface DiscordAdapterOptions {
  readonly random?: () => number;
}

/** A session whose SDK parts load when it opens; closing first means it never connects. */
function lazySession(build: () => Promise<GatewaySession>): GatewaySession {
  let inner: GatewaySession | undefined;
  let closed = false;
  return {
    open: async () => {
      const session = await build();
      inner = session;
      if (closed) return session.close();
      await session.open();
    },
    close: async () => {
      closed = true;
      await inner?.close();
    },
  };
}

/** Builds the adapter from its settings and ports. */
export function createDiscordAdapter(settings: DiscordSettings, deps: PlatformAdapterDeps, options: DiscordAdapterOptions = {}): PlatformAdapter {
  const { clock } = deps;
  const log = deps.log.child({ platform: 'discord' });
  const applicationId = settings.applicationId;
  const publicKey: KeyObject | undefined = settings.publicKeyHex === undefined ? undefined : ed25519PublicKeyFromHex(settings.publicKeyHex);
  const tokens = createInteractionTokenStore(deps.installations, applicationId);
  let tenantId = deps.defaultTenantId;
  let botUserId: string | undefined;
  let identifiesUsed: number | undefined;
  const context = (): NormalizeContext => ({ tenantId, applicationId, botUserId, maxAttachmentBytes: settings.maxAttachmentBytes });
  const accept = createAccept(deps);
  const onMessageCreate = createGatewayMessageHandler(accept, context, log);

  let supervisor: GatewaySupervisor | undefined;
  const budget = createIdentifyBudget({
    counters: deps.counters,
    clock,
    botKey: applicationId,
    dailyLimit: settings.identifyDailyLimit,
    minIntervalMs: settings.identifyIntervalMs,
    onIdentify: (used) => {
      identifiesUsed = used;
      log.info({ used, limit: settings.identifyDailyLimit }, 'discord gateway identifying');
    },
    onRefused: (refusal) => {
      if (refusal.kind === 'exhausted') identifiesUsed = refusal.used;
      supervisor?.refused(refusal);
    },
  });

  let live: Promise<LiveParts> | undefined;
  const liveParts = (): Promise<LiveParts> =>
    (live ??= import('./live.ts').then((m) =>
      m.createLiveParts({ settings, tokens, budget, clock, log, ...(options.random ? { random: options.random } : {}) }),
    ));

  if (deps.receive && settings.gatewayEnabled) {
    supervisor = createGatewaySupervisor({
      locks: deps.locks,
      clock,
      log,
      audit: deps.audit,
      tenantId: () => tenantId,
      applicationId,
      leaseMs: settings.gatewayLeaseMs,
      budget,
      openSession: (events) => {
        const wired: GatewayEvents = {
          ...events,
          onReady: (id) => {
            botUserId = id;
            events.onReady(id);
          },
          onResumed: () => undefined,
          onMessageCreate: (raw) => void onMessageCreate(raw),
        };
        return lazySession(async () => (await liveParts()).openSession(wired));
      },
    });
  }

  const webhooks =
    publicKey === undefined || !deps.receive
      ? undefined
      : createInteractionsRouter({ publicKey, windowMs: settings.interactionWindowMs, applicationId, clock, log, tokens, context, accept });

  const status = (): AdapterStatus => {
    const gateway = supervisor?.state() ?? (settings.gatewayEnabled ? 'not run in this process' : 'off');
    const identify = identifiesUsed === undefined ? '' : `, identifies ${identifiesUsed}/${settings.identifyDailyLimit} in 24 h`;
    const detail = `application ${applicationId}: gateway ${gateway}${identify}; interactions ${publicKey ? 'on' : 'off (no DISCORD_PUBLIC_KEY)'}`;
    const state = gateway === 'failed' || gateway === 'paused' ? 'misconfigured' : 'enabled';
    return { platform: 'discord', state, detail };
  };

  return {
    platform: 'discord',
    maxMessageChars: DISCORD_MAX_MESSAGE_CHARS,
    ...(webhooks ? { webhooks } : {}),
    paceRules: (message) => discordPaceRules(applicationId, message.conversation.channelId),
    send: async (message, signal) => (await liveParts()).outbound.send(message, signal),
    typing: async (conversationId, state, conversation) => (await liveParts()).outbound.typing(conversationId, state, conversation),
    start: async () => {
      // The installation row names the tenant Discord messages belong to (created on first start).
      try {
        const installation = await deps.installations.find('discord', applicationId);
        if (installation) tenantId = installation.tenantId;
        else await deps.installations.save({ platform: 'discord', externalId: applicationId, tenantId, name: 'Discord bot', credentials: {} });
      } catch (err) {
        log.warn({ code: toSwitchboardError(err).code }, 'discord installation lookup failed; using the default tenant');
      }
      if (settings.registerCommands && deps.receive) await (await liveParts()).registerCommands();
      supervisor?.start();
    },
    stop: async () => {
      await supervisor?.stop();
      if (live) (await live.catch(() => undefined))?.outbound.close();
    },
    status,
  };
}
