/**
 * Who the bot is: getMe gives its id (which must match the token's) and @username (which group
 * mentions are matched against). The bot is recorded as an installation (external id = bot id,
 * no stored credentials: the token stays in the config), so its username survives a restart
 * while Telegram is unreachable, and an operator can revoke it.
 */
import { SwitchboardError } from '../../src/core/errors.ts';
import type { InstallationPort } from '../../src/core/platform.ts';
import type { BotIdentity, TelegramApi } from './api.ts';

/** The bot's identity, learnt once and kept. */
export interface IdentitySource {
  /** The username when known (from getMe, or the installation saved by an earlier run). */
  username(): string | undefined;
  /** Calls getMe until it succeeds once; throws on failure (retryable or not). */
  ensure(): Promise<BotIdentity>;
  /** Loads the username saved by an earlier run, without calling Telegram. */
  recall(): Promise<void>;
}

/** Creates the source. */
export function createIdentitySource(deps: {
  readonly botId: string;
  readonly api: TelegramApi;
  readonly installations: InstallationPort;
  readonly defaultTenantId: string;
}): IdentitySource {
  let known: BotIdentity | undefined;
  let recalled: string | undefined;
  let pending: Promise<BotIdentity> | undefined;

  const learn = async (): Promise<BotIdentity> => {
    const bot = await deps.api.getMe();
    if (bot.id !== deps.botId) {
      throw new SwitchboardError('config_invalid', 'TELEGRAM_BOT_TOKEN: getMe answered for a different bot id than the token names', { retryable: false });
    }
    const existing = await deps.installations.find('telegram', bot.id);
    const name = `@${bot.username}`;
    // A revoked installation stays revoked (saving would re-activate it).
    if (existing === undefined || (existing.active && (existing.name !== name || existing.botUserId !== bot.id))) {
      await deps.installations.save({
        platform: 'telegram',
        externalId: bot.id,
        tenantId: existing?.tenantId ?? deps.defaultTenantId,
        name,
        botUserId: bot.id,
        credentials: {},
      });
    }
    known = bot;
    return bot;
  };

  return {
    username: () => known?.username ?? recalled,
    ensure: () => {
      if (known) return Promise.resolve(known);
      pending ??= learn().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    recall: async () => {
      const row = await deps.installations.find('telegram', deps.botId);
      if (row && /^@[A-Za-z0-9_]{1,100}$/.test(row.name)) recalled = row.name.slice(1);
    },
  };
}
