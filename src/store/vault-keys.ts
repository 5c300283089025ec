/** Vault key state: active / decrypt-only / retired, and seals counted per key. Never key material. */
import type { Queryable } from './db.ts';

/** Where a key is in its life. */
export type VaultKeyState = 'active' | 'decrypt_only' | 'retired';

/** One row of `vault_keys`. */
export interface VaultKeyRecord {
  readonly keyId: string;
  readonly state: VaultKeyState;
  readonly sealCount: number;
  readonly firstSeenAt: Date;
  readonly activatedAt: Date | null;
  readonly retiredAt: Date | null;
}

interface VaultKeyRow {
  key_id: string;
  state: VaultKeyState;
  seal_count: string;
  first_seen_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

function toRecord(row: VaultKeyRow): VaultKeyRecord {
  return {
    keyId: row.key_id,
    state: row.state,
    // bigint arrives as a string; counts stay far below 2^53.
    sealCount: Number(row.seal_count),
    firstSeenAt: row.first_seen_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
  };
}

/** Every known key, oldest first. */
export async function listVaultKeys(q: Queryable): Promise<VaultKeyRecord[]> {
  const result = await q.query<VaultKeyRow>('SELECT * FROM vault_keys ORDER BY first_seen_at, key_id');
  return result.rows.map(toRecord);
}

/** Adds seal counts per key (creating unknown keys as decrypt-only rows); returns the new totals. */
export async function addSealCounts(q: Queryable, counts: ReadonlyMap<string, number>, at: Date): Promise<Map<string, number>> {
  const ids = [...counts.keys()];
  if (ids.length === 0) return new Map();
  const result = await q.query<{ key_id: string; seal_count: string }>(
    `INSERT INTO vault_keys (key_id, seal_count, first_seen_at, updated_at)
     SELECT k.id, k.n, $3, $3 FROM unnest($1::text[], $2::bigint[]) AS k(id, n)
     ON CONFLICT (key_id) DO UPDATE SET seal_count = vault_keys.seal_count + EXCLUDED.seal_count, updated_at = $3
     RETURNING key_id, seal_count`,
    [ids, ids.map((id) => counts.get(id) ?? 0), at],
  );
  return new Map(result.rows.map((row) => [row.key_id, Number(row.seal_count)]));
}

/**
 * Records a process's key ring: every key exists as a row, the ring's active key is `active` (the
 * previously active one becomes decrypt-only). Retired rows stay retired; callers decide what that means.
 */
export async function registerKeyRing(q: Queryable, ring: { activeKeyId: string; keyIds: readonly string[] }, at: Date): Promise<VaultKeyRecord[]> {
  await q.query(
    `INSERT INTO vault_keys (key_id, first_seen_at, updated_at)
     SELECT id, $2, $2 FROM unnest($1::text[]) AS id
     ON CONFLICT (key_id) DO NOTHING`,
    [ring.keyIds, at],
  );
  await q.query(
    `UPDATE vault_keys SET state = 'active', activated_at = $2, updated_at = $2
     WHERE key_id = $1 AND state = 'decrypt_only'`,
    [ring.activeKeyId, at],
  );
  await q.query(
    `UPDATE vault_keys SET state = 'decrypt_only', updated_at = $2
     WHERE state = 'active' AND key_id <> $1
       AND EXISTS (SELECT 1 FROM vault_keys a WHERE a.key_id = $1 AND a.state = 'active')`,
    [ring.activeKeyId, at],
  );
  return listVaultKeys(q);
}

/** Marks a key retired. Returns false when it was already retired. */
export async function markVaultKeyRetired(q: Queryable, keyId: string, at: Date): Promise<boolean> {
  const result = await q.query(
    `INSERT INTO vault_keys (key_id, state, first_seen_at, retired_at, updated_at) VALUES ($1, 'retired', $2, $2, $2)
     ON CONFLICT (key_id) DO UPDATE SET state = 'retired', retired_at = $2, updated_at = $2
     WHERE vault_keys.state <> 'retired'`,
    [keyId, at],
  );
  return (result.rowCount ?? 0) > 0;
}
