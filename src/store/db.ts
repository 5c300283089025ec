/** The Postgres pool and a transaction helper. SQL is parameterized everywhere; no string building. */
import pg from 'pg';
import { SwitchboardError } from '../core/errors.ts';

/** A pooled client or the pool itself: anything that can run a query. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** The pool type used throughout. */
export type Db = pg.Pool;

/** Options for the pool. */
export interface DbOptions {
  readonly connectionString: string;
  readonly max: number;
  readonly applicationName?: string;
}

/** Creates the pool. Errors on idle clients are reported, not thrown (they would crash the process). */
export function createDb(options: DbOptions, onError: (err: Error) => void): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName ?? 'switchboard',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', onError);
  return pool;
}

/** Runs `work` in one transaction; rolls back on any error and rethrows it. */
export async function withTransaction<T>(db: Db, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await db.connect();
  } catch (err) {
    throw new SwitchboardError('db_unavailable', 'Database unavailable', {}, { cause: err });
  }
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** True when `err` is a Postgres unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
