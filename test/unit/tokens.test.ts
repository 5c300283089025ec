import { createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/core/clock.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import {
  ACCESS_TOKEN_TYP,
  createTokenService,
  MAX_TOKEN_CHARS,
  WS_TICKET_TYP,
  type TokenRejectReason,
  type TokenService,
} from '../../src/auth/tokens.ts';

const ISSUER = 'switchboard';
const AUDIENCE = 'switchboard-api';
const ACCESS_TTL = 900;
const TICKET_TTL = 30;
const START_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = START_MS / 1000;

const ours = generateKeyPairSync('ed25519');
const ourPem = ours.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const attacker = generateKeyPairSync('ed25519');

const userId = randomUUID();
const tenantId = randomUUID();

let clock: ReturnType<typeof createManualClock>;
let service: TokenService;
let kid: string;

beforeAll(async () => {
  clock = createManualClock(START_MS);
  service = await createTokenService({
    privateKeyPem: ourPem,
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    accessTtlSeconds: ACCESS_TTL,
    ticketTtlSeconds: TICKET_TTL,
  });
  kid = service.keyId;
});

function resetClock(): void {
  clock.set(START_MS);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs any header and payload with an Ed25519 key, bypassing jose, so each test changes one thing. */
function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject = ours.privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

function accessHeader(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid, ...overrides };
}

function accessPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: userId,
    tid: tenantId,
    role: 'member',
    jti: randomUUID(),
    iat: NOW,
    exp: NOW + ACCESS_TTL,
    ...overrides,
  };
}

function without(payload: Record<string, unknown>, claim: string): Record<string, unknown> {
  const copy = { ...payload };
  delete copy[claim];
  return copy;
}

async function expectRejected(promise: Promise<unknown>, reason?: TokenRejectReason): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSwitchboardError(error, 'unauthenticated'), `expected unauthenticated, got ${String(error)}`).toBe(true);
  if (!isSwitchboardError(error)) return;
  // Generic to the client; the why only in context for logs.
  expect(error.message).toBe('Authentication failed');
  expect(JSON.stringify(error.toJSON())).not.toContain('reason');
  if (reason !== undefined) expect(error.details.context?.['reason']).toBe(reason);
}

function flipChar(segment: string, index: number): string {
  const c = segment[index];
  return segment.slice(0, index) + (c === 'A' ? 'B' : 'A') + segment.slice(index + 1);
}

describe('token service: happy paths', () => {
  it('the raw-signing harness produces a token we accept (so every hostile case changes one thing)', async () => {
    resetClock();
    const claims = await service.verifyAccessToken(signRaw(accessHeader(), accessPayload()));
    expect(claims.userId).toBe(userId);
  });

  it('issues and verifies an access token', async () => {
    resetClock();
    const { token, expiresAt } = await service.issueAccessToken({ userId, tenantId, role: 'admin' });
    expect(expiresAt.getTime()).toBe(START_MS + ACCESS_TTL * 1000);
    const claims = await service.verifyAccessToken(token);
    expect(claims).toEqual({ userId, tenantId, role: 'admin', jti: expect.any(String), expiresAt });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect('sessionId' in claims).toBe(false);
  });

  it('carries the session id when given', async () => {
    resetClock();
    const sessionId = randomUUID();
    const { token } = await service.issueAccessToken({ userId, tenantId, role: 'owner', sessionId });
    expect((await service.verifyAccessToken(token)).sessionId).toBe(sessionId);
  });

  it('gives every token a fresh jti', async () => {
    resetClock();
    const a = await service.verifyAccessToken((await service.issueAccessToken({ userId, tenantId, role: 'member' })).token);
    const b = await service.verifyAccessToken((await service.issueAccessToken({ userId, tenantId, role: 'member' })).token);
    expect(a.jti).not.toBe(b.jti);
  });

  it('issues and verifies a WebSocket ticket', async () => {
    resetClock();
    const { ticket, jti, expiresAt } = await service.issueWsTicket({ userId, tenantId });
    expect(expiresAt.getTime()).toBe(START_MS + TICKET_TTL * 1000);
    expect(await service.verifyWsTicket(ticket)).toEqual({ userId, tenantId, jti, expiresAt });
  });

  it('sets exactly alg, typ and a thumbprint kid in the header', async () => {
    resetClock();
    const { token } = await service.issueAccessToken({ userId, tenantId, role: 'member' });
    const { ticket } = await service.issueWsTicket({ userId, tenantId });
    const jwk = await exportJWK(createPublicKey(ours.privateKey));
    const thumbprint = await calculateJwkThumbprint(jwk);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid: thumbprint });
    expect(decodeProtectedHeader(ticket)).toEqual({ alg: 'EdDSA', typ: WS_TICKET_TYP, kid: thumbprint });
  });

  it('publishes the public JWK only', () => {
    const jwk = service.publicJwk();
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid, alg: 'EdDSA', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    expect(Object.isFrozen(jwk)).toBe(true);
  });

  it('accepts every role', async () => {
    resetClock();
    for (const role of ['owner', 'admin', 'member', 'agent', 'auditor'] as const) {
      const { token } = await service.issueAccessToken({ userId, tenantId, role });
      expect((await service.verifyAccessToken(token)).role).toBe(role);
    }
  });

  it('accepts a PEM written on one line with literal \\n escapes', async () => {
    const escaped = ourPem.trim().replaceAll('\n', '\\n');
    const other = await createTokenService({
      privateKeyPem: escaped,
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      accessTtlSeconds: ACCESS_TTL,
      ticketTtlSeconds: TICKET_TTL,
    });
    expect(other.keyId).toBe(kid);
  });
});

describe('token service: clock-driven expiry', () => {
  it('an access token is valid until exp plus at most 5 s of tolerance', async () => {
    resetClock();
    const { token } = await service.issueAccessToken({ userId, tenantId, role: 'member' });
    clock.advance(ACCESS_TTL * 1000 - 1000);
    await expect(service.verifyAccessToken(token)).resolves.toBeDefined();
    clock.advance(1000 + 4000); // exp + 4 s: inside the tolerance
    await expect(service.verifyAccessToken(token)).resolves.toBeDefined();
    clock.advance(1000); // exp + 5 s
    await expectRejected(service.verifyAccessToken(token), 'expired');
    clock.advance(3_600_000);
    await expectRejected(service.verifyAccessToken(token), 'expired');
  });

  it('a ticket expires on its own, shorter TTL', async () => {
    resetClock();
    const { ticket } = await service.issueWsTicket({ userId, tenantId });
    const { token } = await service.issueAccessToken({ userId, tenantId, role: 'member' });
    clock.advance((TICKET_TTL + 5) * 1000);
    await expectRejected(service.verifyWsTicket(ticket), 'expired');
    await expect(service.verifyAccessToken(token)).resolves.toBeDefined();
  });

  it('tolerates a verifier clock up to 5 s behind the issuer, not more', async () => {
    resetClock();
    const { token } = await service.issueAccessToken({ userId, tenantId, role: 'member' });
    clock.set(START_MS - 5000);
    await expect(service.verifyAccessToken(token)).resolves.toBeDefined();
    clock.set(START_MS - 6000);
    await expectRejected(service.verifyAccessToken(token), 'iat_invalid');
  });
});

describe('token service: hostile access tokens (each must be unauthenticated)', () => {
  const cases: Array<[string, () => string | Promise<string>, TokenRejectReason]> = [
    ['expired', () => signRaw(accessHeader(), accessPayload({ iat: NOW - 1000, exp: NOW - 100 })), 'expired'],
    ['no exp', () => signRaw(accessHeader(), without(accessPayload(), 'exp')), 'missing_claim'],
    ['no iat', () => signRaw(accessHeader(), without(accessPayload(), 'iat')), 'missing_claim'],
    ['exp as a string', () => signRaw(accessHeader(), accessPayload({ exp: String(NOW + 60) })), 'bad_claims'],
    ['nbf in the future', () => signRaw(accessHeader(), accessPayload({ nbf: NOW + 60 })), 'not_yet_valid'],
    ['iat far in the future (a token from the future)', () => signRaw(accessHeader(), accessPayload({ iat: NOW + 3600, exp: NOW + 3600 + ACCESS_TTL })), 'iat_invalid'],
    ['lifetime longer than our TTL (old iat, far exp)', () => signRaw(accessHeader(), accessPayload({ iat: NOW - 2 * ACCESS_TTL, exp: NOW + 10 * ACCESS_TTL })), 'expired'],
    ['wrong iss', () => signRaw(accessHeader(), accessPayload({ iss: 'evil' })), 'wrong_issuer'],
    ['no iss', () => signRaw(accessHeader(), without(accessPayload(), 'iss')), 'missing_claim'],
    ['wrong aud', () => signRaw(accessHeader(), accessPayload({ aud: 'some-other-api' })), 'wrong_audience'],
    ['aud as an array (not what we issue)', () => signRaw(accessHeader(), accessPayload({ aud: [AUDIENCE, 'other'] })), 'bad_claims'],
    ['missing sub', () => signRaw(accessHeader(), without(accessPayload(), 'sub')), 'missing_claim'],
    ['missing jti', () => signRaw(accessHeader(), without(accessPayload(), 'jti')), 'missing_claim'],
    ['non-UUID sub', () => signRaw(accessHeader(), accessPayload({ sub: 'admin' })), 'bad_claims'],
    ['SQL in sub', () => signRaw(accessHeader(), accessPayload({ sub: "' OR 1=1 --" })), 'bad_claims'],
    ['non-UUID tenant', () => signRaw(accessHeader(), accessPayload({ tid: '1' })), 'bad_claims'],
    ['missing tenant', () => signRaw(accessHeader(), without(accessPayload(), 'tid')), 'bad_claims'],
    ['non-UUID jti', () => signRaw(accessHeader(), accessPayload({ jti: 'x' })), 'bad_claims'],
    ['non-UUID session id', () => signRaw(accessHeader(), accessPayload({ sid: '../x' })), 'bad_claims'],
    ['bad role', () => signRaw(accessHeader(), accessPayload({ role: 'superuser' })), 'bad_claims'],
    ['role with different case', () => signRaw(accessHeader(), accessPayload({ role: 'Owner' })), 'bad_claims'],
    ['missing role', () => signRaw(accessHeader(), without(accessPayload(), 'role')), 'bad_claims'],
    ['extra claim', () => signRaw(accessHeader(), accessPayload({ isAdmin: true })), 'bad_claims'],
    ['__proto__ claim', () => signRaw(accessHeader(), JSON.parse(`{"__proto__":{"role":"owner"},${b64Inner(accessPayload())}}`) as Record<string, unknown>), 'bad_claims'],
    ['alg none, empty signature', () => `${b64({ alg: 'none', typ: ACCESS_TOKEN_TYP, kid })}.${b64(accessPayload())}.`, 'malformed'],
    ['alg none, junk signature', () => `${b64({ alg: 'none', typ: ACCESS_TOKEN_TYP, kid })}.${b64(accessPayload())}.AAAA`, 'wrong_alg'],
    ['alg NONE (case games)', () => `${b64({ alg: 'NONE', typ: ACCESS_TOKEN_TYP, kid })}.${b64(accessPayload())}.AAAA`, 'wrong_alg'],
    ['HS256 with the raw public key bytes as HMAC secret', () => hmacToken(rawPublicKey()), 'wrong_alg'],
    ['HS256 with the public key PEM as HMAC secret', () => hmacToken(Buffer.from(publicPem())), 'wrong_alg'],
    ['RS256 from another key', () => foreignToken('RS256'), 'wrong_alg'],
    ['ES256 from another key', () => foreignToken('ES256'), 'wrong_alg'],
    ['Ed25519 alg name instead of EdDSA', () => signRaw(accessHeader({ alg: 'Ed25519' }), accessPayload()), 'wrong_alg'],
    ['signed by another Ed25519 key with our kid', () => signRaw(accessHeader(), accessPayload(), attacker.privateKey), 'bad_signature'],
    ['tampered payload (role raised, signature kept)', () => tamperPayload(), 'bad_signature'],
    ['tampered signature', () => tamperSignature(), 'bad_signature'],
    ['signature stripped', () => signRaw(accessHeader(), accessPayload()).split('.').slice(0, 2).join('.') + '.', 'malformed'],
    ['ticket presented as access token (wrong typ)', async () => (await service.issueWsTicket({ userId, tenantId })).ticket, 'wrong_typ'],
    ['typ missing', () => signRaw({ alg: 'EdDSA', kid }, accessPayload()), 'wrong_typ'],
    ['typ JWT', () => signRaw(accessHeader({ typ: 'JWT' }), accessPayload()), 'wrong_typ'],
    ['typ with different case', () => signRaw(accessHeader({ typ: ACCESS_TOKEN_TYP.toUpperCase() }), accessPayload()), 'wrong_typ'],
    ['typ with application/ prefix', () => signRaw(accessHeader({ typ: `application/${ACCESS_TOKEN_TYP}` }), accessPayload()), 'wrong_typ'],
    ['ticket-shaped claims under the access typ', () => signRaw(accessHeader(), without(accessPayload(), 'role')), 'bad_claims'],
    ['hostile kid: path traversal', () => signRaw(accessHeader({ kid: '../../../../etc/passwd' }), accessPayload()), 'kid_mismatch'],
    ['hostile kid: SQL', () => signRaw(accessHeader({ kid: "x' UNION SELECT key FROM keys --" }), accessPayload()), 'kid_mismatch'],
    ['hostile kid: not a string', () => signRaw(accessHeader({ kid: { $ne: null } }), accessPayload()), 'kid_mismatch'],
    ['kid missing', () => signRaw({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP }, accessPayload()), 'kid_mismatch'],
    ['kid of our key with a suffix', () => signRaw(accessHeader({ kid: `${kid} ` }), accessPayload()), 'kid_mismatch'],
    ['embedded jwk header with the attacker key', () => embeddedJwkToken(), 'bad_header'],
    ['jku header', () => signRaw(accessHeader({ jku: 'http://169.254.169.254/keys' }), accessPayload()), 'bad_header'],
    ['x5u header', () => signRaw(accessHeader({ x5u: 'http://127.0.0.1:6379/' }), accessPayload()), 'bad_header'],
    ['crit header', () => signRaw(accessHeader({ crit: ['exp'], exp: 1 }), accessPayload()), 'bad_header'],
    ['b64:false (unencoded payload)', () => signRaw(accessHeader({ b64: false, crit: ['b64'] }), accessPayload()), 'bad_header'],
    ['garbage', () => 'hello world', 'malformed'],
    ['three garbage segments', () => 'aaa.bbb.ccc', 'malformed'],
    ['header is not JSON', () => `${Buffer.from('not json').toString('base64url')}.${b64(accessPayload())}.AAAA`, 'malformed'],
    ['header is a JSON array', () => `${b64(['EdDSA'])}.${b64(accessPayload())}.AAAA`, 'malformed'],
    ['payload is not JSON (signed by us)', () => signedRawPayload('not json'), 'malformed'],
    ['payload is a JSON array (signed by us)', () => signedRawPayload('[1,2]'), 'malformed'],
    ['JWS JSON serialization', () => JSON.stringify({ protected: b64(accessHeader()), payload: b64(accessPayload()), signature: 'AAAA' }), 'malformed'],
    ['surrounding whitespace', async () => ` ${signRaw(accessHeader(), accessPayload())} `, 'malformed'],
    ['Bearer prefix left on', async () => `Bearer ${signRaw(accessHeader(), accessPayload())}`, 'malformed'],
    ['empty', () => '', 'empty'],
    ['oversized (validly signed, huge claim)', () => signRaw(accessHeader(), accessPayload({ pad: 'x'.repeat(MAX_TOKEN_CHARS) })), 'too_large'],
    ['oversized garbage', () => 'a'.repeat(1_000_000), 'too_large'],
  ];

  it('covers at least 25 hostile cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s', async (_name, make, reason) => {
    resetClock();
    await expectRejected(Promise.resolve(make()).then((token) => service.verifyAccessToken(token)), reason);
  });

  it('non-string input is refused, not crashed on', async () => {
    for (const value of [undefined, null, 42, {}, ['a.b.c']]) {
      await expectRejected(service.verifyAccessToken(value as unknown as string), 'empty');
    }
  });

  it('a token from a service with another key is refused', async () => {
    const other = await createTokenService({
      privateKeyPem: attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      accessTtlSeconds: ACCESS_TTL,
      ticketTtlSeconds: TICKET_TTL,
    });
    resetClock();
    const { token } = await other.issueAccessToken({ userId, tenantId, role: 'owner' });
    await expectRejected(service.verifyAccessToken(token), 'kid_mismatch');
  });

  it('a token from a service with our key but another issuer or audience is refused', async () => {
    const base = { privateKeyPem: ourPem, clock, accessTtlSeconds: ACCESS_TTL, ticketTtlSeconds: TICKET_TTL };
    const otherIssuer = await createTokenService({ ...base, issuer: 'staging', audience: AUDIENCE });
    const otherAudience = await createTokenService({ ...base, issuer: ISSUER, audience: 'admin-api' });
    resetClock();
    await expectRejected(service.verifyAccessToken((await otherIssuer.issueAccessToken({ userId, tenantId, role: 'owner' })).token), 'wrong_issuer');
    await expectRejected(service.verifyAccessToken((await otherAudience.issueAccessToken({ userId, tenantId, role: 'owner' })).token), 'wrong_audience');
  });
});

describe('token service: hostile WebSocket tickets', () => {
  const ticketHeader = (overrides: Record<string, unknown> = {}) => ({ alg: 'EdDSA', typ: WS_TICKET_TYP, kid, ...overrides });
  const ticketPayload = (overrides: Record<string, unknown> = {}) => ({
    ...without(accessPayload({ exp: NOW + TICKET_TTL }), 'role'),
    ...overrides,
  });

  it('the raw harness makes a valid ticket', async () => {
    resetClock();
    await expect(service.verifyWsTicket(signRaw(ticketHeader(), ticketPayload()))).resolves.toMatchObject({ userId, tenantId });
  });

  it.each<[string, () => string | Promise<string>, TokenRejectReason]>([
    ['access token presented as a ticket', async () => (await service.issueAccessToken({ userId, tenantId, role: 'owner' })).token, 'wrong_typ'],
    ['access-shaped claims (with role) under the ticket typ', () => signRaw(ticketHeader(), ticketPayload({ role: 'owner' })), 'bad_claims'],
    ['expired ticket', () => signRaw(ticketHeader(), ticketPayload({ iat: NOW - 100, exp: NOW - 60 })), 'expired'],
    ['ticket with an access-token lifetime', () => signRaw(ticketHeader(), ticketPayload({ iat: NOW - 600, exp: NOW + 300 })), 'expired'],
    ['ticket from the future', () => signRaw(ticketHeader(), ticketPayload({ iat: NOW + 60, exp: NOW + 90 })), 'iat_invalid'],
    ['ticket signed by another key', () => signRaw(ticketHeader(), ticketPayload(), attacker.privateKey), 'bad_signature'],
    ['ticket with hostile kid', () => signRaw(ticketHeader({ kid: '/dev/null' }), ticketPayload()), 'kid_mismatch'],
    ['ticket with non-UUID sub', () => signRaw(ticketHeader(), ticketPayload({ sub: 'bob' })), 'bad_claims'],
  ])('%s', async (_name, make, reason) => {
    resetClock();
    await expectRejected(Promise.resolve(make()).then((ticket) => service.verifyWsTicket(ticket)), reason);
  });
});

describe('token service: construction and issuing', () => {
  const base = { issuer: ISSUER, audience: AUDIENCE, accessTtlSeconds: ACCESS_TTL, ticketTtlSeconds: TICKET_TTL };

  it.each([
    ['garbage PEM', 'not a pem'],
    ['empty PEM', ''],
    ['an RSA key', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['an EC P-256 key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['a public key', publicPem()],
  ])('refuses %s with config_invalid', async (_name, pem) => {
    const error: unknown = await createTokenService({ ...base, clock: createManualClock(START_MS), privateKeyPem: pem }).catch((e: unknown) => e);
    expect(isSwitchboardError(error, 'config_invalid')).toBe(true);
  });

  it('refuses nonsensical TTLs and empty issuer/audience', async () => {
    for (const overrides of [{ accessTtlSeconds: 0 }, { ticketTtlSeconds: -1 }, { accessTtlSeconds: 1.5 }, { issuer: '' }, { audience: '' }]) {
      const error: unknown = await createTokenService({ ...base, clock, privateKeyPem: ourPem, ...overrides }).catch((e: unknown) => e);
      expect(isSwitchboardError(error, 'config_invalid')).toBe(true);
    }
  });

  it('refuses to issue for invalid input rather than minting an unverifiable token', async () => {
    const bad = [
      service.issueAccessToken({ userId: 'bob', tenantId, role: 'member' }),
      service.issueAccessToken({ userId, tenantId, role: 'root' as 'owner' }),
      service.issueAccessToken({ userId, tenantId, role: 'member', sessionId: 'x' }),
      service.issueWsTicket({ userId, tenantId: 'acme' }),
    ];
    for (const promise of bad) {
      const error: unknown = await promise.catch((e: unknown) => e);
      expect(isSwitchboardError(error, 'internal')).toBe(true);
    }
  });
});

// ---- helpers for forged tokens ----

function b64Inner(payload: Record<string, unknown>): string {
  return JSON.stringify(payload).slice(1, -1);
}

function publicPem(): string {
  return createPublicKey(ours.privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

function rawPublicKey(): Buffer {
  const jwk = createPublicKey(ours.privateKey).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

async function hmacToken(secret: Uint8Array): Promise<string> {
  return new SignJWT(accessPayload()).setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYP, kid }).sign(secret);
}

async function foreignToken(alg: 'RS256' | 'ES256'): Promise<string> {
  const { privateKey } = await generateKeyPair(alg);
  return new SignJWT(accessPayload()).setProtectedHeader({ alg, typ: ACCESS_TOKEN_TYP, kid }).sign(privateKey);
}

async function embeddedJwkToken(): Promise<string> {
  const jwk = await exportJWK(createPublicKey(attacker.privateKey));
  return signRaw(accessHeader({ jwk }), accessPayload({ role: 'owner' }), attacker.privateKey);
}

function tamperPayload(): string {
  const [header = '', , signature = ''] = signRaw(accessHeader(), accessPayload({ role: 'member' })).split('.');
  return `${header}.${b64(accessPayload({ role: 'owner' }))}.${signature}`;
}

function tamperSignature(): string {
  const [header = '', payload = '', signature = ''] = signRaw(accessHeader(), accessPayload()).split('.');
  return `${header}.${payload}.${flipChar(signature, 10)}`;
}

function signedRawPayload(text: string): string {
  const input = `${b64(accessHeader())}.${Buffer.from(text).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), ours.privateKey).toString('base64url')}`;
}
