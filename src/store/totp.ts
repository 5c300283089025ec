/**
 * TOTP enrolments (secret sealed by the vault, last accepted time step, failure window, lockout)
 * and the tenant's two-factor policy (which roles must use it).
 */
import type { Queryable } from './db.ts';
import type { UserRole } from './users.ts';

/** The cell a TOTP secret is sealed for (vault AAD). */
export function totpSecretAad(userId: string): { table: string; column: string; rowId: string } {
  return { table: 'user_totp', column: 'secret_sealed', rowId: userId };
}

/** A user's TOTP row. */
export interface TotpRecord {
  readonly userId: string;
  readonly tenantId: string;
  readonly secretSealed: Buffer;
  readonly createdAt: Date;
  readonly enabledAt: Date | null;
  readonly lastUsedStep: number | null;
  readonly recentFailures: readonly Date[];
  readonly lockedUntil: Date | null;
}

interface TotpRow {
  user_id: string;
  tenant_id: string;
  secret_sealed: Buffer;
  created_at: Date;
  enabled_at: Date | null;
  last_used_step: string | null;
  recent_failures: Date[];
  locked_until: Date | null;
}

function toRecord(row: TotpRow): TotpRecord {
  return {
    userId: row.user_id,
    tenantId: row.tenant_id,
    secretSealed: row.secret_sealed,
    createdAt: row.created_at,
    enabledAt: row.enabled_at,
    // bigint comes back as a string; time steps stay far below 2^53 for millions of years.
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    recentFailures: row.recent_failures,
    lockedUntil: row.locked_until,
  };
}

/** The user's TOTP row, or undefined; `lock` takes a row lock for the rest of the transaction. */
export async function getTotp(q: Queryable, userId: string, lock = false): Promise<TotpRecord | undefined> {
  const result = await q.query<TotpRow>(`SELECT * FROM user_totp WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`, [userId]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/**
 * Starts (or restarts) an enrolment with a new sealed secret. An enabled enrolment is never
 * replaced here: returns false then. Failure and lockout state survive a restart.
 */
export async function upsertPendingTotp(q: Queryable, userId: string, tenantId: string, secretSealed: Buffer, now: Date): Promise<boolean> {
  const result = await q.query(
    `INSERT INTO user_totp (user_id, tenant_id, secret_sealed, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = EXCLUDED.created_at, last_used_step = NULL
     WHERE user_totp.enabled_at IS NULL`,
    [userId, tenantId, secretSealed, now],
  );
  return (result.rowCount ?? 0) === 1;
}

/** Records an accepted code: its time step, a clean failure window, and (on confirmation) enabled. */
export async function recordTotpSuccess(q: Queryable, userId: string, step: number, enableAt?: Date): Promise<void> {
  await q.query(
    `UPDATE user_totp SET last_used_step = $2, recent_failures = '{}', locked_until = NULL,
       enabled_at = COALESCE(enabled_at, $3)
     WHERE user_id = $1`,
    [userId, step, enableAt ?? null],
  );
}

/** Stores the failure window (and a lockout when one started). */
export async function recordTotpFailures(q: Queryable, userId: string, recentFailures: readonly Date[], lockedUntil: Date | null): Promise<void> {
  await q.query('UPDATE user_totp SET recent_failures = $2, locked_until = $3 WHERE user_id = $1', [userId, recentFailures, lockedUntil]);
}

/** Clears a lockout after a successful recovery-code sign-in. */
export async function clearTotpFailures(q: Queryable, userId: string): Promise<void> {
  await q.query(`UPDATE user_totp SET recent_failures = '{}', locked_until = NULL WHERE user_id = $1`, [userId]);
}

/** Removes a user's TOTP enrolment; true when there was one. */
export async function deleteTotp(q: Queryable, userId: string): Promise<boolean> {
  const result = await q.query('DELETE FROM user_totp WHERE user_id = $1', [userId]);
  return (result.rowCount ?? 0) > 0;
}

/** Roles that must use two-factor sign-in in the tenant. */
export async function getRequired2faRoles(q: Queryable, tenantId: string): Promise<UserRole[]> {
  const result = await q.query<{ require_2fa_roles: UserRole[] }>('SELECT require_2fa_roles FROM tenants WHERE id = $1', [tenantId]);
  return result.rows[0]?.require_2fa_roles ?? [];
}

/** Sets the roles that must use two-factor sign-in. */
export async function setRequired2faRoles(q: Queryable, tenantId: string, roles: readonly UserRole[]): Promise<void> {
  await q.query('UPDATE tenants SET require_2fa_roles = $2 WHERE id = $1', [tenantId, [...new Set(roles)].sort()]);
}

/** Users of a role set without confirmed 2FA, e.g. owners without it (for `doctor --security`). */
export async function listUsersWithout2fa(
  q: Queryable,
  roles: readonly UserRole[],
  limit = 100,
): Promise<Array<{ readonly userId: string; readonly tenantId: string; readonly email: string; readonly role: UserRole }>> {
  const result = await q.query<{ id: string; tenant_id: string; email: string; role: UserRole }>(
    `SELECT u.id, u.tenant_id, u.email, u.role FROM users u
     LEFT JOIN user_totp t ON t.user_id = u.id AND t.enabled_at IS NOT NULL
     WHERE u.role = ANY($1::text[]) AND u.disabled_at IS NULL AND t.user_id IS NULL
     ORDER BY u.created_at LIMIT $2`,
    [roles, limit],
  );
  return result.rows.map((r) => ({ userId: r.id, tenantId: r.tenant_id, email: r.email, role: r.role }));
}
