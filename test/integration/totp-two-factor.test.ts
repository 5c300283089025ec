/**
 * TOTP two-factor against the real Postgres, with a manual clock: enrolment sealed by the vault,
 * confirmation, single-use codes (RFC 6238 §5.2), ±1 step of drift, lockout after 5 failures in
 * 15 minutes, single-use recovery codes, disabling, the tenant policy, and the sign-in steps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwitchboardError, type ErrorCode } from '../../src/core/errors.ts';
import { totpCodeAt, timeStepAt } from '../../src/auth/totp.ts';
import { RECOVERY_CODE_COUNT } from '../../src/auth/recovery-codes.ts';
import { totpSecretAad, setRequired2faRoles, listUsersWithout2fa } from '../../src/store/totp.ts';
import type { UserRecord } from '../../src/store/users.ts';
import { createAuthFixture, START_MS, type AuthFixture } from './auth-fixtures.ts';

let f: AuthFixture;
const ctx = { ip: '203.0.113.5', userAgent: 'vitest' };
const STEP = 30_000;

beforeAll(async () => {
  f = await createAuthFixture();
});
afterAll(async () => {
  await f?.close();
});

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (e: unknown) => e,
  );
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  const error = await errorOf(promise);
  expect(isSwitchboardError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error;
}

/** Enrols and confirms 2FA at START_MS; returns the secret and the recovery codes. */
async function enrolled(user: UserRecord): Promise<{ secret: string; recoveryCodes: string[] }> {
  f.clock.set(START_MS);
  const { secret } = await f.auth.twoFactor.beginEnrolment(user, ctx);
  const { recoveryCodes } = await f.auth.twoFactor.confirmEnrolment(user, await totpCodeAt(secret, START_MS), ctx);
  return { secret, recoveryCodes };
}

describe('enrolment', () => {
  it('returns an otpauth URI (issuer Switchboard, account = email) and stores the secret sealed to its row', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const { secret, otpauthUri } = await f.auth.twoFactor.beginEnrolment(user, ctx);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/Switchboard:${user.email}`);
    expect(uri.searchParams.get('issuer')).toBe('Switchboard');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits

    const row = await f.db.query<{ secret_sealed: Buffer; enabled_at: Date | null }>('SELECT secret_sealed, enabled_at FROM user_totp WHERE user_id = $1', [user.id]);
    const sealed = row.rows[0]?.secret_sealed;
    expect(sealed).toBeInstanceOf(Buffer);
    expect(row.rows[0]?.enabled_at).toBeNull();
    expect(sealed?.toString('latin1')).not.toContain(secret);
    expect(f.vault.openText(sealed ?? Buffer.alloc(0), totpSecretAad(user.id))).toBe(secret);
    // Bound to its row: the same ciphertext under another user's id does not open.
    const other = await f.createUser();
    expect(() => f.vault.openText(sealed ?? Buffer.alloc(0), totpSecretAad(other.id))).toThrow();
    expect((await f.audits('auth.2fa_enrol_started')).some((a) => a.actor_id === user.id)).toBe(true);
    expect(JSON.stringify(await f.audits('auth.2fa_enrol_started'))).not.toContain(secret);
  });

  it('a wrong code does not confirm; the right one enables 2FA and returns 10 distinct recovery codes once', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const { secret } = await f.auth.twoFactor.beginEnrolment(user, ctx);
    const right = await totpCodeAt(secret, START_MS);
    const wrong = right === '000000' ? '000001' : '000000';
    await expectCode(f.auth.twoFactor.confirmEnrolment(user, wrong, ctx), 'unauthenticated');
    expect((await f.auth.twoFactor.status(user)).enabled).toBe(false);
    const { recoveryCodes } = await f.auth.twoFactor.confirmEnrolment(user, right, ctx);
    expect(recoveryCodes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(recoveryCodes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{6}(-[0-9a-z]{6}){3}$/);
    expect(await f.auth.twoFactor.status(user)).toMatchObject({ enabled: true, pendingEnrolment: false, recoveryCodesRemaining: 10 });
    // Stored hashed only.
    const stored = JSON.stringify((await f.db.query('SELECT * FROM recovery_codes WHERE user_id = $1', [user.id])).rows);
    for (const code of recoveryCodes) expect(stored).not.toContain(code.replaceAll('-', ''));
    expect((await f.audits('auth.2fa_enabled')).some((a) => a.actor_id === user.id)).toBe(true);
    // Enrolment cannot be restarted over an enabled one.
    await expectCode(f.auth.twoFactor.beginEnrolment(user, ctx), 'conflict');
  });
});

describe('codes: single use and drift', () => {
  it('a code is single-use: the confirmation code cannot sign in, nor can a code already used at sign-in', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const used = await totpCodeAt(secret, START_MS);
    // Same step, still inside its 30 s: refused because it was used to confirm.
    f.clock.set(START_MS + 10_000);
    await expectCode(f.auth.twoFactor.verify(user, { code: used }, ctx), 'unauthenticated');
    // The next step's code works once…
    f.clock.set(START_MS + STEP);
    const next = await totpCodeAt(secret, START_MS + STEP);
    await expect(f.auth.twoFactor.verify(user, { code: next }, ctx)).resolves.toBe('totp');
    // …and never again, even while it is still valid.
    f.clock.set(START_MS + STEP + 5_000);
    await expectCode(f.auth.twoFactor.verify(user, { code: next }, ctx), 'unauthenticated');
    const failures = (await f.audits('auth.2fa_failed')).filter((a) => a.actor_id === user.id);
    expect(failures.map((a) => a.details['reason'])).toEqual(['replayed', 'replayed']);
  });

  it('an older step than the last accepted one is refused even when inside the drift window', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    f.clock.set(START_MS + 2 * STEP);
    const current = await totpCodeAt(secret, START_MS + 2 * STEP);
    await f.auth.twoFactor.verify(user, { code: current }, ctx);
    // The previous step's code is within ±1 of now, but its step is below the last accepted.
    const previous = await totpCodeAt(secret, START_MS + STEP);
    await expectCode(f.auth.twoFactor.verify(user, { code: previous }, ctx), 'unauthenticated');
  });

  it('accepts ±1 step of drift and refuses ±2', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const at = START_MS + 10 * STEP + 15_000;
    f.clock.set(at);
    await expectCode(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, at - 2 * STEP) }, ctx), 'unauthenticated');
    await expect(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, at - STEP) }, ctx)).resolves.toBe('totp');
    await expectCode(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, at + 2 * STEP) }, ctx), 'unauthenticated');
    await expect(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, at + STEP) }, ctx)).resolves.toBe('totp');
    const row = await f.db.query<{ last_used_step: string }>('SELECT last_used_step FROM user_totp WHERE user_id = $1', [user.id]);
    expect(Number(row.rows[0]?.last_used_step)).toBe(timeStepAt(at) + 1);
  });

  it('two concurrent uses of one code: exactly one is accepted', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    f.clock.set(START_MS + 5 * STEP);
    const code = await totpCodeAt(secret, START_MS + 5 * STEP);
    const results = await Promise.allSettled([f.auth.twoFactor.verify(user, { code }, ctx), f.auth.twoFactor.verify(user, { code }, ctx)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('malformed codes are failures, not crashes', async () => {
    const user = await f.createUser();
    await enrolled(user);
    for (const code of ['', '12345', '1234567', 'abcdef', '１２３４５６', "' OR 1=1"]) {
      f.clock.set(START_MS + 20 * STEP);
      await expectCode(f.auth.twoFactor.verify(user, { code }, ctx), 'unauthenticated');
      await f.db.query(`UPDATE user_totp SET recent_failures = '{}', locked_until = NULL WHERE user_id = $1`, [user.id]);
    }
  });
});

describe('lockout: 5 failures in 15 minutes', () => {
  it('locks after the 5th failure inside the window, refuses even a right code while locked, audits, and unlocks after the lockout', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const base = START_MS + 100 * STEP;
    for (let i = 0; i < 4; i += 1) {
      f.clock.set(base + i * 60_000);
      await expectCode(f.auth.twoFactor.verify(user, { code: '000000' === (await totpCodeAt(secret, base + i * 60_000)) ? '111111' : '000000' }, ctx), 'unauthenticated');
    }
    // The 5th failure (14 minutes after the first) starts the lockout: 429 with a retry hint.
    f.clock.set(base + 14 * 60_000);
    const fifth = await expectCode(f.auth.twoFactor.verify(user, { code: 'xxxxxx' }, ctx), 'rate_limited');
    expect(isSwitchboardError(fifth) && fifth.details.retryAfterMs).toBe(900_000);
    expect((await f.audits('auth.2fa_lockout')).filter((a) => a.actor_id === user.id)).toHaveLength(1);

    // Locked: the right code is refused too, and recovery codes as well.
    f.clock.set(base + 20 * 60_000);
    const locked = await expectCode(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, base + 20 * 60_000) }, ctx), 'rate_limited');
    expect(isSwitchboardError(locked) && locked.details.retryAfterMs).toBe(540_000);

    // After the lockout the right code works.
    const after = base + 14 * 60_000 + 900_000;
    f.clock.set(after);
    await expect(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, after) }, ctx)).resolves.toBe('totp');
  });

  it('failures spread over more than 15 minutes never lock', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const base = START_MS + 200 * STEP;
    for (let i = 0; i < 10; i += 1) {
      f.clock.set(base + i * 4 * 60_000); // one every 4 minutes: at most 4 inside any 15-minute window
      await expectCode(f.auth.twoFactor.verify(user, { code: 'zzzzzz' }, ctx), 'unauthenticated');
    }
    const at = base + 40 * 60_000;
    f.clock.set(at);
    await expect(f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, at) }, ctx)).resolves.toBe('totp');
    expect((await f.audits('auth.2fa_lockout')).filter((a) => a.actor_id === user.id)).toHaveLength(0);
  });

  it('a success clears the failure window', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const base = START_MS + 300 * STEP;
    for (let i = 0; i < 4; i += 1) {
      f.clock.set(base + i * 1000);
      await expectCode(f.auth.twoFactor.verify(user, { code: 'nope00' }, ctx), 'unauthenticated');
    }
    f.clock.set(base + STEP);
    await f.auth.twoFactor.verify(user, { code: await totpCodeAt(secret, base + STEP) }, ctx);
    f.clock.set(base + STEP + 1000);
    // Four more failures: still not locked (the window restarted).
    for (let i = 0; i < 4; i += 1) await expectCode(f.auth.twoFactor.verify(user, { code: 'nope00' }, ctx), 'unauthenticated');
  });

  it('the lockout is per user', async () => {
    const a = await f.createUser();
    const b = await f.createUser();
    await enrolled(a);
    const { secret: secretB } = await enrolled(b);
    const base = START_MS + 400 * STEP;
    f.clock.set(base);
    for (let i = 0; i < 5; i += 1) await errorOf(f.auth.twoFactor.verify(a, { code: 'nope00' }, ctx));
    await expectCode(f.auth.twoFactor.verify(a, { code: 'nope00' }, ctx), 'rate_limited');
    await expect(f.auth.twoFactor.verify(b, { code: await totpCodeAt(secretB, base) }, ctx)).resolves.toBe('totp');
  });
});

describe('recovery codes', () => {
  it('each works once, in any case and with spaces; a used one is refused', async () => {
    const user = await f.createUser();
    const { recoveryCodes } = await enrolled(user);
    const [first = '', second = ''] = recoveryCodes;
    f.clock.set(START_MS + 500 * STEP);
    await expect(f.auth.twoFactor.verify(user, { recoveryCode: first }, ctx)).resolves.toBe('recovery_code');
    await expectCode(f.auth.twoFactor.verify(user, { recoveryCode: first }, ctx), 'unauthenticated');
    await expect(f.auth.twoFactor.verify(user, { recoveryCode: ` ${second.toUpperCase().replaceAll('-', ' ')} ` }, ctx)).resolves.toBe('recovery_code');
    expect((await f.auth.twoFactor.status(user)).recoveryCodesRemaining).toBe(8);
    const used = (await f.audits('auth.2fa_recovery_code_used')).filter((a) => a.actor_id === user.id);
    expect(used.map((a) => a.details['remaining'])).toEqual([9, 8]);
    expect(JSON.stringify(used)).not.toContain(first);
  });

  it("one user's recovery code does not work for another", async () => {
    const a = await f.createUser();
    const b = await f.createUser();
    const { recoveryCodes } = await enrolled(a);
    await enrolled(b);
    f.clock.set(START_MS + 600 * STEP);
    await expectCode(f.auth.twoFactor.verify(b, { recoveryCode: recoveryCodes[0] ?? '' }, ctx), 'unauthenticated');
  });

  it('regenerating replaces every old code', async () => {
    const user = await f.createUser();
    const { secret, recoveryCodes } = await enrolled(user);
    f.clock.set(START_MS + 700 * STEP);
    const fresh = await f.auth.twoFactor.regenerateRecoveryCodes(user, await totpCodeAt(secret, START_MS + 700 * STEP), ctx);
    expect(fresh.recoveryCodes).toHaveLength(10);
    await expectCode(f.auth.twoFactor.verify(user, { recoveryCode: recoveryCodes[0] ?? '' }, ctx), 'unauthenticated');
    await expect(f.auth.twoFactor.verify(user, { recoveryCode: fresh.recoveryCodes[0] ?? '' }, ctx)).resolves.toBe('recovery_code');
  });
});

describe('disable, reset and the tenant policy', () => {
  it('turning 2FA off needs a fresh code, and removes the secret and codes', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    f.clock.set(START_MS + 800 * STEP);
    await expectCode(f.auth.twoFactor.disable(user, { code: '000000' === (await totpCodeAt(secret, START_MS + 800 * STEP)) ? '999999' : '000000' }, ctx), 'unauthenticated');
    await f.auth.twoFactor.disable(user, { code: await totpCodeAt(secret, START_MS + 800 * STEP) }, ctx);
    expect((await f.db.query('SELECT 1 FROM user_totp WHERE user_id = $1', [user.id])).rowCount).toBe(0);
    expect((await f.db.query('SELECT 1 FROM recovery_codes WHERE user_id = $1', [user.id])).rowCount).toBe(0);
    expect((await f.audits('auth.2fa_disabled')).some((a) => a.actor_id === user.id)).toBe(true);
  });

  it('a role the tenant requires 2FA for cannot turn it off; listUsersWithout2fa finds owners without it', async () => {
    const tenant = await f.createTenant('policy-tenant');
    const owner = await f.createUser('owner', tenant);
    const bare = await f.createUser('owner', tenant);
    const { secret } = await enrolled(owner);
    await setRequired2faRoles(f.db, tenant, ['owner', 'admin']);
    expect((await f.auth.twoFactor.status(owner)).required).toBe(true);
    f.clock.set(START_MS + 900 * STEP);
    await expectCode(f.auth.twoFactor.disable(owner, { code: await totpCodeAt(secret, START_MS + 900 * STEP) }, ctx), 'forbidden');
    const without = await listUsersWithout2fa(f.db, ['owner']);
    expect(without.map((u) => u.userId)).toContain(bare.id);
    expect(without.map((u) => u.userId)).not.toContain(owner.id);
  });

  it('an administrator reset removes the enrolment (audited)', async () => {
    const user = await f.createUser();
    await enrolled(user);
    expect(await f.auth.twoFactor.reset(user, { actorType: 'system' }, {})).toBe(true);
    expect(await f.auth.twoFactor.isEnabled(user.id)).toBe(false);
    expect((await f.audits('auth.2fa_reset')).some((a) => a.target_id === user.id)).toBe(true);
  });
});

describe('sign-in steps', () => {
  it('with 2FA on, the first factor yields an mfa token; a right code turns it into a session once', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const at = START_MS + 1000 * STEP;
    f.clock.set(at);
    const outcome = await f.auth.signIn.afterFirstFactor(user, 'password', ctx);
    if (outcome.kind !== 'mfa') throw new Error('expected the mfa step');
    expect(outcome.purpose).toBe('verify');
    // A wrong code keeps the token usable; the right one completes the sign-in.
    await expectCode(f.auth.signIn.verifySecondFactor(outcome.mfaToken, { code: 'abc' }, ctx), 'unauthenticated');
    const issued = await f.auth.signIn.verifySecondFactor(outcome.mfaToken, { code: await totpCodeAt(secret, at) }, ctx);
    expect(issued.session.authMethod).toBe('password+totp');
    // The mfa token is single-use.
    f.clock.set(at + STEP);
    await expectCode(f.auth.signIn.verifySecondFactor(outcome.mfaToken, { code: await totpCodeAt(secret, at + STEP) }, ctx), 'unauthenticated');
  });

  it('an mfa token expires with the clock', async () => {
    const user = await f.createUser();
    const { secret } = await enrolled(user);
    const at = START_MS + 1100 * STEP;
    f.clock.set(at);
    const outcome = await f.auth.signIn.afterFirstFactor(user, 'password', ctx);
    if (outcome.kind !== 'mfa') throw new Error('expected the mfa step');
    f.clock.set(at + 306_000);
    await expectCode(f.auth.signIn.verifySecondFactor(outcome.mfaToken, { code: await totpCodeAt(secret, at + 306_000) }, ctx), 'unauthenticated');
  });

  it('required by policy and not enrolled: an enrol-only token that cannot verify, and confirming completes sign-in', async () => {
    const tenant = await f.createTenant('enrol-tenant');
    await setRequired2faRoles(f.db, tenant, ['owner']);
    const owner = await f.createUser('owner', tenant);
    const at = START_MS + 1200 * STEP;
    f.clock.set(at);
    const outcome = await f.auth.signIn.afterFirstFactor(owner, 'password', ctx);
    if (outcome.kind !== 'mfa') throw new Error('expected the mfa step');
    expect(outcome.purpose).toBe('enrol');
    // The enrol token is not a verify token.
    await expectCode(f.auth.signIn.verifySecondFactor(outcome.mfaToken, { code: '123456' }, ctx), 'unauthenticated');
    const { secret } = await f.auth.signIn.beginRequiredEnrolment(outcome.mfaToken, ctx);
    const { issued, recoveryCodes } = await f.auth.signIn.confirmRequiredEnrolment(outcome.mfaToken, await totpCodeAt(secret, at), ctx);
    expect(recoveryCodes).toHaveLength(10);
    expect(issued.session.authMethod).toBe('password+totp');
    // Members of the same tenant are not asked.
    const member = await f.createUser('member', tenant);
    expect((await f.auth.signIn.afterFirstFactor(member, 'password', ctx)).kind).toBe('session');
  });
});
