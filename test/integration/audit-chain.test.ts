/**
 * The hash-chained audit log against the real Postgres: appends from the pool and from inside
 * transactions never fork a chain, the SQL and TypeScript serializations agree, the database
 * refuses edits, old rows are backfilled, pruning keeps verification working through the anchor,
 * and the real `switchboard audit verify` process finds every kind of tampering done in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, TEST_POSTGRES_ADMIN_URL, testEnv, uniqueSuffix } from '../support/env.ts';
import { appendAudit, readAuditChainRows, type AuditEntry } from '../../src/store/audit.ts';
import { withTransaction } from '../../src/store/db.ts';
import { listMigrations, migrate } from '../../src/store/migrate.ts';
import { auditRowHash, GENESIS_HASH, verifyAuditLog } from '../../src/security/audit-chain.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Pool;

async function createTenant(slug: string): Promise<string> {
  const r = await db.query<{ id: string }>(`INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id`, [slug]);
  return r.rows[0]?.id ?? '';
}

/** Row ids of a chain in chain order. */
async function chainIds(chain: string): Promise<string[]> {
  const r = await db.query<{ id: string }>('SELECT id::text FROM audit_log WHERE chain = $1 ORDER BY seq', [chain]);
  return r.rows.map((row) => row.id);
}

/** Runs SQL with triggers off, as someone with the database owner's rights could. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  const client = await db.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    await client.query(sql, params);
  } finally {
    await client.query(`RESET session_replication_role`);
    client.release();
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = testEnv(database.url, `{sbt-${uniqueSuffix()}}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 12 });
  // DROP DATABASE … WITH (FORCE) may reach a client still closing after end(); that is expected.
  db.on('error', () => undefined);
});
afterAll(async () => {
  await db?.end();
  await database?.drop();
});

describe('appending', () => {
  it('chains concurrent appends from the pool and from transactions, with rollbacks, into one unforked chain', async () => {
    const tenantId = await createTenant('concurrent');
    const entry = (i: number): AuditEntry => ({ tenantId, actorType: 'user', actorId: `u${i}`, action: 'auth.login', details: { i } });
    const started = Date.now();
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i += 1) work.push(appendAudit(db, entry(i)));
    for (let i = 60; i < 120; i += 1) {
      work.push(
        withTransaction(db, async (tx) => {
          await tx.query('SELECT 1');
          await appendAudit(tx, entry(i));
          await sleep(i % 3); // hold the chain lock a little, as ingest does until it commits
          await appendAudit(tx, entry(i + 1000));
        }),
      );
    }
    for (let i = 0; i < 20; i += 1) {
      work.push(
        withTransaction(db, async (tx) => {
          await appendAudit(tx, entry(2000 + i));
          throw new Error('roll back');
        }).catch(() => undefined),
      );
    }
    await Promise.all(work);
    const elapsedMs = Date.now() - started;

    const rows = await db.query<{ seq: string; prev_hash: string; hash: string; details: { i: number } }>(
      `SELECT seq::text, prev_hash, hash, details FROM audit_log WHERE chain = $1 ORDER BY audit_log.seq`,
      [`${tenantId}/security`],
    );
    // 60 from the pool + 60 transactions x 2; none of the 20 rolled-back appends.
    expect(rows.rows).toHaveLength(180);
    expect(rows.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 180 }, (_, k) => k + 1));
    expect(rows.rows.some((r) => r.details.i >= 2000)).toBe(false);
    let prev = GENESIS_HASH;
    for (const row of rows.rows) {
      expect(row.prev_hash).toBe(prev);
      prev = row.hash;
    }
    const verdict = await verifyAuditLog(db, { tenantId });
    expect(verdict.ok).toBe(true);
    expect(verdict.rows).toBe(180);
    console.info(`[figure] 180 chained appends (60 pool, 60 transactions x 2, 20 rolled back) in ${elapsedMs} ms`);
  });

  it('computes the same hash in SQL and in TypeScript for hostile content, and derives the category from the action', async () => {
    const tenantId = await createTenant('hostile');
    const details: AuditEntry['details'][] = [
      { text: 'quote " backslash \\ newline \n tab \t nul-free \u0001 bell \u0007' },
      { emoji: '😀👩‍👩‍👧', rtl: 'שלום', combining: 'e\u0301', zeroWidth: 'a\u200bb' },
      { n: 0.1, big: 1e21, small: 1e-7, neg: -0, max: Number.MAX_SAFE_INTEGER, t: true, f: false, nil: null },
      { list: ['a', 'b', ''], counts: { EMAIL_ADDRESS: 2, PHONE_NUMBER: 1 } },
      {},
    ];
    const actions = ['auth.login', 'audit.read', 'privacy.export', 'privacy.erasure', 'conversation.messages.read', 'thing.unknown'];
    for (const [i, action] of actions.entries()) {
      await appendAudit(db, {
        tenantId,
        actorType: 'system',
        action,
        ...(i % 2 === 0 ? { ip: '2001:db8::1', userAgent: 'Mozilla/5.0 "quoted" ü' } : { ip: '', userAgent: '' }),
        ...(i < details.length ? { details: details[i] ?? {} } : {}),
      });
    }
    const categories = await db.query<{ action: string; category: string }>(
      'SELECT action, category FROM audit_log WHERE tenant_id = $1 ORDER BY id',
      [tenantId],
    );
    expect(Object.fromEntries(categories.rows.map((r) => [r.action, r.category]))).toEqual({
      'auth.login': 'security',
      'audit.read': 'access',
      'privacy.export': 'access',
      'privacy.erasure': 'security',
      'conversation.messages.read': 'access',
      'thing.unknown': 'security',
    });
    for (const chain of [`${tenantId}/security`, `${tenantId}/access`]) {
      const rows = await readAuditChainRows(db, chain, '0', 100);
      expect(rows.length).toBe(3);
      for (const row of rows) expect(auditRowHash(row, row.prevHash)).toBe(row.hash);
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows, heads and anchors', async () => {
    const tenantId = await createTenant('guarded');
    await appendAudit(db, { tenantId, actorType: 'system', action: 'admin.thing' });
    const refused = async (sql: string) => {
      const err = await db.query(sql, []).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      expect(err?.code, sql).toBe('42501');
    };
    await refused(`UPDATE audit_log SET details = '{"x":1}' WHERE tenant_id = '${tenantId}'`);
    await refused(`DELETE FROM audit_log WHERE tenant_id = '${tenantId}'`);
    await refused(`TRUNCATE audit_log`);
    await refused(`UPDATE audit_chain_head SET last_seq = 0 WHERE tenant_id = '${tenantId}'`);
    await refused(`DELETE FROM audit_chain_head WHERE tenant_id = '${tenantId}'`);
    await refused(`INSERT INTO audit_anchor (chain, category, anchor_seq, anchor_id, anchor_hash, pruned_at)
                   VALUES ('${tenantId}/security', 'security', 1, 1, repeat('0', 64), now())`);
    expect((await db.query('SELECT 1 FROM audit_log WHERE tenant_id = $1', [tenantId])).rowCount).toBe(1);
  });
});

describe('verifying', () => {
  it('walks a chain longer than one page (5,000 rows inserted by plain SQL) and finds an edit deep inside it', async () => {
    const tenantId = await createTenant('long');
    const insertStarted = Date.now();
    await db.query(
      `INSERT INTO audit_log (tenant_id, actor_type, action, details)
       SELECT $1, 'system', 'pii.redacted', jsonb_build_object('n', n) FROM generate_series(1, 5000) AS n`,
      [tenantId],
    );
    const insertMs = Date.now() - insertStarted;
    const verifyStarted = Date.now();
    const verdict = await verifyAuditLog(db, { tenantId });
    const verifyMs = Date.now() - verifyStarted;
    expect(verdict.ok).toBe(true);
    expect(verdict.rows).toBe(5000);
    const ids = await chainIds(`${tenantId}/security`);
    await tamper(`UPDATE audit_log SET ip = '10.0.0.1' WHERE id = $1`, [ids[4321]]);
    const broken = await verifyAuditLog(db, { tenantId });
    expect(broken.breaks).toEqual([expect.objectContaining({ rowId: ids[4321], seq: '4322', reason: 'row_modified' })]);
    await tamper(`UPDATE audit_log SET ip = NULL WHERE id = $1`, [ids[4321]]);
    console.info(`[figure] 5,000 chained rows inserted in one statement in ${insertMs} ms; verified in ${verifyMs} ms`);
  });
});

describe('migration 004', () => {
  it('backfills the chain over rows written before it, per chain in id order', async () => {
    const name = `sbt_${uniqueSuffix()}`;
    const url = new URL(TEST_POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const old = new pg.Client({ connectionString: url.toString() });
    old.on('error', () => undefined);
    await old.connect();
    try {
      // The database as it was before 004: earlier migrations applied and recorded by hand.
      await old.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const m of (await listMigrations()).filter((x) => x.version < 4)) {
        await old.query(await readFile(new URL(`../../src/store/migrations/${m.file}`, import.meta.url), 'utf8'));
        await old.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      const tenant = await old.query<{ id: string }>(`INSERT INTO tenants (slug, name) VALUES ('old', 'old') RETURNING id`);
      const tenantId = tenant.rows[0]?.id ?? '';
      await old.query(
        `INSERT INTO audit_log (tenant_id, actor_type, action, details, at) VALUES
           ($1, 'system', 'pii.redacted', '{"counts":{"EMAIL_ADDRESS":1}}', now() - interval '2 days'),
           (NULL, 'user', 'auth.login_failed', '{}', now() - interval '1 day'),
           ($1, 'user', 'auth.login', '{}', now() - interval '1 hour'),
           ($1, 'user', 'audit.read', '{}', now())`,
        [tenantId],
      );
      await migrate(url.toString());
      const rows = await old.query<{ id: string; chain: string; seq: string }>('SELECT id::text, chain, seq::text FROM audit_log ORDER BY id');
      expect(rows.rows.map((r) => [r.chain, r.seq])).toEqual([
        [`${tenantId}/security`, '1'],
        ['system/security', '1'],
        [`${tenantId}/security`, '2'],
        [`${tenantId}/access`, '1'],
      ]);
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
      pool.on('error', () => undefined);
      try {
        await appendAudit(pool, { tenantId, actorType: 'user', action: 'auth.logout' });
        const verdict = await verifyAuditLog(pool);
        expect(verdict.breaks).toEqual([]);
        expect(verdict.rows).toBe(5);
        expect(verdict.chains.find((c) => c.chain === `${tenantId}/security`)?.headSeq).toBe('3');
      } finally {
        await pool.end();
      }
    } finally {
      await old.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('pruning', () => {
  it('removes only a contiguous oldest prefix, records the anchor, and verification starts there', async () => {
    const tenantId = await createTenant('pruned');
    const day = 86_400_000;
    const now = Date.now();
    // seq 1-3 old, 4 young, 5 old again (a late writer with an old timestamp), 6 young.
    const ages = [400, 399, 398, 10, 500, 1];
    for (const age of ages) {
      await appendAudit(db, { tenantId, actorType: 'system', action: 'auth.login', at: new Date(now - age * day) });
    }
    const chain = `${tenantId}/security`;
    const ids = await chainIds(chain);
    const pruned = await db.query<{ n: number }>('SELECT audit_prune($1, $2, $3, $4) AS n', [chain, new Date(now - 365 * day), 2, new Date(now)]);
    expect(pruned.rows[0]?.n).toBe(2); // the batch limit
    const again = await db.query<{ n: number }>('SELECT audit_prune($1, $2, $3, $4) AS n', [chain, new Date(now - 365 * day), 100, new Date(now)]);
    expect(again.rows[0]?.n).toBe(1); // seq 3; seq 5 is old but sits behind the young seq 4
    expect(await chainIds(chain)).toEqual(ids.slice(3));
    const anchor = await db.query<{ anchor_seq: string; anchor_id: string; pruned_rows: string }>(
      'SELECT anchor_seq::text, anchor_id::text, pruned_rows::text FROM audit_anchor WHERE chain = $1',
      [chain],
    );
    expect(anchor.rows[0]).toEqual({ anchor_seq: '3', anchor_id: ids[2], pruned_rows: '3' });
    const verdict = await verifyAuditLog(db, { tenantId });
    expect(verdict.ok).toBe(true);
    expect(verdict.chains[0]?.anchorSeq).toBe('3');

    // Removing the first row after the anchor is still seen; putting it back exactly heals the chain.
    await tamper('CREATE TABLE audit_saved AS SELECT * FROM audit_log WHERE id = $1', [ids[3]]);
    await tamper('DELETE FROM audit_log WHERE id = $1', [ids[3]]);
    const broken = await verifyAuditLog(db, { tenantId });
    expect(broken.breaks).toEqual([expect.objectContaining({ rowId: ids[4], reason: 'row_missing' })]);
    await tamper('INSERT INTO audit_log SELECT * FROM audit_saved');
    await tamper('DROP TABLE audit_saved');
    expect((await verifyAuditLog(db, { tenantId })).ok).toBe(true);
  });
});

describe('switchboard audit verify (a real process)', () => {
  it('exits 0 on an intact log and 1 naming the row for edits, deletes, swaps, moves and a removed tail', { timeout: 90_000 }, async () => {
    const slugs = ['edit', 'delete', 'swap', 'move', 'tail', 'clean'] as const;
    const tenants: Record<string, string> = {};
    for (const slug of slugs) {
      tenants[slug] = await createTenant(`cli-${slug}`);
      for (let i = 1; i <= 6; i += 1) {
        await appendAudit(db, {
          tenantId: tenants[slug],
          actorType: 'user',
          actorId: `user-${i}`,
          action: i % 2 === 0 ? 'auth.login' : 'pii.redacted',
          targetId: `target-${i}`,
          details: { i },
        });
      }
    }
    const ids: Record<string, string[]> = {};
    for (const slug of slugs) ids[slug] = await chainIds(`${tenants[slug]}/security`);
    const id = (slug: string, seq: number): string => ids[slug]?.[seq - 1] ?? 'missing';

    // Intact before tampering (in-process; the real process checks the untouched tenant below).
    for (const slug of slugs) expect((await verifyAuditLog(db, { tenantId: tenants[slug] ?? '' })).ok).toBe(true);

    // Tampering directly in SQL, past the triggers.
    await tamper(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [id('edit', 3)]);
    await tamper('DELETE FROM audit_log WHERE id = $1', [id('delete', 3)]);
    // Swap the contents of two rows, leaving each row's chain columns in place.
    await tamper(
      `UPDATE audit_log a SET actor_id = b.actor_id, action = b.action, target_id = b.target_id, details = b.details
       FROM audit_log b WHERE (a.id, b.id) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [id('swap', 2), id('swap', 4)],
    );
    // Move two rows: swap everything but the id, chain columns included (a reorder).
    await tamper('UPDATE audit_log SET seq = -seq WHERE id IN ($1, $2)', [id('move', 2), id('move', 4)]); // UNIQUE (chain, seq)
    await tamper(
      `UPDATE audit_log a SET seq = -b.seq, prev_hash = b.prev_hash, hash = b.hash, at = b.at, actor_id = b.actor_id,
              action = b.action, target_id = b.target_id, details = b.details
       FROM audit_log b WHERE (a.id, b.id) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [id('move', 2), id('move', 4)],
    );
    await tamper('DELETE FROM audit_log WHERE id = $1', [id('tail', 6)]);

    // Each spawn loads the whole CLI (a few seconds on a busy machine): four processes cover it all.
    const [all, json, oneTenant, clean] = await Promise.all([
      runCli(['audit', 'verify']),
      runCli(['audit', 'verify', '--json']),
      runCli(['audit', 'verify', '--tenant', tenants['edit'] ?? '']),
      runCli(['audit', 'verify', '--tenant', 'cli-clean']),
    ]);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`at row ${id('edit', 3)} (seq 3): row_modified`);
    expect(all.stdout).toContain(
      `at row ${id('delete', 4)} (seq 4): row_missing: 1 row(s) removed between row ${id('delete', 2)} and this row`,
    );
    expect(all.stdout).toContain(`at row ${id('swap', 2)} (seq 2): row_modified`);
    // In chain order, position 2 now holds the row with id(4), carrying row 2's hash.
    expect(all.stdout).toContain(`at row ${id('move', 4)} (seq 2): row_modified`);
    expect(all.stdout).toContain(`at row ${id('tail', 6)} (seq 6): tail_missing`);
    expect(all.stdout.match(/^BROKEN /gm)).toHaveLength(5);
    expect(all.stdout).toMatch(/Audit log BROKEN: 5 of \d+ chain\(s\)/);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; breaks: Array<{ rowId: string; reason: string }> };
    expect(parsed.ok).toBe(false);
    expect(parsed.breaks.map((b) => [b.rowId, b.reason]).sort()).toEqual(
      [
        [id('edit', 3), 'row_modified'],
        [id('delete', 4), 'row_missing'],
        [id('swap', 2), 'row_modified'],
        [id('move', 4), 'row_modified'],
        [id('tail', 6), 'tail_missing'],
      ].sort(),
    );
    // --tenant (by id, by slug) looks at that tenant's chains only.
    expect(oneTenant.code).toBe(1);
    expect(oneTenant.stdout.match(/^BROKEN /gm)).toHaveLength(1);
    expect(oneTenant.stdout).toContain(`at row ${id('edit', 3)} (seq 3): row_modified`);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/Audit log intact: 1 chain\(s\), 6 row\(s\) verified/);
  });
});
