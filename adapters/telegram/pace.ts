/**
 * Telegram's outbound budgets for the pacer (Bot FAQ: no more than one message per second in a
 * chat, 20 messages per minute in a group, about 30 messages per second overall). Each GCRA rule
 * has burst 1, so no window ever holds more than the limit: 35 ms apart is at most 29 per second.
 * Forum topics share their group's budget (the limits are per chat).
 */
import type { OutboundMessage } from '../../src/core/envelope.ts';
import type { PaceRule } from '../../src/core/platform.ts';

/** Per chat: one message per second. */
export const TELEGRAM_CHAT_INTERVAL_MS = 1000;
/** Per group: 20 messages per minute (a sliding window; the interval is its average spacing). */
export const TELEGRAM_GROUP_INTERVAL_MS = 3000;
/** Per group: at most this many messages in any minute. */
export const TELEGRAM_GROUP_PER_MINUTE = 20;
/** Per bot: just under 30 messages per second. */
export const TELEGRAM_GLOBAL_INTERVAL_MS = 35;

/** The budgets one message to `message.conversation` spends. */
export function telegramPaceRules(message: OutboundMessage): PaceRule[] {
  const bot = encodeURIComponent(message.installationId);
  const chat = encodeURIComponent(message.conversation.channelId);
  const rules: PaceRule[] = [
    { key: `telegram:${bot}:global`, intervalMs: TELEGRAM_GLOBAL_INTERVAL_MS, burst: 1, gateOnly: true },
    { key: `telegram:${bot}:chat:${chat}`, intervalMs: TELEGRAM_CHAT_INTERVAL_MS, burst: 1 },
  ];
  if (message.conversation.kind !== 'dm') {
    // 20 in any minute, checked when sending: a burst goes out at the chat's 1/s, then waits.
    rules.push({
      key: `telegram:${bot}:group:${chat}`,
      intervalMs: TELEGRAM_GROUP_INTERVAL_MS,
      burst: 1,
      window: { max: TELEGRAM_GROUP_PER_MINUTE, ms: 60_000 },
    });
  }
  return rules;
}
