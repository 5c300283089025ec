/**
 * The three JWT kinds (access, WebSocket ticket, mfa step) and the opaque refresh token never pass
 * as one another, and hostile mfa tokens are refused like hostile access tokens (tokens.test.ts).
 * Every case below must be refused with `unauthenticated`: 0 accepted.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/core/clock.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import {
  ACCESS_TOKEN_TYP,
  createTokenService,
  MFA_TOKEN_TYP,
  WS_TICKET_TYP,
  type TokenRejectReason,
  type TokenService,
} from '../../src/auth/tokens.ts';
import { generateRefreshToken } from '../../src/auth/refresh-tokens.ts';

const ISSUER = 'switchboard';
const AUDIENCE = 'switchboard-api';
const START_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = START_MS / 1000;
const MFA_TTL = 300;

const ours = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const userId = randomUUID();
const tenantId = randomUUID();
const sessionId = randomUUID();

let clock: ReturnType<typeof createManualClock>;
let service: TokenService;
let kid: string;

beforeAll(async () => {
  clock = createManualClock(START_MS);
  service = await createTokenService({
    privateKeyPem: ours.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    accessTtlSeconds: 900,
    ticketTtlSeconds: 30,
    mfaTtlSeconds: MFA_TTL,
  });
  kid = service.keyId;
});

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject = ours.privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

const mfaHeader = (overrides: Record<string, unknown> = {}) => ({ alg: 'EdDSA', typ: MFA_TOKEN_TYP, kid, ...overrides });
const mfaPayload = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: userId,
  tid: tenantId,
  jti: randomUUID(),
  iat: NOW,
  exp: NOW + MFA_TTL,
  pur: 'verify',
  ...overrides,
});
const without = (payload: Record<string, unknown>, claim: string) => {
  const copy = { ...payload };
  delete copy[claim];
  return copy;
};

async function expectRejected(promise: Promise<unknown>, reason?: TokenRejectReason): Promise<void> {
  const error: unknown = await promise.then(
    () => 'accepted',
    (e: unknown) => e,
  );
  expect(isSwitchboardError(error, 'unauthenticated'), `expected unauthenticated, got ${String(error)}`).toBe(true);
  if (reason !== undefined && isSwitchboardError(error)) expect(error.details.context?.['reason']).toBe(reason);
}

const access = () => service.issueAccessToken({ userId, tenantId, role: 'owner', sessionId }).then((t) => t.token);
const ticket = () => service.issueWsTicket({ userId, tenantId, sessionId }).then((t) => t.ticket);
const mfa = (purpose: 'verify' | 'enrol' = 'verify') => service.issueMfaToken({ userId, tenantId, purpose }).then((t) => t.token);
const refresh = () => generateRefreshToken().token;

describe('mfa tokens and session-bound tickets: happy paths', () => {
  it('issues and verifies an mfa token with its purpose, under its own typ', async () => {
    clock.set(START_MS);
    for (const purpose of ['verify', 'enrol'] as const) {
      const { token, jti, expiresAt } = await service.issueMfaToken({ userId, tenantId, purpose });
      expect(expiresAt.getTime()).toBe(START_MS + MFA_TTL * 1000);
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: MFA_TOKEN_TYP, kid });
      expect(await service.verifyMfaToken(token)).toEqual({ userId, tenantId, purpose, jti, expiresAt });
    }
  });

  it('the raw harness makes an mfa token we accept (so each hostile case changes one thing)', async () => {
    clock.set(START_MS);
    await expect(service.verifyMfaToken(signRaw(mfaHeader(), mfaPayload()))).resolves.toMatchObject({ userId, purpose: 'verify' });
  });

  it('a ticket carries the session id', async () => {
    clock.set(START_MS);
    const { ticket: t, jti, expiresAt } = await service.issueWsTicket({ userId, tenantId, sessionId });
    expect(await service.verifyWsTicket(t)).toEqual({ userId, tenantId, jti, sessionId, expiresAt });
  });

  it('the three typ values are distinct', () => {
    expect(new Set([ACCESS_TOKEN_TYP, WS_TICKET_TYP, MFA_TOKEN_TYP]).size).toBe(3);
  });

  it('refuses to issue an mfa token for invalid input', async () => {
    for (const input of [
      { userId: 'bob', tenantId, purpose: 'verify' as const },
      { userId, tenantId, purpose: 'admin' as 'verify' },
    ]) {
      const error: unknown = await service.issueMfaToken(input).catch((e: unknown) => e);
      expect(isSwitchboardError(error, 'internal')).toBe(true);
    }
  });
});

type Case = [string, () => string | Promise<string>, TokenRejectReason];

describe('one kind never passes as another (0 accepted)', () => {
  const asAccess: Case[] = [
    ['mfa token (verify) used as an access token', () => mfa('verify'), 'wrong_typ'],
    ['mfa token (enrol) used as an access token', () => mfa('enrol'), 'wrong_typ'],
    ['ticket with a session id used as an access token', ticket, 'wrong_typ'],
    ['refresh token used as an access token', refresh, 'malformed'],
    ['mfa claims (pur) signed under the access typ', () => signRaw({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid }, mfaPayload()), 'bad_claims'],
    ['mfa claims plus a role under the access typ', () => signRaw({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid }, mfaPayload({ role: 'owner' })), 'bad_claims'],
  ];
  const asTicket: Case[] = [
    ['mfa token used as a WebSocket ticket', () => mfa(), 'wrong_typ'],
    ['refresh token used as a WebSocket ticket', refresh, 'malformed'],
    ['access token with a session id used as a ticket', access, 'wrong_typ'],
    ['mfa claims (pur) under the ticket typ', () => signRaw({ alg: 'EdDSA', typ: WS_TICKET_TYP, kid }, { ...mfaPayload({ exp: NOW + 30 }) }), 'bad_claims'],
    ['ticket with a non-UUID session id', () => signRaw({ alg: 'EdDSA', typ: WS_TICKET_TYP, kid }, without(mfaPayload({ exp: NOW + 30, sid: '../x' }), 'pur')), 'bad_claims'],
  ];
  const asMfa: Case[] = [
    ['access token used as an mfa token', access, 'wrong_typ'],
    ['ticket used as an mfa token', ticket, 'wrong_typ'],
    ['refresh token used as an mfa token', refresh, 'malformed'],
    ['access claims (role, sid) under the mfa typ', () => signRaw(mfaHeader(), without(mfaPayload({ role: 'owner', sid: sessionId }), 'pur')), 'bad_claims'],
    ['ticket claims (no pur) under the mfa typ', () => signRaw(mfaHeader(), without(mfaPayload(), 'pur')), 'bad_claims'],
  ];

  it.each(asAccess)('%s', async (_name, make, reason) => {
    clock.set(START_MS);
    await expectRejected(Promise.resolve(make()).then((t) => service.verifyAccessToken(t)), reason);
  });
  it.each(asTicket)('%s', async (_name, make, reason) => {
    clock.set(START_MS);
    await expectRejected(Promise.resolve(make()).then((t) => service.verifyWsTicket(t)), reason);
  });
  it.each(asMfa)('%s', async (_name, make, reason) => {
    clock.set(START_MS);
    await expectRejected(Promise.resolve(make()).then((t) => service.verifyMfaToken(t)), reason);
  });
});

describe('hostile mfa tokens (0 accepted)', () => {
  const cases: Case[] = [
    ['unknown purpose', () => signRaw(mfaHeader(), mfaPayload({ pur: 'admin' })), 'bad_claims'],
    ['purpose with different case', () => signRaw(mfaHeader(), mfaPayload({ pur: 'VERIFY' })), 'bad_claims'],
    ['extra claim', () => signRaw(mfaHeader(), mfaPayload({ mfa: true })), 'bad_claims'],
    ['session id smuggled in', () => signRaw(mfaHeader(), mfaPayload({ sid: sessionId })), 'bad_claims'],
    ['expired', () => signRaw(mfaHeader(), mfaPayload({ iat: NOW - 400, exp: NOW - 100 })), 'expired'],
    ['no exp', () => signRaw(mfaHeader(), without(mfaPayload(), 'exp')), 'missing_claim'],
    ['lifetime longer than the mfa TTL', () => signRaw(mfaHeader(), mfaPayload({ iat: NOW - 2 * MFA_TTL, exp: NOW + 3600 })), 'expired'],
    ['from the future', () => signRaw(mfaHeader(), mfaPayload({ iat: NOW + 60, exp: NOW + 360 })), 'iat_invalid'],
    ['nbf in the future', () => signRaw(mfaHeader(), mfaPayload({ nbf: NOW + 60 })), 'not_yet_valid'],
    ['wrong audience', () => signRaw(mfaHeader(), mfaPayload({ aud: 'other' })), 'wrong_audience'],
    ['wrong issuer', () => signRaw(mfaHeader(), mfaPayload({ iss: 'evil' })), 'wrong_issuer'],
    ['non-UUID subject', () => signRaw(mfaHeader(), mfaPayload({ sub: 'admin' })), 'bad_claims'],
    ['signed by another key with our kid', () => signRaw(mfaHeader(), mfaPayload(), attacker.privateKey), 'bad_signature'],
    ['alg none', () => `${b64({ alg: 'none', typ: MFA_TOKEN_TYP, kid })}.${b64(mfaPayload())}.AAAA`, 'wrong_alg'],
    ['HS256 keyed with our public key', () => hmacWithPublicKey(), 'wrong_alg'],
    ['hostile kid', () => signRaw(mfaHeader({ kid: '../../etc/passwd' }), mfaPayload()), 'kid_mismatch'],
    ['jku header', () => signRaw(mfaHeader({ jku: 'http://169.254.169.254/' }), mfaPayload()), 'bad_header'],
    ['typ in upper case', () => signRaw(mfaHeader({ typ: MFA_TOKEN_TYP.toUpperCase() }), mfaPayload()), 'wrong_typ'],
    ['typ JWT', () => signRaw(mfaHeader({ typ: 'JWT' }), mfaPayload()), 'wrong_typ'],
    ['garbage', () => 'mfa.token.here', 'malformed'],
  ];

  it.each(cases)('%s', async (_name, make, reason) => {
    clock.set(START_MS);
    await expectRejected(Promise.resolve(make()).then((t) => service.verifyMfaToken(t)), reason);
  });

  it('an issued mfa token is refused after its TTL on the clock', async () => {
    clock.set(START_MS);
    const token = await mfa();
    clock.set(START_MS + (MFA_TTL + 5) * 1000);
    await expectRejected(service.verifyMfaToken(token), 'expired');
  });
});

describe('refresh tokens are opaque', () => {
  it('sbr_ + 43 base64url characters (256 bits), unique, and never three dot-separated segments', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const { token, hash } = generateRefreshToken();
      expect(token).toMatch(/^sbr_[A-Za-z0-9_-]{43}$/);
      expect(token).not.toContain('.');
      expect(hash).toHaveLength(32);
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });
});

async function hmacWithPublicKey(): Promise<string> {
  const pem = createPublicKey(ours.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return new SignJWT(mfaPayload()).setProtectedHeader({ alg: 'HS256', typ: MFA_TOKEN_TYP, kid }).sign(Buffer.from(pem));
}
