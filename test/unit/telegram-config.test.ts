/** Telegram settings: what enables the adapter, and what it refuses (webhook mode without a secret first). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { isTelegramConfigured, telegramSettings } from '../../adapters/telegram/config.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

const TOKEN = '123456789:AAH3k9dZr2ExampleTokenForTests_0123456';
const SECRET = 'a'.repeat(40);
const settings = (env: Record<string, string>) => telegramSettings(loadConfig({ env }));
const problems = (env: Record<string, string>): string[] => {
  try {
    settings(env);
  } catch (err) {
    if (!isSwitchboardError(err, 'config_invalid')) throw err;
    return (err.details.issues ?? []).map((i) => i.path);
  }
  return [];
};

describe('Telegram config', () => {
  it('is enabled by the token (or the secret alone, which then asks for the token)', () => {
    expect(isTelegramConfigured(loadConfig({ env: {} }))).toBe(false);
    expect(isTelegramConfigured(loadConfig({ env: { TELEGRAM_BOT_TOKEN: TOKEN } }))).toBe(true);
    expect(problems({ TELEGRAM_WEBHOOK_SECRET: SECRET })).toEqual(['TELEGRAM_BOT_TOKEN']);
  });

  it('refuses webhook mode without a secret token, and a weak one', () => {
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN })).toEqual(['TELEGRAM_WEBHOOK_SECRET']);
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: 'short' })).toEqual(['TELEGRAM_WEBHOOK_SECRET']);
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: `${'a'.repeat(40)}!` })).toEqual(['TELEGRAM_WEBHOOK_SECRET']);
  });

  it('runs polling without a secret, and takes the bot id from the token', () => {
    const polling = settings({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_MODE: 'polling' });
    expect(polling.mode).toBe('polling');
    expect(polling.botId).toBe('123456789');
    expect(polling.webhookSecret).toBeUndefined();
    expect(problems({ TELEGRAM_BOT_TOKEN: 'not-a-token', TELEGRAM_MODE: 'polling' })).toEqual(['TELEGRAM_BOT_TOKEN']);
  });

  it('setWebhook needs webhook mode and a URL (https in production)', () => {
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_SET_WEBHOOK: 'true' })).toEqual(['TELEGRAM_WEBHOOK_URL']);
    expect(problems({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_MODE: 'polling', TELEGRAM_SET_WEBHOOK: 'true' })).toEqual(['TELEGRAM_SET_WEBHOOK']);
    const fromPublic = settings({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_SET_WEBHOOK: 'true', PUBLIC_URL: 'https://sb.example.com' });
    expect(fromPublic.setWebhookUrl).toBe('https://sb.example.com/webhooks/telegram');
    expect(settings({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET }).setWebhookUrl).toBeUndefined();
  });

  it('reads the token and secret from _FILE like every secret', () => {
    const files: Record<string, string> = { '/run/secrets/tg-token': `${TOKEN}\n`, '/run/secrets/tg-secret': `${SECRET}\n` };
    const config = loadConfig({
      env: { TELEGRAM_BOT_TOKEN_FILE: '/run/secrets/tg-token', TELEGRAM_WEBHOOK_SECRET_FILE: '/run/secrets/tg-secret' },
      readFile: (path) => files[path] ?? '',
    });
    expect(telegramSettings(config).botToken).toBe(TOKEN);
    expect(telegramSettings(config).webhookSecret).toBe(SECRET);
  });
});
