/**
 * 1,000 malformed deliveries to /webhooks/telegram (fast-check JSON, byte flips, truncations,
 * hostile values, deep nesting, wrong types; three in four with the right secret token): no 5xx,
 * nothing stored. The real fixtures are delivered first, so a mutation that still forms a valid
 * update (same update_id) is a re-delivery and must dedupe rather than store.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { fuzzWebhook } from '../contract/webhook-fuzz.ts';
import { telegramAdapterFactory } from '../../adapters/telegram/index.ts';
import { postTelegramWebhook, startTelegramStandin, telegramWebhookHeaders, type TelegramStandin } from '../standins/telegram.ts';
import { forumTopicMention, groupMention, privatePhoto, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME } from '../standins/telegram-fixtures.ts';

const SECRET = 'fuzz-secret-token-abcdefghijklmnopqrstuvwxyz';
let standin: TelegramStandin;
let stack: Stack;

beforeAll(async () => {
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME } });
  stack = await startStack({
    adapterFactories: [telegramAdapterFactory],
    env: { TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_URL: standin.apiUrl, TELEGRAM_API_TIMEOUT_MS: '3000' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

it('survives 1,000 malformed webhook deliveries without a 5xx and stores nothing', async () => {
  const url = `${stack.baseUrl}/webhooks/telegram`;
  const storedCount = () => countRows(stack.switchboard.services.db, 'SELECT count(*) AS n FROM inbound_events');
  // Fixed ids, so the (seeded) mutations are the same on every run.
  const fixtures = [
    JSON.stringify({ update_id: 900_000_001, message: { ...privatePhoto({ message_id: 11, text: 'hello & welcome', caption: undefined, photo: undefined }) } }),
    JSON.stringify({ update_id: 900_000_002, message: groupMention({ message_id: 12 }) }),
    JSON.stringify({ update_id: 900_000_003, message: forumTopicMention(42, { message_id: 13 }) }),
    JSON.stringify({ update_id: 900_000_004, message: privatePhoto({ message_id: 14 }) }),
  ];
  // The real deliveries first: four messages stored.
  for (const body of fixtures) expect((await postTelegramWebhook(url, body, SECRET)).status).toBe(200);
  await waitUntil(storedCount, (n) => n === 4, { what: 'the fixtures stored' });

  const { statuses } = await fuzzWebhook({ url, fixtures, sign: () => telegramWebhookHeaders(SECRET), storedCount });
  // Missing secrets are refused; authenticated garbage is acknowledged (or refused as too large), never a server error.
  console.log('telegram fuzz statuses', JSON.stringify(statuses));
  expect(statuses['401']).toBeGreaterThanOrEqual(250);
  expect(Object.keys(statuses).every((s) => ['200', '401', '413'].includes(s))).toBe(true);
}, 60_000);
