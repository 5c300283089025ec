/**
 * API key tokens: generation, exact parsing and keyed hashing. A token is
 * `sbk_<16 hex public id>_<43 base64url chars = 256 random bits>`; only its HMAC-SHA-256 under a
 * server-side key is stored, and the public id (not secret) finds the row and labels the key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SwitchboardError } from '../core/errors.ts';

/** Every token starts with this. */
export const API_KEY_PREFIX = 'sbk_';
/** Random bytes in the secret part (256 bits). */
export const API_KEY_SECRET_BYTES = 32;
/** Random bytes in the public id (64 bits, 16 hex characters). */
export const API_KEY_PUBLIC_ID_BYTES = 8;
/** Minimum length of the server-side hashing key. */
export const API_KEY_HASH_KEY_MIN_BYTES = 32;

const TOKEN = /^sbk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const PUBLIC_ID = /^[0-9a-f]{16}$/;
/** Anything that starts like a key: used to spot keys sent where keys must never go. */
const KEY_LIKE = /sbk_[0-9a-f]{16}_/;

/** A token that passed the exact format check. */
export interface ParsedApiKey {
  readonly publicId: string;
  /** The whole token, exactly as issued; this is what is hashed. */
  readonly token: string;
}

/** A new key: the token to show once, and its public id. */
export type GeneratedApiKey = ParsedApiKey;

/** Generates a new token from the CSPRNG. */
export function generateApiKey(): GeneratedApiKey {
  const publicId = randomBytes(API_KEY_PUBLIC_ID_BYTES).toString('hex');
  const secret = randomBytes(API_KEY_SECRET_BYTES).toString('base64url');
  return { publicId, token: `${API_KEY_PREFIX}${publicId}_${secret}` };
}

/**
 * Parses a token exactly: no surrounding whitespace, no newline, no padding, and the secret must
 * be the canonical base64url of exactly 32 bytes (so no two spellings of one key exist).
 */
export function parseApiKey(value: string): ParsedApiKey | undefined {
  const match = TOKEN.exec(value);
  const publicId = match?.[1];
  const secret = match?.[2];
  if (publicId === undefined || secret === undefined) return undefined;
  const bytes = Buffer.from(secret, 'base64url');
  if (bytes.length !== API_KEY_SECRET_BYTES || bytes.toString('base64url') !== secret) return undefined;
  return { publicId, token: value };
}

/** True for a well-formed public id (route parameters, audit lookups). */
export function isApiKeyPublicId(value: string): boolean {
  return PUBLIC_ID.test(value);
}

/** True when `text` contains something shaped like a key (to refuse keys in URLs and bodies). */
export function containsApiKey(text: string): boolean {
  return KEY_LIKE.test(text);
}

/** The public id of the first key-shaped text in `text`, if any (for audit; never the secret). */
export function publicIdIn(text: string): string | undefined {
  return /sbk_([0-9a-f]{16})_/.exec(text)?.[1];
}

/** The non-secret label shown in lists and logs, e.g. `sbk_0123456789abcdef`. */
export function apiKeyDisplayPrefix(publicId: string): string {
  return `${API_KEY_PREFIX}${publicId}`;
}

/** HMAC-SHA-256 of the whole token under the server-side key: what the database stores. */
export function hashApiKey(hashKey: Buffer, token: string): Buffer {
  return createHmac('sha256', hashKey).update(token, 'utf8').digest();
}

/** Constant-time comparison of a presented token against a stored hash (both 32-byte digests). */
export function apiKeyMatches(hashKey: Buffer, token: string, storedHash: Buffer): boolean {
  const presented = hashApiKey(hashKey, token);
  // timingSafeEqual throws on unequal lengths; a stored hash of another length is simply wrong.
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}

/** Decodes the API_KEY_HASH_KEY setting (base64 or base64url, at least 32 bytes). */
export function parseApiKeyHashKey(value: string): Buffer {
  const trimmed = value.trim();
  const bytes = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, /[+/=]/.test(trimmed) ? 'base64' : 'base64url') : Buffer.alloc(0);
  if (bytes.length < API_KEY_HASH_KEY_MIN_BYTES) {
    throw new SwitchboardError('config_invalid', `API_KEY_HASH_KEY must be base64 of at least ${API_KEY_HASH_KEY_MIN_BYTES} random bytes`, {
      issues: [{ path: 'API_KEY_HASH_KEY', message: `base64 of at least ${API_KEY_HASH_KEY_MIN_BYTES} bytes` }],
    });
  }
  return bytes;
}

/** A new hashing key in the form API_KEY_HASH_KEY expects. */
export function generateApiKeyHashKey(): string {
  return randomBytes(API_KEY_HASH_KEY_MIN_BYTES).toString('base64');
}
