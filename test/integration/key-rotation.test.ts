/**
 * Vault key rotation against the real Postgres: 10,000 sealed originals re-encrypted by the real
 * `switchboard keys rotate` process while the application runs and writes; retirement only once
 * nothing references the old key; tampered, swapped and moved ciphertexts refused and left alone;
 * concurrent changes never overwritten; seal counts recorded per key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, testEnv, uniqueSuffix } from '../support/env.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { waitUntil } from '../support/wait.ts';
import { createManualClock, systemClock } from '../../src/core/clock.ts';
import { formatConversationKey } from '../../src/core/conversation-key.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { createDb, withTransaction, type Db } from '../../src/store/db.ts';
import { createVault, parseVaultKeys, type Vault } from '../../src/crypto/vault.ts';
import { countSeals, createKeyUsage } from '../../src/crypto/key-usage.ts';
import { countKeyReferences, retireVaultKey, rotateSealedValues } from '../../src/crypto/rotation.ts';
import { describeKeyRing } from '../../src/crypto/key-status.ts';
import { SEALED_COLUMNS, sealedColumnName } from '../../src/crypto/sealed-columns.ts';
import { listVaultKeys, markVaultKeyRetired } from '../../src/store/vault-keys.ts';
import { createLogger } from '../../src/core/logger.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const ringA = `kA:${keyA}`;
const ringBA = `kB:${keyB},kA:${keyA}`;
const aadOf = (id: string) => ({ table: 'messages', column: 'original_sealed', rowId: id });

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A conversation to hang seeded messages on. */
async function seedConversation(db: Db, tenantId: string): Promise<string> {
  const channelId = randomUUID();
  const result = await db.query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind)
     VALUES ($1, 'webchat', 'seed', $2, $3, 'dm') RETURNING id`,
    [tenantId, formatConversationKey({ platform: 'webchat', installationId: 'seed', channelId }), channelId],
  );
  return result.rows[0]!.id;
}

/** Bulk-inserts `count` messages whose originals are sealed with `vault`, in one transaction. */
async function seedSealedMessages(db: Db, vault: Vault, tenantId: string, count: number): Promise<Map<string, string>> {
  const conversationId = await seedConversation(db, tenantId);
  const originals = new Map<string, string>();
  const ids: string[] = [];
  const sealed: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = randomUUID();
    const text = `original ${i}: write to person${i}@example.com or call +1 202 555 ${String(i % 10_000).padStart(4, '0')}`;
    originals.set(id, text);
    ids.push(id);
    sealed.push(vault.seal(text, aadOf(id)));
  }
  await withTransaction(db, async (client) => {
    for (let at = 0; at < count; at += 2_000) {
      await client.query(
        `INSERT INTO messages (id, tenant_id, conversation_id, direction, author_platform_id, author_display_name,
           text_redacted, original_sealed, verified_by)
         SELECT x.id, $1, $2, 'in', 'seed', 'Seed', 'write to [EMAIL_ADDRESS]', x.s, 'seed'
         FROM unnest($3::uuid[], $4::bytea[]) AS x(id, s)`,
        [tenantId, conversationId, ids.slice(at, at + 2_000), sealed.slice(at, at + 2_000)],
      );
    }
  });
  return originals;
}

async function tenantOf(db: Db): Promise<string> {
  const result = await db.query<{ id: string }>(`INSERT INTO tenants (slug, name) VALUES ($1, 'T') RETURNING id`, [`t-${uniqueSuffix()}`]);
  return result.rows[0]!.id;
}

describe('switchboard keys rotate with the application running', () => {
  let stack: Stack;
  let cliEnv: Record<string, string>;
  let originals: Map<string, string>;
  const seedMs: number[] = [];

  beforeAll(async () => {
    // The application already runs with the new key kB first; kA is decrypt-only.
    stack = await startStack({ env: { VAULT_KEYS: ringBA } });
    cliEnv = testEnv(stack.config.DATABASE_URL, stack.config.QUEUE_PREFIX, { VAULT_KEYS: ringBA });
    const started = Date.now();
    // Values sealed before the new key was deployed: under kA only.
    originals = await seedSealedMessages(stack.switchboard.services.db, createVault(parseVaultKeys(ringA)), stack.tenantId, 10_000);
    seedMs.push(Date.now() - started);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('re-encrypts 10,000 values under the new key with none lost; kA retires only afterwards', async () => {
    const { db } = stack.switchboard.services;
    const before = await describeKeyRing(db, { activeKeyId: 'kB', keyIds: ['kB', 'kA'] });
    expect(before.keys.find((k) => k.keyId === 'kA')).toMatchObject({ configured: true, active: false, recordedState: 'decrypt_only', references: 10_000 });
    expect(before.keys.find((k) => k.keyId === 'kB')).toMatchObject({ active: true, recordedState: 'active', references: 0 });

    const early = await run(['keys', 'retire', 'kA'], cliEnv);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/conflict: Key "kA" is still referenced by 10000 sealed value\(s\) \(messages\.original_sealed: 10000\)/);

    // While the rotation runs: the app ingests new PII messages (sealed under kB by the app), and
    // some old rows lose their original (as redaction and retention do) — none may come back.
    const nulled = [...originals.keys()].filter((_id, i) => i % 97 === 0);
    let writing = true;
    const appWrites = (async () => {
      let n = 0;
      while (writing || n < 5) {
        await stack.switchboard.services.ingest.accept({
          tenantId: stack.tenantId,
          platform: 'webchat',
          installationId: 'webchat',
          platformEventId: randomUUID(),
          conversation: { key: formatConversationKey({ platform: 'webchat', installationId: 'webchat', channelId: 'rotation' }), channelId: 'rotation', kind: 'dm' },
          messageId: randomUUID(),
          author: { platformUserId: 'writer', displayName: 'Writer', isBot: false, isSelf: false },
          text: `live message ${n} from live${n}@example.com`,
          attachments: [],
          mentionsAgent: false,
          verifiedBy: 'test',
        });
        n += 1;
      }
      return n;
    })();
    const redactions = (async () => {
      for (let at = 0; at < nulled.length; at += 10) {
        await db.query('UPDATE messages SET original_sealed = NULL WHERE id = ANY($1::uuid[])', [nulled.slice(at, at + 10)]);
      }
    })();
    const started = Date.now();
    let rotation: Awaited<ReturnType<typeof run>>;
    try {
      rotation = await run(['keys', 'rotate', '--batch-size', '500', '--json'], cliEnv);
    } finally {
      writing = false;
    }
    const rotateMs = Date.now() - started;
    const liveWrites = await appWrites;
    await redactions;
    expect(rotation.stderr).toBe('');
    expect(rotation.code).toBe(0);
    const report = JSON.parse(rotation.stdout.trim().split('\n').at(-1) ?? '{}') as {
      reencrypted: number;
      skipped: number;
      failed: number;
      remaining: Record<string, number>;
    };
    expect(report.failed).toBe(0);
    expect(report.remaining).toEqual({});
    // Every old value was either re-encrypted or nulled by the concurrent redactions.
    expect(report.reencrypted).toBeGreaterThanOrEqual(10_000 - nulled.length);
    expect(report.reencrypted).toBeLessThanOrEqual(10_000);

    // Every seeded row is still there; each opens with kB ALONE and equals its original.
    const onlyB = createVault(parseVaultKeys(`kB:${keyB}`));
    const rows = await db.query<{ id: string; original_sealed: Buffer | null }>(
      'SELECT id::text, original_sealed FROM messages WHERE id = ANY($1::uuid[])',
      [[...originals.keys()]],
    );
    expect(rows.rows).toHaveLength(10_000);
    const nulledSet = new Set(nulled);
    let opened = 0;
    for (const row of rows.rows) {
      if (nulledSet.has(row.id)) {
        expect(row.original_sealed).toBeNull();
        continue;
      }
      expect(row.original_sealed).not.toBeNull();
      expect(onlyB.keyIdOf(row.original_sealed!)).toBe('kB');
      expect(onlyB.openText(row.original_sealed!, aadOf(row.id))).toBe(originals.get(row.id));
      opened += 1;
    }
    expect(opened).toBe(10_000 - nulled.length);
    // Nothing in the database names kA any more, the app's live writes included.
    const references = await countKeyReferences(db);
    const messagesRefs = references.find((r) => r.name === 'messages.original_sealed');
    expect(messagesRefs?.byKey.get('kA')).toBeUndefined();
    expect(messagesRefs?.byKey.get('kB')).toBeGreaterThanOrEqual(opened + liveWrites);

    const retire = await run(['keys', 'retire', 'kA'], cliEnv);
    expect(retire.stderr).toBe('');
    expect(retire.code).toBe(0);
    expect(retire.stdout).toMatch(/Key kA retired/);
    const status = await run(['keys', 'status', '--json'], cliEnv);
    expect(status.code).toBe(0);
    const after = JSON.parse(status.stdout) as {
      activeKeyId: string;
      keys: Array<{ keyId: string; state: string; references: number; sealCount: number; retirable: boolean }>;
    };
    expect(after.activeKeyId).toBe('kB');
    expect(after.keys.find((k) => k.keyId === 'kA')).toMatchObject({ state: 'retired', references: 0, retirable: false });
    // Rotation's seals are counted against kB (the app's are flushed every few seconds on top).
    expect(after.keys.find((k) => k.keyId === 'kB')?.sealCount).toBeGreaterThanOrEqual(report.reencrypted);
    const audit = await db.query<{ action: string }>(`SELECT action FROM audit_log WHERE action LIKE 'keys.%' ORDER BY id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['keys.retire_refused', 'keys.rotated', 'keys.retired']);
    process.stdout.write(`[key-rotation] seeded 10000 sealed rows in ${seedMs[0]} ms; CLI rotate (process start included) ${rotateMs} ms; ${liveWrites} live app writes meanwhile\n`);
    // Four CLI process starts: generous for a loaded machine (about 10 s on a quiet one).
  }, 120_000);
});

describe('rotation refuses to touch what it cannot open, and never overwrites concurrent changes', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let tenantId: string;
  const vaultA = createVault(parseVaultKeys(ringA));
  const vaultBA = createVault(parseVaultKeys(ringBA));

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ connectionString: database.url, max: 4 }, () => undefined);
    tenantId = await tenantOf(db);
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  it('skips a value changed between its read and its write (compare-and-swap), and it stays changed', async () => {
    const originals = await seedSealedMessages(db, vaultA, tenantId, 3);
    const [first, middle, last] = [...originals.keys()].sort();
    // Another transaction is changing the middle row (a redaction) and has not committed yet.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('UPDATE messages SET original_sealed = NULL WHERE id = $1', [middle]);
    const rotation = rotateSealedValues({ db, vault: vaultBA, clock: systemClock, batchSize: 10 });
    // Wait until the rotation's UPDATE is blocked on that row lock, i.e. it read the old value.
    await waitUntil(
      () =>
        db
          .query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE "messages"%'`)
          .then((r) => Number(r.rows[0]?.n ?? 0)),
      (n) => n >= 1,
      { what: 'the rotation waiting on the row lock' },
    );
    await locker.query('COMMIT');
    await locker.end();
    const report = await rotation;
    expect(report.skipped).toBe(1);
    expect(report.reencrypted).toBe(2);
    expect(report.remaining.size).toBe(0);
    const rows = await db.query<{ id: string; original_sealed: Buffer | null }>('SELECT id::text, original_sealed FROM messages WHERE id = ANY($1::uuid[])', [
      [first, middle, last],
    ]);
    const byId = new Map(rows.rows.map((r) => [r.id, r.original_sealed]));
    expect(byId.get(middle!)).toBeNull();
    expect(vaultBA.keyIdOf(byId.get(first!)!)).toBe('kB');
    expect(vaultBA.openText(byId.get(last!)!, aadOf(last!))).toBe(originals.get(last!));
  });

  it('a byte flip in IV, tag or ciphertext, a changed row id (associated data) and a swap between rows all fail; rotation leaves them and retire refuses', async () => {
    const originals = await seedSealedMessages(db, vaultA, tenantId, 8);
    const ids = [...originals.keys()];
    const read = async (id: string): Promise<Buffer> =>
      (await db.query<{ s: Buffer }>('SELECT original_sealed AS s FROM messages WHERE id = $1', [id])).rows[0]!.s;
    const write = (id: string, value: Buffer) => db.query('UPDATE messages SET original_sealed = $2 WHERE id = $1', [id, value]);
    // Layout for key id "kA": version, id length, "kA", 12-byte IV, 16-byte tag, ciphertext.
    const IV_AT = 4;
    const TAG_AT = IV_AT + 12;
    const CT_AT = TAG_AT + 16;
    const flip = async (id: string, offset: number) => {
      const value = Buffer.from(await read(id));
      value[offset] = (value[offset] ?? 0) ^ 0x01;
      await write(id, value);
    };
    const [ivId, tagId, ctId, swapX, swapY, movedId, good1, good2] = ids as [string, string, string, string, string, string, string, string];
    await flip(ivId, IV_AT + 5);
    await flip(tagId, TAG_AT + 15);
    await flip(ctId, CT_AT);
    const [x, y] = [await read(swapX), await read(swapY)];
    await write(swapX, y);
    await write(swapY, x);
    // The associated data binds the row id: the same bytes under a row id one character away fail.
    const movedTo = `${movedId.slice(0, -1)}${movedId.endsWith('0') ? '1' : '0'}`;
    await db.query('UPDATE messages SET id = $2 WHERE id = $1', [movedId, movedTo]);
    const broken = [ivId, tagId, ctId, swapX, swapY, movedTo];
    const before = new Map<string, Buffer>();
    for (const id of broken) before.set(id, await read(id));

    for (const id of broken) {
      let failure: unknown;
      try {
        vaultBA.openText(before.get(id)!, aadOf(id));
      } catch (err) {
        failure = err;
      }
      expect(isSwitchboardError(failure, 'vault_decrypt_failed'), `row ${id} must not open`).toBe(true);
    }

    const report = await rotateSealedValues({ db, vault: vaultBA, clock: systemClock, batchSize: 3 });
    expect(report.failed).toBe(6);
    expect(report.failures.map((f) => f.rowId).sort()).toEqual([...broken].sort());
    expect(new Set(report.failures.map((f) => f.reason))).toEqual(new Set(['auth_failed']));
    expect(report.reencrypted).toBe(2);
    expect(report.remaining.get('kA')).toBe(6);
    // Left exactly as they were: nothing is destroyed by a rotation.
    for (const id of broken) expect((await read(id)).equals(before.get(id)!)).toBe(true);
    expect(vaultBA.openText(await read(good1), aadOf(good1))).toBe(originals.get(good1));
    expect(vaultBA.keyIdOf(await read(good2))).toBe('kB');

    await expect(retireVaultKey({ db, keyId: 'kA', activeKeyId: 'kB', clock: systemClock })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/referenced by 6 sealed value/) as unknown,
    });
    await expect(retireVaultKey({ db, keyId: 'kB', activeKeyId: 'kB', clock: systemClock })).rejects.toMatchObject({ code: 'conflict' });
    // Once the broken rows are gone (e.g. erased), the key retires.
    await db.query('DELETE FROM messages WHERE id = ANY($1::uuid[])', [broken]);
    expect(await retireVaultKey({ db, keyId: 'kA', activeKeyId: 'kB', clock: systemClock })).toEqual({ retired: true, alreadyRetired: false });
  });
});

describe('seal counting and key registration', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  const log = createLogger({ level: 'silent' });

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ connectionString: database.url, max: 2 }, () => undefined);
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  it('every *_sealed column of the migrated schema is in the sealed-column registry (so rotation covers it)', async () => {
    const result = await db.query<{ name: string }>(
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name LIKE '%\\_sealed' ORDER BY 1`,
    );
    const inSchema = result.rows.map((r) => r.name);
    const registered = SEALED_COLUMNS.map(sealedColumnName);
    expect(inSchema).toContain('messages.original_sealed');
    // Unregistered sealed columns would keep old keys forever; stale entries would hide a rename.
    expect(inSchema.filter((name) => !registered.includes(name))).toEqual([]);
    expect(registered.filter((name) => !inSchema.includes(name))).toEqual([]);
  });

  it('registers the ring, flushes seals per key, and refuses to start with a retired active key', async () => {
    const clock = createManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const vault = countSeals(createVault(parseVaultKeys(ringBA)));
    const usage = createKeyUsage({ db, vault, keyIds: ['kB', 'kA'], sealBudget: 1000, clock, log });
    await usage.start();
    for (let i = 0; i < 25; i += 1) vault.seal(`v${i}`, aadOf(randomUUID()));
    await usage.flush();
    for (let i = 0; i < 5; i += 1) vault.seal(`w${i}`, aadOf(randomUUID()));
    await usage.stop();
    const keys = new Map((await listVaultKeys(db)).map((k) => [k.keyId, k]));
    expect(keys.get('kB')).toMatchObject({ state: 'active', sealCount: 30 });
    expect(keys.get('kA')).toMatchObject({ state: 'decrypt_only', sealCount: 0 });

    // A process still configured with the retired key first must not start sealing with it again.
    await markVaultKeyRetired(db, 'kA', new Date(clock.now()));
    const stale = createKeyUsage({ db, vault: countSeals(createVault(parseVaultKeys(ringA))), keyIds: ['kA'], sealBudget: 1000, clock, log });
    await expect(stale.start()).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/active key "kA" was retired/) as unknown });
  });
});
