/**
 * Discord interaction signatures: the public key import checked against RFC 8032 §7.1 TEST 1,
 * then our verifier over timestamp + raw body, its window, and malformed headers.
 */
import { describe, expect, it } from 'vitest';
import { sign, verify } from 'node:crypto';
import { ed25519PublicKeyFromHex, verifyInteraction } from '../../adapters/discord/verify.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { RFC8032_TEST1, rfc8032PrivateKey, signInteraction } from '../standins/discord-harness.ts';

const publicKey = ed25519PublicKeyFromHex(RFC8032_TEST1.publicKeyHex);
const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const body = Buffer.from('{"type":1}');

function delivery(headers: Record<string, string>, raw: Buffer = body) {
  return { signature: headers['x-signature-ed25519'], timestamp: headers['x-signature-timestamp'], body: raw };
}

describe('Discord signature verification', () => {
  it('imports the public key from raw hex: RFC 8032 TEST 1 verifies, and the secret key reproduces the signature', () => {
    const signature = Buffer.from(RFC8032_TEST1.emptyMessageSignatureHex, 'hex');
    expect(verify(null, Buffer.alloc(0), publicKey, signature)).toBe(true);
    expect(sign(null, Buffer.alloc(0), rfc8032PrivateKey()).toString('hex')).toBe(RFC8032_TEST1.emptyMessageSignatureHex);
    const flipped = Buffer.from(signature);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(verify(null, Buffer.alloc(0), publicKey, flipped)).toBe(false);
  });

  it('accepts timestamp + body signed with the application key', () => {
    expect(verifyInteraction(publicKey, delivery(signInteraction(body.toString(), now)), now, 300_000)).toBe('ok');
  });

  it('refuses a signature over another body or another timestamp', () => {
    const headers = signInteraction(body.toString(), now);
    expect(verifyInteraction(publicKey, delivery(headers, Buffer.from('{"type":2}')), now, 300_000)).toBe('forged');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-timestamp': String(Number(headers['x-signature-timestamp']) + 1) }), now, 300_000)).toBe('forged');
  });

  it('enforces our window in both directions (Discord documents none)', () => {
    const headers = signInteraction(body.toString(), now);
    expect(verifyInteraction(publicKey, delivery(headers), now + 300_000, 300_000)).toBe('ok');
    expect(verifyInteraction(publicKey, delivery(headers), now + 301_000, 300_000)).toBe('stale');
    expect(verifyInteraction(publicKey, delivery(headers), now - 301_000, 300_000)).toBe('stale');
  });

  it('says missing or malformed for absent, short, non-hex or non-numeric headers, without throwing', () => {
    const headers = signInteraction(body.toString(), now);
    expect(verifyInteraction(publicKey, delivery({}), now, 300_000)).toBe('missing');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-ed25519': '' }), now, 300_000)).toBe('missing');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-ed25519': 'ab' }), now, 300_000)).toBe('malformed');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-ed25519': 'z'.repeat(128) }), now, 300_000)).toBe('malformed');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-timestamp': '1e9' }), now, 300_000)).toBe('malformed');
    expect(verifyInteraction(publicKey, delivery({ ...headers, 'x-signature-timestamp': '9'.repeat(13) }), now, 300_000)).toBe('malformed');
  });

  it('refuses a public key that is not 32 bytes of hex, naming the setting', () => {
    for (const bad of ['', 'abc', 'g'.repeat(64), RFC8032_TEST1.publicKeyHex.slice(2)]) {
      let caught: unknown;
      try {
        ed25519PublicKeyFromHex(bad);
      } catch (err) {
        caught = err;
      }
      expect(isSwitchboardError(caught, 'config_invalid')).toBe(true);
    }
  });
});
