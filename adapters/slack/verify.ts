/**
 * Slack request signatures (Events API over HTTP): `v0=` + hex(HMAC-SHA256(signing secret,
 * `v0:<timestamp>:<raw body>`)), a timestamp within 300 s of now in BOTH directions (Bolt only
 * refuses the past), and a constant-time comparison of two equal-length SHA-256 digests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's documented freshness window, in seconds. */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 300;

/** Why a request was refused (logged and counted; never sent back in detail). */
export type SlackVerifyFailure = 'missing_headers' | 'bad_timestamp' | 'stale' | 'bad_signature';

/** The outcome of verifying one request. */
export type SlackVerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: SlackVerifyFailure };

/** The two headers Slack signs with, as received (any casing of the names is fine). */
export interface SlackSignedHeaders {
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=([0-9a-f]{64})$/;

/** The `v0=` signature of `body` at `timestamp` (also what the tests and stand-in sign with). */
export function slackSignature(signingSecret: string, timestamp: string, body: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  return `v0=${hmac.digest('hex')}`;
}

/** Verifies one request over its exact raw bytes at `nowMs`. */
export function verifySlackRequest(input: {
  readonly signingSecret: string;
  readonly headers: SlackSignedHeaders;
  readonly rawBody: Buffer | string;
  readonly nowMs: number;
}): SlackVerifyResult {
  const { timestamp, signature } = input.headers;
  if (timestamp === undefined || signature === undefined) return { ok: false, reason: 'missing_headers' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const ageSeconds = Math.abs(Math.floor(input.nowMs / 1000) - Number(timestamp));
  if (ageSeconds > SLACK_SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'stale' };
  const received = SIGNATURE.exec(signature.toLowerCase())?.[1];
  if (received === undefined) return { ok: false, reason: 'bad_signature' };
  const expected = slackSignature(input.signingSecret, timestamp, input.rawBody).slice(3);
  // Both sides are 32-byte digests, so timingSafeEqual never sees unequal lengths.
  const same = timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(received, 'hex'));
  return same ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
