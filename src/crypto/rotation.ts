/**
 * Key rotation over every registered sealed column: count which key each stored value names,
 * re-seal values not under the active key, and retire a key once nothing references it.
 *
 * Safe with the application running: values are read without locks and written back with a
 * compare-and-swap (`WHERE column = <the value we read>`), so a value changed meanwhile (redacted,
 * pruned, re-sealed by another rotation) is skipped, never overwritten. Each batch commits on its
 * own, and "not under the active key" is computed from the stored bytes, so an interrupted rotation
 * simply resumes when run again.
 */
import type { Clock } from '../core/clock.ts';
import { isSwitchboardError, SwitchboardError } from '../core/errors.ts';
import { withTransaction, type Queryable, type Db } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { addSealCounts, listVaultKeys, markVaultKeyRetired } from '../store/vault-keys.ts';
import { quoteIdentifier, SEALED_COLUMNS, sealedColumnName, type SealedColumn } from './sealed-columns.ts';
import type { Vault } from './vault.ts';

/** Id column types a sealed table may use (they appear in casts). */
const ID_TYPES = new Set(['uuid', 'text', 'bigint', 'integer']);

/** Label used for stored values too malformed to name a key. */
export const MALFORMED_KEY_LABEL = '(malformed)';

/**
 * SQL for the key id a sealed value names, as bytea (see the layout in vault.ts: version 0x01,
 * id length, id). Nested CASE branches because Postgres does not promise AND/OR evaluation order,
 * and get_byte on a too-short value would raise.
 */
function keyIdSql(column: string): string {
  return `(CASE WHEN octet_length(${column}) < 2 THEN ''::bytea
               WHEN get_byte(${column}, 0) <> 1 THEN ''::bytea
               ELSE substring(${column} FROM 3 FOR get_byte(${column}, 1)) END)`;
}

/** A registered column as found in this database. */
interface ResolvedColumn {
  readonly spec: SealedColumn;
  readonly name: string;
  readonly table: string;
  readonly column: string;
  readonly id: string;
  readonly idType: string;
}

/** Resolves a registry entry against the database; undefined when its table or column is absent. */
async function resolveColumn(q: Queryable, spec: SealedColumn): Promise<ResolvedColumn | undefined> {
  const table = quoteIdentifier(spec.table);
  const column = quoteIdentifier(spec.column);
  const id = quoteIdentifier(spec.idColumn);
  const result = await q.query<{ attname: string; type: string }>(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped`,
    [spec.table, [spec.column, spec.idColumn]],
  );
  const types = new Map(result.rows.map((row) => [row.attname, row.type]));
  const sealedType = types.get(spec.column);
  const idType = types.get(spec.idColumn);
  if (sealedType === undefined || idType === undefined) return undefined;
  if (sealedType !== 'bytea' || !ID_TYPES.has(idType)) {
    throw new SwitchboardError('internal', `Sealed column ${sealedColumnName(spec)} has unexpected types`, {
      context: { sealedType, idType },
    });
  }
  return { spec, name: sealedColumnName(spec), table, column, id, idType };
}

/** Which keys the values of one sealed column name. */
export interface ColumnKeyReferences {
  readonly name: string;
  /** False when the table or column does not exist in this database. */
  readonly present: boolean;
  /** Sealed (non-null) values. */
  readonly total: number;
  /** Values per key id; `(malformed)` for values that name none. */
  readonly byKey: ReadonlyMap<string, number>;
}

/** Counts stored values per key id in every registered column (a full scan of each). */
export async function countKeyReferences(q: Queryable, columns: readonly SealedColumn[] = SEALED_COLUMNS): Promise<ColumnKeyReferences[]> {
  const out: ColumnKeyReferences[] = [];
  for (const spec of columns) {
    const resolved = await resolveColumn(q, spec);
    if (!resolved) {
      out.push({ name: sealedColumnName(spec), present: false, total: 0, byKey: new Map() });
      continue;
    }
    const result = await q.query<{ key_id: string; n: string }>(
      `SELECT encode(${keyIdSql(resolved.column)}, 'escape') AS key_id, count(*) AS n
       FROM ${resolved.table} WHERE ${resolved.column} IS NOT NULL GROUP BY 1`,
    );
    const byKey = new Map<string, number>();
    let total = 0;
    for (const row of result.rows) {
      const n = Number(row.n);
      byKey.set(row.key_id === '' ? MALFORMED_KEY_LABEL : row.key_id, n);
      total += n;
    }
    out.push({ name: resolved.name, present: true, total, byKey });
  }
  return out;
}

/** Sums references to one key over all columns. */
export function referencesTo(references: readonly ColumnKeyReferences[], keyId: string): number {
  return references.reduce((sum, column) => sum + (column.byKey.get(keyId) ?? 0), 0);
}

/** Progress after each batch. */
export interface RotationProgress {
  readonly column: string;
  readonly pass: number;
  readonly reencrypted: number;
  readonly skipped: number;
  readonly failed: number;
}

/** A value that could not be re-sealed (it does not open with the configured keys). */
export interface RotationFailure {
  readonly column: string;
  readonly rowId: string;
  readonly reason: string;
}

/** What a rotation did. */
export interface RotationReport {
  readonly activeKeyId: string;
  /** Values re-sealed under the active key. */
  readonly reencrypted: number;
  /** Values changed by someone else between read and write; left alone (a later pass re-checks). */
  readonly skipped: number;
  /** Values that failed to open (unknown key, tampered, malformed): left untouched. */
  readonly failed: number;
  /** The first failures, by row id (never contents). */
  readonly failures: readonly RotationFailure[];
  readonly perColumn: ReadonlyArray<{ column: string; present: boolean; reencrypted: number; skipped: number; failed: number }>;
  /** Values still under other keys after the last pass, per key id. */
  readonly remaining: ReadonlyMap<string, number>;
  readonly passes: number;
  /** True when stopped by the signal before finishing. */
  readonly aborted: boolean;
  readonly durationMs: number;
}

/** Options for `rotateSealedValues`. */
export interface RotationOptions {
  readonly db: Db;
  /** A plain vault (not a counting one): rotation records its own seals, batch by batch. */
  readonly vault: Vault;
  readonly clock: Clock;
  readonly columns?: readonly SealedColumn[];
  readonly batchSize?: number;
  /** Pause between batches, to keep a live database comfortable. */
  readonly pauseMs?: number;
  /** Passes over the tables; another pass runs while the last one still found work. */
  readonly maxPasses?: number;
  /** Stops after the current batch. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RotationProgress) => void;
  /** Who asked, for the audit log. */
  readonly actorId?: string;
}

const MAX_REPORTED_FAILURES = 100;

interface BatchResult {
  readonly reencrypted: number;
  readonly skipped: number;
  readonly failures: RotationFailure[];
  readonly lastId: string | undefined;
  readonly rows: number;
}

async function rotateBatch(
  db: Db,
  vault: Vault,
  col: ResolvedColumn,
  activeKeyIdBytes: Buffer,
  after: string | undefined,
  batchSize: number,
  now: Date,
): Promise<BatchResult> {
  const params: unknown[] = [activeKeyIdBytes, batchSize];
  if (after !== undefined) params.push(after);
  const selected = await db.query<{ row_id: string; sealed: Buffer }>(
    `SELECT ${col.id}::text AS row_id, ${col.column} AS sealed FROM ${col.table}
     WHERE ${col.column} IS NOT NULL AND ${keyIdSql(col.column)} <> $1::bytea
       ${after === undefined ? '' : `AND ${col.id} > $3::${col.idType}`}
     ORDER BY ${col.id} LIMIT $2`,
    params,
  );
  const ids: string[] = [];
  const olds: Buffer[] = [];
  const news: Buffer[] = [];
  const failures: RotationFailure[] = [];
  for (const row of selected.rows) {
    const aad = { table: col.spec.table, column: col.spec.column, rowId: row.row_id };
    let plaintext: Buffer;
    try {
      plaintext = vault.open(row.sealed, aad);
    } catch (err) {
      const reason = isSwitchboardError(err, 'vault_decrypt_failed') ? String(err.details.context?.['reason'] ?? 'auth_failed') : 'error';
      failures.push({ column: col.name, rowId: row.row_id, reason });
      continue;
    }
    news.push(vault.seal(plaintext, aad));
    plaintext.fill(0);
    ids.push(row.row_id);
    olds.push(row.sealed);
  }
  let reencrypted = 0;
  if (ids.length > 0) {
    reencrypted = await withTransaction(db, async (client) => {
      const updated = await client.query(
        `UPDATE ${col.table} AS t SET ${col.column} = v.new_value
         FROM unnest($1::${col.idType}[], $2::bytea[], $3::bytea[]) AS v(row_id, old_value, new_value)
         WHERE t.${col.id} = v.row_id AND t.${col.column} = v.old_value`,
        [ids, olds, news],
      );
      // Every seal counts toward the key's budget, including ones discarded by the compare-and-swap.
      await addSealCounts(client, new Map([[vault.activeKeyId, ids.length]]), now);
      return updated.rowCount ?? 0;
    });
  }
  const last = selected.rows.at(-1);
  return { reencrypted, skipped: ids.length - reencrypted, failures, lastId: last?.row_id, rows: selected.rows.length };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Re-seals every stored value not under the vault's active key. Records seals and audits the run. */
export async function rotateSealedValues(options: RotationOptions): Promise<RotationReport> {
  const { db, vault, clock } = options;
  const started = clock.now();
  const batchSize = options.batchSize ?? 500;
  const maxPasses = options.maxPasses ?? 5;
  const activeKeyIdBytes = Buffer.from(vault.activeKeyId, 'ascii');
  const columns: ResolvedColumn[] = [];
  const perColumn = new Map<string, { column: string; present: boolean; reencrypted: number; skipped: number; failed: number }>();
  for (const spec of options.columns ?? SEALED_COLUMNS) {
    const resolved = await resolveColumn(db, spec);
    perColumn.set(sealedColumnName(spec), { column: sealedColumnName(spec), present: resolved !== undefined, reencrypted: 0, skipped: 0, failed: 0 });
    if (resolved) columns.push(resolved);
  }
  let reencrypted = 0;
  let skipped = 0;
  let failed = 0;
  const failures: RotationFailure[] = [];
  let passes = 0;
  let aborted = false;

  outer: while (passes < maxPasses) {
    passes += 1;
    let progressThisPass = 0;
    // Failures are reported once, from the first pass; later passes only look for new work.
    const countFailures = passes === 1;
    for (const col of columns) {
      const stats = perColumn.get(col.name);
      let after: string | undefined;
      for (;;) {
        if (options.signal?.aborted) {
          aborted = true;
          break outer;
        }
        const batch = await rotateBatch(db, vault, col, activeKeyIdBytes, after, batchSize, new Date(clock.now()));
        reencrypted += batch.reencrypted;
        skipped += batch.skipped;
        progressThisPass += batch.reencrypted + batch.skipped;
        if (stats) {
          stats.reencrypted += batch.reencrypted;
          stats.skipped += batch.skipped;
        }
        if (countFailures) {
          failed += batch.failures.length;
          if (stats) stats.failed += batch.failures.length;
          for (const failure of batch.failures) if (failures.length < MAX_REPORTED_FAILURES) failures.push(failure);
        }
        options.onProgress?.({
          column: col.name,
          pass: passes,
          reencrypted: stats?.reencrypted ?? 0,
          skipped: stats?.skipped ?? 0,
          failed: stats?.failed ?? 0,
        });
        if (batch.rows < batchSize || batch.lastId === undefined) break;
        after = batch.lastId;
        if ((options.pauseMs ?? 0) > 0) await sleep(options.pauseMs ?? 0);
      }
    }
    // Another pass only if this one changed or raced with something: new old-key values may have appeared.
    if (progressThisPass === 0) break;
  }

  const references = await countKeyReferences(db, options.columns ?? SEALED_COLUMNS);
  const remaining = new Map<string, number>();
  for (const column of references) {
    for (const [keyId, n] of column.byKey) {
      if (keyId !== vault.activeKeyId) remaining.set(keyId, (remaining.get(keyId) ?? 0) + n);
    }
  }
  const report: RotationReport = {
    activeKeyId: vault.activeKeyId,
    reencrypted,
    skipped,
    failed,
    failures,
    perColumn: [...perColumn.values()],
    remaining,
    passes,
    aborted,
    durationMs: clock.now() - started,
  };
  await appendAudit(db, {
    actorType: 'system',
    ...(options.actorId === undefined ? {} : { actorId: options.actorId }),
    action: 'keys.rotated',
    at: new Date(clock.now()),
    targetType: 'vault_key',
    targetId: vault.activeKeyId,
    details: {
      reencrypted,
      skipped,
      failed,
      aborted,
      remaining: Object.fromEntries(remaining),
    },
  });
  return report;
}

/** What `retireVaultKey` needs. */
export interface RetireOptions {
  readonly db: Db;
  readonly keyId: string;
  /** The active key of the ring the caller runs with. */
  readonly activeKeyId: string;
  readonly clock: Clock;
  readonly columns?: readonly SealedColumn[];
  readonly actorId?: string;
}

/** Marks a key retired (safe to remove from VAULT_KEYS); refuses while anything references it. */
export async function retireVaultKey(options: RetireOptions): Promise<{ retired: boolean; alreadyRetired: boolean }> {
  const { db, keyId, clock } = options;
  const audit = (action: string, details: Record<string, string | number | Record<string, number>>) =>
    appendAudit(db, {
      actorType: 'system',
      ...(options.actorId === undefined ? {} : { actorId: options.actorId }),
      action,
      at: new Date(clock.now()),
      targetType: 'vault_key',
      targetId: keyId,
      details,
    });
  if (keyId === options.activeKeyId) {
    throw new SwitchboardError('conflict', `Key "${keyId}" is the active key; put a new key first in VAULT_KEYS and rotate first`, {
      context: { keyId },
    });
  }
  const known = (await listVaultKeys(db)).find((k) => k.keyId === keyId);
  if (known?.state === 'active') {
    throw new SwitchboardError('conflict', `Key "${keyId}" is still active in a running process; deploy the new key everywhere first`, {
      context: { keyId },
    });
  }
  const references = await countKeyReferences(db, options.columns ?? SEALED_COLUMNS);
  const count = referencesTo(references, keyId);
  if (count > 0) {
    const perColumn: Record<string, number> = {};
    for (const column of references) {
      const n = column.byKey.get(keyId) ?? 0;
      if (n > 0) perColumn[column.name] = n;
    }
    await audit('keys.retire_refused', { references: count, perColumn });
    throw new SwitchboardError(
      'conflict',
      `Key "${keyId}" is still referenced by ${count} sealed value(s) (${Object.entries(perColumn)
        .map(([name, n]) => `${name}: ${n}`)
        .join(', ')}); run \`switchboard keys rotate\` first`,
      { context: { keyId, references: count } },
    );
  }
  const changed = await markVaultKeyRetired(db, keyId, new Date(clock.now()));
  if (changed) await audit('keys.retired', { references: 0 });
  return { retired: changed, alreadyRetired: !changed };
}
