/**
 * Typing indicators: `sendChatAction typing` into the chat (and forum topic) while the agent
 * works. Telegram shows it for about 5 s or until a message arrives, so it is re-sent every 4 s,
 * at most a bounded number of times, until the agent says stop. Best effort: failures are logged
 * at debug level and never reach the agent.
 */
import type { ConversationRef } from '../../src/core/envelope.ts';
import type { Logger } from '../../src/core/logger.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import type { TelegramApi } from './api.ts';

const REPEAT_MS = 4_000;
// Typing stops by itself after this many repeats (2 minutes), whatever happens to the agent.
const MAX_REPEATS = 30;

/** Starts and stops typing per conversation. */
export interface TelegramTyping {
  typing(conversationId: string, state: 'start' | 'stop', conversation: ConversationRef): Promise<void>;
  /** Stops every repeat. */
  close(): void;
}

const asInteger = (value: string | undefined): number | undefined =>
  value !== undefined && /^-?\d{1,20}$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : undefined;

/** Creates the typing half. */
export function createTelegramTyping(deps: { readonly api: TelegramApi; readonly log: Logger; readonly repeatMs?: number }): TelegramTyping {
  const timers = new Map<string, NodeJS.Timeout>();
  const stop = (conversationId: string): void => {
    const timer = timers.get(conversationId);
    if (timer) clearInterval(timer);
    timers.delete(conversationId);
  };

  return {
    typing: async (conversationId, state, conversation) => {
      stop(conversationId);
      if (state === 'stop') return;
      const chatId = asInteger(conversation.channelId);
      if (chatId === undefined) return;
      const threadId = asInteger(conversation.threadId);
      const post = () =>
        deps.api
          .sendChatAction({ chatId, ...(threadId === undefined ? {} : { threadId }) })
          .catch((err: unknown) => deps.log.debug({ code: toSwitchboardError(err).code }, 'telegram typing failed'));
      let repeats = 0;
      const timer = setInterval(() => {
        repeats += 1;
        if (repeats > MAX_REPEATS) return stop(conversationId);
        void post();
      }, deps.repeatMs ?? REPEAT_MS);
      timer.unref();
      timers.set(conversationId, timer);
      await post();
    },
    close: () => {
      for (const id of [...timers.keys()]) stop(id);
    },
  };
}
