/**
 * `switchboard doctor --security` through the real CLI against real Postgres and real Redis
 * servers (private ones with the Redis settings under test): each misconfiguration it is given is
 * reported with its fix; production failures exit 1; a clean production setup exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, testEnv, uniqueSuffix } from '../support/env.ts';
import { freePort, type Child } from '../support/processes.ts';
import { createDb, type Db } from '../../src/store/db.ts';
import { createVault, parseVaultKeys } from '../../src/crypto/vault.ts';
import { addSealCounts } from '../../src/store/vault-keys.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let dir: string;
let certFile: string;
let keyFile: string;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let cleanDatabase: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let lruRedis: Child;
let goodRedis: Child;
let lruRedisUrl: string;
let goodRedisUrl: string;
const activeKey = `prod1:${randomBytes(32).toString('base64')}`;

function doctor(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'doctor', '--security'], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The finding line for `name` (fixed columns: status, name, detail) and the fix printed under it. */
function finding(stdout: string, name: string): { status: string; detail: string; fix: string | undefined } | undefined {
  const lines = stdout.split('\n');
  const index = lines.findIndex((l) => /^(OK|WARN|FAIL) /.test(l) && l.slice(6, 24).trim() === name);
  if (index < 0) return undefined;
  const line = lines[index] ?? '';
  const next = lines[index + 1] ?? '';
  return { status: line.slice(0, 5).trim(), detail: line.slice(25), fix: /^ +fix: /.test(next) ? next.trim().slice(5) : undefined };
}

function startRedis(port: number, args: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const tracked: Child = { process: child, exited, output: () => output };
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (/Ready to accept connections/.test(output)) resolve(tracked);
    });
    child.once('exit', () => reject(new Error(`redis-server exited:\n${output}`)));
  });
}

function productionEnv(overrides: Record<string, string>): Record<string, string> {
  return testEnv(database.url, `{sbt-${uniqueSuffix()}}`, {
    SWITCHBOARD_ENV: 'production',
    VAULT_KEYS: activeKey,
    API_KEY_HASH_KEY: randomBytes(32).toString('base64'),
    DEV_SECRETS_DIR: join(dir, 'dev-secrets'),
    ...overrides,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], {
    stdio: 'ignore',
  });
  const [lruPort, goodPort] = [await freePort(), await freePort()];
  lruRedis = await startRedis(lruPort, ['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
  goodRedis = await startRedis(goodPort, ['--appendonly', 'yes', '--dir', dir, '--maxmemory-policy', 'noeviction']);
  lruRedisUrl = `redis://127.0.0.1:${lruPort}`;
  goodRedisUrl = `redis://127.0.0.1:${goodPort}`;
  [database, cleanDatabase] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  db = createDb({ connectionString: database.url, max: 2 }, () => undefined);

  // An owner without two-factor sign-in, and one with it (not reported).
  const tenant = await db.query<{ id: string }>(`INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme') RETURNING id`);
  const tenantId = tenant.rows[0]!.id;
  const owners = await db.query<{ id: string }>(
    `INSERT INTO users (tenant_id, email, display_name, role) VALUES ($1, 'bare@acme.test', 'Bare', 'owner'), ($1, 'safe@acme.test', 'Safe', 'owner') RETURNING id`,
    [tenantId],
  );
  await db.query(`INSERT INTO user_totp (user_id, tenant_id, secret_sealed, created_at, enabled_at) VALUES ($1, $2, '\\x01', now(), now())`, [
    owners.rows[1]!.id,
    tenantId,
  ]);
  // The active key is past a (small) budget; one stored value is sealed under a key no longer configured.
  await addSealCounts(db, new Map([['prod1', 5_000]]), new Date());
  const conversation = await db.query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind) VALUES ($1, 'webchat', 'web', 'webchat:web:x', 'x', 'dm') RETURNING id`,
    [tenantId],
  );
  const messageId = randomUUID();
  const sealed = createVault(parseVaultKeys(`gone:${randomBytes(32).toString('base64')}`)).seal('old secret', {
    table: 'messages',
    column: 'original_sealed',
    rowId: messageId,
  });
  await db.query(
    `INSERT INTO messages (id, tenant_id, conversation_id, direction, author_platform_id, author_display_name, text_redacted, original_sealed, verified_by)
     VALUES ($1, $2, $3, 'in', 'u', 'U', 'x', $4, 'test')`,
    [messageId, tenantId, conversation.rows[0]!.id, sealed],
  );
}, 60_000);
afterAll(async () => {
  await db?.end();
  lruRedis?.process.kill('SIGTERM');
  goodRedis?.process.kill('SIGTERM');
  await Promise.all([lruRedis?.exited, goodRedis?.exited]);
  await Promise.all([database?.drop(), cleanDatabase?.drop()]);
  rmSync(dir, { recursive: true, force: true });
});

type Run = ReturnType<typeof doctor>;
/** The CLI runs, started together (each is a process start; in parallel the file stays short). */
const runs: Record<'bad' | 'missing' | 'plainDb' | 'clean' | 'development', Run> = {} as Record<'bad' | 'missing' | 'plainDb' | 'clean' | 'development', Run>;

describe('switchboard doctor --security', () => {
  beforeAll(() => {
    const devKey = `dev-0badc0de:${randomBytes(32).toString('base64')}`;
    runs.bad = doctor(
      productionEnv({
        VAULT_KEYS: `${activeKey},${devKey}`,
        VAULT_KEY_SEAL_BUDGET: '1000',
        CORS_ORIGINS: '*',
        REDIS_URL: lruRedisUrl,
        PUBLIC_URL: 'http://chat.example.com',
        HSTS_MAX_AGE_SECONDS: '0',
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        TELEGRAM_BOT_TOKEN: '123456:test-token',
      }),
    );
    const missing = productionEnv({
      TRUST_PROXY: '10.0.0.0/8',
      REQUIRE_TLS: 'false',
      // .invalid never resolves (RFC 6761), so nothing is contacted.
      DATABASE_URL: 'postgres://postgres@db.example.invalid:5432/switchboard?sslmode=verify-full',
      REDIS_URL: 'redis://cache.example.invalid:6379',
    });
    delete missing['VAULT_KEYS'];
    delete missing['API_KEY_HASH_KEY'];
    runs.missing = doctor(missing);
    runs.plainDb = doctor(productionEnv({ TRUST_PROXY: '1', DATABASE_URL: 'postgres://postgres@db.example.invalid:5432/switchboard' }));
    runs.clean = doctor(
      productionEnv({
        DATABASE_URL: cleanDatabase.url,
        REDIS_URL: goodRedisUrl,
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
        CORS_ORIGINS: 'https://app.example.com',
        PUBLIC_URL: 'https://chat.example.com',
      }),
    );
    const development = testEnv(cleanDatabase.url, `{sbt-${uniqueSuffix()}}`, {
      SWITCHBOARD_ENV: 'development',
      CORS_ORIGINS: '*',
      REDIS_URL: lruRedisUrl,
      DEV_SECRETS_DIR: join(dir, 'dev-secrets'),
    });
    delete development['VAULT_KEYS'];
    delete development['JWT_PRIVATE_KEY'];
    runs.development = doctor(development);
  });

  it('reports every misconfiguration of a bad production setup, each with its fix, and exits 1', async () => {
    const result = await runs.bad;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Security check \(environment production\)$/m);
    const expectations: Array<[string, RegExp]> = [
      ['dev keys', /development key\(s\) dev-0badc0de/],
      ['cors', /CORS_ORIGINS is "\*"/],
      ['transport', /plain HTTP: no TLS certificate and no trusted TLS proxy/],
      ['public url', /PUBLIC_URL is plain HTTP/],
      ['hsts', /HSTS is disabled/],
      ['redis eviction', /maxmemory-policy=allkeys-lru/],
      ['redis persistence', /appendonly=no/],
      ['key budget', /key prod1 sealed 5000 values, past its budget of 1000/],
      ['key ring', /1 stored value\(s\) are sealed under key gone, which VAULT_KEYS no longer holds/],
      ['owner 2fa', /1 owner\(s\) of tenant acme without two-factor sign-in/],
      ['webhook secrets', /slack is enabled without SLACK_SIGNING_SECRET/],
    ];
    for (const [name, detail] of expectations) {
      const line = finding(result.stdout, name);
      expect(line, `${name} in:\n${result.stdout}`).toBeDefined();
      expect(line?.status, name).toBe('FAIL');
      expect(line?.detail, name).toMatch(detail);
      expect(line?.fix, `${name} has a fix`).toMatch(/\S{3,}/);
    }
    const webhookLines = result.stdout.split('\n').filter((l) => l.startsWith('FAIL') && l.slice(6, 24).trim() === 'webhook secrets');
    expect(webhookLines.map((l) => l.slice(25))).toEqual([
      'slack is enabled without SLACK_SIGNING_SECRET: its webhooks cannot be verified',
      'telegram is enabled without TELEGRAM_WEBHOOK_SECRET: its webhooks cannot be verified',
    ]);
    // The owner with 2FA is not named; ids, never emails, are printed.
    expect(result.stdout).not.toContain('@acme.test');
    expect(result.stdout).toMatch(/^\d+ failure\(s\), \d+ warning\(s\)$/m);
    // The first test waits for all five runs started together in beforeAll.
  }, 90_000);

  it('reports missing production keys, remote services without TLS, and TLS switched off', async () => {
    const result = await runs.missing;
    expect(result.code).toBe(1);
    expect(finding(result.stdout, 'vault key')).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/VAULT_KEYS is not set/) as unknown });
    expect(finding(result.stdout, 'api key hash key')?.status).toBe('FAIL');
    expect(finding(result.stdout, 'transport')).toMatchObject({ status: 'FAIL', detail: 'REQUIRE_TLS=false in production' });
    expect(finding(result.stdout, 'database tls')).toMatchObject({ status: 'OK', detail: 'sslmode=verify-full' });
    expect(finding(result.stdout, 'redis tls')).toMatchObject({ status: 'FAIL', detail: expect.stringMatching(/cache\.example\.invalid without TLS/) as unknown });
    expect(finding(result.stdout, 'redis tls')?.fix).toMatch(/rediss:\/\//);

    const plainDb = await runs.plainDb;
    expect(finding(plainDb.stdout, 'database tls')).toMatchObject({ status: 'FAIL', fix: expect.stringMatching(/sslmode=verify-full/) as unknown });
    expect(finding(plainDb.stdout, 'postgres')?.status).toBe('FAIL');
  });

  it('passes a clean production setup (TLS, allow-listed CORS, AOF + noeviction Redis, no misconfigured rows) with exit 0', async () => {
    const result = await runs.clean;
    expect(result.stdout).not.toMatch(/^(WARN|FAIL) /m);
    expect(result.code).toBe(0);
    for (const name of ['dev keys', 'cors', 'transport', 'database tls', 'redis eviction', 'redis persistence', 'key budget', 'owner 2fa', 'webhook secrets']) {
      expect(finding(result.stdout, name)?.status, `${name} in:\n${result.stdout}`).toBe('OK');
    }
    expect(finding(result.stdout, 'transport')?.detail).toBe('TLS served directly (minimum TLSv1.2)');
    expect(result.stdout).toMatch(/^0 failure\(s\), 0 warning\(s\)$/m);
  });

  it('only warns in development (exit 0), and still names each problem', async () => {
    const result = await runs.development;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Security check \(environment development\)$/m);
    expect(result.stdout).not.toMatch(/^FAIL /m);
    for (const name of ['dev keys', 'cors', 'transport', 'redis eviction', 'redis persistence']) {
      expect(finding(result.stdout, name)?.status, `${name} in:\n${result.stdout}`).toBe('WARN');
    }
  });
});
