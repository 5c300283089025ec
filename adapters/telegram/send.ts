/**
 * Outbound: one reply part → sendMessage into the conversation's chat and forum topic, rendered as
 * Telegram HTML, the first part replying to the message it answers. Every call passes the
 * in-process spacing gate (spacing.ts). A part whose HTML exceeds 4,096 characters goes out as
 * several messages; which of them were delivered is remembered per outbox part, so a retry (after
 * a 429 or an outage) resumes at the first undelivered one instead of repeating the others. HTML
 * that Telegram refuses to parse is re-sent as plain text; a group that became a supergroup is
 * followed once.
 */
import type { OutboundMessage } from '../../src/core/envelope.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { SendResult } from '../../src/core/ports.ts';
import { SwitchboardError } from '../../src/core/errors.ts';
import type { SendMessageInput, TelegramApi } from './api.ts';
import { isEntityParseError, telegramFailure } from './errors.ts';
import { renderTelegramMessages, TELEGRAM_MAX_MESSAGE_CHARS } from './render.ts';
import type { SendSpacing } from './spacing.ts';

/** Sends replies. */
export type TelegramSend = (message: OutboundMessage, signal: AbortSignal) => Promise<SendResult>;

/** What sending needs. */
export interface TelegramSendDeps {
  readonly api: TelegramApi;
  readonly log: Logger;
  /** Keeps this process's calls apart per bot, chat and group. */
  readonly spacing: SendSpacing;
}

// Delivered messages of split parts, per outbox row and part; bounded (oldest forgotten first).
const MEMO_LIMIT = 1000;
const INTEGER = /^-?\d{1,20}$/;

function integerOf(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n)) {
    throw new SwitchboardError('send_failed', `Telegram ${what} is not a number`, { retryable: false, context: { what } });
  }
  return n;
}

/** Creates the sender. */
export function createTelegramSend(deps: TelegramSendDeps): TelegramSend {
  const delivered = new Map<string, number>();

  const sendOne = async (input: SendMessageInput, plain: string, signal: AbortSignal): Promise<number> => {
    try {
      return await deps.api.sendMessage(input, signal);
    } catch (err) {
      if (isEntityParseError(err)) {
        deps.log.warn('Telegram refused our HTML; sending the part as plain text');
        return deps.api.sendMessage({ ...input, text: plain.slice(0, TELEGRAM_MAX_MESSAGE_CHARS) || '…', html: false }, signal);
      }
      const migrated = err instanceof SwitchboardError ? telegramFailure(err.cause)?.parameters.migrateToChatId : undefined;
      if (migrated !== undefined && Number.isSafeInteger(migrated)) {
        deps.log.info('Telegram group became a supergroup; sending to its new chat id');
        return deps.api.sendMessage({ ...input, chatId: migrated }, signal);
      }
      throw err;
    }
  };

  return async (message, signal) => {
    const chatId = integerOf(message.conversation.channelId, 'chat id');
    const threadId = integerOf(message.conversation.threadId, 'topic id');
    const replyTo = message.part === undefined || message.part.index === 0 ? message.replyToPlatformMessageId : undefined;
    const replyToMessageId = replyTo !== undefined && /^\d{1,15}$/.test(replyTo) ? Number(replyTo) : undefined;
    if (chatId === undefined) throw new SwitchboardError('send_failed', 'Telegram chat id missing', { retryable: false });

    const rendered = renderTelegramMessages(message.text);
    const key = `${message.outboxId}:${message.part?.index ?? 0}`;
    const start = delivered.get(key) ?? 0;
    const group = message.conversation.kind !== 'dm';
    let lastId: number | undefined;
    for (let index = start; index < rendered.length; index += 1) {
      if (signal.aborted) throw new SwitchboardError('shutting_down', 'Send cancelled');
      await deps.spacing.wait(message.conversation.channelId, group, signal);
      const piece = rendered[index];
      if (piece === undefined) continue;
      const empty = piece.html.trim() === '';
      const input: SendMessageInput = {
        chatId,
        text: empty ? '…' : piece.html,
        html: !empty,
        ...(threadId === undefined ? {} : { threadId }),
        ...(index === 0 && replyToMessageId !== undefined ? { replyToMessageId } : {}),
      };
      lastId = await sendOne(input, piece.source, signal);
      if (rendered.length > 1) {
        delivered.delete(key);
        delivered.set(key, index + 1);
        if (delivered.size > MEMO_LIMIT) delivered.delete(delivered.keys().next().value ?? key);
      }
    }
    delivered.delete(key);
    return lastId === undefined || lastId === 0 ? {} : { platformMessageId: String(lastId) };
  };
}
