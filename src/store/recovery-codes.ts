/** Single-use 2FA recovery codes, stored as SHA-256 hashes only. */
import type { Queryable } from './db.ts';

/** Replaces all of a user's recovery codes with new hashes. */
export async function replaceRecoveryCodes(q: Queryable, userId: string, hashes: readonly Buffer[], now: Date): Promise<void> {
  await q.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  await q.query(
    `INSERT INTO recovery_codes (user_id, code_hash, created_at) SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`,
    [userId, hashes, now],
  );
}

/** Uses a code: true only the first time, for the right user. */
export async function useRecoveryCode(q: Queryable, userId: string, hash: Buffer, now: Date): Promise<boolean> {
  const result = await q.query(
    'UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
    [userId, hash, now],
  );
  return (result.rowCount ?? 0) === 1;
}

/** How many unused codes the user has left. */
export async function countUnusedRecoveryCodes(q: Queryable, userId: string): Promise<number> {
  const result = await q.query<{ n: string }>('SELECT count(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return Number(result.rows[0]?.n ?? 0);
}

/** Deletes every recovery code of a user. */
export async function deleteRecoveryCodes(q: Queryable, userId: string): Promise<void> {
  await q.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
}
