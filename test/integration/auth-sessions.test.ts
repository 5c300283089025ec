/**
 * Sessions against the real Postgres, with a manual clock: refresh-token rotation, reuse detection
 * revoking the whole family (audited, sockets told), idle and absolute expiry, revocation, and the
 * access authenticator's per-request session check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { createAccessTokenAuthenticator } from '../../src/auth/access-authenticator.ts';
import { hashRefreshToken, REFRESH_TOKEN_PREFIX } from '../../src/auth/refresh-tokens.ts';
import type { Authenticator } from '../../src/auth/principal.ts';
import { setRequired2faRoles } from '../../src/store/totp.ts';
import { createAuthFixture, START_MS, type AuthFixture } from './auth-fixtures.ts';

let f: AuthFixture;
let authenticate: Authenticator;
const ctx = { ip: '203.0.113.9', userAgent: 'vitest' };

beforeAll(async () => {
  f = await createAuthFixture();
  authenticate = createAccessTokenAuthenticator(f.tokens, f.db, f.clock);
});
afterAll(async () => {
  await f?.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (e: unknown) => e,
  );
}

async function expectUnauthenticated(promise: Promise<unknown>): Promise<void> {
  const error = await rejection(promise);
  expect(isSwitchboardError(error, 'unauthenticated'), `expected unauthenticated, got ${String(error)}`).toBe(true);
}

const bearer = (token: string) => `Bearer ${token}`;

describe('sessions: start and refresh', () => {
  it('starts a session: opaque sbr_ refresh token stored only as its SHA-256, access token carrying sid', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    expect(issued.refreshToken).toMatch(/^sbr_[A-Za-z0-9_-]{43}$/);
    expect(issued.refreshToken.startsWith(REFRESH_TOKEN_PREFIX)).toBe(true);
    expect(issued.session).toMatchObject({ userId: user.id, tenantId: user.tenantId, familyId: issued.session.id, authMethod: 'password', ip: ctx.ip });
    expect(issued.session.absoluteExpiresAt.getTime()).toBe(START_MS + 86_400_000);
    expect(issued.session.idleExpiresAt.getTime()).toBe(START_MS + 3_600_000);
    expect((await f.tokens.verifyAccessToken(issued.accessToken)).sessionId).toBe(issued.session.id);

    const stored = await f.db.query<{ token_hash: Buffer }>('SELECT token_hash FROM refresh_tokens WHERE session_id = $1', [issued.session.id]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]?.token_hash.equals(hashRefreshToken(issued.refreshToken))).toBe(true);
    const everything = JSON.stringify((await f.db.query('SELECT * FROM sessions s JOIN refresh_tokens r ON r.session_id = s.id')).rows);
    expect(everything).not.toContain(issued.refreshToken.slice(4));

    const principal = await authenticate(bearer(issued.accessToken));
    expect(principal).toMatchObject({ kind: 'user', userId: user.id, sessionId: issued.session.id });
  });

  it('rotates on every refresh: a new refresh token and a new access token, same session, idle expiry moved', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const first = await f.auth.sessions.start(user, 'password', ctx);
    f.clock.advance(600_000);
    const second = await f.auth.sessions.refresh(first.refreshToken, ctx);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.session.id).toBe(first.session.id);
    expect(second.session.lastUsedAt.getTime()).toBe(START_MS + 600_000);
    expect(second.session.idleExpiresAt.getTime()).toBe(START_MS + 600_000 + 3_600_000);
    f.clock.advance(600_000);
    const third = await f.auth.sessions.refresh(second.refreshToken, ctx);
    const generations = await f.db.query<{ generation: number; rotated: boolean }>(
      'SELECT generation, rotated_at IS NOT NULL AS rotated FROM refresh_tokens WHERE session_id = $1 ORDER BY generation',
      [first.session.id],
    );
    expect(generations.rows).toEqual([
      { generation: 0, rotated: true },
      { generation: 1, rotated: true },
      { generation: 2, rotated: false },
    ]);
    await expect(authenticate(bearer(third.accessToken))).resolves.toMatchObject({ sessionId: first.session.id });
  });

  it('refresh-token reuse revokes the whole family, is audited, tells every socket, and leaves other sessions alone', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const other = await f.auth.sessions.start(user, 'password', ctx); // another device of the same person
    const first = await f.auth.sessions.start(user, 'password', ctx);
    const second = await f.auth.sessions.refresh(first.refreshToken, ctx);
    const publishedBefore = f.published.length;

    // The thief (or the victim) presents the already-rotated token.
    await expectUnauthenticated(f.auth.sessions.refresh(first.refreshToken, { ip: '198.51.100.7', userAgent: 'thief' }));

    // The current refresh token and access token of that family are dead too.
    await expectUnauthenticated(f.auth.sessions.refresh(second.refreshToken, ctx));
    await expectUnauthenticated(authenticate(bearer(second.accessToken)));
    // The person's other session is untouched.
    await expect(authenticate(bearer(other.accessToken))).resolves.toMatchObject({ sessionId: other.session.id });

    const row = await f.db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [first.session.id]);
    expect(row.rows[0]?.revoked_reason).toBe('refresh_reuse');
    const audit = (await f.audits('auth.refresh_reuse')).filter((a) => a.target_id === first.session.familyId);
    expect(audit.length).toBeGreaterThanOrEqual(1);
    expect(audit[0]?.details).toMatchObject({ generation: 0, sessionsRevoked: 1, sessionIds: [first.session.id] });
    expect(JSON.stringify(audit)).not.toContain('sbr_');
    expect(f.published.slice(publishedBefore)).toContainEqual({ kind: 'session_revoked', sessionId: first.session.id });
  });

  it('two concurrent refreshes with one token: exactly one wins, the other is treated as reuse', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    const results = await Promise.allSettled([f.auth.sessions.refresh(issued.refreshToken, ctx), f.auth.sessions.refresh(issued.refreshToken, ctx)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const row = await f.db.query<{ revoked_reason: string | null }>('SELECT revoked_reason FROM sessions WHERE id = $1', [issued.session.id]);
    expect(row.rows[0]?.revoked_reason).toBe('refresh_reuse');
  });

  it('refuses unknown, malformed and JWT-shaped refresh tokens', async () => {
    for (const token of ['', 'sbr_short', `sbr_${'A'.repeat(43)}`, `sbr_${'A'.repeat(43)}\n`, 'a.b.c', (await f.createUser()).id]) {
      await expectUnauthenticated(f.auth.sessions.refresh(token, ctx));
    }
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    // An access token is not a refresh token.
    await expectUnauthenticated(f.auth.sessions.refresh(issued.accessToken, ctx));
  });
});

describe('sessions: expiry with a travelling clock', () => {
  it('idle expiry: unrefreshed for the idle TTL, the session is over (refresh and access both refused)', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    f.clock.set(START_MS + 3_600_000 - 1000);
    const refreshed = await f.auth.sessions.refresh(issued.refreshToken, ctx);
    f.clock.set(START_MS + 3_600_000 - 1000 + 3_600_000);
    await expectUnauthenticated(f.auth.sessions.refresh(refreshed.refreshToken, ctx));
  });

  it('absolute expiry: however active, the session ends at its absolute TTL; idle never extends past it', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    let issued = await f.auth.sessions.start(user, 'password', ctx);
    for (let t = 1; t <= 24; t += 1) {
      f.clock.set(START_MS + t * 3_500_000);
      if (START_MS + t * 3_500_000 >= START_MS + 86_400_000) break;
      issued = await f.auth.sessions.refresh(issued.refreshToken, ctx);
      expect(issued.session.idleExpiresAt.getTime()).toBeLessThanOrEqual(START_MS + 86_400_000);
    }
    f.clock.set(START_MS + 86_400_000);
    await expectUnauthenticated(f.auth.sessions.refresh(issued.refreshToken, ctx));
  });

  it('the access authenticator refuses an unexpired access token whose session expired', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    await f.db.query("UPDATE sessions SET absolute_expires_at = $2, idle_expires_at = $2 WHERE id = $1", [issued.session.id, new Date(START_MS + 60_000)]);
    await expect(authenticate(bearer(issued.accessToken))).resolves.toBeDefined();
    f.clock.set(START_MS + 60_000);
    await expectUnauthenticated(authenticate(bearer(issued.accessToken)));
  });
});

describe('sessions: revocation and the per-request check', () => {
  it('a revoked session stops its access token at once (logout), audited, with a session_revoked event', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    await expect(authenticate(bearer(issued.accessToken))).resolves.toBeDefined();
    expect(await f.auth.sessions.revoke(issued.session.id, user.tenantId, 'logout', { actorType: 'user', actorId: user.id }, ctx)).toBe(true);
    await expectUnauthenticated(authenticate(bearer(issued.accessToken)));
    await expectUnauthenticated(f.auth.sessions.refresh(issued.refreshToken, ctx));
    expect(f.published).toContainEqual({ kind: 'session_revoked', sessionId: issued.session.id });
    expect((await f.audits('auth.logout')).some((a) => a.target_id === issued.session.id)).toBe(true);
    // Revoking again, or from another tenant, does nothing.
    expect(await f.auth.sessions.revoke(issued.session.id, user.tenantId, 'logout', { actorType: 'user' }, ctx)).toBe(false);
  });

  it('a session is only revocable within its tenant', async () => {
    const otherTenant = await f.createTenant('other-tenant');
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    expect(await f.auth.sessions.revoke(issued.session.id, otherTenant, 'admin', { actorType: 'user' }, ctx)).toBe(false);
    await expect(authenticate(bearer(issued.accessToken))).resolves.toBeDefined();
  });

  it('sign out everywhere ends every session of the user and publishes user_revoked', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const a = await f.auth.sessions.start(user, 'password', ctx);
    const b = await f.auth.sessions.start(user, 'password', ctx);
    const bystander = await f.auth.sessions.start(await f.createUser(), 'password', ctx);
    expect(await f.auth.sessions.revokeAllForUser(user, 'logout_all', { actorType: 'user', actorId: user.id }, ctx)).toBe(2);
    await expectUnauthenticated(authenticate(bearer(a.accessToken)));
    await expectUnauthenticated(authenticate(bearer(b.accessToken)));
    await expect(authenticate(bearer(bystander.accessToken))).resolves.toBeDefined();
    expect(f.published).toContainEqual({ kind: 'user_revoked', userId: user.id });
    expect((await f.audits('auth.logout_all')).some((r) => r.target_id === user.id && r.details['sessionsRevoked'] === 2)).toBe(true);
  });

  it('a disabled user is refused even with a live session; refresh ends the session', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    await f.db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
    await expectUnauthenticated(authenticate(bearer(issued.accessToken)));
    await expectUnauthenticated(f.auth.sessions.refresh(issued.refreshToken, ctx));
    const row = await f.db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [issued.session.id]);
    expect(row.rows[0]?.revoked_reason).toBe('user_disabled');
  });

  it('an access token without a session, or naming someone else\'s session, is refused', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const victim = await f.createUser();
    const victimSession = await f.auth.sessions.start(victim, 'password', ctx);
    const noSid = await f.tokens.issueAccessToken({ userId: user.id, tenantId: user.tenantId, role: 'member' });
    await expectUnauthenticated(authenticate(bearer(noSid.token)));
    const wrongSid = await f.tokens.issueAccessToken({ userId: user.id, tenantId: user.tenantId, role: 'member', sessionId: victimSession.session.id });
    await expectUnauthenticated(authenticate(bearer(wrongSid.token)));
    const unknownSid = await f.tokens.issueAccessToken({ userId: user.id, tenantId: user.tenantId, role: 'member', sessionId: user.id });
    await expectUnauthenticated(authenticate(bearer(unknownSid.token)));
  });

  it('tokens of other kinds are not access tokens: a refresh token is left to other authenticators, an mfa token or ticket is refused', async () => {
    f.clock.set(START_MS);
    const user = await f.createUser();
    const issued = await f.auth.sessions.start(user, 'password', ctx);
    // Not JWT-shaped: this authenticator does not claim it (and requireAuth then answers 401).
    expect(await authenticate(bearer(issued.refreshToken))).toBeUndefined();
    const mfa = await f.tokens.issueMfaToken({ userId: user.id, tenantId: user.tenantId, purpose: 'verify' });
    await expectUnauthenticated(authenticate(bearer(mfa.token)));
    const ticket = await f.tokens.issueWsTicket({ userId: user.id, tenantId: user.tenantId, sessionId: issued.session.id });
    await expectUnauthenticated(authenticate(bearer(ticket.ticket)));
  });

  it('when the tenant starts requiring 2FA for the role, a password-only session cannot be refreshed', async () => {
    f.clock.set(START_MS);
    const tenant = await f.createTenant('strict-tenant');
    const owner = await f.createUser('owner', tenant);
    const issued = await f.auth.sessions.start(owner, 'password', ctx);
    await setRequired2faRoles(f.db, tenant, ['owner']);
    await expectUnauthenticated(f.auth.sessions.refresh(issued.refreshToken, ctx));
    const row = await f.db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [issued.session.id]);
    expect(row.rows[0]?.revoked_reason).toBe('policy');
    // A session that used a second factor keeps working.
    const strong = await f.auth.sessions.start(owner, 'password+totp', ctx);
    await expect(f.auth.sessions.refresh(strong.refreshToken, ctx)).resolves.toBeDefined();
  });
});
