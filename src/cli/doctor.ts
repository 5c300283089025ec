/** `switchboard doctor`: checks configuration, connectivity and keys, and says what to fix. */
import { loadConfig, type Config } from '../../config/load.ts';
import { isSwitchboardError } from '../core/errors.ts';
import { createRedis } from '../queue/connection.ts';
import { createDb } from '../store/db.ts';
import { listMigrations } from '../store/migrate.ts';
import { resolveSecrets } from '../crypto/dev-secrets.ts';
import { createVault, parseVaultKeys } from '../crypto/vault.ts';
import { loadEd25519SigningKey } from '../auth/signing-key.ts';
import { resolveLlmChoice } from '../llm/index.ts';
import { runDoctorSecurity } from './doctor-security.ts';
import { checkAdapters } from './doctor-adapters.ts';

type Status = 'ok' | 'warn' | 'fail';
interface Check {
  readonly name: string;
  readonly status: Status;
  readonly detail: string;
}

const describe = (err: unknown): string =>
  isSwitchboardError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

async function checkPostgres(config: Config): Promise<Check[]> {
  const db = createDb({ connectionString: config.DATABASE_URL, max: 1 }, () => undefined);
  try {
    await db.query('SELECT 1');
    const known = await listMigrations();
    const applied = await db
      .query<{ version: number }>('SELECT version FROM schema_migrations')
      .then((r) => new Set(r.rows.map((row) => row.version)))
      .catch(() => new Set<number>());
    const pending = known.filter((m) => !applied.has(m.version)).length;
    return [
      { name: 'postgres', status: 'ok', detail: 'reachable' },
      {
        name: 'migrations',
        status: pending === 0 ? 'ok' : 'warn',
        detail: pending === 0 ? 'up to date' : `${pending} pending (run: switchboard migrate, or start applies them)`,
      },
    ];
  } catch (err) {
    return [{ name: 'postgres', status: 'fail', detail: `${describe(err)} (DATABASE_URL)` }];
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function checkRedis(config: Config): Promise<Check[]> {
  const redis = createRedis(config.REDIS_URL, 'command', 'doctor');
  redis.on('error', () => undefined);
  try {
    await redis.ping();
    const checks: Check[] = [{ name: 'redis', status: 'ok', detail: 'reachable' }];
    try {
      const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const aof = (await redis.config('GET', 'appendonly')) as string[];
      const production = config.SWITCHBOARD_ENV === 'production';
      checks.push({
        name: 'redis eviction',
        status: policy[1] === 'noeviction' ? 'ok' : production ? 'fail' : 'warn',
        detail: `maxmemory-policy=${policy[1] ?? '?'} (queues need noeviction)`,
      });
      checks.push({
        name: 'redis persistence',
        status: aof[1] === 'yes' ? 'ok' : 'warn',
        detail: `appendonly=${aof[1] ?? '?'} (the sweeper recovers lost jobs, but AOF avoids the delay)`,
      });
    } catch {
      checks.push({ name: 'redis config', status: 'warn', detail: 'CONFIG GET not permitted; cannot check AOF and eviction' });
    }
    return checks;
  } catch (err) {
    return [{ name: 'redis', status: 'fail', detail: `${describe(err)} (REDIS_URL)` }];
  } finally {
    redis.disconnect();
  }
}

async function checkKeys(config: Config): Promise<Check[]> {
  try {
    const secrets = resolveSecrets(config, () => undefined);
    const vault = createVault(parseVaultKeys(secrets.vaultKeys));
    const aad = { table: 'doctor', column: 'check', rowId: '1' };
    const roundTrip = vault.openText(vault.seal('ok', aad), aad) === 'ok';
    await loadEd25519SigningKey(secrets.jwtPrivateKeyPem);
    const development = secrets.source === 'development';
    return [
      {
        name: 'vault',
        status: roundTrip ? (development ? 'warn' : 'ok') : 'fail',
        detail: `active key ${vault.activeKeyId}${development ? ` (development key in ${config.DEV_SECRETS_DIR}/)` : ''}`,
      },
      { name: 'jwt signing key', status: development ? 'warn' : 'ok', detail: development ? 'development key' : 'configured' },
    ];
  } catch (err) {
    return [{ name: 'keys', status: 'fail', detail: describe(err) }];
  }
}

/** Prints one line per check (or, with --security, every security finding); exit code 1 when anything failed. */
export async function runDoctor(options: { security?: boolean } = {}): Promise<void> {
  if (options.security === true) {
    await runDoctorSecurity();
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stdout.write(`FAIL  config             ${describe(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const checks: Check[] = [{ name: 'config', status: 'ok', detail: `environment ${config.SWITCHBOARD_ENV}` }];
  try {
    const llm = resolveLlmChoice(config);
    checks.push({
      name: 'llm provider',
      status: llm.kind === 'offline' ? 'warn' : 'ok',
      detail: llm.kind === 'offline' ? 'offline responder (set OPENAI_API_KEY, ANTHROPIC_API_KEY or LLM_BASE_URL)' : `${llm.kind}:${llm.model}`,
    });
  } catch (err) {
    checks.push({ name: 'llm provider', status: 'fail', detail: describe(err) });
  }
  checks.push(...(await checkKeys(config)), ...(await checkPostgres(config)), ...(await checkRedis(config)), ...checkAdapters(config));
  for (const check of checks) {
    process.stdout.write(`${check.status.toUpperCase().padEnd(5)} ${check.name.padEnd(18)} ${check.detail}\n`);
  }
  if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
}
