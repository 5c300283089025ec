/** Redis leases and counters for adapters: one gateway holder per bot, persisted budgets. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CounterPort, Lease, LockPort } from '../core/platform.ts';

// Extend or release only while we still own the lease (the value is our token).
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Leases under `${prefix}:lock:`: SET NX PX with a random token, extended and released atomically. */
export function createLockPort(redis: Redis, prefix: string): LockPort {
  return {
    acquire: async (name, ttlMs) => {
      const key = `${prefix}:lock:${name}`;
      const token = randomUUID();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      const lease: Lease = {
        extend: async () => Number(await redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1,
        release: async () => {
          await redis.eval(RELEASE, 1, key, token);
        },
      };
      return lease;
    },
  };
}

/** Counters under `${prefix}:counter:`; the TTL is set when a counter is created. */
export function createCounterPort(redis: Redis, prefix: string): CounterPort {
  return {
    increment: async (name, ttlMs, by = 1) => {
      const key = `${prefix}:counter:${name}`;
      const [[, value]] = (await redis.multi().incrby(key, by).pexpire(key, ttlMs, 'NX').exec()) as [[null, number], unknown];
      return Number(value);
    },
    get: async (name) => Number((await redis.get(`${prefix}:counter:${name}`)) ?? 0),
  };
}
