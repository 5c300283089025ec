/** Reads every value stored under a key prefix, whatever its Redis type, for "what does Redis hold" checks. */
import { Redis } from 'ioredis';

/** Returns each key with all the strings stored in it (members, fields, values, stream entries). */
export async function dumpRedisPrefix(redisUrl: string, prefix: string): Promise<Map<string, string[]>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const dump = new Map<string, string[]>();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let values: string[] = [];
        if (type === 'string') values = [(await redis.get(key)) ?? ''];
        else if (type === 'hash') values = Object.entries(await redis.hgetall(key)).flat();
        else if (type === 'list') values = await redis.lrange(key, 0, -1);
        else if (type === 'set') values = await redis.smembers(key);
        else if (type === 'zset') values = await redis.zrange(key, '0', '-1');
        else if (type === 'stream') {
          const entries = await redis.xrange(key, '-', '+');
          values = entries.flatMap(([id, fields]) => [id, ...fields]);
        }
        dump.set(key, [key, ...values]);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return dump;
}
