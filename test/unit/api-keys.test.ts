/** API key tokens: format, exact parsing (every malformation refused), keyed hashing, the hash key setting. */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  API_KEY_SECRET_BYTES,
  apiKeyDisplayPrefix,
  apiKeyMatches,
  containsApiKey,
  generateApiKey,
  generateApiKeyHashKey,
  hashApiKey,
  parseApiKey,
  parseApiKeyHashKey,
  publicIdIn,
} from '../../src/auth/api-keys.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

const hashKey = randomBytes(32);

describe('generateApiKey', () => {
  it('makes sbk_ + 16 hex + _ + 43 base64url characters carrying 256 random bits', () => {
    const { token, publicId } = generateApiKey();
    expect(token).toMatch(/^sbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`sbk_${publicId}_`)).toBe(true);
    const secret = token.slice(`sbk_${publicId}_`.length);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(API_KEY_SECRET_BYTES);
    expect(API_KEY_SECRET_BYTES * 8).toBeGreaterThanOrEqual(256);
    expect(apiKeyDisplayPrefix(publicId)).toBe(`sbk_${publicId}`);
  });

  it('never repeats (10,000 keys, distinct ids and secrets)', () => {
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i += 1) {
      const key = generateApiKey();
      tokens.add(key.token);
      ids.add(key.publicId);
    }
    expect(tokens.size).toBe(10_000);
    expect(ids.size).toBe(10_000);
  });

  it('parses what it generates', () => {
    for (let i = 0; i < 1000; i += 1) {
      const key = generateApiKey();
      expect(parseApiKey(key.token)).toEqual(key);
    }
  });
});

describe('parseApiKey refuses every malformation', () => {
  const { token } = generateApiKey();
  const lastChar = token.at(-1) ?? '';
  const cases: Array<[string, string]> = [
    ['a trailing newline', `${token}\n`],
    ['a trailing CRLF', `${token}\r\n`],
    ['a trailing space', `${token} `],
    ['a trailing tab', `${token}\t`],
    ['a leading space', ` ${token}`],
    ['a newline inside', `${token.slice(0, 20)}\n${token.slice(20)}`],
    ['a NUL', `${token}\0`],
    ['one character short', token.slice(0, -1)],
    ['one character long', `${token}A`],
    ['base64 padding', `${token}=`],
    ['an upper-case prefix', `SBK_${token.slice(4)}`],
    ['another prefix', `sbx_${token.slice(4)}`],
    ['no prefix', token.slice(4)],
    ['upper-case hex in the id', `sbk_${token.slice(4, 20).toUpperCase().replace(/^[0-9]*/, 'A')}${token.slice(20)}`],
    ['a dash instead of the separator', `${token.slice(0, 20)}-${token.slice(21)}`],
    ['standard base64 characters', `${token.slice(0, -2)}+/`],
    ['a fullwidth lookalike', `${token.slice(0, -1)}Ａ`],
    ['a percent-encoded newline', `${token}%0A`],
    ['two keys', `${token},${token}`],
    ['empty', ''],
    ['only the prefix', 'sbk_'],
  ];
  it.each(cases)('%s', (_name, value) => {
    expect(parseApiKey(value)).toBeUndefined();
  });

  it('a non-canonical last character (extra low bits set) is refused', () => {
    // 32 bytes = 256 bits in 43 characters (258 bits): the last character's 2 low bits must be 0.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(lastChar);
    const sibling = alphabet[(index & ~3) + ((index & 3) === 0 ? 1 : 0)] ?? 'B';
    const altered = `${token.slice(0, -1)}${sibling}`;
    expect(Buffer.from(altered.slice(-43), 'base64url')).toEqual(Buffer.from(token.slice(-43), 'base64url'));
    expect(parseApiKey(altered)).toBeUndefined();
  });

  it('a single-character insertion, deletion or replacement is refused, or is a different well-formed key (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: token.length }),
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        fc.constantFrom('insert', 'delete', 'replace'),
        (position, char, edit) => {
          const mutated =
            edit === 'insert'
              ? token.slice(0, position) + char + token.slice(position)
              : edit === 'delete'
                ? token.slice(0, position) + token.slice(position + 1)
                : token.slice(0, position) + char + token.slice(position + 1);
          const parsed = parseApiKey(mutated);
          if (mutated === token) return parsed !== undefined;
          if (parsed === undefined) return true;
          // What still parses is another well-formed key, never an alias of the original.
          return (
            /^sbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/.test(mutated) &&
            !apiKeyMatches(hashKey, mutated, hashApiKey(hashKey, token)) &&
            Buffer.from(mutated.slice(-43), 'base64url').toString('base64url') === mutated.slice(-43)
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary strings with a key-like start never parse unless exactly well-formed (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (tail) => {
        const value = `sbk_${tail}`;
        const parsed = parseApiKey(value);
        return parsed === undefined || /^sbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/.test(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('keyed hashing', () => {
  it('stores HMAC-SHA-256(server key, token), not a plain hash', () => {
    const { token } = generateApiKey();
    const stored = hashApiKey(hashKey, token);
    expect(stored).toEqual(createHmac('sha256', hashKey).update(token).digest());
    expect(stored).toHaveLength(32);
    expect(hashApiKey(randomBytes(32), token)).not.toEqual(stored);
  });

  it('matches only the right token under the right key, and never throws on odd stored lengths', () => {
    const { token } = generateApiKey();
    const stored = hashApiKey(hashKey, token);
    expect(apiKeyMatches(hashKey, token, stored)).toBe(true);
    expect(apiKeyMatches(hashKey, generateApiKey().token, stored)).toBe(false);
    expect(apiKeyMatches(randomBytes(32), token, stored)).toBe(false);
    expect(apiKeyMatches(hashKey, token, stored.subarray(0, 16))).toBe(false);
    expect(apiKeyMatches(hashKey, token, Buffer.alloc(0))).toBe(false);
  });
});

describe('spotting keys in the wrong place', () => {
  it('finds key-shaped text and its public id, and ignores the bare word', () => {
    const { token, publicId } = generateApiKey();
    expect(containsApiKey(`my key is ${token} ok`)).toBe(true);
    expect(publicIdIn(`x=${token}`)).toBe(publicId);
    expect(containsApiKey('the sbk_ prefix marks keys')).toBe(false);
    expect(publicIdIn('nothing here')).toBeUndefined();
  });
});

describe('API_KEY_HASH_KEY', () => {
  it('accepts base64 and base64url of at least 32 bytes', () => {
    const bytes = randomBytes(32);
    expect(parseApiKeyHashKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseApiKeyHashKey(bytes.toString('base64url'))).toEqual(bytes);
    expect(parseApiKeyHashKey(`${bytes.toString('base64')}\n`)).toEqual(bytes);
    expect(parseApiKeyHashKey(generateApiKeyHashKey())).toHaveLength(32);
  });

  it.each([
    ['too short', randomBytes(31).toString('base64')],
    ['not base64', 'not a key at all, clearly not base64!!'],
    ['empty', ''],
  ])('refuses %s with config_invalid, without echoing it', (_name, value) => {
    let caught: unknown;
    try {
      parseApiKeyHashKey(value);
    } catch (error) {
      caught = error;
    }
    expect(isSwitchboardError(caught, 'config_invalid')).toBe(true);
    if (value.length > 0) expect(String((caught as Error).message)).not.toContain(value);
  });
});
