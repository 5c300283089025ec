/**
 * Webhook mode while Telegram is unreachable at start: the process starts anyway and retries
 * getMe/setWebhook in the background. Meanwhile private messages are answered (the bot id comes
 * from the token), but a group mention cannot be matched to the bot's username yet, so it is
 * answered 503 and nothing is stored: Telegram re-delivers it, and once getMe answered it is taken.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import type { PlatformAdapterFactory } from '../../adapters/index.ts';
import { createTelegramAdapter, telegramAdapterFactory } from '../../adapters/telegram/index.ts';
import { telegramSettings } from '../../adapters/telegram/config.ts';
import { reply } from '../standins/http-standin.ts';
import { postTelegramWebhook, startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import { groupMention, privateMessage, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME, TG_GROUP, TG_PERSON, update } from '../standins/telegram-fixtures.ts';

const SECRET = 'startup-secret-token-abcdefghijklmnopqrstu';
let standin: TelegramStandin;
let stack: Stack;

// The shipped factory, retrying every 500 ms instead of every 30 s.
const quickRetry: PlatformAdapterFactory = {
  ...telegramAdapterFactory,
  create: (config, deps) => createTelegramAdapter(telegramSettings(config), deps, { jsonMaxDepth: config.HTTP_JSON_MAX_DEPTH, startRetryMs: 500 }),
};

beforeAll(async () => {
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME } });
  const down = reply.json({ ok: false, error_code: 502, description: 'Bad Gateway' }, { status: 502 });
  standin.http.enqueue(`POST /bot${TG_BOT_TOKEN}/getMe`, down, down, down);
  stack = await startStack({
    adapterFactories: [quickRetry],
    env: {
      TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_SET_WEBHOOK: 'true',
      TELEGRAM_WEBHOOK_URL: 'https://switchboard.example.test/webhooks/telegram',
      TELEGRAM_API_URL: standin.apiUrl,
      TELEGRAM_API_TIMEOUT_MS: '2000',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

it('starts without Telegram, answers private chats, defers group mentions until getMe answered', async () => {
  const url = `${stack.baseUrl}/webhooks/telegram`;
  const inbound = () => countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events`);
  expect(standin.webhook()).toBeUndefined();
  const from = { ...TG_PERSON, id: 333_000_001 };
  expect((await postTelegramWebhook(url, update(privateMessage({ from })), SECRET)).status).toBe(200);
  const chat = { ...TG_GROUP, id: -1_000_333_000_002 };
  const mention = update(groupMention({ chat }));
  expect((await postTelegramWebhook(url, mention, SECRET)).status).toBe(503);
  expect(await inbound()).toBe(1);

  // getMe answers on the fourth try (about 1.5 s later); the webhook is registered then.
  await waitUntil(async () => standin.webhook(), (hook) => hook !== undefined, { timeoutMs: 10_000, what: 'setWebhook after the retries' });
  expect(standin.webhook()?.secretToken).toBe(SECRET);
  // Telegram's retry of the mention is now taken and answered.
  expect((await postTelegramWebhook(url, mention, SECRET)).status).toBe(200);
  await waitUntil(async () => standin.messages().filter((m) => m.chatId === chat.id).length, (n) => n === 1, { what: 'the group reply' });
  await waitUntil(async () => standin.messages().filter((m) => m.chatId === from.id).length, (n) => n === 1, { what: 'the private reply' });
  expect(await inbound()).toBe(2);
});
