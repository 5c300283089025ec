/**
 * The OAuth `state` parameter: `<payload>.<mac>` where the payload (base64url JSON) holds a random
 * nonce and an expiry, and the MAC is HMAC-SHA256 under a key derived from the client secret.
 * Short-lived (10 minutes); single use is enforced by the caller (a counter per nonce), and the
 * nonce is also bound to the browser with a cookie.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';

/** How long an install link stays valid. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

/** Why a state was refused. */
export type StateFailure = 'malformed' | 'bad_mac' | 'expired';

/** Issues and checks states. */
export interface OAuthStateCodec {
  issue(): { state: string; nonce: string };
  check(state: string): { ok: true; nonce: string } | { ok: false; reason: StateFailure };
}

const PayloadSchema = z.strictObject({ n: z.string().regex(/^[A-Za-z0-9_-]{22}$/), e: z.number().int().positive() });

/** Creates the codec; `clientSecret` never leaves this closure (only a derived key is used). */
export function createOAuthState(clientSecret: string, clock: Clock): OAuthStateCodec {
  const key = createHmac('sha256', clientSecret).update('switchboard/slack/oauth-state/v1').digest();
  const mac = (payload: string): Buffer => createHmac('sha256', key).update(payload).digest();
  return {
    issue: () => {
      const nonce = randomBytes(16).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ n: nonce, e: clock.now() + OAUTH_STATE_TTL_MS })).toString('base64url');
      return { state: `${payload}.${mac(payload).toString('base64url')}`, nonce };
    },
    check: (state) => {
      const match = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/.exec(state);
      if (!match) return { ok: false, reason: 'malformed' };
      const [, payload = '', signature = ''] = match;
      const given = Buffer.from(signature, 'base64url');
      // Both are 32-byte digests (43 base64url characters decode to 32 bytes).
      if (given.length !== 32 || !timingSafeEqual(given, mac(payload))) return { ok: false, reason: 'bad_mac' };
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const parsed = PayloadSchema.safeParse(decoded);
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      if (parsed.data.e < clock.now()) return { ok: false, reason: 'expired' };
      return { ok: true, nonce: parsed.data.n };
    },
  };
}
