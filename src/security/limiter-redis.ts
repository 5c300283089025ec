/**
 * The rate limiters' own Redis connection. It is separate from the queue connections so a slow
 * limiter call never waits behind BullMQ traffic, and it is tuned to answer quickly: commands time
 * out after `timeoutMs`, and once the connection has been up, an outage is noticed without a
 * round trip (callers then take their documented degraded path).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

/** A connection for limiters, with a cheap "is it worth trying" check. */
export interface LimiterRedis {
  readonly redis: Redis;
  /** Key prefix every limiter key starts with (`<QUEUE_PREFIX>:rl:`), so one prefix holds a deployment's keys. */
  readonly keyPrefix: string;
  /** False while a connection that was up is known to be down; callers skip Redis then. */
  usable(): boolean;
  /** Closes the connection. */
  close(): void;
}

/** Opens the limiter connection. `queuePrefix` namespaces keys per deployment (and per test). */
export function createLimiterRedis(url: string, queuePrefix: string, timeoutMs: number, onError: (err: Error) => void): LimiterRedis {
  const redis = new Redis(url, {
    connectionName: 'switchboard:rate-limits',
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 2_000),
    // Commands issued during the first connect wait for it (bounded by commandTimeout); once a
    // connect has failed, `usable()` is false and nothing is sent until Redis is back.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: 5_000,
  });
  // Down from the first failed connect or lost connection until the next `ready`: while down,
  // callers skip Redis at once instead of each waiting for the command timeout.
  let down = false;
  redis.on('error', (err: Error) => {
    if (redis.status !== 'ready') down = true;
    onError(err);
  });
  redis.on('close', () => {
    down = true;
  });
  redis.on('ready', () => {
    down = false;
  });
  return {
    redis,
    keyPrefix: `${queuePrefix}:rl:`,
    usable: () => redis.status === 'ready' || (!down && redis.status !== 'end'),
    close: () => redis.disconnect(),
  };
}

/**
 * A short, stable digest for values that must not sit in Redis in clear (emails, IP addresses):
 * Redis holds ids only (invariant 3).
 */
export function digestKey(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 32);
}

/** Runs a Lua script by its SHA-1, loading it on the first NOSCRIPT (a restarted Redis forgets scripts). */
export async function runScript(redis: Redis, script: { lua: string; sha: string }, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}

/** Prepares a Lua script for `runScript`. */
export function luaScript(lua: string): { lua: string; sha: string } {
  return { lua, sha: createHash('sha1').update(lua, 'utf8').digest('hex') };
}
