/** Redis connections for queues, workers and pub/sub. */
import { Redis } from 'ioredis';

/** What each connection is for; it decides how it behaves while Redis is down. */
export type RedisRole = 'producer' | 'worker' | 'subscriber' | 'command';

/**
 * Opens a connection. Producers fail fast while Redis is down (so ingest can report it and the
 * sweeper can re-enqueue later); workers and subscribers wait and reconnect; one-off commands
 * (doctor) queue until connected but give up after one reconnect attempt.
 */
export function createRedis(url: string, role: RedisRole, name: string): Redis {
  const waitsForRedis = role === 'worker' || role === 'subscriber';
  return new Redis(url, {
    connectionName: `switchboard:${name}`,
    // Reconnect forever with a capped backoff; BullMQ relies on ioredis to come back.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    maxRetriesPerRequest: waitsForRedis ? null : 1,
    enableOfflineQueue: role !== 'producer',
    connectTimeout: 5_000,
  });
}

/** Resolves once `redis` is connected, or after `timeoutMs` (callers carry on; health reports it). */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
