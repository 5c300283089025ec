/**
 * Retention statements: each removes (or clears) at most `limit` rows older than an explicit
 * cutoff and returns how many, so a large backlog goes in short statements that hold their locks
 * briefly. Cutoffs come from the caller's Clock; no statement reads the database's now().
 */
import type { Queryable } from './db.ts';

/** A tenant's retention periods in days. */
export interface TenantRetention {
  readonly tenantId: string;
  readonly retentionDays: number;
  readonly piiRetentionDays: number;
}

/** Every tenant's retention periods. */
export async function listTenantRetention(q: Queryable): Promise<TenantRetention[]> {
  const result = await q.query<{ id: string; retention_days: number; pii_retention_days: number }>(
    'SELECT id, retention_days, pii_retention_days FROM tenants ORDER BY id',
  );
  return result.rows.map((r) => ({ tenantId: r.id, retentionDays: r.retention_days, piiRetentionDays: r.pii_retention_days }));
}

/** Sets a tenant's retention periods (days). */
export async function setTenantRetention(q: Queryable, tenantId: string, retentionDays: number, piiRetentionDays: number): Promise<void> {
  await q.query('UPDATE tenants SET retention_days = $2, pii_retention_days = $3 WHERE id = $1', [
    tenantId,
    retentionDays,
    piiRetentionDays,
  ]);
}

/**
 * Deletes up to `limit` of the tenant's messages created before `cutoff`, oldest first, with their
 * outbox rows (counted apart; the FK would cascade them anyway). Rows locked by a writer are left
 * for the next batch or run.
 */
export async function deleteExpiredMessages(
  q: Queryable,
  tenantId: string,
  cutoff: Date,
  limit: number,
): Promise<{ messages: number; outbox: number }> {
  const result = await q.query<{ messages: number; outbox: number }>(
    `WITH doomed AS (
       SELECT id FROM messages WHERE tenant_id = $1 AND created_at < $2
       ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
     ), gone_outbox AS (
       DELETE FROM outbox WHERE message_id IN (SELECT id FROM doomed) RETURNING 1
     ), gone AS (
       DELETE FROM messages WHERE id IN (SELECT id FROM doomed) RETURNING 1
     )
     SELECT (SELECT count(*) FROM gone)::int AS messages, (SELECT count(*) FROM gone_outbox)::int AS outbox`,
    [tenantId, cutoff, limit],
  );
  return { messages: result.rows[0]?.messages ?? 0, outbox: result.rows[0]?.outbox ?? 0 };
}

/** Clears the sealed original text of up to `limit` of the tenant's messages created before `cutoff`; the redacted text stays. */
export async function clearExpiredPiiOriginals(q: Queryable, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  const result = await q.query(
    `WITH doomed AS (
       SELECT id FROM messages WHERE tenant_id = $1 AND original_sealed IS NOT NULL AND created_at < $2
       ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
     )
     UPDATE messages m SET original_sealed = NULL FROM doomed WHERE m.id = doomed.id`,
    [tenantId, cutoff, limit],
  );
  return result.rowCount ?? 0;
}

/**
 * Deletes up to `limit` of the tenant's finished inbound events (the dedupe rows) received and last
 * touched before `cutoff`. Unfinished events stay: the sweeper still owns them.
 */
export async function deleteExpiredInboundEvents(q: Queryable, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  const result = await q.query(
    `DELETE FROM inbound_events WHERE id IN (
       SELECT id FROM inbound_events
       WHERE tenant_id = $1 AND status IN ('answered', 'ignored', 'failed') AND received_at < $2 AND updated_at < $2
       ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [tenantId, cutoff, limit],
  );
  return result.rowCount ?? 0;
}

/** Deletes up to `limit` WebSocket tickets that expired before `cutoff`. */
export async function deleteExpiredWsTickets(q: Queryable, cutoff: Date, limit: number): Promise<number> {
  const result = await q.query(
    `DELETE FROM ws_tickets WHERE jti IN (
       SELECT jti FROM ws_tickets WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [cutoff, limit],
  );
  return result.rowCount ?? 0;
}

/** Time columns that end a row's life, in the tables pruned only when they exist. */
type ExpiryColumn = 'expires_at' | 'idle_expires_at' | 'absolute_expires_at' | 'revoked_at';

/** Optional tables (added by other migrations) and which of their columns end a row's life. */
const OPTIONAL_TABLES = {
  // A session is dead once either expiry passed or it was revoked (idle <= absolute, but both are checked).
  sessions: ['expires_at', 'idle_expires_at', 'absolute_expires_at', 'revoked_at'],
  // Second-step sign-in tokens: dead once expired (a used one has expired by then too).
  mfa_challenges: ['expires_at'],
} as const satisfies Record<string, readonly ExpiryColumn[]>;

/** A table pruned only when present. */
export type OptionalRetentionTable = keyof typeof OPTIONAL_TABLES;

/**
 * Deletes up to `limit` rows of an optional table whose expiry or revocation lies before `cutoff`;
 * `null` when the table (or every expiry column) does not exist in this database.
 */
export async function deleteExpiredOptionalRows(
  q: Queryable,
  table: OptionalRetentionTable,
  cutoff: Date,
  limit: number,
): Promise<number | null> {
  const present = await q.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 AND column_name = ANY($2::text[])`,
    [table, OPTIONAL_TABLES[table]],
  );
  // Identifiers cannot be parameters: both the table and the columns come from the constants above.
  const columns = OPTIONAL_TABLES[table].filter((c: ExpiryColumn) => present.rows.some((r) => r.column_name === c));
  if (columns.length === 0) return null;
  const condition = columns.map((c) => `${c} < $1`).join(' OR ');
  const result = await q.query(
    `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
       SELECT ctid FROM ${table} WHERE ${condition} LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    [cutoff, limit],
  );
  return result.rowCount ?? 0;
}
