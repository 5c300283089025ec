/** API keys: rows of `api_keys`, always read and changed within one tenant. Never the secret. */
import type { Queryable } from './db.ts';
import type { Role } from '../auth/token-claims.ts';
import type { Permission } from '../auth/rbac.ts';

/** An API key as admins see it (the hash stays in the store). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly publicId: string;
  readonly name: string;
  readonly role: Role;
  readonly scopes: readonly Permission[];
  readonly conversationIds: readonly string[] | null;
  readonly userId: string | null;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly rotatedFrom: string | null;
  readonly replacedBy: string | null;
}

/** A key found for authentication: its hash and whether the user it acts as is disabled. */
export interface ApiKeyForAuth extends ApiKeyRecord {
  readonly secretHash: Buffer;
  /** True when the key acts as a user who is disabled (or gone). */
  readonly userDisabled: boolean;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  public_id: string;
  secret_hash: Buffer;
  name: string;
  role: Role;
  scopes: Permission[];
  conversation_ids: string[] | null;
  user_id: string | null;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  rotated_from: string | null;
  replaced_by: string | null;
}

const COLUMNS = `k.id, k.tenant_id, k.public_id, k.secret_hash, k.name, k.role, k.scopes, k.conversation_ids, k.user_id,
  k.created_by, k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from, k.replaced_by`;

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    publicId: row.public_id,
    name: row.name,
    role: row.role,
    scopes: row.scopes,
    conversationIds: row.conversation_ids,
    userId: row.user_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    rotatedFrom: row.rotated_from,
    replacedBy: row.replaced_by,
  };
}

/** What creating a key needs; the token was hashed by the caller. */
export interface NewApiKey {
  readonly tenantId: string;
  readonly publicId: string;
  readonly secretHash: Buffer;
  readonly name: string;
  readonly role: Role;
  readonly scopes: readonly Permission[];
  readonly conversationIds: readonly string[] | null;
  readonly userId: string | null;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly rotatedFrom: string | null;
}

/** Inserts a key; a public id collision raises a unique violation (the caller retries). */
export async function insertApiKey(q: Queryable, key: NewApiKey): Promise<ApiKeyRecord> {
  const result = await q.query<ApiKeyRow>(
    `INSERT INTO api_keys AS k (tenant_id, public_id, secret_hash, name, role, scopes, conversation_ids, user_id,
                                created_by, created_at, expires_at, rotated_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING ${COLUMNS}`,
    [
      key.tenantId,
      key.publicId,
      key.secretHash,
      key.name,
      key.role,
      key.scopes,
      key.conversationIds,
      key.userId,
      key.createdBy,
      key.createdAt,
      key.expiresAt,
      key.rotatedFrom,
    ],
  );
  const row = result.rows[0];
  if (!row) throw new Error('api key insert returned no row');
  return toRecord(row);
}

/** The key with this public id (any tenant: the token names it), with the acting user's state. */
export async function findApiKeyForAuth(q: Queryable, publicId: string): Promise<ApiKeyForAuth | undefined> {
  const result = await q.query<ApiKeyRow & { user_disabled: boolean }>(
    `SELECT ${COLUMNS},
            (k.user_id IS NOT NULL AND (u.id IS NULL OR u.disabled_at IS NOT NULL OR u.tenant_id <> k.tenant_id)) AS user_disabled
     FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
     WHERE k.public_id = $1`,
    [publicId],
  );
  const row = result.rows[0];
  return row ? { ...toRecord(row), secretHash: row.secret_hash, userDisabled: row.user_disabled } : undefined;
}

/** The tenant and id of the key with this public id, for auditing a leaked token. */
export async function findApiKeyOwner(q: Queryable, publicId: string): Promise<{ id: string; tenantId: string } | undefined> {
  const result = await q.query<{ id: string; tenant_id: string }>('SELECT id, tenant_id FROM api_keys WHERE public_id = $1', [publicId]);
  const row = result.rows[0];
  return row ? { id: row.id, tenantId: row.tenant_id } : undefined;
}

/** One key of a tenant; `forUpdate` locks it for the rest of the transaction. */
export async function getApiKey(q: Queryable, tenantId: string, id: string, forUpdate = false): Promise<ApiKeyRecord | undefined> {
  const result = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys k WHERE k.id = $1 AND k.tenant_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [id, tenantId],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** A position in the newest-first list of a tenant's keys. */
export interface ApiKeyCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** A page of a tenant's keys, newest first; revoked and expired ones only when asked. */
export async function listApiKeys(
  q: Queryable,
  tenantId: string,
  options: { limit: number; after?: ApiKeyCursor; includeInactive: boolean; now: Date },
): Promise<ApiKeyRecord[]> {
  const result = await q.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys k
     WHERE k.tenant_id = $1
       AND ($2::timestamptz IS NULL OR (k.created_at, k.id) < ($2::timestamptz, $3::uuid))
       AND ($4::boolean OR ((k.revoked_at IS NULL OR k.revoked_at > $5) AND (k.expires_at IS NULL OR k.expires_at > $5)))
     ORDER BY k.created_at DESC, k.id DESC
     LIMIT $6`,
    [tenantId, options.after?.createdAt ?? null, options.after?.id ?? null, options.includeInactive, options.now, options.limit],
  );
  return result.rows.map(toRecord);
}

/** Sets when the key stops working (now, or the end of a rotation overlap); never extends it. */
export async function setApiKeyRevokedAt(q: Queryable, tenantId: string, id: string, at: Date): Promise<ApiKeyRecord | undefined> {
  const result = await q.query<ApiKeyRow>(
    `UPDATE api_keys k SET revoked_at = LEAST(COALESCE(k.revoked_at, $3::timestamptz), $3::timestamptz)
     WHERE k.id = $1 AND k.tenant_id = $2
     RETURNING ${COLUMNS}`,
    [id, tenantId, at],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Records the successor of a rotated key. */
export async function setApiKeyReplacedBy(q: Queryable, tenantId: string, id: string, replacedBy: string): Promise<void> {
  await q.query('UPDATE api_keys SET replaced_by = $3 WHERE id = $1 AND tenant_id = $2', [id, tenantId, replacedBy]);
}

/**
 * Records a use at most once per `intervalMs`: returns true only when this call moved
 * `last_used_at` (so the caller audits at most one use per key per interval, across processes).
 */
export async function touchApiKey(q: Queryable, id: string, now: Date, intervalMs: number): Promise<boolean> {
  const result = await q.query(
    `UPDATE api_keys SET last_used_at = $2
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - make_interval(secs => $3::double precision / 1000))`,
    [id, now, intervalMs],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Which of `ids` are conversations of the tenant (for allow-lists). */
export async function existingConversationIds(q: Queryable, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await q.query<{ id: string }>('SELECT id FROM conversations WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, ids]);
  return new Set(result.rows.map((r) => r.id));
}
