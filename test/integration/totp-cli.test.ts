/**
 * `switchboard 2fa …` as an operator runs it: a real process, the code typed on stdin, the real
 * Postgres and Redis (the reset tells running processes to close the user's sockets).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_REDIS_URL, testEnv, uniqueSuffix } from '../support/env.ts';
import { totpCodeAt } from '../../src/auth/totp.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let env: Record<string, string>;
let db: pg.Pool;
let prefix: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI; `answer` computes the stdin line from what it printed so far (once `waitFor` shows up). */
function run(args: string[], options: { input?: string; waitFor?: RegExp; answer?: (stdout: string) => Promise<string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!answered && options.waitFor && options.answer && options.waitFor.test(stdout)) {
        answered = true;
        void options.answer(stdout).then((line) => child.stdin.end(`${line}\n`));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (!options.answer) child.stdin.end(options.input ?? '');
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  prefix = `{sbt-${uniqueSuffix()}}`;
  env = testEnv(database.url, prefix);
  db = new pg.Pool({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await db?.end();
  await database?.drop();
});

async function createUser(role = 'member'): Promise<{ id: string; email: string }> {
  const email = `cli-2fa-${uniqueSuffix()}@example.test`;
  const tenant = await db.query<{ id: string }>(
    "INSERT INTO tenants (slug, name) VALUES ('default', 'Default') ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
  );
  const row = await db.query<{ id: string }>(
    "INSERT INTO users (tenant_id, email, display_name, role, password_hash) VALUES ($1, $2, 'CLI', $3, 'unused') RETURNING id",
    [tenant.rows[0]?.id, email, role],
  );
  return { id: row.rows[0]?.id ?? '', email };
}

const secretFrom = (stdout: string) => /Secret \(manual entry\): ([A-Z2-7]+)/.exec(stdout)?.[1] ?? '';

let enrolledUser: { id: string; email: string } | undefined;

describe('switchboard 2fa enrol', { timeout: 90_000 }, () => {
  it('prints the otpauth URI and a QR code, reads the code from stdin, confirms, and prints 10 recovery codes once', async () => {
    const user = await createUser('owner');
    enrolledUser = user;
    const enrol = await run(['2fa', 'enrol', '--email', user.email], {
      waitFor: /Enter the 6-digit code/,
      answer: (stdout) => totpCodeAt(secretFrom(stdout), Date.now()),
    });
    expect(enrol.code, enrol.stderr).toBe(0);
    const uri = /otpauth URI: (otpauth:\/\/\S+)/.exec(enrol.stdout)?.[1] ?? '';
    expect(new URL(uri).searchParams.get('issuer')).toBe('Switchboard');
    expect(decodeURIComponent(new URL(uri).pathname)).toBe(`/Switchboard:${user.email}`);
    expect(enrol.stdout).toMatch(/[▀▄█]/); // the terminal QR code
    expect(enrol.stdout).toContain(`Two-factor sign-in is on for ${user.email}`);
    const codes = enrol.stdout.match(/^ {2}[0-9a-z]{6}(-[0-9a-z]{6}){3}$/gm) ?? [];
    expect(codes).toHaveLength(10);
    const row = await db.query<{ enabled: boolean }>('SELECT enabled_at IS NOT NULL AS enabled FROM user_totp WHERE user_id = $1', [user.id]);
    expect(row.rows[0]?.enabled).toBe(true);

    const status = await run(['2fa', 'status', '--email', user.email]);
    expect(status.stdout).toMatch(/2FA on since .*, 10 recovery code\(s\) left/);
  });

  it('a wrong code does not turn 2FA on', async () => {
    const user = await createUser();
    const wrong = await run(['2fa', 'enrol', '--email', user.email], {
      waitFor: /Enter the 6-digit code/,
      answer: async (stdout) => ((await totpCodeAt(secretFrom(stdout), Date.now())) === '000000' ? '111111' : '000000'),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthenticated');
    const row = await db.query<{ enabled: boolean }>('SELECT enabled_at IS NOT NULL AS enabled FROM user_totp WHERE user_id = $1', [user.id]);
    expect(row.rows[0]?.enabled).toBe(false);
  });
});

describe('switchboard 2fa reset and require', { timeout: 90_000 }, () => {
  it('reset removes the enrolment, ends every session of the user and tells running processes (user_revoked)', async () => {
    const user = enrolledUser;
    if (!user) throw new Error('the enrol test did not run');
    const tenantId = (await db.query<{ tenant_id: string }>('SELECT tenant_id FROM users WHERE id = $1', [user.id])).rows[0]?.tenant_id;
    const sessionId = randomUUID();
    await db.query(
      `INSERT INTO sessions (id, tenant_id, user_id, family_id, auth_method, created_at, last_used_at, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, $3, $1, 'password+totp', now(), now(), now() + interval '1 hour', now() + interval '1 day')`,
      [sessionId, tenantId, user.id],
    );
    const subscriber = new Redis(TEST_REDIS_URL);
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push(message));
    await subscriber.subscribe(`${prefix}:bus:webchat`);
    try {
      const reset = await run(['2fa', 'reset', '--email', user.email]);
      expect(reset.code, reset.stderr).toBe(0);
      expect(reset.stdout).toContain('Two-factor sign-in removed');
      expect(reset.stdout).toContain('1 session(s) ended');
      expect((await db.query('SELECT 1 FROM user_totp WHERE user_id = $1', [user.id])).rowCount).toBe(0);
      expect((await db.query('SELECT 1 FROM recovery_codes WHERE user_id = $1', [user.id])).rowCount).toBe(0);
      const session = await db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [sessionId]);
      expect(session.rows[0]?.revoked_reason).toBe('two_factor_reset');
      expect(heard.map((m) => JSON.parse(m) as unknown)).toContainEqual({ kind: 'user_revoked', userId: user.id });
      const audit = await db.query<{ actor_type: string }>("SELECT actor_type FROM audit_log WHERE action = 'auth.2fa_reset' AND target_id = $1", [user.id]);
      expect(audit.rows).toEqual([{ actor_type: 'system' }]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('require sets the roles that must use 2FA (audited) and refuses unknown roles', async () => {
    const set = await run(['2fa', 'require', '--roles', 'owner,admin']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('required for admin, owner');
    const row = await db.query<{ require_2fa_roles: string[] }>("SELECT require_2fa_roles FROM tenants WHERE slug = 'default'");
    expect(row.rows[0]?.require_2fa_roles).toEqual(['admin', 'owner']);
    const bad = await run(['2fa', 'require', '--roles', 'owner,root']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('validation_failed');
    expect((await db.query("SELECT 1 FROM audit_log WHERE action = 'auth.2fa_policy_changed'")).rowCount).toBe(1);
  });
});
