/**
 * Telegram end to end in polling mode: the real product with TELEGRAM_MODE=polling, telegraf's
 * client long-polling the stand-in. An update is answered once in its chat or topic; the same
 * update handed out again by later getUpdates calls (as Telegram does until it is confirmed)
 * stores and answers nothing new; bots' messages produce nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { telegramAdapterFactory } from '../../adapters/telegram/index.ts';
import { startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import { forumTopicMention, groupMention, privateMessage, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME, TG_FORUM, TG_OTHER_BOT, TG_PERSON, update } from '../standins/telegram-fixtures.ts';

let standin: TelegramStandin;
let stack: Stack;

beforeAll(async () => {
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME }, enforceLimits: true });
  stack = await startStack({
    adapterFactories: [telegramAdapterFactory],
    env: {
      TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN,
      TELEGRAM_MODE: 'polling',
      TELEGRAM_API_URL: standin.apiUrl,
      TELEGRAM_API_TIMEOUT_MS: '3000',
      TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
      TELEGRAM_POLL_LEASE_MS: '3000',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

const inboundCount = () => countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'telegram'`);
const sentTo = (chatId: number) => standin.messages().filter((m) => m.chatId === chatId);

describe('Telegram polling', () => {
  it('mounts no webhook endpoint in polling mode', async () => {
    const response = await fetch(`${stack.baseUrl}/webhooks/telegram`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });

  it('answers a polled message once, and the same update re-delivered three times is not answered again', async () => {
    const from = { ...TG_PERSON, id: 770_000_001 };
    const delivery = update(privateMessage({ from }));
    const before = await inboundCount();
    standin.pushUpdate(delivery);
    await waitUntil(async () => sentTo(from.id).length, (n) => n >= 1, { what: 'the reply' });
    expect(sentTo(from.id)[0]?.visible).toContain('Hello, what is on my plate & when?');
    // Telegram hands the update out again (e.g. after a lost confirmation): three more times.
    for (let i = 0; i < 3; i += 1) {
      standin.pushUpdate(delivery);
      await waitUntil(async () => standin.pending(), (p) => !p.includes(delivery.update_id), { what: 're-delivery confirmed' });
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await inboundCount()).toBe(before + 1);
    expect(sentTo(from.id)).toHaveLength(1);
    const served = standin.getUpdatesCalls().filter((c) => c.answered.includes(delivery.update_id));
    expect(served).toHaveLength(4);
  }, 30_000);

  it('answers a forum topic mention in its topic and ignores other bots', async () => {
    const forum = { ...TG_FORUM, id: -1_000_770_000_002 };
    const before = await inboundCount();
    standin.pushUpdate(update(groupMention({ chat: forum, from: TG_OTHER_BOT })));
    standin.pushUpdate(update(forumTopicMention(9, { chat: forum })));
    await waitUntil(async () => sentTo(forum.id).length, (n) => n >= 1, { what: 'the topic reply' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sentTo(forum.id).map((m) => m.threadId)).toEqual([9]);
    expect(await inboundCount()).toBe(before + 1);
    expect(standin.attempts().filter((a) => a.outcome === 'limit-429')).toEqual([]);
  });
});
