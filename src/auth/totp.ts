/**
 * RFC 6238 TOTP through otplib: 160-bit secrets (RFC 4226 §4), SHA-1, 6 digits, 30-second steps,
 * ±1 step of drift (RFC 6238 §5.2). Time always comes from the caller (the injected Clock).
 * Replay is decided by the caller with the returned step (a code works once, see two-factor.ts).
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

/** Seconds per time step. */
export const TOTP_PERIOD_SECONDS = 30;

/** Digits per code. */
export const TOTP_DIGITS = 6;

/** Secret size in bytes (160 bits, RFC 4226 §4 R6). */
export const TOTP_SECRET_BYTES = 20;

const CODE_PATTERN = /^\d{6}$/;

/** A new base32 secret. */
export function newTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

/** The otpauth:// URI an authenticator app reads (issuer and account shown in the app). */
export function totpUri(issuer: string, account: string, secret: string): string {
  return generateURI({ issuer, label: account, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });
}

/** The time step of a moment (T = floor(unix seconds / 30)). */
export function timeStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** Strips the spaces people type ("123 456") and checks the shape; undefined when not a code. */
export function normalizeTotpCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '');
  return CODE_PATTERN.test(code) ? code : undefined;
}

/** The time step the code matches within ±1 step of `nowMs`, or undefined. */
export async function matchTotpStep(secret: string, code: string, nowMs: number): Promise<number | undefined> {
  const normalized = normalizeTotpCode(code);
  if (normalized === undefined) return undefined;
  const result = await verify({
    secret,
    token: normalized,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
    // One period either side: the previous, current and next step (RFC 6238 §5.2).
    epochTolerance: TOTP_PERIOD_SECONDS,
  });
  // The matched step: the current one plus the drift (-1, 0 or +1) the code was found at.
  return result.valid ? timeStepAt(nowMs) + result.delta : undefined;
}

/** The code for a moment; for the CLI's own checks and for tests. */
export function totpCodeAt(secret: string, nowMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_SECONDS, digits: TOTP_DIGITS, algorithm: 'sha1' });
}
