/**
 * In-process spacing of sendMessage calls, on top of the shared pacer. The pacer books slots in
 * Redis so that, on average and across processes, sends stay under Telegram's limits; but a job
 * that wakes late for its slot lands next to the following one, and a burst of late jobs can put
 * more than 30 messages into one second (the stand-in measured 33). This gate makes the actual
 * calls of one process keep the minimum gaps (per bot, per chat, per group), measured when each
 * call goes, so jitter can only delay a send, never bunch sends. Waits are short: the pacer
 * already spaced the bookings.
 */
import { SwitchboardError } from '../../src/core/errors.ts';

/** Minimum gaps between two calls. */
export interface SpacingRules {
  readonly globalMs: number;
  readonly chatMs: number;
  readonly groupMs: number;
}

/** The gate. */
export interface SendSpacing {
  /** Waits until a call to this chat keeps every gap, and records it as made now. */
  wait(chatId: string, group: boolean, signal: AbortSignal): Promise<void>;
}

// Chats idle longer than this are forgotten (any gap is long past).
const FORGET_AFTER_MS = 120_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancel = (): void => {
      clearTimeout(timer);
      reject(new SwitchboardError('shutting_down', 'Send cancelled'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', cancel);
      resolve();
    }, ms);
    signal.addEventListener('abort', cancel, { once: true });
  });
}

/** Creates a gate; `now` is injectable for tests. */
export function createSendSpacing(rules: SpacingRules, now: () => number = Date.now): SendSpacing {
  let globalLast = Number.NEGATIVE_INFINITY;
  const chatLast = new Map<string, number>();
  return {
    wait: async (chatId, group, signal) => {
      // Measured on waking, not booked ahead: timers that fire late together (a busy event loop)
      // re-check, and only one of them goes; checking and recording happen with no await between.
      for (;;) {
        if (signal.aborted) throw new SwitchboardError('shutting_down', 'Send cancelled');
        const current = now();
        const due = Math.max(globalLast + rules.globalMs, (chatLast.get(chatId) ?? Number.NEGATIVE_INFINITY) + (group ? rules.groupMs : rules.chatMs));
        if (current >= due) {
          globalLast = current;
          // Re-inserted so the map stays ordered by last use, oldest first.
          chatLast.delete(chatId);
          chatLast.set(chatId, current);
          for (const [id, last] of chatLast) {
            if (last + FORGET_AFTER_MS > current) break;
            chatLast.delete(id);
          }
          return;
        }
        await sleep(Math.max(1, due - current), signal);
      }
    },
  };
}
