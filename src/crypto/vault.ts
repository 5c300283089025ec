/**
 * AES-256-GCM vault for secrets at rest (OAuth tokens, TOTP seeds, signing keys).
 *
 * Sealed format, one self-describing Buffer:
 *   [1 version = 0x01][1 key-id length n][n key id, ASCII][12 IV][16 tag][ciphertext…]
 *
 * The associated data binds a ciphertext to the exact cell it belongs to (table, column, row id)
 * and to its key id, so a ciphertext copied into another row or column fails authentication.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SwitchboardError } from '../core/errors.ts';
import { VAULT_KEY_BYTES, VAULT_KEY_ID_PATTERN, type VaultKeyRing } from './key-ring.ts';

export { parseVaultKeys, type VaultKeyRing } from './key-ring.ts';

/** Where a sealed value lives; authenticated (not encrypted) alongside it. */
export interface VaultAad {
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
}

/** Seals and opens secrets with the key ring it was built from. */
export interface Vault {
  /** Encrypts with the active key and a fresh random IV. */
  seal(plaintext: string | Uint8Array, aad: VaultAad): Buffer;
  /** Decrypts with the key named in the sealed value; throws `vault_decrypt_failed`. */
  open(sealed: Uint8Array, aad: VaultAad): Buffer;
  /** `open` for values sealed from strings; rejects bytes that are not valid UTF-8. */
  openText(sealed: Uint8Array, aad: VaultAad): string;
  /** The key id a sealed value names, so callers can re-seal values not under the active key. */
  keyIdOf(sealed: Uint8Array): string;
  /** The id of the key new seals use. */
  readonly activeKeyId: string;
}

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD_FIELD_MAX_CHARS = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type FailReason = 'bad_format' | 'unsupported_version' | 'unknown_key' | 'auth_failed' | 'not_text';

function decryptFailed(reason: FailReason, aad: VaultAad | undefined, keyId?: string, cause?: unknown): SwitchboardError {
  // Context carries ids only: never plaintext, ciphertext or key bytes.
  const context: Record<string, string> = { reason };
  if (keyId !== undefined) context['keyId'] = keyId;
  if (aad !== undefined) {
    context['table'] = aad.table;
    context['column'] = aad.column;
    context['rowId'] = aad.rowId;
  }
  return new SwitchboardError('vault_decrypt_failed', 'Could not decrypt a stored secret', { context }, { cause });
}

/** Checks an AAD field; a lone surrogate would encode to U+FFFD and could make two ids collide. */
function aadField(name: keyof VaultAad, value: unknown): Buffer {
  if (typeof value !== 'string' || value.length === 0 || value.length > AAD_FIELD_MAX_CHARS) {
    throw new SwitchboardError('internal', `Vault AAD field "${name}" must be a non-empty string of at most ${AAD_FIELD_MAX_CHARS} characters`);
  }
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.toString('utf8') !== value) {
    throw new SwitchboardError('internal', `Vault AAD field "${name}" is not well-formed Unicode`);
  }
  return bytes;
}

/** Length-prefixed encoding (u32 BE length + bytes per field), so `a|b`+`c` never equals `a`+`b|c`. */
function encodeAad(version: number, aad: VaultAad, keyId: string): Buffer {
  const fields = [
    aadField('table', aad.table),
    aadField('column', aad.column),
    aadField('rowId', aad.rowId),
    Buffer.from(keyId, 'ascii'),
  ];
  const parts: Buffer[] = [Buffer.from([version])];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.length);
    parts.push(length, field);
  }
  return Buffer.concat(parts);
}

interface ParsedSealed {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

function parseSealed(sealed: Uint8Array, aad: VaultAad | undefined): ParsedSealed {
  if (!(sealed instanceof Uint8Array)) throw decryptFailed('bad_format', aad);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (buf.length < 2) throw decryptFailed('bad_format', aad);
  if (buf[0] !== VERSION) throw decryptFailed('unsupported_version', aad);
  const idLength = buf[1] ?? 0;
  const headerEnd = 2 + idLength;
  if (idLength === 0 || buf.length < headerEnd + IV_BYTES + TAG_BYTES) throw decryptFailed('bad_format', aad);
  const keyId = buf.toString('latin1', 2, headerEnd);
  // Only an id-shaped key id may reach error context or a key lookup.
  if (!VAULT_KEY_ID_PATTERN.test(keyId)) throw decryptFailed('bad_format', aad);
  const iv = buf.subarray(headerEnd, headerEnd + IV_BYTES);
  const tag = buf.subarray(headerEnd + IV_BYTES, headerEnd + IV_BYTES + TAG_BYTES);
  const ciphertext = buf.subarray(headerEnd + IV_BYTES + TAG_BYTES);
  return { keyId, iv, tag, ciphertext };
}

/** Builds a vault over a key ring (see `parseVaultKeys`); throws `config_invalid` on a bad ring. */
export function createVault(ring: VaultKeyRing): Vault {
  const keys = new Map<string, KeyObject>();
  for (const [id, raw] of ring.keys) {
    if (!VAULT_KEY_ID_PATTERN.test(id)) {
      throw new SwitchboardError('config_invalid', 'Vault key id is invalid', { context: { position: keys.size + 1 } });
    }
    if (raw.length !== VAULT_KEY_BYTES) {
      throw new SwitchboardError('config_invalid', `Vault key "${id}" must be ${VAULT_KEY_BYTES} bytes`, { context: { keyId: id } });
    }
    // A KeyObject copies the bytes, so later changes to the caller's buffer cannot alter the ring.
    keys.set(id, createSecretKey(Buffer.from(raw)));
  }
  const activeKeyId = ring.activeKeyId;
  const activeKey = keys.get(activeKeyId);
  if (activeKey === undefined) {
    throw new SwitchboardError('config_invalid', 'Vault active key id is not in the key ring', {
      context: { keyId: VAULT_KEY_ID_PATTERN.test(activeKeyId) ? activeKeyId : '(invalid)' },
    });
  }
  // Re-bound after the check: hoisted function declarations below do not see the narrowing.
  const sealKey: KeyObject = activeKey;
  const activeKeyIdBytes = Buffer.from(activeKeyId, 'ascii');

  function seal(plaintext: string | Uint8Array, aad: VaultAad): Buffer {
    const input = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    if (!(input instanceof Uint8Array)) throw new SwitchboardError('internal', 'Vault seal expects a string or bytes');
    const additional = encodeAad(VERSION, aad, activeKeyId);
    // A fresh random 96-bit IV per seal; NIST caps random-IV use at 2^32 seals per key.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', sealKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additional);
    const ciphertext = Buffer.concat([cipher.update(input), cipher.final()]);
    const tag = cipher.getAuthTag();
    // Our own UTF-8 copy of a string plaintext is wiped; caller-owned bytes are theirs to manage.
    if (typeof plaintext === 'string') input.fill(0);
    return Buffer.concat([Buffer.from([VERSION, activeKeyIdBytes.length]), activeKeyIdBytes, iv, tag, ciphertext]);
  }

  function open(sealed: Uint8Array, aad: VaultAad): Buffer {
    const parsed = parseSealed(sealed, aad);
    const key = keys.get(parsed.keyId);
    if (key === undefined) throw decryptFailed('unknown_key', aad, parsed.keyId);
    // Belt and braces: the format slices 16 bytes, but a short tag must never reach setAuthTag.
    if (parsed.tag.length !== TAG_BYTES || parsed.iv.length !== IV_BYTES) throw decryptFailed('bad_format', aad, parsed.keyId);
    const additional = encodeAad(VERSION, aad, parsed.keyId);
    try {
      // authTagLength pins the tag size: without it Node accepts truncated (e.g. 4-byte) tags.
      const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additional);
      decipher.setAuthTag(parsed.tag);
      return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
    } catch (cause) {
      throw decryptFailed('auth_failed', aad, parsed.keyId, cause);
    }
  }

  function openText(sealed: Uint8Array, aad: VaultAad): string {
    const bytes = open(sealed, aad);
    try {
      return utf8.decode(bytes);
    } catch {
      throw decryptFailed('not_text', aad, keyIdOf(sealed));
    } finally {
      bytes.fill(0);
    }
  }

  function keyIdOf(sealed: Uint8Array): string {
    return parseSealed(sealed, undefined).keyId;
  }

  return Object.freeze({ seal, open, openText, keyIdOf, activeKeyId });
}
