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

/** A user as the admin endpoints show it. */
export interface AdminUserRecord extends UserRecord {
  readonly createdAt: Date;
  readonly hasPassword: boolean;
}

function toAdminRecord(row: UserRow & { created_at: Date }): AdminUserRecord {
  return { ...toRecord(row), createdAt: row.created_at, hasPassword: row.password_hash !== null };
}

/** What an admin creates: the password may be absent (agent users sign in with API keys only). */
export interface NewTenantUser extends Omit<NewUser, 'passwordHash'> {
  readonly passwordHash: string | null;
}

/** Inserts a user for the admin API; a duplicate email in the tenant raises a unique violation. */
export async function insertTenantUser(q: Queryable, user: NewTenantUser): Promise<AdminUserRecord> {
  const result = await q.query<UserRow & { created_at: Date }>(
    `INSERT INTO users (tenant_id, email, display_name, role, password_hash)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [user.tenantId, user.email.toLowerCase(), user.displayName, user.role, user.passwordHash],
  );
  const row = result.rows[0];
  if (!row) throw new Error('user insert returned no row');
  return toAdminRecord(row);
}

/** A position in the oldest-first list of a tenant's users. */
export interface UserCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/**
 * A page of the tenant's users, oldest first, optionally of one role and without disabled ones.
 * Ordered by the millisecond (what a cursor can carry through a JS Date), then id.
 */
export async function listTenantUsers(
  q: Queryable,
  tenantId: string,
  options: { limit: number; after?: UserCursor; role?: UserRole; includeDisabled: boolean },
): Promise<AdminUserRecord[]> {
  const result = await q.query<UserRow & { created_at: Date }>(
    `SELECT * FROM users
     WHERE tenant_id = $1
       AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($2::timestamptz, $3::uuid))
       AND ($4::text IS NULL OR role = $4)
       AND ($5::boolean OR disabled_at IS NULL)
     ORDER BY date_trunc('milliseconds', created_at), id
     LIMIT $6`,
    [tenantId, options.after?.createdAt ?? null, options.after?.id ?? null, options.role ?? null, options.includeDisabled, options.limit],
  );
  return result.rows.map(toAdminRecord);
}

/** One user of the tenant (never another tenant's); `forUpdate` locks the row. */
export async function getTenantUser(q: Queryable, tenantId: string, userId: string, forUpdate = false): Promise<AdminUserRecord | undefined> {
  const result = await q.query<UserRow & { created_at: Date }>(
    `SELECT * FROM users WHERE id = $1 AND tenant_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [userId, tenantId],
  );
  const row = result.rows[0];
  return row ? toAdminRecord(row) : undefined;
}

/**
 * Locks the tenant's enabled owners and returns their ids. Callers changing an owner take this
 * lock first (in a transaction) so two concurrent demotions cannot leave the tenant with none.
 */
export async function lockActiveOwners(q: Queryable, tenantId: string): Promise<string[]> {
  const result = await q.query<{ id: string }>(
    `SELECT id FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL ORDER BY id FOR UPDATE`,
    [tenantId],
  );
  return result.rows.map((r) => r.id);
}

/** Sets a user's role and/or disabled state (undefined leaves it); returns the updated user. */
export async function updateTenantUser(
  q: Queryable,
  tenantId: string,
  userId: string,
  change: { role?: UserRole; disabledAt?: Date | null },
): Promise<AdminUserRecord | undefined> {
  const result = await q.query<UserRow & { created_at: Date }>(
    `UPDATE users
     SET role = COALESCE($3, role),
         disabled_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE disabled_at END
     WHERE id = $1 AND tenant_id = $2
     RETURNING *`,
    [userId, tenantId, change.role ?? null, change.disabledAt !== undefined, change.disabledAt ?? null],
  );
  const row = result.rows[0];
  return row ? toAdminRecord(row) : undefined;
}
