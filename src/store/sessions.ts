/** Sign-in sessions and their refresh tokens (stored as SHA-256 only). Every query is parameterized. */
import type { Queryable } from './db.ts';
import type { UserRecord, UserRole } from './users.ts';

/** How a session's person proved who they are. */
export const AUTH_METHODS = ['password', 'password+totp', 'password+recovery_code', 'oidc', 'oidc+totp', 'oidc+recovery_code'] as const;
/** One of `AUTH_METHODS`. */
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Why a session ended early. */
export const REVOKE_REASONS = ['logout', 'logout_all', 'refresh_reuse', 'admin', 'user_disabled', 'two_factor_reset', 'policy', 'account_deleted'] as const;
/** One of `REVOKE_REASONS`. */
export type RevokeReason = (typeof REVOKE_REASONS)[number];

/** A session row. */
export interface SessionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly familyId: string;
  readonly authMethod: AuthMethod;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedReason: RevokeReason | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  family_id: string;
  auth_method: AuthMethod;
  created_at: Date;
  last_used_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: RevokeReason | null;
  ip: string | null;
  user_agent: string | null;
}

const SESSION_COLUMNS = `s.id, s.tenant_id, s.user_id, s.family_id, s.auth_method, s.created_at, s.last_used_at,
  s.idle_expires_at, s.absolute_expires_at, s.revoked_at, s.revoked_reason, s.ip, s.user_agent`;

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    familyId: row.family_id,
    authMethod: row.auth_method,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

/** A new session. */
export interface NewSession {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly familyId: string;
  readonly authMethod: AuthMethod;
  readonly now: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** Inserts a session. */
export async function insertSession(q: Queryable, s: NewSession): Promise<void> {
  await q.query(
    `INSERT INTO sessions (id, tenant_id, user_id, family_id, auth_method, created_at, last_used_at,
       idle_expires_at, absolute_expires_at, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10)`,
    [s.id, s.tenantId, s.userId, s.familyId, s.authMethod, s.now, s.idleExpiresAt, s.absoluteExpiresAt, s.ip?.slice(0, 100) ?? null, s.userAgent?.slice(0, 500) ?? null],
  );
}

/** Records an issued refresh token (its hash). */
export async function insertRefreshToken(
  q: Queryable,
  t: { hash: Buffer; sessionId: string; familyId: string; generation: number; now: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO refresh_tokens (token_hash, session_id, family_id, generation, created_at) VALUES ($1, $2, $3, $4, $5)`,
    [t.hash, t.sessionId, t.familyId, t.generation, t.now],
  );
}

/** A refresh token row with its session, locked for the rest of the transaction. */
export interface LockedRefreshToken {
  readonly generation: number;
  readonly rotatedAt: Date | null;
  readonly session: SessionRecord;
}

/** Finds a refresh token by hash and locks it (concurrent uses of one token serialize here). */
export async function lockRefreshToken(q: Queryable, hash: Buffer): Promise<LockedRefreshToken | undefined> {
  const result = await q.query<SessionRow & { generation: number; rotated_at: Date | null }>(
    `SELECT r.generation, r.rotated_at, ${SESSION_COLUMNS}
     FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
     WHERE r.token_hash = $1
     FOR UPDATE OF r`,
    [hash],
  );
  const row = result.rows[0];
  return row ? { generation: row.generation, rotatedAt: row.rotated_at, session: toSession(row) } : undefined;
}

/** Marks a refresh token as used; false when it already was (lost a race). */
export async function markRefreshTokenRotated(q: Queryable, hash: Buffer, now: Date): Promise<boolean> {
  const result = await q.query('UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL', [hash, now]);
  return (result.rowCount ?? 0) === 1;
}

/** Records a use of the session: last-used time and the new idle expiry. */
export async function touchSession(q: Queryable, sessionId: string, now: Date, idleExpiresAt: Date): Promise<void> {
  await q.query('UPDATE sessions SET last_used_at = $2, idle_expires_at = $3 WHERE id = $1', [sessionId, now, idleExpiresAt]);
}

/** A revoked session: what a caller needs to tell its sockets. */
export interface RevokedSession {
  readonly id: string;
  readonly userId: string;
  readonly tenantId: string;
}

async function revokeWhere(q: Queryable, where: string, params: unknown[], reason: RevokeReason, now: Date): Promise<RevokedSession[]> {
  const result = await q.query<{ id: string; user_id: string; tenant_id: string }>(
    `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
     WHERE revoked_at IS NULL AND ${where}
     RETURNING id, user_id, tenant_id`,
    [now, reason, ...params],
  );
  return result.rows.map((r) => ({ id: r.id, userId: r.user_id, tenantId: r.tenant_id }));
}

/** Revokes one session (no-op when already revoked). */
export function revokeSessionRow(q: Queryable, sessionId: string, reason: RevokeReason, now: Date): Promise<RevokedSession[]> {
  return revokeWhere(q, 'id = $3', [sessionId], reason, now);
}

/** Revokes every live session of a family. */
export function revokeFamilyRows(q: Queryable, familyId: string, reason: RevokeReason, now: Date): Promise<RevokedSession[]> {
  return revokeWhere(q, 'family_id = $3', [familyId], reason, now);
}

/** Revokes every live session of a user. */
export function revokeUserRows(q: Queryable, userId: string, reason: RevokeReason, now: Date): Promise<RevokedSession[]> {
  return revokeWhere(q, 'user_id = $3', [userId], reason, now);
}

/** A session and its user, as the per-request check needs them. */
export interface SessionWithUser {
  readonly session: SessionRecord;
  readonly user: UserRecord;
}

/**
 * The hot path: one round trip, two primary-key lookups (session, then its user). Runs on every
 * authenticated request and every socket admission.
 */
export async function getSessionWithUser(q: Queryable, sessionId: string): Promise<SessionWithUser | undefined> {
  const result = await q.query<SessionRow & { u_email: string; u_display_name: string; u_role: UserRole; u_disabled_at: Date | null }>(
    `SELECT ${SESSION_COLUMNS}, u.email AS u_email, u.display_name AS u_display_name, u.role AS u_role, u.disabled_at AS u_disabled_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1`,
    [sessionId],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    session: toSession(row),
    user: {
      id: row.user_id,
      tenantId: row.tenant_id,
      email: row.u_email,
      displayName: row.u_display_name,
      role: row.u_role,
      disabled: row.u_disabled_at !== null,
    },
  };
}

/** One session by id. */
export async function getSession(q: Queryable, sessionId: string): Promise<SessionRecord | undefined> {
  const result = await q.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1`, [sessionId]);
  const row = result.rows[0];
  return row ? toSession(row) : undefined;
}

/** A user's live sessions (not revoked, not expired at `now`), newest first. */
export async function listLiveUserSessions(q: Queryable, userId: string, now: Date, limit = 100): Promise<SessionRecord[]> {
  const result = await q.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s
     WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2
     ORDER BY s.created_at DESC LIMIT $3`,
    [userId, now, limit],
  );
  return result.rows.map(toSession);
}

/** A tenant's live sessions with who they belong to, newest first; optionally one user's. */
export async function listLiveTenantSessions(
  q: Queryable,
  tenantId: string,
  now: Date,
  options: { userId?: string; limit: number },
): Promise<Array<SessionRecord & { readonly email: string; readonly role: UserRole }>> {
  const result = await q.query<SessionRow & { email: string; role: UserRole }>(
    `SELECT ${SESSION_COLUMNS}, u.email, u.role FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.tenant_id = $1 AND ($2::uuid IS NULL OR s.user_id = $2)
       AND s.revoked_at IS NULL AND s.idle_expires_at > $3 AND s.absolute_expires_at > $3
     ORDER BY s.created_at DESC LIMIT $4`,
    [tenantId, options.userId ?? null, now, options.limit],
  );
  return result.rows.map((row) => ({ ...toSession(row), email: row.email, role: row.role }));
}
