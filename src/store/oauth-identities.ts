/**
 * Provider accounts (Google, GitHub) linked to users, and each tenant's auto-provisioning policy.
 * A link is found by (provider, subject), never by email. Every query is parameterized.
 */
import type { Queryable } from './db.ts';
import type { UserRecord, UserRole } from './users.ts';

/** A provider account as stored. */
export interface OAuthIdentityRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly provider: string;
  readonly subject: string;
  readonly email: string;
  readonly createdAt: Date;
  readonly lastLoginAt: Date;
}

interface IdentityRow {
  id: string;
  tenant_id: string;
  user_id: string;
  provider: string;
  subject: string;
  email: string;
  created_at: Date;
  last_login_at: Date;
}

function toIdentity(row: IdentityRow): OAuthIdentityRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    provider: row.provider,
    subject: row.subject,
    email: row.email,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

/** A linked identity with the user it signs in. */
export interface LinkedUser {
  readonly identity: OAuthIdentityRecord;
  readonly user: UserRecord;
}

/** The users a provider account is linked to (one per tenant at most), optionally in one tenant. */
export async function findLinkedUsers(q: Queryable, provider: string, subject: string, tenantSlug: string | null): Promise<LinkedUser[]> {
  const result = await q.query<
    IdentityRow & { u_email: string; u_display_name: string; u_role: UserRole; u_disabled_at: Date | null }
  >(
    `SELECT i.*, u.email AS u_email, u.display_name AS u_display_name, u.role AS u_role, u.disabled_at AS u_disabled_at
     FROM oauth_identities i
     JOIN users u ON u.id = i.user_id
     JOIN tenants t ON t.id = i.tenant_id
     WHERE i.provider = $1 AND i.subject = $2 AND ($3::text IS NULL OR t.slug = $3)
     ORDER BY i.created_at LIMIT 10`,
    [provider, subject, tenantSlug],
  );
  return result.rows.map((row) => ({
    identity: toIdentity(row),
    user: {
      id: row.user_id,
      tenantId: row.tenant_id,
      email: row.u_email,
      displayName: row.u_display_name,
      role: row.u_role,
      disabled: row.u_disabled_at !== null,
    },
  }));
}

/** The user's link for a provider, if any. */
export async function findIdentityOfUser(q: Queryable, userId: string, provider: string): Promise<OAuthIdentityRecord | undefined> {
  const result = await q.query<IdentityRow>('SELECT * FROM oauth_identities WHERE user_id = $1 AND provider = $2', [userId, provider]);
  const row = result.rows[0];
  return row ? toIdentity(row) : undefined;
}

/** A new link. */
export interface NewOAuthIdentity {
  readonly tenantId: string;
  readonly userId: string;
  readonly provider: string;
  readonly subject: string;
  readonly email: string;
  readonly now: Date;
}

/** Links a provider account; a duplicate (same account in the tenant, or the user's second account at the provider) raises a unique violation. */
export async function insertIdentity(q: Queryable, identity: NewOAuthIdentity): Promise<OAuthIdentityRecord> {
  const result = await q.query<IdentityRow>(
    `INSERT INTO oauth_identities (tenant_id, user_id, provider, subject, email, created_at, last_login_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *`,
    [identity.tenantId, identity.userId, identity.provider, identity.subject, identity.email.toLowerCase(), identity.now],
  );
  const row = result.rows[0];
  if (!row) throw new Error('identity insert returned no row');
  return toIdentity(row);
}

/** Records a sign-in through a link. */
export async function touchIdentity(q: Queryable, identityId: string, now: Date): Promise<void> {
  await q.query('UPDATE oauth_identities SET last_login_at = $2 WHERE id = $1', [identityId, now]);
}

/** A user's links, oldest first. */
export async function listUserIdentities(q: Queryable, userId: string): Promise<OAuthIdentityRecord[]> {
  const result = await q.query<IdentityRow>('SELECT * FROM oauth_identities WHERE user_id = $1 ORDER BY created_at', [userId]);
  return result.rows.map(toIdentity);
}

/** The email domains whose verified addresses may create an account in the tenant. */
export async function getAutoProvisionDomains(q: Queryable, tenantId: string): Promise<string[]> {
  const result = await q.query<{ domains: string[] }>('SELECT oidc_auto_provision_domains AS domains FROM tenants WHERE id = $1', [tenantId]);
  return result.rows[0]?.domains ?? [];
}

/** Replaces the tenant's auto-provisioning domains (already normalized by the caller). */
export async function setAutoProvisionDomains(q: Queryable, tenantId: string, domains: readonly string[]): Promise<void> {
  await q.query('UPDATE tenants SET oidc_auto_provision_domains = $2 WHERE id = $1', [tenantId, domains]);
}

/** Tenants that auto-provision this email domain, optionally only the one named. */
export async function findProvisioningTenants(q: Queryable, domain: string, tenantSlug: string | null): Promise<Array<{ readonly id: string; readonly slug: string }>> {
  const result = await q.query<{ id: string; slug: string }>(
    `SELECT id, slug FROM tenants
     WHERE $1 = ANY (oidc_auto_provision_domains) AND ($2::text IS NULL OR slug = $2)
     ORDER BY created_at LIMIT 10`,
    [domain, tenantSlug],
  );
  return result.rows;
}
