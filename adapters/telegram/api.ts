/**
 * The Bot API as the adapter uses it, through telegraf's own client (`Telegram.callApi`):
 * our API root, a deadline on every call (telegraf's own is 500 s and it never retries), and
 * `webhookReply: false` so no call is ever diverted into a webhook response body. Answers are
 * parsed with zod; failures become SwitchboardErrors the outbound worker understands.
 */
import { Telegram } from 'telegraf';
import type { Opts } from 'telegraf/types';
import { SwitchboardError } from '../../src/core/errors.ts';
import { BotInfoSchema, SentMessageSchema } from './schemas.ts';
import { toTelegramError } from './errors.ts';

/** How the client is built. */
export interface TelegramApiOptions {
  readonly token: string;
  readonly apiUrl: string;
  readonly timeoutMs: number;
}

/** Who the bot is (getMe). */
export interface BotIdentity {
  readonly id: string;
  readonly username: string;
  readonly canReadAllGroupMessages: boolean;
}

/** One sendMessage. */
export interface SendMessageInput {
  readonly chatId: number;
  readonly text: string;
  readonly html: boolean;
  readonly threadId?: number;
  readonly replyToMessageId?: number;
}

/** The calls the adapter makes. */
export interface TelegramApi {
  getMe(): Promise<BotIdentity>;
  setWebhook(input: { url: string; secretToken: string }): Promise<void>;
  deleteWebhook(): Promise<void>;
  /** Long-polls for updates; `timeoutSeconds` is how long Telegram may hold the request. */
  getUpdates(input: { offset: number | undefined; timeoutSeconds: number; limit: number }, signal: AbortSignal): Promise<unknown[]>;
  /** Sends one message; resolves to its message id. */
  sendMessage(input: SendMessageInput, signal: AbortSignal): Promise<number>;
  sendChatAction(input: { chatId: number; threadId?: number }): Promise<void>;
}

/** The update types we ask Telegram for (everything else is never delivered). */
export const ALLOWED_UPDATES = ['message'] as const;

type CallApiSignal = NonNullable<NonNullable<Parameters<Telegram['callApi']>[2]>['signal']>;

/** Creates the client. */
export function createTelegramApi(options: TelegramApiOptions): TelegramApi {
  const client = new Telegram(options.token, { apiRoot: options.apiUrl, webhookReply: false });

  const call = async <M extends Parameters<Telegram['callApi']>[0]>(method: M, payload: Opts<M>, deadlineMs: number, signal?: AbortSignal): Promise<unknown> => {
    const timeout = AbortSignal.timeout(deadlineMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      return await client.callApi(method, payload, { signal: combined as unknown as CallApiSignal });
    } catch (err) {
      throw toTelegramError(err, method, { cancelled: signal?.aborted === true, timedOut: timeout.aborted });
    }
  };

  return {
    getMe: async () => {
      const parsed = BotInfoSchema.safeParse(await call('getMe', {}, options.timeoutMs));
      if (!parsed.success || !parsed.data.is_bot) throw new SwitchboardError('send_failed', 'getMe answered an unexpected shape', { retryable: false });
      return { id: String(parsed.data.id), username: parsed.data.username, canReadAllGroupMessages: parsed.data.can_read_all_group_messages === true };
    },
    setWebhook: async ({ url, secretToken }) => {
      await call('setWebhook', { url, secret_token: secretToken, allowed_updates: ALLOWED_UPDATES, drop_pending_updates: false }, options.timeoutMs);
    },
    deleteWebhook: async () => {
      await call('deleteWebhook', { drop_pending_updates: false }, options.timeoutMs);
    },
    getUpdates: async ({ offset, timeoutSeconds, limit }, signal) => {
      const payload: Opts<'getUpdates'> = { timeout: timeoutSeconds, limit, allowed_updates: ALLOWED_UPDATES, ...(offset === undefined ? {} : { offset }) };
      const result = await call('getUpdates', payload, timeoutSeconds * 1000 + options.timeoutMs, signal);
      if (!Array.isArray(result)) throw new SwitchboardError('send_failed', 'getUpdates answered an unexpected shape', { retryable: true });
      return result.slice(0, Math.max(1, limit));
    },
    sendMessage: async (input, signal) => {
      const payload: Opts<'sendMessage'> = {
        chat_id: input.chatId,
        text: input.text,
        ...(input.html ? { parse_mode: 'HTML' as const } : {}),
        ...(input.threadId === undefined ? {} : { message_thread_id: input.threadId }),
        ...(input.replyToMessageId === undefined ? {} : { reply_parameters: { message_id: input.replyToMessageId, allow_sending_without_reply: true } }),
        // A link in a reply must not make Telegram fetch anything.
        link_preview_options: { is_disabled: true },
      };
      const parsed = SentMessageSchema.safeParse(await call('sendMessage', payload, options.timeoutMs, signal));
      return parsed.success ? parsed.data.message_id : 0;
    },
    sendChatAction: async ({ chatId, threadId }) => {
      await call('sendChatAction', { chat_id: chatId, action: 'typing', ...(threadId === undefined ? {} : { message_thread_id: threadId }) }, options.timeoutMs);
    },
  };
}
