/** One-time WebSocket tickets: a ticket's jti is recorded when issued and consumed exactly once. */
import type { Queryable } from './db.ts';

/** Records an issued ticket. */
export async function recordWsTicket(q: Queryable, jti: string, userId: string, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO ws_tickets (jti, user_id, expires_at) VALUES ($1, $2, $3)', [jti, userId, expiresAt]);
}

/** Consumes a ticket; true only the first time, for the right user, before it expires. */
export async function consumeWsTicket(q: Queryable, jti: string, userId: string, now: Date): Promise<boolean> {
  const result = await q.query(
    `UPDATE ws_tickets SET used_at = $3 WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3`,
    [jti, userId, now],
  );
  return (result.rowCount ?? 0) === 1;
}
