/**
 * The outbound half on its own, with telegraf's real client against the stand-in: a part that
 * needs several messages resumes after a 429 without repeating the delivered ones; refused HTML
 * falls back to plain text; a migrated group is followed; a blocked bot is a permanent failure;
 * typing repeats while the agent works and stops when told.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import type { OutboundMessage } from '../../src/core/envelope.ts';
import { createTelegramApi } from '../../adapters/telegram/api.ts';
import { createTelegramSend } from '../../adapters/telegram/send.ts';
import { createSendSpacing } from '../../adapters/telegram/spacing.ts';
import { createTelegramTyping } from '../../adapters/telegram/typing.ts';
import { startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import { TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME } from '../standins/telegram-fixtures.ts';

const log = createLogger({ level: 'silent' });
let standin: TelegramStandin;
let send: ReturnType<typeof createTelegramSend>;
let chatSeq = 555_000_000;
const signal = new AbortController().signal;

beforeAll(async () => {
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME } });
  const api = createTelegramApi({ token: TG_BOT_TOKEN, apiUrl: standin.apiUrl, timeoutMs: 2000 });
  send = createTelegramSend({ api, log, spacing: createSendSpacing({ globalMs: 5, chatMs: 50, groupMs: 100 }) });
});
afterAll(async () => {
  await standin?.close();
});

function outbound(text: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const chat = String((chatSeq += 1));
  return {
    outboxId: randomUUID(),
    messageId: randomUUID(),
    tenantId: randomUUID(),
    platform: 'telegram',
    installationId: String(TG_BOT_ID),
    conversationId: randomUUID(),
    conversation: { key: `telegram:${TG_BOT_ID}:${chat}`, channelId: chat, kind: 'dm' },
    replyToPlatformMessageId: '41',
    text,
    ...overrides,
  };
}
const sentTo = (message: OutboundMessage) => standin.messages().filter((m) => String(m.chatId) === message.conversation.channelId);

describe('Telegram send', () => {
  it('resumes a multi-message part after a 429 without repeating what was delivered', async () => {
    const message = outbound('&'.repeat(4000));
    // The second of the part's messages is refused once with retry_after 3.
    standin.failNextSend({ code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }, 1);
    const error = await send(message, signal).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isSwitchboardError(error, 'send_rate_limited')).toBe(true);
    expect(isSwitchboardError(error) ? error.details.retryAfterMs : 0).toBe(3000);
    expect(sentTo(message)).toHaveLength(1);
    // The worker retries the same outbox part: only the undelivered messages go out.
    const result = await send(message, signal);
    const delivered = sentTo(message);
    expect(delivered.length).toBeGreaterThanOrEqual(5);
    expect(delivered.map((m) => m.visible).join('')).toBe('&'.repeat(4000));
    expect(delivered.map((m) => m.replyTo)).toEqual([41, ...Array<undefined>(delivered.length - 1).fill(undefined)]);
    expect(result.platformMessageId).toBe(String(delivered.at(-1)?.messageId));
  });

  it('sends a part as plain text when Telegram refuses its HTML', async () => {
    const message = outbound('**sure** & done');
    standin.failNextSend({ code: 400, description: "Bad Request: can't parse entities: unsupported start tag \"b\" at byte offset 0" });
    await send(message, signal);
    expect(sentTo(message).map((m) => [m.parseMode, m.text])).toEqual([[undefined, '**sure** & done']]);
  });

  it('follows a group that became a supergroup, once', async () => {
    const message = outbound('hello group', { conversation: { key: 'k', channelId: '-4001', kind: 'group' } });
    standin.failNextSend({ code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -1_004_001 } });
    await send(message, signal);
    expect(standin.messages().filter((m) => m.chatId === -1_004_001).map((m) => m.visible)).toEqual(['hello group']);
  });

  it('fails permanently when the user blocked the bot, and for a malformed chat id', async () => {
    standin.failNextSend({ code: 403, description: 'Forbidden: bot was blocked by the user' });
    const blocked = await send(outbound('hi'), signal).catch((err: unknown) => err);
    expect(isSwitchboardError(blocked, 'send_failed') && !blocked.retryable).toBe(true);
    const malformed = await send(outbound('hi', { conversation: { key: 'k', channelId: 'not-a-chat', kind: 'dm' } }), signal).catch((err: unknown) => err);
    expect(isSwitchboardError(malformed, 'send_failed') && !malformed.retryable).toBe(true);
  });

  it('sends into the forum topic and replies to the answered message', async () => {
    const message = outbound('in the topic', { conversation: { key: 'k', channelId: '-1005001', threadId: '77', kind: 'group' } });
    await send(message, signal);
    expect(standin.messages().filter((m) => m.chatId === -1_005_001).map((m) => [m.threadId, m.replyTo, m.linkPreviewDisabled])).toEqual([[77, 41, true]]);
  });

  it('shows typing in the chat and topic, repeats it, and stops when told', async () => {
    const api = createTelegramApi({ token: TG_BOT_TOKEN, apiUrl: standin.apiUrl, timeoutMs: 2000 });
    const typing = createTelegramTyping({ api, log, repeatMs: 100 });
    const conversation = { key: 'k', channelId: '-1006001', threadId: '5', kind: 'group' as const };
    await typing.typing('conv-1', 'start', conversation);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await typing.typing('conv-1', 'stop', conversation);
    const count = standin.chatActions().filter((a) => a.chatId === -1_006_001).length;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(standin.chatActions().filter((a) => a.chatId === -1_006_001).every((a) => a.action === 'typing' && a.threadId === 5)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(standin.chatActions().filter((a) => a.chatId === -1_006_001)).toHaveLength(count);
    typing.close();
  });
});
