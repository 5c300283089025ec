/**
 * The retention job on a travelling clock against the real Postgres and Redis: rows seeded just
 * inside and just outside each limit; exactly the ones outside go, and every run is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createTestDatabase, deleteRedisPrefix, TEST_REDIS_URL, uniqueSuffix } from '../support/env.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { createManualClock } from '../../src/core/clock.ts';
import { createLogger } from '../../src/core/logger.ts';
import { appendAudit } from '../../src/store/audit.ts';
import { deleteExpiredMessages, setTenantRetention } from '../../src/store/retention.ts';
import { verifyAuditLog } from '../../src/security/audit-chain.ts';
import { runRetention, startRetention, type RetentionDeps, type RetentionSettings } from '../../workers/maintenance/retention.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const log = createLogger({ level: 'silent' });
const settings: RetentionSettings = { batchSize: 5_000, dedupeMinDays: 7, expiredGraceHours: 24, auditSecurityDays: 365, auditAccessDays: 90 };

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Pool;
const T0 = Math.floor(Date.now() / 1000) * 1000;

async function tenant(slug: string): Promise<string> {
  const r = await db.query<{ id: string }>(`INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id`, [slug]);
  return r.rows[0]?.id ?? '';
}

async function conversation(tenantId: string): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind)
     VALUES ($1, 'webchat', 'default', $2, 'c', 'dm') RETURNING id`,
    [tenantId, `webchat:${randomUUID()}`],
  );
  return r.rows[0]?.id ?? '';
}

/** A message created `ageMs` before T0, optionally with a sealed original and an outbox row. */
async function message(
  tenantId: string,
  conversationId: string,
  ageMs: number,
  options: { sealed?: boolean; outbox?: boolean } = {},
): Promise<string> {
  const id = randomUUID();
  const at = new Date(T0 - ageMs);
  await db.query(
    `INSERT INTO messages (id, tenant_id, conversation_id, direction, author_platform_id, author_display_name,
                           text_redacted, original_sealed, verified_by, created_at)
     VALUES ($1, $2, $3, 'in', 'p', 'P', 'hi [EMAIL_ADDRESS]', $4, 'test', $5)`,
    [id, tenantId, conversationId, options.sealed ? randomBytes(48) : null, at],
  );
  if (options.outbox) {
    await db.query(
      `INSERT INTO outbox (tenant_id, message_id, conversation_id, platform, status, created_at, updated_at)
       VALUES ($1, $2, $3, 'webchat', 'sent', $4, $4)`,
      [tenantId, id, conversationId, at],
    );
  }
  return id;
}

async function inboundEvent(tenantId: string, conversationId: string, ageMs: number, status: string): Promise<string> {
  const at = new Date(T0 - ageMs);
  const r = await db.query<{ id: string }>(
    `INSERT INTO inbound_events (tenant_id, platform, installation_id, platform_event_id, conversation_id, status, received_at, updated_at)
     VALUES ($1, 'webchat', 'default', $2, $3, $4, $5, $5) RETURNING id`,
    [tenantId, randomUUID(), conversationId, status, at],
  );
  return r.rows[0]?.id ?? '';
}

async function user(tenantId: string): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO users (tenant_id, email, display_name, role) VALUES ($1, $2, 'U', 'member') RETURNING id`,
    [tenantId, `${uniqueSuffix()}@example.test`],
  );
  return r.rows[0]?.id ?? '';
}

async function ids(sql: string, params: unknown[]): Promise<string[]> {
  const r = await db.query<{ id: string }>(sql, params);
  return r.rows.map((row) => row.id).sort();
}

const sorted = (values: string[]) => [...values].sort();

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 6 });
  // DROP DATABASE … WITH (FORCE) may reach a client still closing after end(); that is expected.
  db.on('error', () => undefined);
});
afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe('a run on a travelling clock', () => {
  it('deletes exactly the rows past their limits, nothing else, and audits the counts', async () => {
    const a = await tenant('ret-a'); // defaults: 90 days, PII originals 30 days
    const b = await tenant('ret-b');
    await setTenantRetention(db, b, 30, 7);
    const c = await tenant('ret-c');
    await setTenantRetention(db, c, 1, 1);
    const ca = await conversation(a);
    const cb = await conversation(b);
    const cc = await conversation(c);

    // Messages (with outbox rows and sealed originals) around each boundary.
    const aKeep = await message(a, ca, 89 * DAY + 23 * HOUR, { outbox: true });
    await message(a, ca, 90 * DAY + HOUR, { outbox: true, sealed: true }); // gone
    const aFresh = await message(a, ca, HOUR, { sealed: true });
    const aPiiKeep = await message(a, ca, 29 * DAY, { sealed: true });
    const aPiiClear = await message(a, ca, 31 * DAY, { sealed: true });
    await message(b, cb, 31 * DAY, { outbox: true }); // gone
    const bKeep = await message(b, cb, 29 * DAY + 23 * HOUR);
    const bPiiClear = await message(b, cb, 8 * DAY, { sealed: true });
    await message(c, cc, 2 * DAY); // gone

    // Inbound events: finished ones past retention go; unfinished stay; dedupe rows stay >= 7 days.
    await inboundEvent(a, ca, 90 * DAY + HOUR, 'answered'); // gone
    const eAKeep = await inboundEvent(a, ca, 89 * DAY + 23 * HOUR, 'failed');
    const eAOpen = await inboundEvent(a, ca, 120 * DAY, 'queued');
    await inboundEvent(b, cb, 31 * DAY, 'ignored'); // gone
    const eCKeep = await inboundEvent(c, cc, 3 * DAY, 'answered');
    await inboundEvent(c, cc, 7 * DAY + HOUR, 'answered');

    // Tickets, sessions and sign-in challenges: gone 24 h after they ended.
    const u = await user(a);
    const ticket = async (endedAgoMs: number) => {
      const jti = randomUUID();
      await db.query('INSERT INTO ws_tickets (jti, user_id, expires_at) VALUES ($1, $2, $3)', [jti, u, new Date(T0 - endedAgoMs)]);
      return jti;
    };
    await ticket(25 * HOUR);
    const tKeep = await ticket(23 * HOUR);
    const tLive = await ticket(-60_000);
    const session = async (idleEndsAgoMs: number, revokedAgoMs?: number) => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO sessions (id, tenant_id, user_id, family_id, auth_method, created_at, last_used_at,
                               idle_expires_at, absolute_expires_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $1, 'password', $4, $4, $5, $6, $7, $8)`,
        [
          id,
          a,
          u,
          new Date(T0 - 30 * DAY),
          new Date(T0 - idleEndsAgoMs),
          new Date(T0 - idleEndsAgoMs + DAY),
          revokedAgoMs === undefined ? null : new Date(T0 - revokedAgoMs),
          revokedAgoMs === undefined ? null : 'logout',
        ],
      );
      return id;
    };
    await session(25 * HOUR);
    await session(-DAY, 25 * HOUR);
    const sRecentlyRevoked = await session(-DAY, 23 * HOUR);
    const sRecentlyExpired = await session(23 * HOUR);
    const sLive = await session(-DAY);
    const challenge = async (endedAgoMs: number) => {
      const jti = randomUUID();
      await db.query(`INSERT INTO mfa_challenges (jti, user_id, primary_method, expires_at) VALUES ($1, $2, 'password', $3)`, [
        jti,
        u,
        new Date(T0 - endedAgoMs),
      ]);
      return jti;
    };
    await challenge(25 * HOUR);
    const mKeep = await challenge(HOUR);

    const clock = createManualClock(T0);
    const deps: RetentionDeps = { db, clock, log, settings };
    const report = await runRetention(deps);

    expect(report.failed).toEqual([]);
    expect(report.absent).toEqual([]);
    expect(report.counts).toEqual({
      messages: 3, // aGone, bGone, cGone
      outbox: 2, // aGone's and bGone's
      pii_originals: 2, // aPiiClear, bPiiClear
      inbound_events: 3, // eAGone, eBGone, eCGone
      ws_tickets: 1,
      sessions: 2,
      mfa_challenges: 1,
      audit_log: 0,
    });
    const tenantIds = [a, b, c];
    expect(await ids('SELECT id FROM messages WHERE tenant_id = ANY($1)', [tenantIds])).toEqual(
      sorted([aKeep, aFresh, aPiiKeep, aPiiClear, bKeep, bPiiClear]),
    );
    expect(await ids('SELECT message_id AS id FROM outbox WHERE tenant_id = ANY($1)', [tenantIds])).toEqual([aKeep]);
    expect(await ids('SELECT id FROM messages WHERE tenant_id = ANY($1) AND original_sealed IS NOT NULL', [tenantIds])).toEqual(
      sorted([aFresh, aPiiKeep]),
    );
    // A cleared original leaves the redacted text in place.
    const cleared = await db.query<{ text_redacted: string }>('SELECT text_redacted FROM messages WHERE id = $1', [aPiiClear]);
    expect(cleared.rows[0]?.text_redacted).toBe('hi [EMAIL_ADDRESS]');
    expect(await ids('SELECT id FROM inbound_events WHERE tenant_id = ANY($1)', [tenantIds])).toEqual(sorted([eAKeep, eAOpen, eCKeep]));
    expect(await ids('SELECT jti AS id FROM ws_tickets', [])).toEqual(sorted([tKeep, tLive]));
    expect(await ids('SELECT id FROM sessions', [])).toEqual(sorted([sRecentlyRevoked, sRecentlyExpired, sLive]));
    expect(await ids('SELECT jti AS id FROM mfa_challenges', [])).toEqual([mKeep]);

    // The run and each tenant that lost rows are audited, with the counts and the clock's time.
    const audit = await db.query<{ tenant_id: string | null; action: string; at: Date; details: Record<string, unknown> }>(
      `SELECT tenant_id, action, at, details FROM audit_log WHERE action LIKE 'retention.%' ORDER BY id`,
    );
    const run = audit.rows.find((r) => r.action === 'retention.run');
    expect(run?.tenant_id).toBeNull();
    expect(run?.at.getTime()).toBe(T0);
    expect(run?.details).toMatchObject({ ...report.counts, tenants: expect.any(Number) as number, failed: [] });
    const applied = audit.rows.filter((r) => r.action === 'retention.applied');
    expect(applied.map((r) => r.tenant_id).sort()).toEqual(sorted(tenantIds));
    expect(applied.find((r) => r.tenant_id === a)?.details).toMatchObject({ messages: 1, outbox: 1, pii_originals: 1, inbound_events: 1 });

    // Travel two hours: what was 89 d 23 h old (29 d 23 h for tenant b) is now past its limit.
    clock.advance(2 * HOUR);
    const later = await runRetention(deps);
    expect(later.counts).toMatchObject({ messages: 2, outbox: 1, pii_originals: 0, inbound_events: 1, ws_tickets: 1, sessions: 2 });
    expect(await ids('SELECT id FROM messages WHERE tenant_id = $1', [a])).toEqual(sorted([aFresh, aPiiKeep, aPiiClear]));
    expect(await ids('SELECT id FROM messages WHERE tenant_id = $1', [b])).toEqual([bPiiClear]);
    expect(await ids('SELECT id FROM inbound_events WHERE tenant_id = ANY($1)', [tenantIds])).toEqual(sorted([eAOpen, eCKeep]));
    // Nothing left to do: a third run at the same time removes nothing.
    const idle = await runRetention(deps);
    expect(Object.values(idle.counts).every((n) => n === 0)).toBe(true);

    expect((await verifyAuditLog(db)).ok).toBe(true);
  });

  it('prunes audit rows per category (security 1 year, access 90 days) and verification still passes from the anchor', async () => {
    const t = await tenant('ret-audit');
    const entry = (action: string, ageMs: number) =>
      appendAudit(db, { tenantId: t, actorType: 'user', action, at: new Date(T0 - ageMs) });
    await entry('auth.login', 365 * DAY + HOUR);
    await entry('auth.login', 364 * DAY + 23 * HOUR);
    await entry('audit.read', 90 * DAY + HOUR);
    await entry('audit.read', 89 * DAY + 23 * HOUR);
    const report = await runRetention({ db, clock: createManualClock(T0), log, settings });
    expect(report.counts.audit_log).toBe(2);
    const left = await db.query<{ action: string; at: Date }>('SELECT action, at FROM audit_log WHERE tenant_id = $1 ORDER BY at', [t]);
    expect(left.rows.map((r) => [r.action, T0 - r.at.getTime()])).toEqual([
      ['auth.login', 364 * DAY + 23 * HOUR],
      ['audit.read', 89 * DAY + 23 * HOUR],
    ]);
    const anchors = await db.query<{ chain: string; anchor_seq: string }>(
      'SELECT chain, anchor_seq::text FROM audit_anchor WHERE tenant_id = $1 ORDER BY chain',
      [t],
    );
    expect(anchors.rows).toEqual([
      { chain: `${t}/access`, anchor_seq: '1' },
      { chain: `${t}/security`, anchor_seq: '1' },
    ]);
    const verdict = await verifyAuditLog(db, { tenantId: t });
    expect(verdict.ok).toBe(true);
    expect(verdict.rows).toBe(2);
  });
});

describe('batches', () => {
  it('deletes at most one batch per statement, and a run drains a backlog of 20,000 messages in batches', async () => {
    const t = await tenant('ret-batch');
    const conv = await conversation(t);
    await db.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author_platform_id, author_display_name, text_redacted, verified_by, created_at)
       SELECT $1, $2, 'in', 'p', 'P', 'old', 'test', $3::timestamptz - n * interval '1 second' FROM generate_series(1, 20000) AS n`,
      [t, conv, new Date(T0 - 100 * DAY)],
    );
    const keep = await message(t, conv, 10 * DAY);
    const one = await deleteExpiredMessages(db, t, new Date(T0 - 90 * DAY), 7);
    expect(one).toEqual({ messages: 7, outbox: 0 });
    const started = Date.now();
    const report = await runRetention({ db, clock: createManualClock(T0), log, settings: { ...settings, batchSize: 5_000 } });
    const elapsedMs = Date.now() - started;
    expect(report.counts.messages).toBe(20_000 - 7);
    expect(await ids('SELECT id FROM messages WHERE tenant_id = $1', [t])).toEqual([keep]);
    console.info(`[figure] retention deleted ${report.counts.messages} messages in batches of 5,000 in ${elapsedMs} ms`);
  });
});

describe('the schedule', () => {
  it('runs in one process per interval across the fleet (Redis lease)', async () => {
    const redisA = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const redisB = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const prefix = `{sbt-${uniqueSuffix()}}`;
    const leaseKey = `${prefix}:maintenance:retention-lease`;
    const deps: RetentionDeps = { db, clock: createManualClock(T0), log, settings };
    const options = { leaseKey, intervalMs: 60_000, firstDelayMs: 3_600_000 };
    const first = startRetention(deps, { ...options, redis: redisA });
    const second = startRetention(deps, { ...options, redis: redisB });
    try {
      const before = await db.query(`SELECT 1 FROM audit_log WHERE action = 'retention.run'`);
      const ran = await Promise.all([first.tick(), second.tick()]);
      expect(ran.filter(Boolean)).toHaveLength(1);
      const after = await db.query(`SELECT 1 FROM audit_log WHERE action = 'retention.run'`);
      expect((after.rowCount ?? 0) - (before.rowCount ?? 0)).toBe(1);
      // The lease outlives the run: nobody runs again until the interval has passed.
      expect(await Promise.all([first.tick(), second.tick()])).toEqual([false, false]);
      expect(await redisA.pttl(leaseKey)).toBeGreaterThan(50_000);
      // The interval passing is the lease expiring; then the next tick anywhere runs.
      await redisA.del(leaseKey);
      expect(await second.tick()).toBe(true);
      expect(await first.tick()).toBe(false);
    } finally {
      await first.stop();
      await second.stop();
      redisA.disconnect();
      redisB.disconnect();
      await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    }
  });

  it('is started by worker processes, not by API-only ones', async () => {
    const env = { RETENTION_INTERVAL_MS: '1000' };
    const api = await startStack({ role: 'api', env });
    const apiStarted = Date.now();
    const worker = await startStack({ role: 'worker', env });
    try {
      const runs = (stack: Stack) =>
        countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM audit_log WHERE action = 'retention.run'`);
      await waitUntil(() => runs(worker), (n) => n >= 1, { what: 'a retention run in the worker', timeoutMs: 20_000 });
      // The API process has had well over its first 1 s delay by now, and ran nothing.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, apiStarted + 2_500 - Date.now())));
      expect(await runs(api)).toBe(0);
    } finally {
      await worker.stop();
      await api.stop();
    }
  });
});
