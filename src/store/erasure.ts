/**
 * The right to erasure: one transaction removes a person's account and data, counts what went,
 * and records a receipt without personal data. Tables other modules add are found through their
 * foreign keys to `users`, so a new table is covered without touching this file: rows of tables
 * whose key says ON DELETE CASCADE / RESTRICT / NO ACTION are deleted, ON DELETE SET NULL / SET
 * DEFAULT ones are unlinked (the row outlives the person, as its schema says).
 */
import type pg from 'pg';
import { withTransaction, type Db, type Queryable } from './db.ts';
import { appendAudit } from './audit.ts';
import { originFields, type RequestOrigin } from './redaction.ts';

/** What an erasure removed; holds no personal data. */
export interface ErasureReceipt {
  readonly receiptId: string;
  readonly deletedAt: string;
  /** Rows deleted, per table. */
  readonly removed: Readonly<Record<string, number>>;
  /** Rows kept whose reference to the person was cleared, per `table.column`. */
  readonly unlinked: Readonly<Record<string, number>>;
  /** Rows about the person deliberately kept, per table (the audit log; see docs/security/data-rights.md). */
  readonly retained: Readonly<Record<string, number>>;
}

/** The result of an erasure request. */
export type ErasureOutcome =
  | { readonly kind: 'erased'; readonly receipt: ErasureReceipt }
  | { readonly kind: 'not_found' }
  /** The tenant would have no enabled owner left. */
  | { readonly kind: 'last_owner' };

/** A foreign key from some table's column to users.id, with its ON DELETE rule. */
export interface UserReference {
  readonly table: string;
  readonly column: string;
  /** pg_constraint.confdeltype: a no action, r restrict, c cascade, n set null, d set default. */
  readonly onDelete: 'a' | 'r' | 'c' | 'n' | 'd';
}

// Handled explicitly below, in the order the spine's foreign keys need.
const HANDLED = new Set(['messages.author_user_id', 'messages.redacted_by', 'participants.user_id']);

/** Every single-column-to-users.id foreign key in the current schema. */
export async function userReferences(q: Queryable): Promise<UserReference[]> {
  const result = await q.query<{ table_name: string; column_name: string; on_delete: UserReference['onDelete'] }>(
    `SELECT cl.relname AS table_name, a.attname AS column_name, con.confdeltype AS on_delete
     FROM pg_constraint con
     JOIN pg_class cl ON cl.oid = con.conrelid
     JOIN LATERAL unnest(con.conkey, con.confkey) AS k(local_att, foreign_att) ON true
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.local_att
     JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.foreign_att
     WHERE con.contype = 'f' AND con.confrelid = 'users'::regclass AND fa.attname = 'id'
     ORDER BY cl.relname, a.attname`,
  );
  return result.rows.map((r) => ({ table: r.table_name, column: r.column_name, onDelete: r.on_delete }));
}

/** Double-quotes a catalog identifier (names come from pg_catalog, never from a request). */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The stored password hash of a user in a tenant, for re-authentication; null when it has none. */
export async function passwordHashOf(q: Queryable, tenantId: string, userId: string): Promise<string | null | undefined> {
  const result = await q.query<{ password_hash: string | null }>(
    'SELECT password_hash FROM users WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL',
    [userId, tenantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : row.password_hash;
}

/** Runs a DELETE or UPDATE and returns how many rows it touched. */
async function affected(tx: pg.PoolClient, sql: string, values: unknown[]): Promise<number> {
  return (await tx.query(sql, values)).rowCount ?? 0;
}

/** Erases a user's account and data in one transaction and returns the receipt. */
export async function eraseUser(
  db: Db,
  input: { tenantId: string; userId: string; receiptId: string; at: Date; origin: RequestOrigin },
): Promise<ErasureOutcome> {
  const { tenantId, userId } = input;
  return withTransaction(db, async (tx) => {
    // Lock the tenant's owners in one order first, so two owners erasing themselves at once
    // cannot both pass the last-owner check (and cannot deadlock on each other).
    await tx.query(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'owner' ORDER BY id FOR UPDATE`, [tenantId]);
    const me = await tx.query<{ role: string }>('SELECT role FROM users WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [
      userId,
      tenantId,
    ]);
    const role = me.rows[0]?.role;
    if (role === undefined) return { kind: 'not_found' };
    if (role === 'owner') {
      const others = await tx.query(
        `SELECT 1 FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL AND id <> $2 LIMIT 1`,
        [tenantId, userId],
      );
      if ((others.rowCount ?? 0) === 0) return { kind: 'last_owner' };
    }

    // Maps, not object literals: keys are table names, and no name can reach a prototype setter.
    const removed = new Map<string, number>();
    const add = (table: string, n: number): void => {
      removed.set(table, (removed.get(table) ?? 0) + n);
    };

    // Conversations where this person was the only human: they go whole, with the agent's replies.
    const sole = await tx.query<{ id: string }>(
      `SELECT c.id FROM conversations c
       WHERE c.tenant_id = $1
         AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
         AND NOT EXISTS (SELECT 1 FROM participants o
                         WHERE o.conversation_id = c.id AND NOT o.is_agent AND o.user_id IS DISTINCT FROM $2)
       FOR UPDATE OF c`,
      [tenantId, userId],
    );
    const soleIds = sole.rows.map((r) => r.id);
    add('outbox', await affected(tx, 'DELETE FROM outbox WHERE conversation_id = ANY($1::uuid[])', [soleIds]));
    add('messages', await affected(tx, 'DELETE FROM messages WHERE conversation_id = ANY($1::uuid[])', [soleIds]));
    add('inbound_events', await affected(tx, 'DELETE FROM inbound_events WHERE conversation_id = ANY($1::uuid[])', [soleIds]));
    add('participants', await affected(tx, 'DELETE FROM participants WHERE conversation_id = ANY($1::uuid[])', [soleIds]));
    add('conversations', await affected(tx, 'DELETE FROM conversations WHERE id = ANY($1::uuid[])', [soleIds]));

    // In conversations shared with other people: this person's messages and the events that carried
    // them (their dedupe keys name the person); the others' messages and the agent's replies stay.
    const mine = await tx.query<{ inbound_event_id: string | null }>(
      'DELETE FROM messages WHERE author_user_id = $1 RETURNING inbound_event_id',
      [userId],
    );
    add('messages', mine.rowCount ?? 0);
    const eventIds = mine.rows.flatMap((r) => (r.inbound_event_id === null ? [] : [r.inbound_event_id]));
    add('inbound_events', await affected(tx, 'DELETE FROM inbound_events WHERE id = ANY($1::uuid[])', [eventIds]));
    add('participants', await affected(tx, 'DELETE FROM participants WHERE user_id = $1', [userId]));
    await tx.query('UPDATE messages SET redacted_by = NULL WHERE redacted_by = $1', [userId]);

    // Everything else that points at the user. Rows to delete are counted per table before any is
    // deleted (a cascade from one table must not hide rows of the next from the receipt, and a row
    // pointing at the user twice counts once); rows to keep are unlinked afterwards, counting only
    // those that survived the deletes.
    const unlinked = new Map<string, number>();
    const references = (await userReferences(tx)).filter((r) => !HANDLED.has(`${r.table}.${r.column}`));
    const deleteColumns = new Map<string, string[]>();
    const unlinks: UserReference[] = [];
    for (const reference of references) {
      // Another user row never goes because of this one: references between users are cleared.
      const unlink = reference.onDelete === 'n' || reference.onDelete === 'd' || reference.table === 'users';
      if (unlink) unlinks.push(reference);
      else deleteColumns.set(reference.table, [...(deleteColumns.get(reference.table) ?? []), reference.column]);
    }
    const matchAny = (columns: readonly string[]): string => columns.map((c) => `${ident(c)} = $1`).join(' OR ');
    const doomed = new Map<string, number>();
    for (const [table, columns] of deleteColumns) {
      const counted = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(table)} WHERE ${matchAny(columns)}`, [userId]);
      doomed.set(table, Number(counted.rows[0]?.n ?? 0));
    }
    for (const [table, columns] of deleteColumns) {
      if ((doomed.get(table) ?? 0) === 0) continue;
      await tx.query(`DELETE FROM ${ident(table)} WHERE ${matchAny(columns)}`, [userId]);
      add(table, doomed.get(table) ?? 0);
    }
    for (const reference of unlinks) {
      const value = reference.onDelete === 'd' ? 'DEFAULT' : 'NULL';
      const n = await affected(
        tx,
        `UPDATE ${ident(reference.table)} SET ${ident(reference.column)} = ${value} WHERE ${ident(reference.column)} = $1`,
        [userId],
      );
      if (n > 0) unlinked.set(`${reference.table}.${reference.column}`, n);
    }
    add('users', await affected(tx, 'DELETE FROM users WHERE id = $1', [userId]));

    const retainedAudit = await tx.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_log WHERE tenant_id = $1 AND (actor_id = $2::text OR target_id = $2::text)`,
      [tenantId, userId],
    );
    const receipt: ErasureReceipt = {
      receiptId: input.receiptId,
      deletedAt: input.at.toISOString(),
      removed: sortedRecord(removed),
      unlinked: sortedRecord(unlinked),
      retained: { audit_log: Number(retainedAudit.rows[0]?.n ?? 0) },
    };
    await tx.query(
      `INSERT INTO erasure_receipts (id, tenant_id, deleted_at, removed, unlinked, retained) VALUES ($1, $2, $3, $4, $5, $6)`,
      [receipt.receiptId, tenantId, input.at, JSON.stringify(receipt.removed), JSON.stringify(receipt.unlinked), JSON.stringify(receipt.retained)],
    );
    await appendAudit(tx, {
      tenantId,
      actorType: 'user',
      actorId: userId,
      action: 'privacy.erasure',
      targetType: 'user',
      targetId: userId,
      ...originFields(input.origin),
      details: { receiptId: receipt.receiptId, removed: receipt.removed },
    });
    return { kind: 'erased', receipt };
  });
}

/** A plain record with keys in order (fromEntries defines own properties; no setter is reached). */
function sortedRecord(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** One erasure receipt of a tenant, for auditors. */
export async function getErasureReceipt(
  q: Queryable,
  tenantId: string,
  receiptId: string,
): Promise<ErasureReceipt | undefined> {
  const result = await q.query<{
    id: string;
    deleted_at: Date;
    removed: Record<string, number>;
    unlinked: Record<string, number>;
    retained: Record<string, number>;
  }>('SELECT id, deleted_at, removed, unlinked, retained FROM erasure_receipts WHERE id = $1 AND tenant_id = $2', [
    receiptId,
    tenantId,
  ]);
  const row = result.rows[0];
  return row
    ? { receiptId: row.id, deletedAt: row.deleted_at.toISOString(), removed: row.removed, unlinked: row.unlinked, retained: row.retained }
    : undefined;
}
