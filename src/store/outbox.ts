/**
 * The outbox: a reply's intent to be sent, written in the same transaction as the reply.
 * States: pending → sending → sent | failed (retrying) | dead (gave up).
 */
import type { Queryable } from './db.ts';
import type { Platform } from '../core/envelope.ts';

/** Where an outbox row is in its life. */
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead';

/** An outbox row. */
export interface OutboxRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly conversationId: string;
  readonly platform: Platform;
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** How many parts of a split reply were already delivered. */
  readonly partsSent: number;
  /** The pacing slot already booked for the next part, if any. */
  readonly nextSlotAt: Date | null;
}

interface OutboxRow {
  id: string;
  tenant_id: string;
  message_id: string;
  conversation_id: string;
  platform: Platform;
  status: OutboxStatus;
  attempts: number;
  parts_sent: number;
  next_slot_at: Date | null;
}

function toRecord(row: OutboxRow): OutboxRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    messageId: row.message_id,
    conversationId: row.conversation_id,
    platform: row.platform,
    status: row.status,
    attempts: row.attempts,
    partsSent: row.parts_sent,
    nextSlotAt: row.next_slot_at,
  };
}

/** Writes a pending outbox row for a reply. */
export async function insertOutbox(
  q: Queryable,
  input: { id: string; tenantId: string; messageId: string; conversationId: string; platform: Platform },
): Promise<void> {
  await q.query(
    `INSERT INTO outbox (id, tenant_id, message_id, conversation_id, platform) VALUES ($1, $2, $3, $4, $5)`,
    [input.id, input.tenantId, input.messageId, input.conversationId, input.platform],
  );
}

/**
 * Claims a row for sending: pending or failed rows, or a `sending` row whose sender vanished
 * (older than the lease). Returns undefined when the row is sent, dead, or being sent elsewhere.
 */
export async function claimOutbox(q: Queryable, id: string, leaseMs: number): Promise<OutboxRecord | undefined> {
  const result = await q.query<OutboxRow>(
    `UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = now()
     WHERE id = $1 AND (status IN ('pending', 'failed')
       OR (status = 'sending' AND updated_at < now() - make_interval(secs => $2::double precision / 1000)))
     RETURNING *`,
    [id, leaseMs],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Records a successful send. */
export async function markOutboxSent(q: Queryable, id: string, platformMessageId: string | undefined): Promise<void> {
  await q.query(
    `UPDATE outbox SET status = 'sent', platform_message_id = $2, sent_at = now(), updated_at = now(), last_error_code = NULL
     WHERE id = $1`,
    [id, platformMessageId ?? null],
  );
}

/** Records one delivered part and clears the booked slot. */
export async function markOutboxPartSent(q: Queryable, id: string, partsSent: number): Promise<void> {
  await q.query('UPDATE outbox SET parts_sent = $2, next_slot_at = NULL, updated_at = now() WHERE id = $1', [id, partsSent]);
}

/** Releases a claimed row to wait for its booked pacing slot (it goes back to pending). */
export async function deferOutbox(q: Queryable, id: string, slotAt: Date): Promise<void> {
  await q.query(`UPDATE outbox SET status = 'pending', next_slot_at = $2, updated_at = now() WHERE id = $1`, [id, slotAt]);
}

/** Records a failed attempt: `failed` will be retried, `dead` will not. */
export async function markOutboxFailed(q: Queryable, id: string, status: 'failed' | 'dead', errorCode: string): Promise<void> {
  // A failed attempt gives up its pacing slot: the retry books a fresh one.
  await q.query('UPDATE outbox SET status = $2, last_error_code = $3, next_slot_at = NULL, updated_at = now() WHERE id = $1', [
    id,
    status,
    errorCode,
  ]);
}

/** Unsent rows untouched for longer than `staleAfterMs` (and `sending` rows past the lease). */
export async function listStaleOutbox(
  q: Queryable,
  staleAfterMs: number,
  leaseMs: number,
  limit: number,
): Promise<Array<{ id: string; platform: Platform }>> {
  const result = await q.query<{ id: string; platform: Platform }>(
    `SELECT id, platform FROM outbox
     WHERE (status IN ('pending', 'failed') AND updated_at < now() - make_interval(secs => $1::double precision / 1000))
        OR (status = 'sending' AND updated_at < now() - make_interval(secs => $2::double precision / 1000))
     ORDER BY updated_at LIMIT $3`,
    [staleAfterMs, leaseMs, limit],
  );
  return result.rows;
}

/** Marks outbox rows as just looked at by the sweeper. */
export async function touchOutbox(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE outbox SET updated_at = now() WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'failed')`,
    [ids],
  );
}
