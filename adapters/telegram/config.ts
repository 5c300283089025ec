/**
 * The Telegram adapter's settings, taken from the validated config once: the bot (its token and
 * the numeric id the token starts with), how updates arrive (webhook with a mandatory secret
 * token, or long polling behind a lease) and the Bot API options. Incomplete or unsafe
 * combinations are refused with `config_invalid`, naming every problem.
 */
import type { Config } from '../../config/load.ts';
import { SwitchboardError } from '../../src/core/errors.ts';

/** How updates reach us. */
export type TelegramMode = 'webhook' | 'polling';

/** Everything the adapter reads from the config. */
export interface TelegramSettings {
  readonly botToken: string;
  /** The bot's user id: the digits before the token's colon (confirmed by getMe at start). */
  readonly botId: string;
  readonly mode: TelegramMode;
  /** The secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (always set in webhook mode). */
  readonly webhookSecret: string | undefined;
  /** Where setWebhook points Telegram, when the adapter registers the webhook itself. */
  readonly setWebhookUrl: string | undefined;
  /** Bot API root; the SDK appends /bot<token>/<method>. */
  readonly apiUrl: string;
  readonly apiTimeoutMs: number;
  readonly pollTimeoutSeconds: number;
  readonly pollLeaseMs: number;
  readonly maxAttachmentBytes: number;
}

const TOKEN = /^(\d{1,20}):[A-Za-z0-9_-]{20,200}$/;
// Telegram allows 1-256 of these characters; we ask for at least 32 so it cannot be guessed.
const SECRET = /^[A-Za-z0-9_-]{32,256}$/;

/** True when a Telegram credential is set: the adapter is then enabled (and must be complete). */
export function isTelegramConfigured(config: Config): boolean {
  return config.TELEGRAM_BOT_TOKEN !== undefined || config.TELEGRAM_WEBHOOK_SECRET !== undefined;
}

function webhookUrlOf(config: Config, problems: string[]): string | undefined {
  if (!config.TELEGRAM_SET_WEBHOOK) return undefined;
  if (config.TELEGRAM_MODE !== 'webhook') {
    problems.push('TELEGRAM_SET_WEBHOOK: only in webhook mode (polling deletes the webhook instead)');
    return undefined;
  }
  const target =
    config.TELEGRAM_WEBHOOK_URL ?? (config.PUBLIC_URL === undefined ? undefined : new URL('/webhooks/telegram', config.PUBLIC_URL).toString());
  if (target === undefined) {
    problems.push('TELEGRAM_WEBHOOK_URL: TELEGRAM_SET_WEBHOOK needs it (or PUBLIC_URL) to tell Telegram where to post');
    return undefined;
  }
  if (config.SWITCHBOARD_ENV === 'production' && !target.startsWith('https://')) {
    problems.push('TELEGRAM_WEBHOOK_URL: Telegram only posts to https:// URLs');
    return undefined;
  }
  return target;
}

/** Reads and checks the Telegram settings; throws `config_invalid` listing every problem. */
export function telegramSettings(config: Config): TelegramSettings {
  const problems: string[] = [];
  const token = config.TELEGRAM_BOT_TOKEN;
  const botId = token === undefined ? undefined : TOKEN.exec(token)?.[1];
  if (token === undefined) problems.push('TELEGRAM_BOT_TOKEN: required (from @BotFather) when any TELEGRAM_* credential is set');
  else if (botId === undefined) problems.push('TELEGRAM_BOT_TOKEN: expected a bot token like 123456789:AA… (digits, a colon, then the secret part)');
  const secret = config.TELEGRAM_WEBHOOK_SECRET;
  if (config.TELEGRAM_MODE === 'webhook' && secret === undefined) {
    problems.push('TELEGRAM_WEBHOOK_SECRET: webhook mode refuses to run without a secret token (or set TELEGRAM_MODE=polling)');
  }
  if (secret !== undefined && !SECRET.test(secret)) {
    problems.push('TELEGRAM_WEBHOOK_SECRET: use 32-256 characters from A-Z, a-z, 0-9, _ and - (e.g. `openssl rand -hex 32`)');
  }
  const setWebhookUrl = webhookUrlOf(config, problems);
  if (problems.length > 0 || token === undefined || botId === undefined) {
    throw new SwitchboardError('config_invalid', `Telegram settings are incomplete: ${problems.join('; ')}`, {
      issues: problems.map((message) => ({ path: message.split(':')[0] ?? 'TELEGRAM', message })),
    });
  }
  return {
    botToken: token,
    botId,
    mode: config.TELEGRAM_MODE,
    webhookSecret: secret,
    setWebhookUrl,
    apiUrl: config.TELEGRAM_API_URL,
    apiTimeoutMs: config.TELEGRAM_API_TIMEOUT_MS,
    pollTimeoutSeconds: config.TELEGRAM_POLL_TIMEOUT_SECONDS,
    pollLeaseMs: config.TELEGRAM_POLL_LEASE_MS,
    maxAttachmentBytes: config.TELEGRAM_MAX_ATTACHMENT_BYTES,
  };
}
