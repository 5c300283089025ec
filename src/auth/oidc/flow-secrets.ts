/**
 * The secrets of one sign-in attempt. The browser keeps a random 256-bit binding secret in an
 * HttpOnly cookie; `state`, `nonce` and the PKCE `code_verifier` are HMAC-SHA256 derivations of
 * it under distinct labels. So:
 * - the state in the URL is bound to this browser (a callback whose state was not derived from the
 *   cookie it carries is refused: no login CSRF, no swapped authorization responses);
 * - the verifier never appears in a URL, a log or the database (only SHA-256(state) is stored), and
 *   cannot be computed from the state or the nonce, which do travel through the provider;
 * - nothing secret is at rest: a database reader learns nothing that completes a sign-in.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A binding secret as it travels in the cookie: 32 random bytes, base64url (43 characters). */
const BINDING_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The per-attempt values sent to (or checked against) the provider. */
export interface FlowSecrets {
  /** The cookie value. */
  readonly binding: string;
  readonly state: string;
  readonly nonce: string;
  /** RFC 7636 verifier: 43 characters of base64url, 256 bits. */
  readonly codeVerifier: string;
  /** SHA-256 of the state: the flow's key in the database. */
  readonly stateHash: Buffer;
}

/** A fresh binding secret. */
export function newBinding(): string {
  return randomBytes(32).toString('base64url');
}

/** True for a value shaped like a binding secret (anything else is refused before any work). */
export function isBindingShaped(value: unknown): value is string {
  return typeof value === 'string' && BINDING_PATTERN.test(value);
}

function derive(binding: string, label: string): string {
  return createHmac('sha256', Buffer.from(binding, 'base64url')).update(`switchboard-oidc:${label}`).digest('base64url');
}

/** SHA-256 of a value, for storage and equal-length comparison. */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Everything derived from a binding secret. */
export function deriveFlowSecrets(binding: string): FlowSecrets {
  const state = derive(binding, 'state');
  return { binding, state, nonce: derive(binding, 'nonce'), codeVerifier: derive(binding, 'pkce-verifier'), stateHash: sha256(state) };
}

/** Constant-time comparison of two strings of any length (their digests have equal lengths). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** A one-time hand-off secret for the page, and the digest the database keeps. */
export function newHandoff(): { readonly token: string; readonly hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

/** True for a value shaped like a hand-off secret. */
export function isHandoffShaped(value: unknown): value is string {
  return typeof value === 'string' && BINDING_PATTERN.test(value);
}
