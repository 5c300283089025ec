/**
 * The Slack adapter: Events API over HTTP (/webhooks/slack/events) and/or Socket Mode for
 * receiving, OAuth v2 installs (/oauth/slack/install, /oauth/slack/callback) or one configured bot
 * token for workspaces, and chat.postMessage through `@slack/web-api` for replies.
 */
import type { Config } from '../../config/load.ts';
import { SwitchboardError, toSwitchboardError } from '../../src/core/errors.ts';
import type { AdapterStatus, PlatformAdapter, PlatformAdapterDeps } from '../../src/core/platform.ts';
import type { PlatformAdapterFactory } from '../index.ts';
import { isSlackConfigured, slackSettings, type SlackSettings } from './config.ts';
import { createSlackDispatcher } from './dispatch.ts';
import { createEventsRouter } from './events.ts';
import { registerConfiguredToken } from './identity.ts';
import { createOAuthRouter } from './oauth.ts';
import { slackPaceRules } from './pace.ts';
import { SLACK_MAX_MESSAGE_CHARS } from './render.ts';
import { createSlackSend } from './send.ts';
import { createSocketModeRunner } from './socket-mode.ts';
import { createTokenSource } from './tokens.ts';
import type { SlackApiOptions } from './web-client.ts';

/** How often a configured bot token is re-registered after Slack could not be reached at start. */
const REGISTER_RETRY_MS = 30_000;

/** Builds the adapter from its settings and ports. */
export function createSlackAdapter(settings: SlackSettings, deps: PlatformAdapterDeps, options: { jsonMaxDepth: number }): PlatformAdapter {
  const api: SlackApiOptions = { apiUrl: settings.apiUrl, timeoutMs: settings.apiTimeoutMs, retries: settings.apiRetries, log: deps.log };
  const tokens = createTokenSource({
    installations: deps.installations,
    locks: deps.locks,
    clock: deps.clock,
    log: deps.log,
    audit: deps.audit,
    api,
    client: settings.oauth === undefined ? undefined : { id: settings.oauth.clientId, secret: settings.oauth.clientSecret },
  });
  const dispatch = createSlackDispatcher({
    sink: deps.sink,
    installations: deps.installations,
    linkedUser: deps.linkedUser,
    audit: deps.audit,
    log: deps.log,
    maxAttachmentBytes: settings.maxAttachmentBytes,
  });
  const socket =
    deps.receive && settings.appToken !== undefined
      ? createSocketModeRunner({
          appToken: settings.appToken,
          apiUrl: settings.apiUrl,
          apiTimeoutMs: settings.apiTimeoutMs,
          apiRetries: settings.apiRetries,
          leaseMs: settings.socketLeaseMs,
          locks: deps.locks,
          dispatch,
          log: deps.log,
        })
      : undefined;
  let registered: string | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const register = async (token: string): Promise<void> => {
    try {
      registered = (await registerConfiguredToken({ token, api, installations: deps.installations, tenantId: deps.defaultTenantId })).teamId;
    } catch (err) {
      const error = toSwitchboardError(err, 'send_failed');
      if (!error.retryable) {
        throw new SwitchboardError('config_invalid', 'SLACK_BOT_TOKEN was refused by Slack (auth.test)', { context: error.details.context ?? {} }, { cause: err });
      }
      deps.log.warn({ code: error.code }, 'Slack unreachable while registering SLACK_BOT_TOKEN; retrying');
      retryTimer = setTimeout(() => void register(token).catch((e: unknown) => deps.log.error({ err: e }, 'SLACK_BOT_TOKEN refused')), REGISTER_RETRY_MS);
      retryTimer.unref();
    }
  };

  const status = (): AdapterStatus => {
    const parts = [
      settings.signingSecret === undefined ? undefined : 'events over HTTP',
      socket === undefined ? undefined : `socket mode ${socket.state()}`,
      settings.botToken === undefined ? undefined : `workspace ${registered ?? 'not registered yet'}`,
      settings.oauth === undefined ? undefined : 'OAuth installs',
    ];
    return { platform: 'slack', state: 'enabled', detail: parts.filter((p) => p !== undefined).join('; ') };
  };

  return {
    platform: 'slack',
    ...(deps.receive && settings.signingSecret !== undefined
      ? { webhooks: createEventsRouter({ signingSecret: settings.signingSecret, dispatch, clock: deps.clock, log: deps.log, jsonMaxDepth: options.jsonMaxDepth }) }
      : {}),
    ...(deps.receive && settings.oauth !== undefined
      ? {
          oauth: createOAuthRouter({
            oauth: settings.oauth,
            api,
            installations: deps.installations,
            counters: deps.counters,
            audit: deps.audit,
            clock: deps.clock,
            log: deps.log,
            tenantId: deps.defaultTenantId,
          }),
        }
      : {}),
    maxMessageChars: SLACK_MAX_MESSAGE_CHARS,
    paceRules: slackPaceRules,
    send: createSlackSend({ tokens, api }),
    start: async () => {
      if (settings.botToken !== undefined) await register(settings.botToken);
      await socket?.start();
    },
    stop: async () => {
      clearTimeout(retryTimer);
      await socket?.stop();
    },
    status,
  };
}

/** The factory the composition root reads (adapters/index.ts). */
export const slackAdapterFactory: PlatformAdapterFactory = {
  platform: 'slack',
  isConfigured: (config: Config) => isSlackConfigured(config),
  create: (config, deps) => createSlackAdapter(slackSettings(config), deps, { jsonMaxDepth: config.HTTP_JSON_MAX_DEPTH }),
};
