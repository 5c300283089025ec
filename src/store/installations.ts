/** Platform installations and their sealed credentials. */
import type { Queryable } from './db.ts';
import type { Platform } from '../core/envelope.ts';

/** An installation row (credentials still sealed). */
export interface InstallationRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly platform: Platform;
  readonly externalId: string;
  readonly name: string;
  readonly botUserId: string | null;
  readonly credentialsSealed: Buffer | null;
  readonly status: 'active' | 'revoked';
}

interface InstallationRow {
  id: string;
  tenant_id: string;
  platform: Platform;
  external_id: string;
  name: string;
  bot_user_id: string | null;
  credentials_sealed: Buffer | null;
  status: 'active' | 'revoked';
}

function toRecord(row: InstallationRow): InstallationRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    platform: row.platform,
    externalId: row.external_id,
    name: row.name,
    botUserId: row.bot_user_id,
    credentialsSealed: row.credentials_sealed,
    status: row.status,
  };
}

/** The AAD that binds an installation's sealed credentials to its row. */
export function credentialsAad(installationId: string): { table: string; column: string; rowId: string } {
  return { table: 'installations', column: 'credentials_sealed', rowId: installationId };
}

/**
 * Creates or re-activates the installation `(platform, externalId)`. `seal` receives the row id
 * (chosen here, or the existing one) so the credentials can be bound to it.
 */
export async function upsertInstallation(
  q: Queryable,
  input: {
    id: string;
    tenantId: string;
    platform: Platform;
    externalId: string;
    name: string;
    botUserId?: string;
    seal: (installationId: string) => Buffer | null;
  },
): Promise<InstallationRecord> {
  const existing = await findInstallation(q, input.platform, input.externalId);
  const id = existing?.id ?? input.id;
  const sealed = input.seal(id);
  const result = await q.query<InstallationRow>(
    `INSERT INTO installations (id, tenant_id, platform, external_id, name, bot_user_id, credentials_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (platform, external_id) DO UPDATE SET
       name = EXCLUDED.name, bot_user_id = EXCLUDED.bot_user_id, credentials_sealed = EXCLUDED.credentials_sealed,
       status = 'active', updated_at = now()
     WHERE installations.tenant_id = EXCLUDED.tenant_id
     RETURNING *`,
    [id, input.tenantId, input.platform, input.externalId, input.name, input.botUserId ?? null, sealed],
  );
  const row = result.rows[0];
  // No row: the install belongs to another tenant; never move it silently.
  if (!row) throw new Error('installation belongs to another tenant');
  return toRecord(row);
}

/** The installation `(platform, externalId)`, active or not. */
export async function findInstallation(q: Queryable, platform: Platform, externalId: string): Promise<InstallationRecord | undefined> {
  const result = await q.query<InstallationRow>('SELECT * FROM installations WHERE platform = $1 AND external_id = $2', [
    platform,
    externalId,
  ]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Marks an installation revoked and drops its credentials (uninstall, tokens revoked). */
export async function revokeInstallation(q: Queryable, platform: Platform, externalId: string): Promise<boolean> {
  const result = await q.query(
    `UPDATE installations SET status = 'revoked', credentials_sealed = NULL, updated_at = now()
     WHERE platform = $1 AND external_id = $2 AND status = 'active'`,
    [platform, externalId],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Replaces an installation's sealed credentials (token refresh). */
export async function updateInstallationCredentials(q: Queryable, id: string, sealed: Buffer): Promise<void> {
  await q.query('UPDATE installations SET credentials_sealed = $2, updated_at = now() WHERE id = $1', [id, sealed]);
}

/** The tenant user linked to a platform identity, if any. */
export async function findLinkedUser(
  q: Queryable,
  platform: Platform,
  installationId: string,
  platformUserId: string,
): Promise<string | undefined> {
  const result = await q.query<{ user_id: string }>(
    'SELECT user_id FROM platform_identities WHERE platform = $1 AND installation_id = $2 AND platform_user_id = $3',
    [platform, installationId, platformUserId],
  );
  return result.rows[0]?.user_id;
}

/** Links a platform identity to a tenant user. */
export async function linkPlatformIdentity(
  q: Queryable,
  input: { platform: Platform; installationId: string; platformUserId: string; userId: string },
): Promise<void> {
  await q.query(
    `INSERT INTO platform_identities (platform, installation_id, platform_user_id, user_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (platform, installation_id, platform_user_id) DO UPDATE SET user_id = EXCLUDED.user_id, linked_at = now()`,
    [input.platform, input.installationId, input.platformUserId, input.userId],
  );
}

/** A platform identity link as admins see it. */
export interface PlatformIdentityRecord {
  readonly platform: Platform;
  readonly installationId: string;
  readonly platformUserId: string;
  readonly userId: string;
  readonly linkedAt: Date;
}

/** The tenant's links, newest first (tenant-scoped through the linked user). */
export async function listPlatformIdentities(q: Queryable, tenantId: string, limit: number): Promise<PlatformIdentityRecord[]> {
  const result = await q.query<{ platform: Platform; installation_id: string; platform_user_id: string; user_id: string; linked_at: Date }>(
    `SELECT p.* FROM platform_identities p JOIN users u ON u.id = p.user_id
     WHERE u.tenant_id = $1 ORDER BY p.linked_at DESC LIMIT $2`,
    [tenantId, limit],
  );
  return result.rows.map((r) => ({
    platform: r.platform,
    installationId: r.installation_id,
    platformUserId: r.platform_user_id,
    userId: r.user_id,
    linkedAt: r.linked_at,
  }));
}

/** Removes a link if it points at a user of the tenant; true when one was removed. */
export async function unlinkPlatformIdentity(
  q: Queryable,
  tenantId: string,
  key: { platform: Platform; installationId: string; platformUserId: string },
): Promise<boolean> {
  const result = await q.query(
    `DELETE FROM platform_identities p USING users u
     WHERE u.id = p.user_id AND u.tenant_id = $1 AND p.platform = $2 AND p.installation_id = $3 AND p.platform_user_id = $4`,
    [tenantId, key.platform, key.installationId, key.platformUserId],
  );
  return (result.rowCount ?? 0) > 0;
}
