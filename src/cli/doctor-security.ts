/**
 * `switchboard doctor --security`: every security misconfiguration we can detect, each with how
 * to fix it. In production a misconfiguration is a failure (exit 1); elsewhere it is a warning.
 * Production refusals of the config loader are reported here as findings (the loader is run
 * without them), so one run lists everything instead of stopping at the first refusal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../config/load.ts';
import { isSwitchboardError } from '../core/errors.ts';
import { createDb, type Db } from '../store/db.ts';
import { createRedis } from '../queue/connection.ts';
import { DEV_SECRET_FILES, resolveSecrets } from '../crypto/dev-secrets.ts';
import { parseVaultKeys, type VaultKeyRing } from '../crypto/key-ring.ts';
import { describeKeyRing } from '../crypto/key-status.ts';
import { GCM_RANDOM_IV_SEAL_LIMIT } from '../crypto/key-usage.ts';
import { loadTlsSettings } from '../http/tls.ts';

/** How bad a finding is. */
export type Severity = 'ok' | 'warn' | 'fail';

/** One line of the report. */
export interface Finding {
  readonly status: Severity;
  readonly name: string;
  readonly detail: string;
  /** How to fix it (misconfigurations only). */
  readonly fix?: string;
}

/**
 * Webhook secrets per platform, one entry per adapter: when the platform is enabled, each listed
 * secret must be set. Adapters add their line here (e.g. Slack's signing secret).
 */
export const WEBHOOK_SECRET_CHECKS: ReadonlyArray<{
  readonly platform: string;
  readonly enabled: (config: Config) => boolean;
  readonly secrets: ReadonlyArray<{ readonly setting: string; readonly value: (config: Config) => string | undefined }>;
}> = [
  {
    // Events API over HTTP (no Socket Mode app token): every delivery must be verified with the signing secret.
    platform: 'slack',
    enabled: (c) => [c.SLACK_BOT_TOKEN, c.SLACK_CLIENT_ID, c.SLACK_CLIENT_SECRET].some((v) => v !== undefined) && c.SLACK_APP_TOKEN === undefined,
    secrets: [{ setting: 'SLACK_SIGNING_SECRET', value: (c) => c.SLACK_SIGNING_SECRET }],
  },
  {
    // Webhook mode: the secret header is the only proof a delivery came from Telegram.
    platform: 'telegram',
    enabled: (c) => c.TELEGRAM_BOT_TOKEN !== undefined && c.TELEGRAM_MODE === 'webhook',
    secrets: [{ setting: 'TELEGRAM_WEBHOOK_SECRET', value: (c) => c.TELEGRAM_WEBHOOK_SECRET }],
  },
];

const describe = (err: unknown): string =>
  isSwitchboardError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

/** A misconfiguration: a failure in production, a warning elsewhere. */
function misconfigured(config: Config, name: string, detail: string, fix: string): Finding {
  return { status: config.SWITCHBOARD_ENV === 'production' ? 'fail' : 'warn', name, detail, fix };
}

function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === '' || h === 'localhost' || h === '::1' || h.startsWith('127.') || h.startsWith('/');
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function checkSecrets(config: Config): { findings: Finding[]; ring: VaultKeyRing | undefined } {
  const findings: Finding[] = [];
  const production = config.SWITCHBOARD_ENV === 'production';
  if (production) {
    if (config.VAULT_KEYS === undefined) {
      findings.push({ status: 'fail', name: 'vault key', detail: 'VAULT_KEYS is not set: production refuses to start', fix: 'set VAULT_KEYS or VAULT_KEYS_FILE (id:base64 of 32 random bytes)' });
    }
    if (config.JWT_PRIVATE_KEY === undefined) {
      findings.push({ status: 'fail', name: 'jwt key', detail: 'JWT_PRIVATE_KEY is not set: production refuses to start', fix: 'set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE (openssl genpkey -algorithm ed25519)' });
    }
    if (config.API_KEY_HASH_KEY === undefined) {
      findings.push({ status: 'fail', name: 'api key hash key', detail: 'API_KEY_HASH_KEY is not set: production refuses to start', fix: 'set API_KEY_HASH_KEY or API_KEY_HASH_KEY_FILE (base64 of 32 random bytes)' });
    }
  }
  let ring: VaultKeyRing | undefined;
  try {
    // Outside production this may generate development keys, exactly as `start` would.
    const secrets = production && (config.VAULT_KEYS === undefined || config.JWT_PRIVATE_KEY === undefined) ? undefined : resolveSecrets(config, () => undefined);
    if (secrets) {
      ring = parseVaultKeys(secrets.vaultKeys);
      if (secrets.source === 'development') {
        findings.push(misconfigured(config, 'dev keys', `development keys from ${config.DEV_SECRETS_DIR}/ are in use`, 'set VAULT_KEYS and JWT_PRIVATE_KEY (fine for development)'));
      }
    }
  } catch (err) {
    findings.push({ status: 'fail', name: 'keys', detail: describe(err), fix: 'fix VAULT_KEYS / JWT_PRIVATE_KEY as the message says' });
  }
  if (production && ring) {
    const devVault = readOptional(join(config.DEV_SECRETS_DIR, DEV_SECRET_FILES.vaultKeys));
    const devJwt = readOptional(join(config.DEV_SECRETS_DIR, DEV_SECRET_FILES.jwtPrivateKey));
    let devKeys: VaultKeyRing | undefined;
    try {
      devKeys = devVault === undefined ? undefined : parseVaultKeys(devVault);
    } catch {
      devKeys = undefined;
    }
    const copied = [...ring.keys].filter(
      ([id, key]) => id.startsWith('dev-') || [...(devKeys?.keys.values() ?? [])].some((dev) => Buffer.compare(Buffer.from(dev), Buffer.from(key)) === 0),
    );
    if (copied.length > 0) {
      findings.push({
        status: 'fail',
        name: 'dev keys',
        detail: `VAULT_KEYS holds development key(s) ${copied.map(([id]) => id).join(', ')} (generated on a development machine, stored unencrypted)`,
        fix: 'put a new production key first in VAULT_KEYS, run `switchboard keys rotate`, then retire and remove the development key',
      });
    }
    if (devJwt !== undefined && config.JWT_PRIVATE_KEY !== undefined && devJwt === config.JWT_PRIVATE_KEY.trim()) {
      findings.push({ status: 'fail', name: 'dev keys', detail: 'JWT_PRIVATE_KEY is the development signing key', fix: 'generate a new Ed25519 key for production (openssl genpkey -algorithm ed25519)' });
    }
    if (copied.length === 0 && !(devJwt !== undefined && devJwt === config.JWT_PRIVATE_KEY?.trim())) {
      findings.push({ status: 'ok', name: 'dev keys', detail: 'configured keys are not development keys' });
    }
  }
  return { findings, ring };
}

function checkTransport(config: Config): Finding[] {
  const findings: Finding[] = [];
  const production = config.SWITCHBOARD_ENV === 'production';
  if (config.CORS_ORIGINS.includes('*')) {
    findings.push(misconfigured(config, 'cors', 'CORS_ORIGINS is "*": any website may call the API from a browser', 'list the allowed origins in CORS_ORIGINS (e.g. https://app.example.com)'));
  } else if (production && config.CORS_ORIGINS.some((o) => o.startsWith('http://'))) {
    findings.push(misconfigured(config, 'cors', `CORS_ORIGINS allows plain-HTTP origins: ${config.CORS_ORIGINS.filter((o) => o.startsWith('http://')).join(', ')}`, 'allow https:// origins only'));
  } else {
    findings.push({ status: 'ok', name: 'cors', detail: config.CORS_ORIGINS.length === 0 ? 'same-origin only' : `allow-list: ${config.CORS_ORIGINS.join(', ')}` });
  }

  if (production && config.REQUIRE_TLS === false) {
    findings.push({ status: 'fail', name: 'transport', detail: 'REQUIRE_TLS=false in production', fix: 'remove REQUIRE_TLS (production always requires TLS)' });
  }
  const requireTls = production || config.REQUIRE_TLS === true;
  if (config.TLS_CERT !== undefined || config.TLS_KEY !== undefined) {
    try {
      loadTlsSettings(config);
      findings.push({ status: 'ok', name: 'transport', detail: `TLS served directly (minimum ${config.TLS_MIN_VERSION})` });
    } catch (err) {
      findings.push({ status: 'fail', name: 'transport', detail: describe(err), fix: 'point TLS_CERT_FILE and TLS_KEY_FILE at a readable PEM certificate and its private key' });
    }
  } else if (config.TRUST_PROXY !== false) {
    findings.push(
      requireTls
        ? { status: 'ok', name: 'transport', detail: `behind a trusted TLS proxy (TRUST_PROXY=${String(config.TRUST_PROXY)}); requests without X-Forwarded-Proto: https are refused` }
        : misconfigured(config, 'transport', 'behind a proxy, but plain HTTP is accepted (REQUIRE_TLS is off)', 'set REQUIRE_TLS=true'),
    );
  } else {
    findings.push(
      misconfigured(
        config,
        'transport',
        'plain HTTP: no TLS certificate and no trusted TLS proxy',
        'set TLS_CERT_FILE and TLS_KEY_FILE to serve TLS, or terminate TLS at a proxy and set TRUST_PROXY to its address or hop count',
      ),
    );
  }
  if (config.PUBLIC_URL !== undefined && config.PUBLIC_URL.startsWith('http://') && !isLocalHost(new URL(config.PUBLIC_URL).hostname)) {
    findings.push(misconfigured(config, 'public url', `PUBLIC_URL is plain HTTP (${config.PUBLIC_URL})`, 'use the https:// origin people reach'));
  }
  if (config.HSTS_MAX_AGE_SECONDS === 0) {
    findings.push(misconfigured(config, 'hsts', 'HSTS is disabled (HSTS_MAX_AGE_SECONDS=0)', 'set HSTS_MAX_AGE_SECONDS (default 31536000, one year)'));
  }
  return findings;
}

function checkServiceUrls(config: Config): Finding[] {
  const findings: Finding[] = [];
  const db = new URL(config.DATABASE_URL);
  const sslmode = db.searchParams.get('sslmode') ?? '';
  const ssl = db.searchParams.get('ssl') ?? '';
  const dbTls = ['require', 'verify-ca', 'verify-full'].includes(sslmode) || ['true', '1'].includes(ssl);
  const dbHost = db.searchParams.get('host') ?? db.hostname;
  if (!isLocalHost(dbHost) && !dbTls) {
    findings.push(misconfigured(config, 'database tls', `DATABASE_URL reaches ${db.hostname} without TLS`, 'add ?sslmode=verify-full to DATABASE_URL (with the server CA trusted)'));
  } else {
    findings.push({ status: 'ok', name: 'database tls', detail: dbTls ? `sslmode=${sslmode || 'ssl'}` : 'local connection' });
  }
  const redis = new URL(config.REDIS_URL);
  if (redis.protocol === 'redis:' && !isLocalHost(redis.hostname)) {
    findings.push(misconfigured(config, 'redis tls', `REDIS_URL reaches ${redis.hostname} without TLS`, 'use rediss:// (TLS) for a remote Redis'));
  } else {
    findings.push({ status: 'ok', name: 'redis tls', detail: redis.protocol === 'rediss:' ? 'TLS' : 'local connection' });
  }
  return findings;
}

async function checkRedis(config: Config): Promise<Finding[]> {
  const redis = createRedis(config.REDIS_URL, 'command', 'doctor');
  redis.on('error', () => undefined);
  try {
    await redis.ping();
    const [, policy = '?'] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const [, aof = '?'] = (await redis.config('GET', 'appendonly')) as string[];
    return [
      policy === 'noeviction'
        ? { status: 'ok', name: 'redis eviction', detail: 'maxmemory-policy=noeviction' }
        : misconfigured(config, 'redis eviction', `maxmemory-policy=${policy}: Redis may evict queued jobs and limiter state`, 'set maxmemory-policy noeviction in redis.conf'),
      aof === 'yes'
        ? { status: 'ok', name: 'redis persistence', detail: 'appendonly=yes' }
        : misconfigured(config, 'redis persistence', `appendonly=${aof}: a Redis restart loses queued jobs and limiter state`, 'set appendonly yes and appendfsync everysec in redis.conf'),
    ];
  } catch (err) {
    return [{ status: 'fail', name: 'redis', detail: `cannot check AOF and eviction: ${describe(err)}`, fix: 'make REDIS_URL reachable (and CONFIG GET permitted) for the check' }];
  } finally {
    redis.disconnect();
  }
}

async function tableExists(db: Db, table: string): Promise<boolean> {
  const result = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return result.rows[0]?.present === true;
}

async function checkKeysInDatabase(db: Db, config: Config, ring: VaultKeyRing): Promise<Finding[]> {
  if (!(await tableExists(db, 'vault_keys'))) {
    return [{ status: 'warn', name: 'key budget', detail: 'vault_keys table missing: seal counts unknown', fix: 'run `switchboard migrate`' }];
  }
  const findings: Finding[] = [];
  const status = await describeKeyRing(db, { activeKeyId: ring.activeKeyId, keyIds: [...ring.keys.keys()] });
  const budget = config.VAULT_KEY_SEAL_BUDGET;
  for (const key of status.keys) {
    if (!key.configured && key.references > 0) {
      findings.push({
        status: 'fail',
        name: 'key ring',
        detail: `${key.references} stored value(s) are sealed under key ${key.keyId}, which VAULT_KEYS no longer holds: they cannot be opened`,
        fix: `add key ${key.keyId} back to VAULT_KEYS (after the active key), then run \`switchboard keys rotate\``,
      });
    }
    if (key.configured && key.recordedState === 'retired') {
      findings.push({ status: 'warn', name: 'key ring', detail: `retired key ${key.keyId} is still in VAULT_KEYS`, fix: `remove ${key.keyId} from VAULT_KEYS` });
    }
    if (key.configured && key.sealCount >= budget) {
      findings.push(
        misconfigured(
          config,
          'key budget',
          `key ${key.keyId} sealed ${key.sealCount} values, past its budget of ${budget} (AES-GCM random IVs: at most 2^32 = ${GCM_RANDOM_IV_SEAL_LIMIT})`,
          'put a new key first in VAULT_KEYS on every process, run `switchboard keys rotate`, then `switchboard keys retire <old id>`',
        ),
      );
    } else if (key.active && key.sealCount >= budget / 2) {
      findings.push({ status: 'warn', name: 'key budget', detail: `active key ${key.keyId} used ${((key.sealCount / budget) * 100).toFixed(1)}% of its seal budget`, fix: 'plan a rotation (switchboard keys rotate)' });
    }
  }
  if (status.malformed > 0) {
    findings.push({ status: 'warn', name: 'key ring', detail: `${status.malformed} stored sealed value(s) are malformed`, fix: 'run `switchboard keys rotate` to list them by row id' });
  }
  if (!findings.some((f) => f.name === 'key budget')) {
    const active = status.keys.find((k) => k.active);
    findings.push({ status: 'ok', name: 'key budget', detail: `active key ${ring.activeKeyId}: ${active?.sealCount ?? 0} of ${budget} seals` });
  }
  return findings;
}

async function checkOwnersTwoFactor(db: Db, config: Config): Promise<Finding[]> {
  if (!(await tableExists(db, 'user_totp'))) return [];
  const result = await db.query<{ slug: string; ids: string[] }>(
    `SELECT t.slug, array_agg(u.id::text ORDER BY u.created_at) AS ids
     FROM users u JOIN tenants t ON t.id = u.tenant_id
     LEFT JOIN user_totp x ON x.user_id = u.id AND x.enabled_at IS NOT NULL
     WHERE u.role = 'owner' AND u.disabled_at IS NULL AND x.user_id IS NULL
     GROUP BY t.slug ORDER BY t.slug`,
  );
  if (result.rows.length === 0) return [{ status: 'ok', name: 'owner 2fa', detail: 'every active owner uses two-factor sign-in' }];
  return result.rows.map((row) =>
    misconfigured(
      config,
      'owner 2fa',
      `${row.ids.length} owner(s) of tenant ${row.slug} without two-factor sign-in (user ids: ${row.ids.slice(0, 5).join(', ')}${row.ids.length > 5 ? ', …' : ''})`,
      'each owner enrols (Account security in the web chat, or `switchboard 2fa enrol --email …`); require it with the tenant\'s require_2fa_roles',
    ),
  );
}

async function checkDatabase(config: Config, ring: VaultKeyRing | undefined): Promise<Finding[]> {
  const db = createDb({ connectionString: config.DATABASE_URL, max: 1, applicationName: 'switchboard-doctor' }, () => undefined);
  try {
    await db.query('SELECT 1');
    return [...(ring ? await checkKeysInDatabase(db, config, ring) : []), ...(await checkOwnersTwoFactor(db, config))];
  } catch (err) {
    return [{ status: 'fail', name: 'postgres', detail: `cannot check keys and owners: ${describe(err)}`, fix: 'make DATABASE_URL reachable for the check' }];
  } finally {
    await db.end().catch(() => undefined);
  }
}

function checkWebhookSecrets(config: Config): Finding[] {
  const enabled = WEBHOOK_SECRET_CHECKS.filter((entry) => entry.enabled(config));
  if (enabled.length === 0) return [{ status: 'ok', name: 'webhook secrets', detail: 'no platform webhooks enabled' }];
  const findings: Finding[] = [];
  for (const entry of enabled) {
    const missing = entry.secrets.filter((secret) => (secret.value(config) ?? '') === '').map((secret) => secret.setting);
    findings.push(
      missing.length === 0
        ? { status: 'ok', name: 'webhook secrets', detail: `${entry.platform}: set` }
        : misconfigured(config, 'webhook secrets', `${entry.platform} is enabled without ${missing.join(', ')}: its webhooks cannot be verified`, `set ${missing.join(', ')} (or disable ${entry.platform})`),
    );
  }
  return findings;
}

/** Runs every check; never throws (an unloadable config is itself a finding). */
export async function securityFindings(env?: Readonly<Record<string, string | undefined>>): Promise<{ environment: string; findings: Finding[] }> {
  let config: Config;
  try {
    config = loadConfig({ productionRefusals: false, ...(env ? { env } : {}) });
  } catch (err) {
    return { environment: 'unknown', findings: [{ status: 'fail', name: 'config', detail: describe(err), fix: 'fix the settings listed' }] };
  }
  const { findings: secretFindings, ring } = checkSecrets(config);
  const findings: Finding[] = [
    ...secretFindings,
    ...checkTransport(config),
    ...checkServiceUrls(config),
    ...(await checkRedis(config)),
    ...(await checkDatabase(config, ring)),
    ...checkWebhookSecrets(config),
  ];
  return { environment: config.SWITCHBOARD_ENV, findings };
}

/** Prints the findings with their fixes; exit code 1 when any is a failure. */
export async function runDoctorSecurity(): Promise<void> {
  const { environment, findings } = await securityFindings();
  const lines = [`Security check (environment ${environment})`];
  for (const finding of findings) {
    lines.push(`${finding.status.toUpperCase().padEnd(5)} ${finding.name.padEnd(18)} ${finding.detail}`);
    if (finding.fix !== undefined && finding.status !== 'ok') lines.push(`${' '.repeat(24)}fix: ${finding.fix}`);
  }
  const failures = findings.filter((f) => f.status === 'fail').length;
  const warnings = findings.filter((f) => f.status === 'warn').length;
  lines.push(`${failures} failure(s), ${warnings} warning(s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures > 0) process.exitCode = 1;
}
