/**
 * The persisted IDENTIFY budget. Discord resets the token of a bot that identifies 1,000 times in
 * 24 hours, so a crash-looping process could take the bot offline until a person rotates it.
 * Every IDENTIFY is counted in hourly buckets of a shared counter store (Redis, 25 h TTL), so the
 * count survives restarts and holds across processes; the last 24 buckets are a rolling window
 * (rounded to whole hours, which over-counts, never under-counts). Past the limit the throttler
 * refuses to let the shard identify and tells the adapter, which takes the gateway down until the
 * window frees up. It is discord.js's identify throttler (`ws.buildIdentifyThrottler`), so it also
 * spaces identifies by `minIntervalMs` (Discord: one per 5 s per max_concurrency bucket).
 */
import type { IIdentifyThrottler } from 'discord.js';
import type { Clock } from '../../src/core/clock.ts';
import type { CounterPort } from '../../src/core/platform.ts';

const HOUR_MS = 3_600_000;
const WINDOW_HOURS = 24;
const BUCKET_TTL_MS = (WINDOW_HOURS + 1) * HOUR_MS;

/** Why an IDENTIFY was not allowed. */
export type IdentifyRefusal = { readonly kind: 'exhausted'; readonly used: number } | { readonly kind: 'unavailable' };

/** What the budget needs. */
export interface IdentifyBudgetOptions {
  readonly counters: CounterPort;
  readonly clock: Clock;
  /** Names the bot's counters (the application id). */
  readonly botKey: string;
  readonly dailyLimit: number;
  readonly minIntervalMs: number;
  /**
   * Called once per refused attempt: the limit is reached (`used` is the window's count), or the
   * counter store cannot be read (then nothing is known, so nothing is allowed).
   */
  readonly onRefused: (refusal: IdentifyRefusal) => void;
  /** Called after each counted IDENTIFY. */
  readonly onIdentify?: (used: number) => void;
}

/** The persisted budget, usable as discord.js's identify throttler. */
export interface IdentifyBudget extends IIdentifyThrottler {
  /** IDENTIFYs counted in the current 24 h window. */
  used(): Promise<number>;
  /** Whether another IDENTIFY is allowed now. */
  available(): Promise<boolean>;
}

function bucketName(botKey: string, hour: number): string {
  return `discord:identify:${botKey}:${hour}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits until `signal` aborts, then rejects: a refused IDENTIFY never goes out. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Creates the budget. */
export function createIdentifyBudget(options: IdentifyBudgetOptions): IdentifyBudget {
  const { counters, clock, botKey, dailyLimit, minIntervalMs } = options;
  let lastIdentifyAt = Number.NEGATIVE_INFINITY;
  // One identify decision at a time (discord.js may ask for several shards at once).
  let queue: Promise<unknown> = Promise.resolve();

  const used = async (): Promise<number> => {
    const hour = Math.floor(clock.now() / HOUR_MS);
    const hours = Array.from({ length: WINDOW_HOURS }, (_, i) => hour - i);
    const counts = await Promise.all(hours.map((h) => counters.get(bucketName(botKey, h))));
    return counts.reduce((sum, n) => sum + n, 0);
  };

  const decide = async (signal: AbortSignal): Promise<void> => {
    const wait = lastIdentifyAt + minIntervalMs - clock.now();
    if (wait > 0) await sleep(wait, signal);
    // Never reject except on abort: discord.js identifies anyway when a throttler throws.
    let count: number;
    try {
      count = await used();
      if (count < dailyLimit) await counters.increment(bucketName(botKey, Math.floor(clock.now() / HOUR_MS)), BUCKET_TTL_MS);
    } catch {
      options.onRefused({ kind: 'unavailable' });
      return untilAborted(signal);
    }
    if (count >= dailyLimit) {
      options.onRefused({ kind: 'exhausted', used: count });
      return untilAborted(signal);
    }
    lastIdentifyAt = clock.now();
    options.onIdentify?.(count + 1);
  };

  return {
    used,
    available: async () => (await used()) < dailyLimit,
    waitForIdentify: (_shardId, signal) => {
      const turn = queue.then(() => decide(signal));
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}
