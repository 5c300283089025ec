/**
 * Loads the Ed25519 JWT signing key from PEM and derives its public JWK and `kid`
 * (the RFC 7638 thumbprint), so a `kid` names exactly one key without any lookup table.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { SwitchboardError } from '../core/errors.ts';

/** The signing key, its public half, and how JWKS consumers will see it. */
export interface Ed25519SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** base64url SHA-256 JWK thumbprint of the public key. */
  readonly kid: string;
  /** Public JWK with `kid`, `alg` and `use`, for a JWKS endpoint. */
  readonly publicJwk: Readonly<JWK>;
}

/** Env files often carry PEMs on one line with literal `\n`; real newlines win when present. */
function normalizePem(pem: string): string {
  const trimmed = pem.trim();
  return trimmed.includes('\n') ? trimmed : trimmed.replaceAll('\\n', '\n');
}

/** Parses a PKCS#8 PEM and insists on Ed25519; throws `config_invalid` without echoing the key. */
export function parseEd25519PrivateKeyPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    if (typeof pem !== 'string' || pem.trim() === '') throw new Error('empty');
    key = createPrivateKey({ key: normalizePem(pem), format: 'pem' });
  } catch (cause) {
    throw new SwitchboardError(
      'config_invalid',
      'JWT_PRIVATE_KEY: not a readable PEM private key (expected PKCS#8 Ed25519, unencrypted)',
      { issues: [{ path: 'JWT_PRIVATE_KEY', message: 'not a readable PEM private key' }] },
      { cause },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SwitchboardError('config_invalid', 'JWT_PRIVATE_KEY: must be an Ed25519 key', {
      context: { keyType: key.asymmetricKeyType ?? 'unknown' },
      issues: [{ path: 'JWT_PRIVATE_KEY', message: 'must be an Ed25519 key' }],
    });
  }
  return key;
}

/** Loads the signing key and computes its thumbprint `kid`. */
export async function loadEd25519SigningKey(pem: string): Promise<Ed25519SigningKey> {
  const privateKey = parseEd25519PrivateKeyPem(pem);
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' });
  if (exported.kty !== 'OKP' || exported.crv !== 'Ed25519' || typeof exported.x !== 'string') {
    throw new SwitchboardError('config_invalid', 'JWT_PRIVATE_KEY: unexpected public key shape');
  }
  const base = { kty: 'OKP', crv: 'Ed25519', x: exported.x } as const;
  const kid = await calculateJwkThumbprint(base, 'sha256');
  const publicJwk: JWK = Object.freeze({ ...base, kid, alg: 'EdDSA', use: 'sig' });
  return Object.freeze({ privateKey, publicKey, kid, publicJwk });
}
