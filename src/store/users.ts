/** Users: accounts that sign in to the web chat and the API. */
import type { Queryable } from './db.ts';

import type { Role } from '../auth/token-claims.ts';

/** A role a user can hold in a tenant (the same roles access tokens carry). */
export type UserRole = Role;

/** A user as the rest of the code sees it (no password hash). */
export interface UserRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly disabled: boolean;
}

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: UserRole;
  disabled_at: Date | null;
  password_hash: string | null;
}

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    disabled: row.disabled_at !== null,
  };
}

/** What creating a user needs; the password is already hashed. */
export interface NewUser {
  readonly tenantId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: UserRole;
  readonly passwordHash: string;
}

/** Inserts a user; a duplicate email in the tenant raises a unique violation. */
export async function insertUser(q: Queryable, user: NewUser): Promise<UserRecord> {
  const result = await q.query<UserRow>(
    `INSERT INTO users (tenant_id, email, display_name, role, password_hash)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [user.tenantId, user.email.toLowerCase(), user.displayName, user.role, user.passwordHash],
  );
  const row = result.rows[0];
  if (!row) throw new Error('user insert returned no row');
  return toRecord(row);
}

/** Users with this email, in any tenant, with their password hashes (for sign-in only). */
export async function findUsersForLogin(
  q: Queryable,
  email: string,
  tenantSlug?: string,
): Promise<Array<UserRecord & { readonly passwordHash: string | null }>> {
  const result = await q.query<UserRow>(
    `SELECT u.* FROM users u JOIN tenants t ON t.id = u.tenant_id
     WHERE u.email = $1 AND ($2::text IS NULL OR t.slug = $2)
     ORDER BY u.created_at LIMIT 10`,
    [email.toLowerCase(), tenantSlug ?? null],
  );
  return result.rows.map((row) => ({ ...toRecord(row), passwordHash: row.password_hash }));
}

/** One user by id, or undefined. */
export async function getUser(q: Queryable, userId: string): Promise<UserRecord | undefined> {
  const result = await q.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** How many users exist (all tenants). */
export async function countUsers(q: Queryable): Promise<number> {
  const result = await q.query<{ n: string }>('SELECT count(*) AS n FROM users');
  return Number(result.rows[0]?.n ?? 0);
}
