/**
 * Telegram end to end in webhook mode: the real product (Postgres, Redis, workers) with the
 * Telegram adapter, and telegraf's real Bot API client talking to a local Telegram stand-in that
 * checks replies as Telegram would (HTML parse, 4,096 characters) and enforces the published
 * rate limits (any breach would show up as a `limit-429` attempt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { linkPlatformIdentity } from '../../src/store/installations.ts';
import { telegramAdapterFactory } from '../../adapters/telegram/index.ts';
import { postTelegramWebhook, startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import {
  forumTopicMention,
  groupMention,
  groupPlain,
  groupReplyToBot,
  privateMessage,
  TG_BOT_ID,
  TG_BOT_TOKEN,
  TG_BOT_USERNAME,
  TG_GROUP,
  TG_OTHER_BOT,
  TG_PERSON,
  update,
} from '../standins/telegram-fixtures.ts';

const SECRET = 'webhook-test-secret-0123456789-abcdefghij';
const HOOK_URL = 'https://switchboard.example.test/webhooks/telegram';

let standin: TelegramStandin;
let stack: Stack;
let url: string;
let chatSeq = 880_000_000;

beforeAll(async () => {
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME }, enforceLimits: true });
  stack = await startStack({
    adapterFactories: [telegramAdapterFactory],
    env: {
      TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_SET_WEBHOOK: 'true',
      TELEGRAM_WEBHOOK_URL: HOOK_URL,
      TELEGRAM_API_URL: standin.apiUrl,
      TELEGRAM_API_TIMEOUT_MS: '3000',
    },
  });
  url = `${stack.baseUrl}/webhooks/telegram`;
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

const inboundCount = () => countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'telegram'`);
const sentTo = (chatId: number) => standin.messages().filter((m) => m.chatId === chatId);
/** A private chat of its own (a person with a fresh id), so pacing of one test never delays another. */
const person = () => ({ ...TG_PERSON, id: (chatSeq += 1) });
const group = () => ({ ...TG_GROUP, id: -(chatSeq += 1) - 1_000_000_000_000 });
const settle = (ms = 800) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Telegram webhook', () => {
  it('registered the webhook with its secret token and recorded the bot (getMe)', async () => {
    expect(standin.webhook()).toEqual({ url: HOOK_URL, secretToken: SECRET, allowedUpdates: ['message'] });
    const row = await stack.switchboard.services.db.query<{ name: string; bot_user_id: string; status: string }>(
      `SELECT name, bot_user_id, status FROM installations WHERE platform = 'telegram' AND external_id = $1`,
      [String(TG_BOT_ID)],
    );
    expect(row.rows[0]).toEqual({ name: `@${TG_BOT_USERNAME}`, bot_user_id: String(TG_BOT_ID), status: 'active' });
  });

  it('answers a private message once, in its chat, as HTML replying to it, after showing typing', async () => {
    const from = person();
    const message = privateMessage({ from });
    const started = Date.now();
    const response = await postTelegramWebhook(url, update(message), SECRET);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(Date.now() - started).toBeLessThan(2000);
    await waitUntil(async () => sentTo(from.id).length, (n) => n >= 1, { what: 'the reply' });
    const [reply] = sentTo(from.id);
    expect(reply?.parseMode).toBe('HTML');
    expect(reply?.replyTo).toBe(message['message_id']);
    expect(reply?.threadId).toBeUndefined();
    expect(reply?.linkPreviewDisabled).toBe(true);
    // The offline responder echoes what the model saw; & arrives escaped, and Telegram shows it back as &.
    expect(reply?.text).toContain('Hello, what is on my plate &amp; when?');
    expect(reply?.visible).toContain('<<<\nHello, what is on my plate & when?\n>>>');
    const typing = standin.chatActions().filter((a) => a.chatId === from.id);
    expect(typing[0]?.action).toBe('typing');
    expect(typing[0]?.at).toBeLessThanOrEqual(reply?.at ?? 0);
    await settle();
    expect(sentTo(from.id)).toHaveLength(1);
  });

  it('answers a group mention and a reply to the bot, and nothing else in the group', async () => {
    const chat = group();
    for (const message of [groupMention({ chat }), groupPlain({ chat }), groupReplyToBot({ chat })]) {
      expect((await postTelegramWebhook(url, update(message), SECRET)).status).toBe(200);
    }
    // Two replies: a group allows a burst within 20 per minute, but never faster than 1/s per chat.
    await waitUntil(async () => sentTo(chat.id).length, (n) => n >= 2, { timeoutMs: 15_000, what: 'two group replies' });
    await settle(1000);
    const replies = sentTo(chat.id);
    expect(replies).toHaveLength(2);
    expect(replies.some((r) => r.visible.includes('what is next for the team?'))).toBe(true);
    expect(replies.some((r) => r.visible.includes('and after that?'))).toBe(true);
    expect((replies[1]?.at ?? 0) - (replies[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  }, 30_000);

  it('answers in the same forum topic', async () => {
    const forum = { ...group(), is_forum: true };
    const message = forumTopicMention(4242, { chat: forum });
    expect((await postTelegramWebhook(url, update(message), SECRET)).status).toBe(200);
    await waitUntil(async () => sentTo(forum.id).length, (n) => n >= 1, { what: 'the topic reply' });
    expect(sentTo(forum.id)[0]?.threadId).toBe(4242);
    expect(standin.chatActions().find((a) => a.chatId === forum.id)?.threadId).toBe(4242);
  });

  it('stores and answers the same update delivered four times once', async () => {
    const from = person();
    const delivery = update(privateMessage({ from }));
    const before = await inboundCount();
    const statuses = [(await postTelegramWebhook(url, delivery, SECRET)).status, (await postTelegramWebhook(url, delivery, SECRET)).status];
    // Telegram may also retry while the first attempt is still open: two at once.
    statuses.push(...(await Promise.all([postTelegramWebhook(url, delivery, SECRET), postTelegramWebhook(url, delivery, SECRET)])).map((r) => r.status));
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await inboundCount()).toBe(before + 1);
    await waitUntil(async () => sentTo(from.id).length, (n) => n >= 1, { what: 'the reply' });
    await settle(1500);
    expect(sentTo(from.id)).toHaveLength(1);
  });

  it('refuses a missing secret (401) and a forged one (403), storing nothing', async () => {
    const from = person();
    const delivery = update(privateMessage({ from }));
    const before = await inboundCount();
    const statuses = await Promise.all([
      postTelegramWebhook(url, delivery, undefined),
      postTelegramWebhook(url, delivery, ''),
      postTelegramWebhook(url, delivery, `${SECRET.slice(0, -1)}X`),
      postTelegramWebhook(url, delivery, SECRET.slice(0, 8)),
      postTelegramWebhook(url, delivery, `${SECRET}${SECRET}`),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([401, 401, 403, 403, 403]);
    await settle(300);
    expect(await inboundCount()).toBe(before);
    expect(sentTo(from.id)).toHaveLength(0);
  });

  it("stores nothing and answers nothing for the bot's own and other bots' messages", async () => {
    const chat = group();
    const self = { id: TG_BOT_ID, is_bot: true, first_name: 'Switchboard', username: TG_BOT_USERNAME };
    const before = await inboundCount();
    const deliveries = [
      update(privateMessage({ from: self, chat: { id: 5151, type: 'private', first_name: 'x' } })),
      update(privateMessage({ from: TG_OTHER_BOT, chat: { id: 5152, type: 'private', first_name: 'x' } })),
      update(groupMention({ chat, from: TG_OTHER_BOT })),
      update(groupReplyToBot({ chat, from: TG_OTHER_BOT })),
      update(groupMention({ chat, from: self })),
    ];
    for (const delivery of deliveries) expect((await postTelegramWebhook(url, delivery, SECRET)).status).toBe(200);
    await settle(1000);
    expect(await inboundCount()).toBe(before);
    expect([...sentTo(chat.id), ...sentTo(5151), ...sentTo(5152)]).toHaveLength(0);
  });

  it('waits out a 429 retry_after and delivers the reply exactly once after the delay', async () => {
    const from = person();
    standin.rateLimitNextSend(2);
    expect((await postTelegramWebhook(url, update(privateMessage({ from })), SECRET)).status).toBe(200);
    await waitUntil(async () => sentTo(from.id).length, (n) => n >= 1, { timeoutMs: 15_000, what: 'the reply after the 429' });
    await settle(1000);
    const attempts = standin.attempts().filter((a) => a.chatId === from.id);
    expect(attempts.map((a) => a.outcome)).toEqual(['429', 'ok']);
    const waited = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(1950);
    expect(waited).toBeLessThan(6000);
    expect(sentTo(from.id)).toHaveLength(1);
  }, 30_000);

  it('splits a long reply so that every message fits 4,096 characters after escaping, in order, once', async () => {
    const from = person();
    // 3,900 ampersands: 19,500 characters once escaped.
    const text = `${'&'.repeat(3900)}`;
    expect((await postTelegramWebhook(url, update(privateMessage({ from, text })), SECRET)).status).toBe(200);
    const { db } = stack.switchboard.services;
    await waitUntil(
      () => countRows(db, `SELECT count(*) AS n FROM outbox o JOIN conversations c ON c.id = o.conversation_id WHERE c.channel_id = $1 AND o.status = 'sent'`, [String(from.id)]),
      (n) => n === 1,
      { timeoutMs: 25_000, what: 'the long reply sent' },
    );
    const messages = sentTo(from.id);
    expect(messages.length).toBeGreaterThan(4);
    for (const m of messages) expect(m.text.length).toBeLessThanOrEqual(4096);
    expect(standin.attempts().filter((a) => a.chatId === from.id && a.outcome !== 'ok')).toEqual([]);
    expect(messages.map((m) => m.visible).join('').split('&').length - 1).toBe(3900);
    expect(messages.filter((m) => m.replyTo !== undefined)).toHaveLength(1);
    expect(messages[0]?.replyTo).toBeDefined();
    for (let i = 1; i < messages.length; i += 1) expect((messages[i]?.at ?? 0) - (messages[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  }, 40_000);

  it('links the author to a tenant user when the Telegram identity is linked', async () => {
    const linkedPerson = person();
    const stranger = person();
    const user = await stack.createUser({ email: 'tg-linked@example.test', password: 'correct horse battery staple' });
    await linkPlatformIdentity(stack.switchboard.services.db, { platform: 'telegram', installationId: String(TG_BOT_ID), platformUserId: String(linkedPerson.id), userId: user.id });
    expect((await postTelegramWebhook(url, update(privateMessage({ from: linkedPerson })), SECRET)).status).toBe(200);
    expect((await postTelegramWebhook(url, update(privateMessage({ from: stranger })), SECRET)).status).toBe(200);
    const rows = await stack.switchboard.services.db.query<{ author_platform_id: string; author_user_id: string | null }>(
      `SELECT author_platform_id, author_user_id FROM messages WHERE author_platform_id IN ($1, $2) ORDER BY author_platform_id`,
      [String(linkedPerson.id), String(stranger.id)],
    );
    expect(rows.rows).toEqual([
      { author_platform_id: String(linkedPerson.id), author_user_id: user.id },
      { author_platform_id: String(stranger.id), author_user_id: null },
    ]);
  });

  it('acknowledges deliveries quickly, each after its commit', async () => {
    const before = await inboundCount();
    const timings: number[] = [];
    for (let batch = 0; batch < 6; batch += 1) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const started = performance.now();
          const response = await postTelegramWebhook(url, update(privateMessage({ from: person() })), SECRET);
          timings.push(performance.now() - started);
          expect(response.status).toBe(200);
        }),
      );
    }
    expect(await inboundCount()).toBe(before + 60);
    timings.sort((a, b) => a - b);
    const p50 = timings[Math.floor(timings.length * 0.5)] ?? 0;
    const p99 = timings[Math.ceil(timings.length * 0.99) - 1] ?? 0;
    console.log(`telegram webhook ack latency over 60 deliveries (10 at a time): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(3000);
    // Every reply of this file stayed inside Telegram's published limits.
    await settle(1500);
    expect(standin.attempts().filter((a) => a.outcome === 'limit-429')).toEqual([]);
  }, 30_000);
});
