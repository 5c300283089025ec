/**
 * The per-user cap on open web chat sockets, across every process. Each socket holds a slot: a
 * member (random id) of the user's sorted set in Redis, scored by when the slot expires. The
 * process holding the socket renews its slots every third of the TTL and removes a slot when its
 * socket closes. Admission is one atomic Lua call: drop expired slots, count, add.
 *
 * Crash leaks heal themselves: a process that dies stops renewing, and its slots expire after at
 * most the TTL. A Redis restart that loses the set is healed the other way: renewal re-adds every
 * live slot. While Redis is unreachable admission falls back to counting this process's own
 * sockets (fail open to a per-process cap, with a metric and a log line).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { luaScript, runScript, type LimiterRedis } from './limiter-redis.ts';

/** The decision for one socket. */
export type SocketAdmission =
  | { readonly admitted: true; readonly release: () => void; readonly degraded: boolean }
  | { readonly admitted: false; readonly retryAfterMs: number };

/** The socket cap. */
export interface SocketCap {
  /** Claims a slot for `userId` (an id) or says when to retry. */
  admit(userId: string): Promise<SocketAdmission>;
  /** Stops renewing and removes this process's slots (graceful shutdown). */
  close(): Promise<void>;
}

/** Cap settings. */
export interface SocketCapOptions {
  readonly limiter: LimiterRedis;
  readonly perUser: number;
  readonly slotTtlMs: number;
  readonly clock: Clock;
  /** Told about each admission decided without Redis. */
  readonly onDegraded: (err: unknown) => void;
  /** Told when renewing slots fails (they may expire early; the cap then errs on the open side). */
  readonly onRenewFailed: (err: unknown) => void;
}

// KEYS[1] = the user's slots; ARGV = now, expires at, member, cap, key TTL (ms).
const ADMIT = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[4]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, first[2]}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, held + 1}
`);

interface Slot {
  readonly userId: string;
  readonly member: string;
}

/** Creates the cap and starts renewing slots. */
export function createSocketCap(options: SocketCapOptions): SocketCap {
  const { limiter, clock } = options;
  const held = new Map<string, Slot>();
  const keyOf = (userId: string): string => `${limiter.keyPrefix}ws:${userId}`;
  // The set outlives its newest slot a little, so an idle user's key disappears on its own.
  const keyTtlMs = options.slotTtlMs * 2;

  const heldBy = (userId: string): number => {
    let count = 0;
    for (const slot of held.values()) if (slot.userId === userId) count += 1;
    return count;
  };

  const hold = (slot: Slot, degraded: boolean): SocketAdmission => {
    held.set(slot.member, slot);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.delete(slot.member);
      if (limiter.usable()) limiter.redis.zrem(keyOf(slot.userId), slot.member).catch(() => undefined);
    };
    return { admitted: true, release, degraded };
  };

  const renew = async (): Promise<void> => {
    if (held.size === 0 || !limiter.usable()) return;
    const expiresAt = Math.floor(clock.now()) + options.slotTtlMs;
    const pipeline = limiter.redis.pipeline();
    // Plain ZADD (not XX): a slot lost with a Redis restart is put back, so live sockets keep counting.
    for (const slot of held.values()) {
      pipeline.zadd(keyOf(slot.userId), expiresAt, slot.member);
      pipeline.pexpire(keyOf(slot.userId), keyTtlMs);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw failed[0];
  };
  const timer = setInterval(() => {
    renew().catch(options.onRenewFailed);
  }, Math.max(500, Math.floor(options.slotTtlMs / 3)));
  timer.unref();

  return {
    admit: async (userId) => {
      const slot: Slot = { userId, member: randomUUID() };
      const degradedAdmission = (err: unknown): SocketAdmission => {
        options.onDegraded(err);
        if (heldBy(userId) >= options.perUser) return { admitted: false, retryAfterMs: options.slotTtlMs };
        return hold(slot, true);
      };
      if (!limiter.usable()) return degradedAdmission(new Error('limiter Redis unreachable'));
      const now = Math.floor(clock.now());
      let result: [number, string | number];
      try {
        result = (await runScript(limiter.redis, ADMIT, [keyOf(userId)], [now, now + options.slotTtlMs, slot.member, options.perUser, keyTtlMs])) as [
          number,
          string | number,
        ];
      } catch (err) {
        return degradedAdmission(err);
      }
      if (Number(result[0]) === 1) return hold(slot, false);
      // The earliest slot frees by then at the latest (sooner if its socket closes).
      const retryAfterMs = Math.min(options.slotTtlMs, Math.max(1_000, Number(result[1]) - now));
      return { admitted: false, retryAfterMs };
    },
    close: async () => {
      clearInterval(timer);
      const slots = [...held.values()];
      held.clear();
      if (slots.length === 0 || !limiter.usable()) return;
      const pipeline = limiter.redis.pipeline();
      for (const slot of slots) pipeline.zrem(keyOf(slot.userId), slot.member);
      await pipeline.exec().catch(() => undefined);
    },
  };
}
