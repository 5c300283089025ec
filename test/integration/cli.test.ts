/** The `switchboard` command as a user runs it: a real process, real stdin and stdout. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, testEnv, uniqueSuffix } from '../support/env.ts';
import { bootstrapDevelopmentOwner, ensureDefaultTenant } from '../../src/bootstrap.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let env: Record<string, string>;

function run(args: string[], input = '', extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  env = testEnv(database.url, `{sbt-${uniqueSuffix()}}`);
});
afterAll(async () => {
  await database?.drop();
});

describe('switchboard pii scan --jsonl', () => {
  it('answers one line per input line with UTF-16 offsets, and reports malformed lines in place', async () => {
    const input = [
      JSON.stringify({ text: 'mail bob@example.com now' }),
      '',
      'not json',
      JSON.stringify({ text: '😀 card 4111 1111 1111 1111' }),
      JSON.stringify({ text: 'nothing here' }),
    ].join('\n');
    const { code, stdout } = await run(['pii', 'scan', '--jsonl'], `${input}\n`);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { findings: [{ type: 'EMAIL_ADDRESS', start: 5, end: 20 }] },
      { error: expect.objectContaining({ code: 'validation_failed' }) as unknown },
      { findings: [{ type: 'CREDIT_CARD', start: 8, end: 27 }] },
      { findings: [] },
    ]);
  });
});

describe('switchboard user create', () => {
  it('creates a user with a password from stdin and refuses a duplicate', async () => {
    const first = await run(['user', 'create', '--email', 'cli@example.test', '--role', 'admin', '--password-stdin'], 'a long enough password\n');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Created admin cli@example\.test/);
    expect(first.stdout).not.toContain('a long enough password');
    const again = await run(['user', 'create', '--email', 'cli@example.test', '--password-stdin'], 'a long enough password\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('conflict');
    const weak = await run(['user', 'create', '--email', 'weak@example.test', '--password-stdin'], 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('validation_failed');
  });
});

describe('switchboard doctor and migrate', () => {
  it('reports each check and exits 0 when services are reachable', async () => {
    const migrate = await run(['migrate']);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('up to date');
    const doctor = await run(['doctor']);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/^OK +postgres/m);
    expect(doctor.stdout).toMatch(/^OK +migrations +up to date/m);
    expect(doctor.stdout).toMatch(/^(OK|WARN) +redis/m);
    expect(doctor.stdout).toMatch(/^WARN +llm provider +offline/m);
    expect(doctor.stdout).toMatch(/^OK +adapter slack +disabled/m);
  });

  it("reports an adapter whose settings are incomplete, naming what is missing", async () => {
    const doctor = await run(['doctor'], '', { SLACK_BOT_TOKEN: 'xoxb-test' });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^FAIL +adapter slack +.*SLACK_SIGNING_SECRET/m);
  });

  it('fails with the problem named when Postgres is unreachable', async () => {
    const doctor = await run(['doctor'], '', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^FAIL +postgres/m);
  });

  it('refuses bad configuration, listing every problem', async () => {
    const result = await run(['migrate'], '', { HTTP_PORT: 'x', MESSAGE_MAX_CHARS: '-1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('config_invalid');
    expect(result.stderr).toContain('HTTP_PORT');
    expect(result.stderr).toContain('MESSAGE_MAX_CHARS');
  });
});

describe('development owner bootstrap', () => {
  it('creates the owner once, with a password that is not stored in clear', async () => {
    const db = new pg.Pool({ connectionString: database.url, max: 2 });
    try {
      await db.query('DELETE FROM users');
      const tenantId = await ensureDefaultTenant(db, 'redact');
      const created = await bootstrapDevelopmentOwner(db, tenantId);
      expect(created?.email).toBe('owner@switchboard.local');
      expect(created?.password.length).toBeGreaterThanOrEqual(20);
      expect(await bootstrapDevelopmentOwner(db, tenantId)).toBeUndefined();
      const row = await db.query<{ password_hash: string; role: string }>('SELECT password_hash, role FROM users');
      expect(row.rows).toHaveLength(1);
      expect(row.rows[0]?.role).toBe('owner');
      expect(row.rows[0]?.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.rows[0]?.password_hash).not.toContain(created?.password ?? '');
    } finally {
      await db.end();
    }
  });
});
