/**
 * Two-factor sign-in over HTTP through the whole product: enrolment (URI, QR, recovery codes), the
 * mfa step at sign-in, single-use codes and recovery codes, strict bodies, the tenant policy
 * (enrol during sign-in), and the mfa token refused anywhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { setRequired2faRoles } from '../../src/store/totp.ts';
import { call, fromSession, login } from './auth-http-helpers.ts';

const PASSWORD = 'correct horse battery staple 42';
let stack: Stack;
let n = 0;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function newUser(role: 'member' | 'admin' | 'owner' = 'member'): Promise<{ email: string; id: string }> {
  const email = `tfa-${++n}@example.test`;
  const { id } = await stack.createUser({ email, password: PASSWORD, role });
  return { email, id };
}

const secretOf = (uri: unknown) => new URL(String(uri)).searchParams.get('secret') ?? '';

/** Enrols over HTTP with an access token; returns the secret and the recovery codes. */
async function enrolOverHttp(accessToken: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { token: accessToken, body: {} });
  expect(started.status).toBe(200);
  const secret = secretOf(started.body['otpauthUri']);
  const confirmed = await call(stack.baseUrl, 'POST', '/auth/2fa/confirm', { token: accessToken, body: { code: await totpCodeAt(secret, Date.now()) } });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return { secret, recoveryCodes: confirmed.body['recoveryCodes'] as string[] };
}

describe('enrolment over HTTP', () => {
  it('returns the otpauth URI, the secret and an SVG QR code; confirming shows 10 recovery codes once', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const started = await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { token: s.accessToken, body: {} });
    expect(started.status).toBe(200);
    const uri = new URL(String(started.body['otpauthUri']));
    expect(decodeURIComponent(uri.pathname)).toBe(`/Switchboard:${email}`);
    expect(started.body['secret']).toBe(uri.searchParams.get('secret'));
    expect(String(started.body['qrCode'])).toMatch(/^data:image\/svg\+xml;base64,/);
    expect((await call(stack.baseUrl, 'GET', '/auth/2fa', { token: s.accessToken })).body).toMatchObject({ enabled: false, pendingEnrolment: true });

    const secret = secretOf(started.body['otpauthUri']);
    const confirmed = await call(stack.baseUrl, 'POST', '/auth/2fa/confirm', { token: s.accessToken, body: { code: await totpCodeAt(secret, Date.now()) } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body['recoveryCodes']).toHaveLength(10);
    const status = await call(stack.baseUrl, 'GET', '/auth/2fa', { token: s.accessToken });
    expect(status.body).toMatchObject({ enabled: true, recoveryCodesRemaining: 10, required: false });
    expect(JSON.stringify(status.body)).not.toContain(secret);
  });

  it('needs a signed-in session (or an enrol token) and strict bodies', async () => {
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { body: {} })).status).toBe(401);
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { token: s.accessToken, body: { secret: 'AAAA' } })).status).toBe(400);
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/confirm', { token: s.accessToken, body: { code: '123456', enabled: true } })).status).toBe(400);
  });
});

describe('sign-in with 2FA', () => {
  it('password → mfaRequired (no session, no cookie) → code → session; wrong and reused codes refused', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const { secret } = await enrolOverHttp(s.accessToken);

    const first = await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: expect.any(Number) });
    expect(Number(first.body['expiresIn'])).toBeGreaterThan(295);
    expect(first.cookie).toBeUndefined();
    const mfaToken = String(first.body['mfaToken']);

    // The mfa token is no access token.
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: mfaToken })).status).toBe(401);
    expect((await call(stack.baseUrl, 'POST', '/ws-ticket', { token: mfaToken, body: {} })).status).toBe(401);

    const wrong = await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken, code: '000000' === (await totpCodeAt(secret, Date.now())) ? '111111' : '000000' } });
    expect(wrong.status).toBe(401);
    // The next step's code (the current one was spent on the confirmation): accepted once.
    const code = await totpCodeAt(secret, Date.now() + 30_000);
    const ok = await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken, code } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body['session']).toMatchObject({ authMethod: 'password+totp' });
    const session = fromSession(ok);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: session.accessToken })).status).toBe(200);

    // The same code with a fresh mfa token: refused (RFC 6238 §5.2).
    const again = await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    const reused = await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken: again.body['mfaToken'], code } });
    expect(reused.status).toBe(401);
    // The spent mfa token cannot be used again.
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken, code } })).status).toBe(401);
  });

  it('a recovery code signs in once', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const { recoveryCodes } = await enrolOverHttp(s.accessToken);
    const recoveryCode = recoveryCodes[3] ?? '';
    const step = async () => String((await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).body['mfaToken']);
    const ok = await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken: await step(), recoveryCode } });
    expect(ok.status).toBe(200);
    expect(ok.body['session']).toMatchObject({ authMethod: 'password+recovery_code' });
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken: await step(), recoveryCode } })).status).toBe(401);
  });

  it('refuses bodies with both proofs, none, or extra fields', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    await enrolOverHttp(s.accessToken);
    const mfaToken = String((await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).body['mfaToken']);
    for (const body of [{ mfaToken, code: '123456', recoveryCode: 'x' }, { mfaToken }, { mfaToken, code: '123456', userId: 'x' }, { code: '123456' }]) {
      expect((await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body })).status).toBe(400);
    }
  });

  it('locks after 5 wrong codes: 429 with Retry-After, even for the right code', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const { secret } = await enrolOverHttp(s.accessToken);
    const mfaToken = String((await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).body['mfaToken']);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken, code: 'abcdef' } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const response = await fetch(`${stack.baseUrl}/api/v1/auth/2fa/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mfaToken, code: await totpCodeAt(secret, Date.now() + 30_000) }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(800);
  });

  it('turning 2FA off needs a fresh code; afterwards sign-in is password-only again', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const { recoveryCodes } = await enrolOverHttp(s.accessToken);
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/disable', { token: s.accessToken, body: {} })).status).toBe(400);
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/disable', { token: s.accessToken, body: { code: 'abcdef' } })).status).toBe(401);
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/disable', { token: s.accessToken, body: { recoveryCode: recoveryCodes[0] } })).status).toBe(204);
    await login(stack.baseUrl, email, PASSWORD);
  });
});

describe('the tenant policy', () => {
  it('only tenant:configure may read or change it; unknown roles and fields are refused', async () => {
    const member = await newUser('member');
    const admin = await newUser('admin');
    const m = await login(stack.baseUrl, member.email, PASSWORD);
    const a = await login(stack.baseUrl, admin.email, PASSWORD);
    expect((await call(stack.baseUrl, 'GET', '/auth/2fa/policy', { token: m.accessToken })).status).toBe(403);
    expect((await call(stack.baseUrl, 'PUT', '/auth/2fa/policy', { token: a.accessToken, body: { requiredRoles: ['owner'] } })).status).toBe(403);
    const owner = await newUser('owner');
    const o = await login(stack.baseUrl, owner.email, PASSWORD);
    expect((await call(stack.baseUrl, 'PUT', '/auth/2fa/policy', { token: o.accessToken, body: { requiredRoles: ['root'] } })).status).toBe(400);
    expect((await call(stack.baseUrl, 'PUT', '/auth/2fa/policy', { token: o.accessToken, body: { requiredRoles: [], tenantId: 'x' } })).status).toBe(400);
    const set = await call(stack.baseUrl, 'PUT', '/auth/2fa/policy', { token: o.accessToken, body: { requiredRoles: ['auditor'] } });
    expect(set.body).toEqual({ requiredRoles: ['auditor'] });
    expect((await call(stack.baseUrl, 'GET', '/auth/2fa/policy', { token: o.accessToken })).body).toEqual({ requiredRoles: ['auditor'] });
    await call(stack.baseUrl, 'PUT', '/auth/2fa/policy', { token: o.accessToken, body: { requiredRoles: [] } });
  });

  it('an owner without 2FA, when owners must have it, gets an enrol-only step and is signed in by confirming', async () => {
    const owner = await newUser('owner');
    await setRequired2faRoles(stack.switchboard.services.db, stack.tenantId, ['owner']);
    try {
      const first = await call(stack.baseUrl, 'POST', '/auth/login', { body: { email: owner.email, password: PASSWORD } });
      expect(first.body).toEqual({ mfaEnrolmentRequired: true, mfaToken: expect.any(String), expiresIn: expect.any(Number) });
      const mfaToken = String(first.body['mfaToken']);
      // Enrol-only: not an access token, not a verify token.
      expect((await call(stack.baseUrl, 'GET', '/auth/2fa', { token: mfaToken })).status).toBe(401);
      expect((await call(stack.baseUrl, 'POST', '/auth/2fa/verify', { body: { mfaToken, code: '123456' } })).status).toBe(401);

      const started = await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { body: { mfaToken } });
      expect(started.status).toBe(200);
      const secret = secretOf(started.body['otpauthUri']);
      const done = await call(stack.baseUrl, 'POST', '/auth/2fa/confirm', { body: { mfaToken, code: await totpCodeAt(secret, Date.now()) } });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body['recoveryCodes']).toHaveLength(10);
      expect(done.body['session']).toMatchObject({ authMethod: 'password+totp' });
      const session = fromSession(done);
      const status = await call(stack.baseUrl, 'GET', '/auth/2fa', { token: session.accessToken });
      expect(status.body).toMatchObject({ enabled: true, required: true });
      // Required: it cannot be turned off.
      expect((await call(stack.baseUrl, 'POST', '/auth/2fa/disable', { token: session.accessToken, body: { recoveryCode: (done.body['recoveryCodes'] as string[])[0] } })).status).toBe(403);
      // The enrol token is spent.
      expect((await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { body: { mfaToken } })).status).toBe(401);
    } finally {
      await setRequired2faRoles(stack.switchboard.services.db, stack.tenantId, []);
    }
  });
});
