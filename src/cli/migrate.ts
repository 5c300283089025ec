/** `switchboard migrate`. */
import { loadConfig } from '../../config/load.ts';
import { migrate } from '../store/migrate.ts';

/** Applies pending migrations and reports them. */
export async function runMigrate(): Promise<void> {
  const config = loadConfig();
  const applied = await migrate(config.DATABASE_URL);
  process.stdout.write(
    applied.length === 0
      ? 'Database is up to date.\n'
      : `Applied ${applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')}\n`,
  );
}
