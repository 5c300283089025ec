/**
 * A token bucket shared by every process: GCRA (the generic cell rate algorithm), which is a token
 * bucket stored as one number per key, the "theoretical arrival time". One atomic Lua call per
 * decision, so two API processes can never both spend the last token. Fixed-window counters
 * (rate-limiter-flexible's RateLimiterRedis, BurstyRateLimiter) would let a client send two
 * windows' worth across a window edge; a bucket of 10 must mean 10.
 *
 * While Redis is unreachable the bucket fails open onto a per-process twin of the same algorithm:
 * each process still enforces the burst and rate on its own (so N processes allow at most N times
 * the limit), and every such decision is counted in a metric and logged.
 */
import type { Clock } from '../core/clock.ts';
import { luaScript, runScript, type LimiterRedis } from './limiter-redis.ts';

/** One decision. */
export interface BucketDecision {
  readonly allowed: boolean;
  /** When refused: how long until one token is available (ms, ≥ 1). */
  readonly retryAfterMs: number;
  /** Tokens left after this decision. */
  readonly remaining: number;
  /** True when Redis was unreachable and the per-process bucket decided. */
  readonly degraded: boolean;
}

/** A token bucket keyed by an id. */
export interface TokenBucket {
  /** Takes one token for `key` (an id, never PII). */
  take(key: string): Promise<BucketDecision>;
}

/** Bucket settings. */
export interface TokenBucketOptions {
  readonly limiter: LimiterRedis;
  /** Distinguishes buckets in Redis (`msg`). */
  readonly name: string;
  readonly perMinute: number;
  readonly burst: number;
  readonly clock: Clock;
  /** Told about each decision taken without Redis. */
  readonly onDegraded: (err: unknown) => void;
}

// KEYS[1] = bucket; ARGV = now (ms), emission interval (ms per token), burst.
// tat = the time at which the bucket would be full again; a request is allowed when spending one
// more token keeps tat within burst × interval of now.
const GCRA = luaScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now)
return {1, 0, math.floor((now - allow_at) / interval)}
`);

/** The same algorithm in memory, for when Redis is unreachable. */
function createLocalGcra(intervalMs: number, burst: number): (key: string, now: number) => Omit<BucketDecision, 'degraded'> {
  const tats = new Map<string, number>();
  return (key, now) => {
    if (tats.size > 50_000) {
      for (const [k, tat] of tats) if (tat <= now) tats.delete(k);
    }
    const tat = Math.max(tats.get(key) ?? 0, now);
    const newTat = tat + intervalMs;
    const allowAt = newTat - burst * intervalMs;
    if (allowAt > now) return { allowed: false, retryAfterMs: allowAt - now, remaining: 0 };
    tats.set(key, newTat);
    return { allowed: true, retryAfterMs: 0, remaining: Math.floor((now - allowAt) / intervalMs) };
  };
}

/** Creates a bucket refilling `perMinute` tokens a minute, holding at most `burst`. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  // Whole milliseconds keep the Lua arithmetic exact; the rounding error is < 0.1 % for any rate ≤ 60/s.
  const intervalMs = Math.max(1, Math.round(60_000 / options.perMinute));
  const local = createLocalGcra(intervalMs, options.burst);
  const { limiter } = options;

  const degraded = (key: string, now: number, err: unknown): BucketDecision => {
    options.onDegraded(err);
    return { ...local(key, now), degraded: true };
  };

  return {
    take: async (key) => {
      const now = Math.floor(options.clock.now());
      if (!limiter.usable()) return degraded(key, now, new Error('limiter Redis unreachable'));
      try {
        const result = await runScript(limiter.redis, GCRA, [`${limiter.keyPrefix}${options.name}:${key}`], [now, intervalMs, options.burst]);
        const [allowed, retryAfterMs, remaining] = (result as [number, number, number]).map(Number) as [number, number, number];
        return { allowed: allowed === 1, retryAfterMs: allowed === 1 ? 0 : Math.max(1, retryAfterMs), remaining, degraded: false };
      } catch (err) {
        return degraded(key, now, err);
      }
    },
  };
}
