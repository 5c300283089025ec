/**
 * One picture of the vault keys: what VAULT_KEYS holds, what `vault_keys` recorded (state, seal
 * counts), and which keys stored values actually name. `keys status` prints it; `doctor --security`
 * judges it.
 */
import type { Queryable } from '../store/db.ts';
import { listVaultKeys, type VaultKeyState } from '../store/vault-keys.ts';
import { countKeyReferences, MALFORMED_KEY_LABEL, type ColumnKeyReferences } from './rotation.ts';
import { SEALED_COLUMNS, type SealedColumn } from './sealed-columns.ts';

/** One key as seen from every side. */
export interface KeyStatus {
  readonly keyId: string;
  /** In the caller's VAULT_KEYS. */
  readonly configured: boolean;
  /** The caller's active (sealing) key. */
  readonly active: boolean;
  /** What `vault_keys` says, if the key was ever seen there. */
  readonly recordedState: VaultKeyState | undefined;
  readonly sealCount: number;
  /** Stored values that name this key. */
  readonly references: number;
}

/** The whole picture. */
export interface KeyRingStatus {
  readonly activeKeyId: string;
  readonly keys: readonly KeyStatus[];
  readonly columns: readonly ColumnKeyReferences[];
  /** Stored values too malformed to name a key. */
  readonly malformed: number;
}

/** Gathers the status for a ring (`keyIds` in VAULT_KEYS order, the first active). */
export async function describeKeyRing(
  q: Queryable,
  ring: { activeKeyId: string; keyIds: readonly string[] },
  columns: readonly SealedColumn[] = SEALED_COLUMNS,
): Promise<KeyRingStatus> {
  const recorded = new Map((await listVaultKeys(q)).map((k) => [k.keyId, k]));
  const references = await countKeyReferences(q, columns);
  const referenced = new Map<string, number>();
  let malformed = 0;
  for (const column of references) {
    for (const [keyId, n] of column.byKey) {
      if (keyId === MALFORMED_KEY_LABEL) malformed += n;
      else referenced.set(keyId, (referenced.get(keyId) ?? 0) + n);
    }
  }
  const ids = [...new Set([...ring.keyIds, ...recorded.keys(), ...referenced.keys()])];
  const keys = ids.map((keyId): KeyStatus => {
    const row = recorded.get(keyId);
    return {
      keyId,
      configured: ring.keyIds.includes(keyId),
      active: keyId === ring.activeKeyId,
      recordedState: row?.state,
      sealCount: row?.sealCount ?? 0,
      references: referenced.get(keyId) ?? 0,
    };
  });
  return { activeKeyId: ring.activeKeyId, keys, columns: references, malformed };
}
