/**
 * The Discord adapter's settings (from config/schema.ts) and the platform's published limits,
 * as one typed object the rest of the adapter reads.
 */
import type { Config } from '../../config/load.ts';
import { SwitchboardError } from '../../src/core/errors.ts';
import type { PaceRule } from '../../src/core/platform.ts';

/** Discord's longest message content, in characters. */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;

/**
 * Outbound budgets, below Discord's published limits: 50 requests/s per bot (we book 40/s for
 * messages and leave 10/s for typing and follow-ups) and the channel message bucket of 5 per 5 s
 * (one per 1.1 s keeps any 5 s window at 5 with 0.5 s to spare against clock skew).
 */
export const DISCORD_PACE = {
  globalIntervalMs: 25,
  globalBurst: 1,
  channelIntervalMs: 1100,
  channelBurst: 1,
} as const;

/** The budgets one message spends: the bot's global budget and its channel's. */
export function discordPaceRules(applicationId: string, channelId: string): PaceRule[] {
  return [
    { key: `discord:${applicationId}:global`, intervalMs: DISCORD_PACE.globalIntervalMs, burst: DISCORD_PACE.globalBurst, gateOnly: true },
    { key: `discord:${applicationId}:channel:${channelId}`, intervalMs: DISCORD_PACE.channelIntervalMs, burst: DISCORD_PACE.channelBurst },
  ];
}

/** Discord's interaction tokens last 15 minutes; we stop using one a minute earlier. */
export const INTERACTION_TOKEN_TTL_MS = 14 * 60 * 1000;

/** The adapter's settings. */
export interface DiscordSettings {
  readonly botToken: string;
  readonly applicationId: string;
  /** The application's Ed25519 public key (hex); the interactions endpoint is off without it. */
  readonly publicKeyHex: string | undefined;
  readonly apiUrl: string;
  readonly gatewayEnabled: boolean;
  readonly registerCommands: boolean;
  readonly interactionWindowMs: number;
  readonly identifyDailyLimit: number;
  readonly identifyIntervalMs: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly gatewayLeaseMs: number;
  readonly restTimeoutMs: number;
  readonly maxAttachmentBytes: number;
}

/** Whether Discord is configured (a bot token is set); the adapter is then enabled. */
export function isDiscordConfigured(config: Config): boolean {
  return config.DISCORD_BOT_TOKEN !== undefined;
}

/** Reads the settings; throws `config_invalid` naming what is missing. */
export function discordSettings(config: Config): DiscordSettings {
  const botToken = config.DISCORD_BOT_TOKEN;
  const applicationId = config.DISCORD_APPLICATION_ID;
  const missing = [
    ...(botToken === undefined ? ['DISCORD_BOT_TOKEN'] : []),
    ...(applicationId === undefined ? ['DISCORD_APPLICATION_ID'] : []),
  ];
  if (botToken === undefined || applicationId === undefined) {
    throw new SwitchboardError('config_invalid', `Discord is enabled but ${missing.join(' and ')} is not set`, {
      issues: missing.map((path) => ({ path, message: 'required when DISCORD_BOT_TOKEN is set' })),
    });
  }
  if (config.DISCORD_RECONNECT_MAX_MS < config.DISCORD_RECONNECT_BASE_MS) {
    throw new SwitchboardError('config_invalid', 'DISCORD_RECONNECT_MAX_MS must be at least DISCORD_RECONNECT_BASE_MS', {
      issues: [{ path: 'DISCORD_RECONNECT_MAX_MS', message: 'must be ≥ DISCORD_RECONNECT_BASE_MS' }],
    });
  }
  return {
    botToken,
    applicationId,
    publicKeyHex: config.DISCORD_PUBLIC_KEY?.toLowerCase(),
    apiUrl: config.DISCORD_API_URL.replace(/\/+$/, ''),
    gatewayEnabled: config.DISCORD_GATEWAY_ENABLED,
    registerCommands: config.DISCORD_REGISTER_COMMANDS,
    interactionWindowMs: config.DISCORD_INTERACTION_WINDOW_SECONDS * 1000,
    identifyDailyLimit: config.DISCORD_IDENTIFY_DAILY_LIMIT,
    identifyIntervalMs: config.DISCORD_IDENTIFY_INTERVAL_MS,
    reconnectBaseMs: config.DISCORD_RECONNECT_BASE_MS,
    reconnectMaxMs: config.DISCORD_RECONNECT_MAX_MS,
    gatewayLeaseMs: config.DISCORD_GATEWAY_LEASE_MS,
    restTimeoutMs: config.DISCORD_REST_TIMEOUT_MS,
    maxAttachmentBytes: config.DISCORD_MAX_ATTACHMENT_BYTES,
  };
}
