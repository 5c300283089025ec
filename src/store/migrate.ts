/**
 * Versioned migrations: `NNN_name.sql` files in ./migrations, applied in order, each in its own
 * transaction, under an advisory lock so concurrent starts don't race. Creates the database when missing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any fixed number works; it only has to be the same for every Switchboard process.
const MIGRATION_LOCK_ID = 727_001;

/** One applied or pending migration. */
export interface MigrationInfo {
  readonly version: number;
  readonly name: string;
}

/** Lists migration files in order. */
export async function listMigrations(): Promise<Array<MigrationInfo & { file: string }>> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => ({ version: Number(file.slice(0, 3)), name: file.slice(4, -4), file }));
}

/** Creates the database named in `connectionString` if it does not exist. Returns true if created. */
export async function ensureDatabase(connectionString: string): Promise<boolean> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`Refusing unusual database name: ${name}`);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    // Identifiers cannot be parameters; the name was checked against a strict pattern above.
    await admin.query(`CREATE DATABASE "${name}"`).catch((err: unknown) => {
      if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
    });
    return true;
  } finally {
    await admin.end();
  }
}

/** Applies pending migrations; returns the ones applied now. */
export async function migrate(connectionString: string): Promise<MigrationInfo[]> {
  await ensureDatabase(connectionString);
  const client = new pg.Client({ connectionString });
  await client.connect();
  const applied: MigrationInfo[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const migration of await listMigrations()) {
      if (done.has(migration.version)) continue;
      const sql = await readFile(new URL(migration.file, `file://${MIGRATIONS_DIR}`), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.file} failed`, { cause: err });
      }
      applied.push({ version: migration.version, name: migration.name });
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
