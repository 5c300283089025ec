import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSwitchboardError, type SwitchboardError } from '../../src/core/errors.ts';
import { createVault, parseVaultKeys, type Vault, type VaultAad } from '../../src/crypto/vault.ts';
import { countSeals } from '../../src/crypto/key-usage.ts';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const aad: VaultAad = { table: 'oauth_tokens', column: 'access_token', rowId: '3f1c9a52-4b7e-4d1a-9c3e-2a6f8b0d5e71' };
const SECRET = 'ya29.a0-very-secret-token';

function vaultOf(spec: string): Vault {
  return createVault(parseVaultKeys(spec));
}

function catchError(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (error) {
    if (isSwitchboardError(error)) return error;
    throw error;
  }
  throw new Error('expected a SwitchboardError, nothing was thrown');
}

function expectDecryptFailure(fn: () => unknown, reason?: string): SwitchboardError {
  const error = catchError(fn);
  expect(error.code).toBe('vault_decrypt_failed');
  if (reason !== undefined) expect(error.details.context?.['reason']).toBe(reason);
  // Never the plaintext, anywhere in the error.
  expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain(SECRET);
  return error;
}

// Layout offsets for a sealed value under key id "a" (length 1).
const ID_LEN = 1;
const IV_AT = 2 + ID_LEN;
const TAG_AT = IV_AT + 12;
const CT_AT = TAG_AT + 16;

describe('parseVaultKeys', () => {
  it('parses several keys; the first is active', () => {
    const ring = parseVaultKeys(` new:${keyA} , old:${keyB}`);
    expect(ring.activeKeyId).toBe('new');
    expect([...ring.keys.keys()]).toEqual(['new', 'old']);
    expect(ring.keys.get('old')).toEqual(Buffer.from(keyB, 'base64'));
  });

  it('accepts url-safe base64', () => {
    const raw = randomBytes(32);
    expect(parseVaultKeys(`k:${raw.toString('base64url')}`).keys.get('k')).toEqual(raw);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['no colon', keyA],
    ['empty id', `:${keyA}`],
    ['id with dot', `a.b:${keyA}`],
    ['id too long', `${'x'.repeat(33)}:${keyA}`],
    ['duplicate id', `a:${keyA},a:${keyB}`],
    ['not base64', 'a:not*base64!'],
    ['16-byte key', `a:${randomBytes(16).toString('base64')}`],
    ['33-byte key', `a:${randomBytes(33).toString('base64')}`],
    ['all-zero key', `a:${Buffer.alloc(32).toString('base64')}`],
    ['trailing comma', `a:${keyA},`],
  ])('refuses %s with config_invalid and never echoes key material', (_name, spec) => {
    const error = catchError(() => parseVaultKeys(spec));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/^VAULT_KEYS: /);
    expect(error.message).not.toContain(keyA);
    expect(error.message).not.toContain(keyB);
  });

  it('does not let an id like __proto__ touch prototypes', () => {
    const ring = parseVaultKeys(`__proto__:${keyA}`);
    expect(ring.keys.get('__proto__')).toHaveLength(32);
    expect(createVault(ring).activeKeyId).toBe('__proto__');
  });
});

describe('createVault', () => {
  it('refuses an active key id missing from the ring', () => {
    const ring = parseVaultKeys(`a:${keyA}`);
    expect(catchError(() => createVault({ keys: ring.keys, activeKeyId: 'b' })).code).toBe('config_invalid');
  });

  it('refuses a key of the wrong size', () => {
    const keys = new Map([['a', randomBytes(16)]]);
    expect(catchError(() => createVault({ keys, activeKeyId: 'a' })).code).toBe('config_invalid');
  });
});

describe('vault seal/open', () => {
  const vault = vaultOf(`a:${keyA}`);

  it('round-trips text and bytes', () => {
    const sealed = vault.seal(SECRET, aad);
    expect(sealed.includes(Buffer.from(SECRET))).toBe(false);
    expect(vault.openText(sealed, aad)).toBe(SECRET);
    const bytes = randomBytes(100);
    expect(vault.open(vault.seal(bytes, aad), aad)).toEqual(bytes);
  });

  it('round-trips empty and non-ASCII plaintext', () => {
    expect(vault.openText(vault.seal('', aad), aad)).toBe('');
    expect(vault.openText(vault.seal('pässwörd 🔑 秘密', aad), aad)).toBe('pässwörd 🔑 秘密');
  });

  it('writes the documented layout', () => {
    const sealed = vault.seal('x', aad);
    expect(sealed[0]).toBe(1);
    expect(sealed[1]).toBe(1);
    expect(sealed.toString('ascii', 2, 3)).toBe('a');
    expect(sealed.length).toBe(CT_AT + 1);
    expect(vault.keyIdOf(sealed)).toBe('a');
    expect(vault.activeKeyId).toBe('a');
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const sealed = vault.seal(SECRET, aad);
    const big = new Uint8Array(sealed.length + 10);
    big.set(sealed, 5);
    expect(vault.openText(big.subarray(5, 5 + sealed.length), aad)).toBe(SECRET);
  });

  it.each([
    ['version byte', 0, 'unsupported_version'],
    ['key id length', 1, undefined],
    ['key id', 2, undefined],
    ['IV first byte', IV_AT, 'auth_failed'],
    ['IV last byte', IV_AT + 11, 'auth_failed'],
    ['tag first byte', TAG_AT, 'auth_failed'],
    ['tag last byte', TAG_AT + 15, 'auth_failed'],
    ['ciphertext first byte', CT_AT, 'auth_failed'],
  ])('a flipped bit in the %s fails', (_name, offset, reason) => {
    const sealed = vault.seal(SECRET, aad);
    const tampered = Buffer.from(sealed);
    tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
    expectDecryptFailure(() => vault.open(tampered, aad), reason);
  });

  it('a flipped bit in every single position fails', () => {
    const sealed = vault.seal(SECRET, aad);
    for (let offset = 0; offset < sealed.length; offset += 1) {
      for (const mask of [0x01, 0x80]) {
        const tampered = Buffer.from(sealed);
        tampered[offset] = (tampered[offset] ?? 0) ^ mask;
        expectDecryptFailure(() => vault.open(tampered, aad));
      }
    }
  });

  it('truncated or extended values fail', () => {
    const sealed = vault.seal(SECRET, aad);
    for (let length = 0; length < sealed.length; length += 1) {
      expectDecryptFailure(() => vault.open(sealed.subarray(0, length), aad));
    }
    expectDecryptFailure(() => vault.open(Buffer.concat([sealed, Buffer.from([0])]), aad), 'auth_failed');
  });

  it.each([
    ['table', { ...aad, table: 'calendar_tokens' }],
    ['column', { ...aad, column: 'refresh_token' }],
    ['rowId', { ...aad, rowId: '00000000-0000-4000-8000-000000000000' }],
  ])('an AAD mismatch on %s fails', (_name, other) => {
    const sealed = vault.seal(SECRET, aad);
    const error = expectDecryptFailure(() => vault.open(sealed, other), 'auth_failed');
    expect(error.details.context).toMatchObject({ keyId: 'a', table: other.table, column: other.column, rowId: other.rowId });
  });

  it('a single flipped bit anywhere in the associated data (table, column or row id) fails', () => {
    const sealed = vault.seal(SECRET, aad);
    for (const field of ['table', 'column', 'rowId'] as const) {
      const value = aad[field];
      for (let i = 0; i < value.length; i += 1) {
        const flipped = value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) ^ 0x01) + value.slice(i + 1);
        expectDecryptFailure(() => vault.open(sealed, { ...aad, [field]: flipped }), 'auth_failed');
      }
    }
    expect(vault.openText(sealed, aad)).toBe(SECRET);
  });

  it('encodes AAD unambiguously: shifting a separator between fields fails', () => {
    const sealed = vault.seal(SECRET, { table: 'a|b', column: 'c', rowId: 'r' });
    expectDecryptFailure(() => vault.open(sealed, { table: 'a', column: 'b|c', rowId: 'r' }), 'auth_failed');
    const sealed2 = vault.seal(SECRET, { table: 'ab', column: 'c', rowId: 'r' });
    expectDecryptFailure(() => vault.open(sealed2, { table: 'a', column: 'bc', rowId: 'r' }), 'auth_failed');
  });

  it('ciphertexts swapped between two rows both fail', () => {
    const rowA = { ...aad, rowId: 'user-a' };
    const rowB = { ...aad, rowId: 'user-b' };
    const sealedA = vault.seal('token-of-a', rowA);
    const sealedB = vault.seal('token-of-b', rowB);
    expectDecryptFailure(() => vault.open(sealedA, rowB), 'auth_failed');
    expectDecryptFailure(() => vault.open(sealedB, rowA), 'auth_failed');
    expect(vault.openText(sealedA, rowA)).toBe('token-of-a');
  });

  it('refuses malformed AAD on seal (programming error), without leaking the plaintext', () => {
    for (const bad of [
      { ...aad, table: '' },
      { ...aad, rowId: 'x'.repeat(257) },
      { ...aad, column: 'bad\uD800surrogate' },
    ]) {
      const error = catchError(() => vault.seal(SECRET, bad));
      expect(error.code).toBe('internal');
      expect(error.message).not.toContain(SECRET);
    }
  });

  it('openText refuses bytes that are not UTF-8', () => {
    const sealed = vault.seal(Buffer.from([0xff, 0xfe, 0xfd]), aad);
    expectDecryptFailure(() => vault.openText(sealed, aad), 'not_text');
  });

  it('uses a fresh 12-byte IV for each of 10,000 seals', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i += 1) {
      const sealed = vault.seal('same plaintext', aad);
      ivs.add(sealed.subarray(IV_AT, IV_AT + 12).toString('hex'));
    }
    expect(ivs.size).toBe(10_000);
  });

  it('refuses a 4-byte tag', () => {
    // Build what a truncated-tag attacker would store: a genuine 4-byte GCM tag under our key.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyA, 'base64'), iv, { authTagLength: 4 });
    const ciphertext = Buffer.concat([cipher.update(SECRET), cipher.final()]);
    const shortTag = cipher.getAuthTag();
    expect(shortTag).toHaveLength(4);
    const header = Buffer.from([1, 1, 0x61]);
    expectDecryptFailure(() => vault.open(Buffer.concat([header, iv, shortTag, ciphertext]), aad));
    expectDecryptFailure(() => vault.open(Buffer.concat([header, iv, shortTag]), aad), 'bad_format');
  });

  it('keyIdOf refuses malformed values with vault_decrypt_failed', () => {
    expectDecryptFailure(() => vault.keyIdOf(Buffer.alloc(0)), 'bad_format');
    expectDecryptFailure(() => vault.keyIdOf(Buffer.from([2, 1, 0x61])), 'unsupported_version');
    // A key id outside the allowed alphabet never reaches a lookup or an error.
    const sealed = Buffer.from(vault.seal(SECRET, aad));
    sealed[2] = 0x2f; // '/'
    const error = expectDecryptFailure(() => vault.open(sealed, aad), 'bad_format');
    expect(error.details.context?.['keyId']).toBeUndefined();
  });
});

describe('vault key rotation', () => {
  it('decrypts old values after a new active key is added, and seals new ones with it', () => {
    const before = vaultOf(`k1:${keyA}`);
    const sealedOld = before.seal(SECRET, aad);
    const after = vaultOf(`k2:${keyB},k1:${keyA}`);
    expect(after.activeKeyId).toBe('k2');
    expect(after.keyIdOf(sealedOld)).toBe('k1');
    expect(after.openText(sealedOld, aad)).toBe(SECRET);
    const sealedNew = after.seal(SECRET, aad);
    expect(after.keyIdOf(sealedNew)).toBe('k2');
    expect(after.openText(sealedNew, aad)).toBe(SECRET);
    // The old ring cannot read values sealed under the new key.
    expectDecryptFailure(() => before.open(sealedNew, aad), 'unknown_key');
  });

  it('an unknown key id fails with the id (and only ids) in context', () => {
    const sealed = vaultOf(`gone:${keyA}`).seal(SECRET, aad);
    const error = expectDecryptFailure(() => vaultOf(`a:${keyA}`).open(sealed, aad), 'unknown_key');
    expect(error.details.context).toEqual({ reason: 'unknown_key', keyId: 'gone', ...aad });
  });

  it('relabelling a value to another key id fails even when that key holds the same bytes', () => {
    const vault = vaultOf(`k1:${keyA},k9:${keyA}`);
    const sealed = vault.seal(SECRET, aad);
    const relabelled = Buffer.from(sealed);
    relabelled.write('k9', 2, 'ascii');
    expectDecryptFailure(() => vault.open(relabelled, aad), 'auth_failed');
  });
});

describe('seal counting (key budget)', () => {
  it('counts seals per active key, hands them over once, and takes back unsaved counts', () => {
    const counting = countSeals(vaultOf(`k2:${keyB},k1:${keyA}`));
    for (let i = 0; i < 7; i += 1) counting.seal(`s${i}`, aad);
    const sealed = counting.seal(SECRET, aad);
    expect(counting.keyIdOf(sealed)).toBe('k2');
    expect(counting.openText(sealed, aad)).toBe(SECRET);
    expect(counting.open(sealed, aad).toString()).toBe(SECRET);
    expect(counting.takeSealCounts()).toEqual(new Map([['k2', 8]]));
    expect(counting.takeSealCounts()).toEqual(new Map());
    counting.returnSealCounts(new Map([['k2', 3]]));
    counting.seal('x', aad);
    expect(counting.takeSealCounts()).toEqual(new Map([['k2', 4]]));
    // Opening is never counted: only encryptions consume the IV budget.
    expect(counting.activeKeyId).toBe('k2');
  });
});
