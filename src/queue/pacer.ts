/**
 * Outbound pacing: a GCRA ("generic cell rate") scheduler in Redis. Each key (a platform's global
 * budget, a chat, a bot) has a minimum interval between sends and a burst allowance; `reserve`
 * books the earliest slot across several keys atomically and says how long to wait for it.
 * Unlike fixed windows it never lets two sends through back to back at a window edge, which is
 * what platforms that enforce "1 message per second per chat" answer with 429.
 */
import type { Redis } from 'ioredis';
import type { PaceRule } from '../core/platform.ts';

export type { PaceRule };

// KEYS: budget keys. ARGV: now, then (interval, burst) per key. Returns the wait in ms (0 = send now).
// Theoretical arrival time (TAT) per key; a send is allowed when now >= TAT - (burst - 1) * interval.
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local start = now
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local allowed_at = tat - (burst - 1) * interval
  if allowed_at > start then start = allowed_at end
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < start then tat = start end
  local next_tat = tat + interval
  redis.call('SET', key, next_tat, 'PX', math.ceil(next_tat - now + burst * interval))
end
return start - now
`;

// After a send that happened later than its slot, later bookings must count from the real send time.
const SETTLE_SCRIPT = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now + interval then
    redis.call('SET', key, now + interval, 'PX', math.ceil(interval * (burst + 1)))
  end
end
return 0
`;

// Conformance at send time on separate ":gate" keys: all rules must allow a send now, then all
// are charged; otherwise nothing changes and the wait until they would is returned. ARGV per rule:
// interval, burst, window ms (0 = a GCRA rate; otherwise at most `burst` sends in any window, kept
// as a sorted set of send times).
const GATE_SCRIPT = `
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  if window > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    if redis.call('ZCARD', key) >= burst then
      local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
      if oldest + window - now > wait then wait = oldest + window - now end
    end
  else
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    local allowed_at = tat - (burst - 1) * interval
    if allowed_at - now > wait then wait = allowed_at - now end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  if window > 0 then
    redis.call('ZADD', key, now, now .. ':' .. redis.call('INCR', key .. ':seq'))
    redis.call('PEXPIRE', key, window)
    redis.call('PEXPIRE', key .. ':seq', window)
  else
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    redis.call('SET', key, tat + interval, 'PX', math.ceil(tat + interval - now + burst * interval))
  end
end
return 0
`;

/** Books send slots against several budgets at once. */
export interface Pacer {
  /** Reserves the earliest slot satisfying every rule; resolves to the wait in ms before sending. */
  reserve(rules: readonly PaceRule[], nowMs: number): Promise<number>;
  /**
   * Records that a send actually happened at `sentAtMs` (it may be later than its slot, after
   * queue latency or a retry), so the next slot is at least one interval after it.
   */
  settle(rules: readonly PaceRule[], sentAtMs: number): Promise<void>;
  /**
   * Checks, at the moment of sending, that every rule allows a send now (a booked slot can still
   * be too close to a send that happened late, and shared budgets are never booked ahead). Charges
   * all rules and resolves 0 when allowed; otherwise charges nothing and resolves the wait in ms.
   */
  gate(rules: readonly PaceRule[], nowMs: number): Promise<number>;
}

/** Creates a pacer storing its state under `${prefix}:pace:`. */
export function createPacer(redis: Redis, prefix: string): Pacer {
  const argsOf = (rules: readonly PaceRule[], nowMs: number): string[] => [
    String(Math.floor(nowMs)),
    ...rules.flatMap((r) => [String(r.intervalMs), String(Math.max(1, r.burst))]),
  ];
  return {
    gate: async (rules, nowMs) => {
      if (rules.length === 0) return 0;
      const keys = rules.map((r) => `${prefix}:pace:${r.key}:${r.window ? 'window' : 'gate'}`);
      const args = [
        String(Math.floor(nowMs)),
        ...rules.flatMap((r) => [String(r.intervalMs), String(Math.max(1, r.window?.max ?? r.burst)), String(r.window?.ms ?? 0)]),
      ];
      return Math.max(0, Number(await redis.eval(GATE_SCRIPT, keys.length, ...keys, ...args)));
    },
    reserve: async (allRules, nowMs) => {
      const rules = allRules.filter((r) => r.gateOnly !== true && r.window === undefined);
      if (rules.length === 0) return 0;
      const keys = rules.map((r) => `${prefix}:pace:${r.key}`);
      const args = argsOf(rules, nowMs);
      const wait = (await redis.eval(RESERVE_SCRIPT, keys.length, ...keys, ...args)) as number;
      return Math.max(0, Number(wait));
    },
    settle: async (allRules, sentAtMs) => {
      const rules = allRules.filter((r) => r.gateOnly !== true && r.window === undefined);
      if (rules.length === 0) return;
      const keys = rules.map((r) => `${prefix}:pace:${r.key}`);
      const args = [String(Math.floor(sentAtMs)), ...rules.flatMap((r) => [String(r.intervalMs), String(Math.max(1, r.burst))])];
      await redis.eval(SETTLE_SCRIPT, keys.length, ...keys, ...args);
    },
  };
}
