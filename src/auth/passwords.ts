/**
 * Password hashing (argon2id, OWASP parameters), verification that never throws on bad input,
 * the new-password policy, and generated passwords for the development bootstrap owner.
 *
 * Passwords are NFKC-normalized before hashing and verifying (NIST SP 800-63B §5.1.1.2), so the
 * same password typed on different keyboards or OSes matches.
 */
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import { SwitchboardError } from '../core/errors.ts';

/** OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 iterations, 1 lane. */
export const PASSWORD_HASH_PARAMS = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

/** Shortest password accepted, in Unicode code points. */
export const PASSWORD_MIN_CHARS = 12;

/** Longest password accepted, in Unicode code points; bounds hashing work per request. */
export const PASSWORD_MAX_CHARS = 256;

const ARGON2_VERSION = 0x13;

// Upper bounds on parameters read from a stored hash: a tampered row must not make one
// verification allocate gigabytes or spin for minutes.
const MAX_STORED_MEMORY_KIB = 262_144;
const MAX_STORED_TIME_COST = 16;
const MAX_STORED_PARALLELISM = 8;
const MAX_HASH_CHARS = 512;

// PHC string; the parameter order varies between argon2 versions (m,t,p vs m,p,t), so it is parsed apart.
const PHC_ARGON2 = /^\$(argon2id|argon2i|argon2d)\$v=(\d{1,3})\$([a-z]=\d{1,10}(?:,[a-z]=\d{1,10}){2})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

interface StoredParams {
  readonly type: string;
  readonly version: number;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

function parseStoredHash(hash: unknown): StoredParams | undefined {
  if (typeof hash !== 'string' || hash.length > MAX_HASH_CHARS) return undefined;
  const match = PHC_ARGON2.exec(hash);
  if (match === null) return undefined;
  const [, type = '', version = '', paramList = ''] = match;
  const params = new Map<string, number>();
  for (const pair of paramList.split(',')) {
    const [name = '', value = ''] = pair.split('=');
    if (params.has(name)) return undefined;
    params.set(name, Number(value));
  }
  const memoryCost = params.get('m');
  const timeCost = params.get('t');
  const parallelism = params.get('p');
  if (memoryCost === undefined || timeCost === undefined || parallelism === undefined) return undefined;
  return { type, version: Number(version), memoryCost, timeCost, parallelism };
}

function codePoints(value: string): number {
  return Array.from(value).length;
}

// Raw input longer than this cannot normalize down to the policy maximum in practice; refusing it
// before normalizing keeps a huge request body from costing CPU.
const MAX_RAW_PASSWORD_UNITS = 4096;

/** Hashes a password with argon2id; callers validate new passwords with `validateNewPassword` first. */
export async function hashPassword(password: string): Promise<string> {
  const normalized = typeof password === 'string' && password.length <= MAX_RAW_PASSWORD_UNITS ? password.normalize('NFKC') : '';
  // Enforced here too, so `verifyPassword` may skip anything longer: no such hash can exist.
  if (normalized.length === 0 || codePoints(normalized) > PASSWORD_MAX_CHARS) {
    throw new SwitchboardError('validation_failed', 'Password is empty or too long', {
      issues: [{ path: 'password', message: `must be 1 to ${PASSWORD_MAX_CHARS} characters` }],
    });
  }
  return argon2.hash(normalized, { type: argon2.argon2id, ...PASSWORD_HASH_PARAMS });
}

/** True only when `password` matches `hash`; false on mismatch, malformed or out-of-bounds input. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const params = parseStoredHash(hash);
  if (params === undefined || params.type !== 'argon2id') return false;
  if (
    params.memoryCost > MAX_STORED_MEMORY_KIB ||
    params.timeCost > MAX_STORED_TIME_COST ||
    params.parallelism > MAX_STORED_PARALLELISM
  ) {
    return false;
  }
  if (typeof password !== 'string' || password.length === 0 || password.length > MAX_RAW_PASSWORD_UNITS) return false;
  const normalized = password.normalize('NFKC');
  // Nothing longer than the policy maximum was ever hashed, so it cannot match; skip the work.
  if (codePoints(normalized) > PASSWORD_MAX_CHARS) return false;
  try {
    return await argon2.verify(hash, normalized);
  } catch {
    return false;
  }
}

/** True when `hash` is not argon2id with the current parameters (re-hash after a successful login). */
export function needsRehash(hash: string): boolean {
  const params = parseStoredHash(hash);
  if (params === undefined) return true;
  return (
    params.type !== 'argon2id' ||
    params.version !== ARGON2_VERSION ||
    params.memoryCost !== PASSWORD_HASH_PARAMS.memoryCost ||
    params.timeCost !== PASSWORD_HASH_PARAMS.timeCost ||
    params.parallelism !== PASSWORD_HASH_PARAMS.parallelism
  );
}

/** Enforces the new-password policy; throws `validation_failed` listing every problem (never the password). */
export function validateNewPassword(password: string): void {
  const problems: string[] = [];
  if (typeof password !== 'string') {
    problems.push('must be a string');
  } else if (password.length > MAX_RAW_PASSWORD_UNITS) {
    problems.push(`must be at most ${PASSWORD_MAX_CHARS} characters`);
  } else {
    const length = codePoints(password.normalize('NFKC'));
    if (length < PASSWORD_MIN_CHARS) problems.push(`must be at least ${PASSWORD_MIN_CHARS} characters`);
    if (length > PASSWORD_MAX_CHARS) problems.push(`must be at most ${PASSWORD_MAX_CHARS} characters`);
    if (/^\s*$/u.test(password)) problems.push('must not be only whitespace');
  }
  if (problems.length > 0) {
    throw new SwitchboardError('validation_failed', 'Password does not meet the policy', {
      issues: problems.map((message) => ({ path: 'password', message })),
    });
  }
}

/** A random URL-safe password: 24 CSPRNG bytes, 32 base64url characters (192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}
