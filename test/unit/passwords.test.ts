import * as argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import {
  generatePassword,
  hashPassword,
  needsRehash,
  PASSWORD_HASH_PARAMS,
  validateNewPassword,
  verifyPassword,
} from '../../src/auth/passwords.ts';

const PASSWORD = 'correct horse battery staple';

describe('hashPassword / verifyPassword', () => {
  it('hashes with argon2id and the OWASP parameters', async () => {
    const hash = await hashPassword(PASSWORD);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,(t=2,p=1|p=1,t=2)\$/);
    expect(hash).not.toContain(PASSWORD);
    expect(needsRehash(hash)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword(PASSWORD)).not.toBe(await hashPassword(PASSWORD));
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword(PASSWORD);
    expect(await verifyPassword(hash, PASSWORD)).toBe(true);
    expect(await verifyPassword(hash, `${PASSWORD} `)).toBe(false);
    expect(await verifyPassword(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('normalizes Unicode (NFKC): composed and decomposed forms match', async () => {
    const hash = await hashPassword('caf\u00e9-pass-phrase');
    expect(await verifyPassword(hash, 'cafe\u0301-pass-phrase')).toBe(true);
  });

  it.each([
    ['empty hash', ''],
    ['garbage', 'not a hash'],
    ['bcrypt', '$2b$10$abcdefghijklmnopqrstuuL6V8nBQ2I9hY7yWZ8w5e6f7g8h9i0jK'],
    ['truncated argon2', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA'],
    ['bad base64', '$argon2id$v=19$m=19456,t=2,p=1$!!!$###'],
    ['oversized', `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(600)}$AAAA`],
    ['hostile memory cost', '$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA'],
    ['hostile time cost', '$argon2id$v=19$m=19456,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA'],
  ])('returns false (never throws) for a malformed hash: %s', async (_name, hash) => {
    await expect(verifyPassword(hash, PASSWORD)).resolves.toBe(false);
  });

  it('returns false for non-string or empty inputs', async () => {
    const hash = await hashPassword(PASSWORD);
    await expect(verifyPassword(hash, '')).resolves.toBe(false);
    await expect(verifyPassword(hash, undefined as unknown as string)).resolves.toBe(false);
    await expect(verifyPassword(null as unknown as string, PASSWORD)).resolves.toBe(false);
    await expect(verifyPassword(hash, 'x'.repeat(1_000_000))).resolves.toBe(false);
  });

  it('refuses argon2i hashes even when the password matches (type downgrade)', async () => {
    const argon2i = await argon2.hash(PASSWORD, { type: argon2.argon2i, ...PASSWORD_HASH_PARAMS });
    expect(await verifyPassword(argon2i, PASSWORD)).toBe(false);
    expect(needsRehash(argon2i)).toBe(true);
  });

  it('hashPassword refuses empty and over-long input with validation_failed', async () => {
    for (const bad of ['', 'a'.repeat(257)]) {
      const error: unknown = await hashPassword(bad).catch((e: unknown) => e);
      expect(isSwitchboardError(error, 'validation_failed')).toBe(true);
    }
  });
});

describe('needsRehash', () => {
  it('is true for weaker or different parameters, and malformed input', async () => {
    const weaker = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 2, parallelism: 1 });
    expect(needsRehash(weaker)).toBe(true);
    const stronger = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19456, timeCost: 3, parallelism: 1 });
    expect(needsRehash(stronger)).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
    // A stronger legacy hash still verifies until it is re-hashed.
    expect(await verifyPassword(stronger, PASSWORD)).toBe(true);
  });
});

describe('validateNewPassword', () => {
  it('accepts 12 to 256 characters', () => {
    expect(() => validateNewPassword('a'.repeat(12))).not.toThrow();
    expect(() => validateNewPassword('a'.repeat(256))).not.toThrow();
    expect(() => validateNewPassword(PASSWORD)).not.toThrow();
    // Counted in code points: 12 emoji are 12 characters (24 UTF-16 units).
    expect(() => validateNewPassword('🔑'.repeat(12))).not.toThrow();
    expect(() => validateNewPassword('🔑'.repeat(256))).not.toThrow();
  });

  it.each([
    ['too short', 'a'.repeat(11)],
    ['11 emoji', '🔑'.repeat(11)],
    ['too long', 'a'.repeat(257)],
    ['huge', 'a'.repeat(100_000)],
    ['only spaces', ' '.repeat(20)],
    ['only mixed whitespace', ' \t\n\u00a0\u2003'.repeat(4)],
    ['empty', ''],
  ])('refuses %s with validation_failed, without echoing the password', (_name, password) => {
    let caught: unknown;
    try {
      validateNewPassword(password);
    } catch (error) {
      caught = error;
    }
    expect(isSwitchboardError(caught, 'validation_failed')).toBe(true);
    if (isSwitchboardError(caught)) {
      expect(caught.details.issues?.length).toBeGreaterThan(0);
      if (password.trim().length > 0) expect(JSON.stringify(caught.toJSON())).not.toContain(password);
    }
  });

  it('refuses non-strings', () => {
    expect(() => validateNewPassword(42 as unknown as string)).toThrow(/policy/);
  });
});

describe('generatePassword', () => {
  it('is URL-safe, at least 20 characters, passes the policy, and does not repeat', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i += 1) {
      const password = generatePassword();
      expect(password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(() => validateNewPassword(password)).not.toThrow();
      seen.add(password);
    }
    expect(seen.size).toBe(1000);
    const password = generatePassword();
    expect(await verifyPassword(await hashPassword(password), password)).toBe(true);
  });
});
