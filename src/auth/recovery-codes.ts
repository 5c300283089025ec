/**
 * 2FA recovery codes: 10 per enrolment, each 24 characters of a 32-letter alphabet (120 CSPRNG
 * bits) shown as four groups of six. At that entropy SHA-256 is an adequate stored hash
 * (ASVS 6.5.2); input is compared case-insensitively with spaces and dashes ignored.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Codes per enrolment. */
export const RECOVERY_CODE_COUNT = 10;

// Crockford-like lowercase alphabet without i, l, o, u: nothing to misread when typing.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_CHARS = 24;
const GROUP = 6;

/** A new code, formatted for display, e.g. `k7p2xm-9qh3vd-…`. */
export function generateRecoveryCode(): string {
  // 24 × 5 bits = 120 bits: each byte's low 5 bits pick a letter (256 is a multiple of 32: no bias).
  const bytes = randomBytes(CODE_CHARS);
  let raw = '';
  for (const byte of bytes) raw += ALPHABET[byte & 31];
  const groups: string[] = [];
  for (let i = 0; i < CODE_CHARS; i += GROUP) groups.push(raw.slice(i, i + GROUP));
  return groups.join('-');
}

/** The canonical form of typed input, or undefined when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const raw = input.toLowerCase().replace(/[\s-]/g, '');
  if (raw.length !== CODE_CHARS) return undefined;
  for (const c of raw) if (!ALPHABET.includes(c)) return undefined;
  return raw;
}

/** The stored hash of a code (of its canonical form). */
export function hashRecoveryCode(canonical: string): Buffer {
  return createHash('sha256').update(`sb-recovery:${canonical}`, 'utf8').digest();
}

/** A fresh set: the codes to show once and the hashes to store. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): { codes: string[]; hashes: Buffer[] } {
  const codes = Array.from({ length: count }, generateRecoveryCode);
  const hashes = codes.map((code) => {
    const canonical = normalizeRecoveryCode(code);
    if (canonical === undefined) throw new Error('generated an invalid recovery code');
    return hashRecoveryCode(canonical);
  });
  return { codes, hashes };
}
