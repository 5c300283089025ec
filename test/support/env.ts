/** Test environments: a fresh Postgres database and a unique queue prefix per test file. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrate } from '../../src/store/migrate.ts';

/** The servers tests talk to; override with TEST_POSTGRES_URL / TEST_REDIS_URL. */
export const TEST_POSTGRES_ADMIN_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A short random suffix for names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** Creates and migrates a database of its own; `drop` removes it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `sbt_${uniqueSuffix()}`;
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** Deletes every Redis key under a queue prefix. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A fresh Ed25519 private key in PKCS#8 PEM. */
export function testJwtKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A fresh one-key vault spec. */
export function testVaultKeys(): string {
  return `t1:${randomBytes(32).toString('base64')}`;
}

/** A complete environment for one Switchboard instance under test. */
export function testEnv(databaseUrl: string, queuePrefix: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SWITCHBOARD_ENV: 'test',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '5',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    VAULT_KEYS: testVaultKeys(),
    JWT_PRIVATE_KEY: testJwtKeyPem(),
    LLM_PROVIDER: 'offline',
    WORKER_LOCK_DURATION_MS: '2000',
    JOB_BACKOFF_MS: '100',
    SWEEPER_INTERVAL_MS: '500',
    SWEEPER_STALE_AFTER_MS: '3000',
    SHUTDOWN_DEADLINE_MS: '3000',
    DEV_BOOTSTRAP_OWNER: 'false',
    ...overrides,
  };
}
