/**
 * Parses the vault key specification `id1:base64key,id2:base64key`. The first key is the active
 * one (new seals use it); the others stay decrypt-only until no row references them.
 */
import { SwitchboardError } from '../core/errors.ts';

/** Key ids are short and id-shaped, so they are safe in sealed headers, logs and errors. */
export const VAULT_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** AES-256 needs exactly 32 bytes of key. */
export const VAULT_KEY_BYTES = 32;

/** A parsed key ring: every key by id, and which one seals. */
export interface VaultKeyRing {
  /** A Map rather than an object so ids like `__proto__` cannot touch prototypes. */
  readonly keys: ReadonlyMap<string, Uint8Array>;
  readonly activeKeyId: string;
}

// Standard or URL-safe alphabet, optional padding; Buffer.from(…, 'base64') alone silently skips junk.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function invalid(message: string, context: Record<string, string | number>): SwitchboardError {
  // The message names positions and ids only: a key spec is a secret and must never be echoed.
  return new SwitchboardError('config_invalid', `VAULT_KEYS: ${message}`, {
    context,
    issues: [{ path: 'VAULT_KEYS', message }],
  });
}

/** Parses `id:base64key[,id:base64key…]`; throws `config_invalid` naming the bad entry by position and id. */
export function parseVaultKeys(spec: string): VaultKeyRing {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw invalid('is empty; expected "id:base64key[,id:base64key…]"', {});
  }
  const keys = new Map<string, Uint8Array>();
  let activeKeyId: string | undefined;
  const entries = spec.split(',');
  for (const [index, rawEntry] of entries.entries()) {
    const position = index + 1;
    const entry = rawEntry.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) throw invalid(`entry ${position} has no "id:" prefix`, { position });
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!VAULT_KEY_ID_PATTERN.test(id)) {
      throw invalid(`entry ${position} has an invalid key id (expected 1-32 of A-Z a-z 0-9 _ -)`, { position });
    }
    if (keys.has(id)) throw invalid(`key id "${id}" appears more than once`, { position, keyId: id });
    if (!BASE64.test(encoded)) throw invalid(`key "${id}" is not base64`, { position, keyId: id });
    const key = Buffer.from(encoded.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    if (key.length !== VAULT_KEY_BYTES) {
      throw invalid(`key "${id}" must decode to ${VAULT_KEY_BYTES} bytes, got ${key.length}`, {
        position,
        keyId: id,
        bytes: key.length,
      });
    }
    // An all-zero key is the classic placeholder left in an example file.
    if (key.every((byte) => byte === 0)) throw invalid(`key "${id}" is all zeros`, { position, keyId: id });
    keys.set(id, key);
    activeKeyId ??= id;
  }
  if (activeKeyId === undefined) throw invalid('has no keys', {});
  return { keys, activeKeyId };
}
