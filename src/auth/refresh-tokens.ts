/**
 * Opaque refresh tokens: `sbr_` + 43 base64url characters (256 CSPRNG bits). Only their SHA-256
 * is stored. The shape has no dots, so a refresh token can never be parsed as a JWT, and the
 * prefix makes a leaked one easy to recognise in logs and secret scanners.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every refresh token. */
export const REFRESH_TOKEN_PREFIX = 'sbr_';

/** Random bytes per token (256 bits). */
export const REFRESH_TOKEN_BYTES = 32;

const REFRESH_TOKEN_PATTERN = /^sbr_[A-Za-z0-9_-]{43}$/;

/** A new refresh token and the hash to store. */
export function generateRefreshToken(): { token: string; hash: Buffer } {
  const token = `${REFRESH_TOKEN_PREFIX}${randomBytes(REFRESH_TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

/** True when `value` has the exact shape of a refresh token (checked before any lookup). */
export function isRefreshTokenShaped(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_TOKEN_PATTERN.test(value);
}

/** SHA-256 of a token: 256-bit random secrets need no slow hash (ASVS 6.5.2). */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
