/**
 * Sending replies to Discord. A reply to a gateway message goes to its channel, its first part
 * referencing the message (message_reference; no ping: replied_user false). A reply to `/ask`
 * goes through the interaction's webhook while its token lives (the first follow-up replaces the
 * deferred "thinking…"), and to the channel when the token has expired or Discord no longer
 * knows it. Every send carries allowed_mentions { parse: [] } and rendered (neutralized) text.
 * Typing is re-sent every 8 s while the agent works (Discord shows it for about 10 s).
 */
import type { REST } from 'discord.js';
import type { Clock } from '../../src/core/clock.ts';
import type { ConversationRef, OutboundMessage } from '../../src/core/envelope.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { SendResult } from '../../src/core/ports.ts';
import { renderDiscord } from './render.ts';
import { interactionIdOf } from './normalize.ts';
import type { InteractionTokenStore } from './interaction-tokens.ts';
import { postChannelMessage, postFollowup, postTyping, toSendError } from './rest.ts';
import { NO_MENTIONS, type DiscordMessageBody } from './payloads.ts';

const TYPING_REPEAT_MS = 8_000;
// Typing stops by itself after this many repeats, whatever happens to the agent.
const TYPING_MAX_REPEATS = 15;

/** What sending needs. */
export interface DiscordOutboundDeps {
  readonly rest: REST;
  readonly applicationId: string;
  readonly tokens: InteractionTokenStore;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The outbound half of the adapter. */
export interface DiscordOutbound {
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
  typing(conversationId: string, state: 'start' | 'stop', conversation: ConversationRef): Promise<void>;
  /** Stops every typing repeat. */
  close(): void;
}

/** Creates the outbound half. */
export function createDiscordOutbound(deps: DiscordOutboundDeps): DiscordOutbound {
  const typingTimers = new Map<string, NodeJS.Timeout>();

  const stopTyping = (conversationId: string): void => {
    const timer = typingTimers.get(conversationId);
    if (timer) clearInterval(timer);
    typingTimers.delete(conversationId);
  };

  const sendThroughInteraction = async (interactionId: string, body: DiscordMessageBody, last: boolean, signal: AbortSignal): Promise<SendResult | undefined> => {
    const token = await deps.tokens.recall(interactionId, deps.clock.now());
    if (token === undefined) return undefined;
    try {
      const id = await postFollowup(deps.rest, deps.applicationId, token, body, signal);
      if (last) await deps.tokens.forget(interactionId).catch(() => undefined);
      return id === undefined ? {} : { platformMessageId: id };
    } catch (err) {
      const error = toSendError(err);
      if (error.retryable) throw error;
      // Discord no longer knows the token (expired, unknown webhook): the channel still works.
      deps.log.warn({ interactionId, code: error.code, status: error.details.context?.['status'] ?? null }, 'discord follow-up refused; replying in the channel');
      await deps.tokens.forget(interactionId).catch(() => undefined);
      return undefined;
    }
  };

  return {
    send: async (message, signal) => {
      const index = message.part?.index ?? 0;
      const last = message.part === undefined || index === message.part.count - 1;
      const content = renderDiscord(message.text);
      const interactionId = interactionIdOf(message.replyToPlatformMessageId);
      if (interactionId !== undefined) {
        const viaInteraction = await sendThroughInteraction(interactionId, { content, allowed_mentions: NO_MENTIONS }, last, signal);
        if (viaInteraction) return viaInteraction;
      }
      const replyTo = interactionId === undefined && index === 0 ? message.replyToPlatformMessageId : undefined;
      const body: DiscordMessageBody = {
        content,
        allowed_mentions: NO_MENTIONS,
        ...(replyTo === undefined ? {} : { message_reference: { message_id: replyTo, fail_if_not_exists: false as const } }),
      };
      try {
        const id = await postChannelMessage(deps.rest, message.conversation.channelId, body, signal);
        return id === undefined ? {} : { platformMessageId: id };
      } catch (err) {
        throw toSendError(err);
      }
    },
    typing: async (conversationId, state, conversation) => {
      stopTyping(conversationId);
      if (state === 'stop') return;
      const channelId = conversation.channelId;
      const post = () =>
        postTyping(deps.rest, channelId).catch((err: unknown) => deps.log.debug({ code: toSendError(err).code }, 'discord typing failed'));
      let repeats = 0;
      const timer = setInterval(() => {
        repeats += 1;
        if (repeats > TYPING_MAX_REPEATS) return stopTyping(conversationId);
        void post();
      }, TYPING_REPEAT_MS);
      timer.unref();
      typingTimers.set(conversationId, timer);
      await post();
    },
    close: () => {
      for (const id of [...typingTimers.keys()]) stopTyping(id);
    },
  };
}
