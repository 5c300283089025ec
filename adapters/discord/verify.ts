/**
 * Discord interaction signatures: Ed25519 (the application's public key) over
 * `X-Signature-Timestamp + raw body`, carried hex-encoded in `X-Signature-Ed25519`. Discord
 * documents no freshness window, so we enforce our own on the signed timestamp, both directions.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { SwitchboardError } from '../../src/core/errors.ts';

/** Why a delivery was refused, or `ok`. */
export type SignatureVerdict = 'ok' | 'missing' | 'malformed' | 'stale' | 'forged';

const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
// Unix seconds; 1–12 digits keeps the number exact and bounded.
const TIMESTAMP = /^\d{1,12}$/;

/** An Ed25519 public key from its 32 raw bytes in hex (as the Developer Portal shows it). */
export function ed25519PublicKeyFromHex(hex: string): KeyObject {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SwitchboardError('config_invalid', 'DISCORD_PUBLIC_KEY must be 64 hex characters', {
      issues: [{ path: 'DISCORD_PUBLIC_KEY', message: 'expected 64 hex characters' }],
    });
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
  } catch (err) {
    throw new SwitchboardError('config_invalid', 'DISCORD_PUBLIC_KEY is not a valid Ed25519 public key', {}, { cause: err });
  }
}

/** What one verification needs: the two headers as received, the raw body and the time. */
export interface SignedDelivery {
  readonly signature: string | undefined;
  readonly timestamp: string | undefined;
  readonly body: Buffer;
}

/** Checks a delivery's signature and that its timestamp is within `windowMs` of `nowMs`. */
export function verifyInteraction(publicKey: KeyObject, delivery: SignedDelivery, nowMs: number, windowMs: number): SignatureVerdict {
  const { signature, timestamp, body } = delivery;
  if (signature === undefined || timestamp === undefined || signature === '' || timestamp === '') return 'missing';
  if (!SIGNATURE_HEX.test(signature) || !TIMESTAMP.test(timestamp)) return 'malformed';
  // The signature is checked first so an unsigned request learns nothing about our clock.
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
  let valid: boolean;
  try {
    valid = verify(null, signed, publicKey, Buffer.from(signature, 'hex'));
  } catch {
    valid = false;
  }
  if (!valid) return 'forged';
  if (Math.abs(nowMs - Number(timestamp) * 1000) > windowMs) return 'stale';
  return 'ok';
}

/** Reads a header Express may hand over as a string or a list (only a single value counts). */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
