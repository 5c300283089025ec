/** The second sign-in step's one-time tokens: a token's jti is recorded when issued and consumed once. */
import type { Queryable } from './db.ts';

/** How the first factor was proved. */
export type PrimaryMethod = 'password' | 'oidc';

/** Records an issued mfa token. */
export async function recordMfaChallenge(q: Queryable, jti: string, userId: string, primaryMethod: PrimaryMethod, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO mfa_challenges (jti, user_id, primary_method, expires_at) VALUES ($1, $2, $3, $4)', [jti, userId, primaryMethod, expiresAt]);
}

/** The challenge's first factor while it is unused and unexpired; undefined otherwise. */
export async function openMfaChallenge(q: Queryable, jti: string, userId: string, now: Date): Promise<PrimaryMethod | undefined> {
  const result = await q.query<{ primary_method: PrimaryMethod }>(
    'SELECT primary_method FROM mfa_challenges WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3',
    [jti, userId, now],
  );
  return result.rows[0]?.primary_method;
}

/** Consumes a challenge; true only the first time, for the right user, before it expires. */
export async function consumeMfaChallenge(q: Queryable, jti: string, userId: string, now: Date): Promise<boolean> {
  const result = await q.query(
    'UPDATE mfa_challenges SET used_at = $3 WHERE jti = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3',
    [jti, userId, now],
  );
  return (result.rowCount ?? 0) === 1;
}
