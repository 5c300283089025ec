/**
 * The Telegram adapter (`telegraf` 4.16's Bot API client): updates arrive at /webhooks/telegram
 * (secret token required) or through getUpdates long polling in one process per bot (offset
 * confirmed only after commit); replies go out with sendMessage as Telegram HTML, paced per chat,
 * per group and per bot; sendChatAction shows typing while the agent works.
 */
import type { Config } from '../../config/load.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import type { AdapterStatus, PlatformAdapter, PlatformAdapterDeps } from '../../src/core/platform.ts';
import type { PlatformAdapterFactory } from '../index.ts';
import { createTelegramApi, type TelegramApi } from './api.ts';
import { isTelegramConfigured, telegramSettings, type TelegramSettings } from './config.ts';
import { createTelegramDispatcher } from './dispatch.ts';
import { createIdentitySource } from './identity.ts';
import { TELEGRAM_CHAT_INTERVAL_MS, TELEGRAM_GLOBAL_INTERVAL_MS, telegramPaceRules } from './pace.ts';
import { createTelegramPoller } from './poller.ts';
import { TELEGRAM_MAX_MESSAGE_CHARS } from './render.ts';
import { createTelegramSend } from './send.ts';
import { createSendSpacing } from './spacing.ts';
import { createTelegramTyping } from './typing.ts';
import { createWebhookRouter } from './webhook.ts';

/** How often getMe / setWebhook are tried again after Telegram could not be reached at start. */
const START_RETRY_MS = 30_000;

/** Options beyond the settings (tests shorten waits; the API client may be replaced by a wrapper). */
export interface TelegramAdapterOptions {
  readonly jsonMaxDepth: number;
  readonly api?: TelegramApi;
  readonly startRetryMs?: number;
}

/** Builds the adapter from its settings and ports. */
export function createTelegramAdapter(settings: TelegramSettings, deps: PlatformAdapterDeps, options: TelegramAdapterOptions): PlatformAdapter {
  const api = options.api ?? createTelegramApi({ token: settings.botToken, apiUrl: settings.apiUrl, timeoutMs: settings.apiTimeoutMs });
  const identity = createIdentitySource({ botId: settings.botId, api, installations: deps.installations, defaultTenantId: deps.defaultTenantId });
  const dispatch = createTelegramDispatcher({
    botId: settings.botId,
    username: identity.username,
    defaultTenantId: deps.defaultTenantId,
    sink: deps.sink,
    installations: deps.installations,
    linkedUser: deps.linkedUser,
    audit: deps.audit,
    log: deps.log,
    maxAttachmentBytes: settings.maxAttachmentBytes,
  });
  const poller =
    deps.receive && settings.mode === 'polling'
      ? createTelegramPoller({
          botId: settings.botId,
          api,
          dispatch,
          locks: deps.locks,
          audit: deps.audit,
          log: deps.log,
          leaseMs: settings.pollLeaseMs,
          pollTimeoutSeconds: settings.pollTimeoutSeconds,
          apiTimeoutMs: settings.apiTimeoutMs,
          prepare: async () => {
            await identity.ensure();
          },
        })
      : undefined;
  const typing = createTelegramTyping({ api, log: deps.log });
  let webhookRegistered = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  // Webhook mode: learn the identity and (when asked) register the webhook; retried in the background.
  const prepareWebhook = async (): Promise<void> => {
    try {
      await identity.ensure();
      if (settings.setWebhookUrl !== undefined && settings.webhookSecret !== undefined && !webhookRegistered) {
        await api.setWebhook({ url: settings.setWebhookUrl, secretToken: settings.webhookSecret });
        webhookRegistered = true;
        deps.log.info('Telegram webhook registered (setWebhook with secret token)');
      }
    } catch (err) {
      const error = toSwitchboardError(err, 'send_failed');
      if (!error.retryable) throw error;
      deps.log.warn({ code: error.code }, 'Telegram unreachable at start (getMe/setWebhook); retrying in the background');
      if (stopped) return;
      retryTimer = setTimeout(() => void prepareWebhook().catch((e: unknown) => deps.log.error({ err: e }, 'Telegram refused getMe/setWebhook')), options.startRetryMs ?? START_RETRY_MS);
      retryTimer.unref();
    }
  };

  const status = (): AdapterStatus => {
    const bot = identity.username() === undefined ? `bot ${settings.botId} (getMe pending)` : `bot @${identity.username() ?? ''} (${settings.botId})`;
    const receiving =
      settings.mode === 'webhook'
        ? `webhook with secret token${settings.setWebhookUrl === undefined ? '' : webhookRegistered ? ', registered' : ', registration pending'}`
        : `polling ${poller?.state() ?? 'off in this process'}`;
    return { platform: 'telegram', state: 'enabled', detail: `${bot}; ${receiving}` };
  };

  return {
    platform: 'telegram',
    ...(deps.receive && settings.mode === 'webhook' && settings.webhookSecret !== undefined
      ? { webhooks: createWebhookRouter({ secret: settings.webhookSecret, dispatch, log: deps.log, jsonMaxDepth: options.jsonMaxDepth }) }
      : {}),
    maxMessageChars: TELEGRAM_MAX_MESSAGE_CHARS,
    paceRules: telegramPaceRules,
    send: createTelegramSend({
      api,
      log: deps.log,
      // Groups keep the per-chat gap here; their 20-per-minute window is checked by the shared pacer gate.
      spacing: createSendSpacing({ globalMs: TELEGRAM_GLOBAL_INTERVAL_MS, chatMs: TELEGRAM_CHAT_INTERVAL_MS, groupMs: TELEGRAM_CHAT_INTERVAL_MS }),
    }),
    typing: typing.typing,
    start: async () => {
      stopped = false;
      if (!deps.receive) return;
      await identity.recall().catch((err: unknown) => deps.log.warn({ err }, 'could not read the Telegram installation'));
      if (poller) await poller.start();
      else await prepareWebhook();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(retryTimer);
      typing.close();
      await poller?.stop();
    },
    status,
  };
}

/** The factory the composition root reads (adapters/index.ts). */
export const telegramAdapterFactory: PlatformAdapterFactory = {
  platform: 'telegram',
  isConfigured: (config: Config) => isTelegramConfigured(config),
  create: (config, deps) => createTelegramAdapter(telegramSettings(config), deps, { jsonMaxDepth: config.HTTP_JSON_MAX_DEPTH }),
};
