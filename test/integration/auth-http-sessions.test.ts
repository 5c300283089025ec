/**
 * Sessions over HTTP through the whole product (real Postgres, Redis, sockets): the refresh cookie
 * and its CSRF checks, rotation, reuse revoking the family and closing its sockets with 4001,
 * sign-out, sign out everywhere, and the tokens of one kind refused where another is expected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { connectWebchat, getTicket } from '../../src/cli/webchat-client.ts';
import { call, closeCode, COOKIE, fromSession, login, openSocket } from './auth-http-helpers.ts';

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
  const email = `http-${++n}@example.test`;
  const { id } = await stack.createUser({ email, password: PASSWORD, role });
  return { email, id };
}

const refresh = (cookie: string | undefined, extra: { headers?: Record<string, string>; body?: unknown } = {}) =>
  call(stack.baseUrl, 'POST', '/auth/refresh', { ...(cookie === undefined ? {} : { cookie }), csrf: true, ...extra });

describe('sign-in and the refresh cookie', () => {
  it('sets the refresh token only as an HttpOnly, Secure, SameSite=Strict cookie scoped to /api/v1/auth', async () => {
    const { email } = await newUser();
    const answer = await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(answer.status).toBe(200);
    const cookie = answer.setCookie.find((c) => c.startsWith(`${COOKIE}=`)) ?? '';
    expect(cookie).toMatch(/^__Secure-sb_refresh=sbr_[A-Za-z0-9_-]{43}; Path=\/api\/v1\/auth; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
    expect(maxAge).toBeLessThanOrEqual(stack.config.SESSION_ABSOLUTE_TTL_SECONDS);
    expect(maxAge).toBeGreaterThan(stack.config.SESSION_ABSOLUTE_TTL_SECONDS - 5);
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', user: { email }, session: { authMethod: 'password' } });
    expect(answer.body['expiresIn']).toBeGreaterThanOrEqual(898); // 900 s, minus the part of a second already gone
    expect(answer.body['expiresIn']).toBeLessThanOrEqual(900);
    // The body never carries the refresh token.
    expect(JSON.stringify(answer.body)).not.toContain('sbr_');
    expect(answer.body['accessToken']).toEqual(expect.any(String));
  });

  it('refresh rotates: new access token and new cookie; the old access token still works until it expires', async () => {
    const { email } = await newUser();
    const first = await login(stack.baseUrl, email, PASSWORD);
    const answer = await refresh(first.refresh);
    expect(answer.status).toBe(200);
    const second = fromSession(answer);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.refresh).not.toBe(first.refresh);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: second.accessToken })).status).toBe(200);
  });

  it('refuses to spend the cookie without the CSRF header, from another origin or another site', async () => {
    const { email } = await newUser();
    const { refresh: cookie } = await login(stack.baseUrl, email, PASSWORD);
    const noHeader = await call(stack.baseUrl, 'POST', '/auth/refresh', { cookie });
    expect(noHeader.status).toBe(403);
    const wrongValue = await call(stack.baseUrl, 'POST', '/auth/refresh', { cookie, headers: { 'x-switchboard-csrf': 'yes' } });
    expect(wrongValue.status).toBe(403);
    expect((await refresh(cookie, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await refresh(cookie, { headers: { origin: 'null' } })).status).toBe(403);
    expect((await refresh(cookie, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await refresh(cookie, { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    // None of those spent the token: the page itself still can.
    const ok = await refresh(cookie, { headers: { origin: stack.baseUrl, 'sec-fetch-site': 'same-origin' } });
    expect(ok.status).toBe(200);
  });

  it('refuses no cookie, a garbage cookie and unknown body fields', async () => {
    expect((await refresh(undefined)).status).toBe(401);
    const garbage = await refresh('sbr_not-a-real-token');
    expect(garbage.status).toBe(401);
    expect(garbage.cookie).toBe(''); // cleared
    const { email } = await newUser();
    const { refresh: cookie } = await login(stack.baseUrl, email, PASSWORD);
    const extra = await refresh(cookie, { body: { userId: 'x' } });
    expect(extra.status).toBe(400);
  });
});

describe('refresh-token reuse', () => {
  it('revokes the whole family: the current tokens die and the family\'s sockets close with 4001; other sessions live', async () => {
    const { email, id } = await newUser();
    const stolen = await login(stack.baseUrl, email, PASSWORD);
    const otherDevice = await login(stack.baseUrl, email, PASSWORD);
    const victimSocket = await openSocket(stack.baseUrl, stolen.accessToken);
    const otherSocket = await openSocket(stack.baseUrl, otherDevice.accessToken);

    // The victim's page refreshes (rotation); later the thief presents the old token.
    const current = fromSession(await refresh(stolen.refresh));
    const reused = await refresh(stolen.refresh);
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ error: { code: 'unauthenticated' } });
    expect(reused.cookie).toBe('');

    expect(await closeCode(victimSocket)).toBe(4001);
    expect((await refresh(current.refresh)).status).toBe(401);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: current.accessToken })).status).toBe(401);

    // The same person's other session is untouched.
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: otherDevice.accessToken })).status).toBe(200);
    expect(otherSocket.frames.some((f) => f.type === 'ready')).toBe(true);
    await expect(closeCode(otherSocket, 300)).rejects.toThrow('socket stayed open');
    otherSocket.close();

    const audit = await stack.switchboard.services.db.query<{ actor_id: string; details: { sessionIds: string[] } }>(
      "SELECT actor_id, details FROM audit_log WHERE action = 'auth.refresh_reuse' AND actor_id = $1",
      [id],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]?.details.sessionIds).toEqual([stolen.sessionId]);
  });
});

describe('sign-out', () => {
  it('logout ends this session: access token refused, refresh refused, socket closed with 4001, cookie cleared', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const socket = await openSocket(stack.baseUrl, s.accessToken);
    const out = await call(stack.baseUrl, 'POST', '/auth/logout', { token: s.accessToken, body: {} });
    expect(out.status).toBe(204);
    expect(out.cookie).toBe('');
    expect(await closeCode(socket)).toBe(4001);
    expect((await call(stack.baseUrl, 'POST', '/ws-ticket', { token: s.accessToken, body: {} })).status).toBe(401);
    expect((await refresh(s.refresh)).status).toBe(401);
  });

  it('logout with only the cookie (access token lost on reload) needs the CSRF header and ends the session', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    expect((await call(stack.baseUrl, 'POST', '/auth/logout', { cookie: s.refresh })).status).toBe(403);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: s.accessToken })).status).toBe(200);
    expect((await call(stack.baseUrl, 'POST', '/auth/logout', { cookie: s.refresh, csrf: true })).status).toBe(204);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: s.accessToken })).status).toBe(401);
  });

  it('sign out everywhere ends every session of mine and closes all my sockets with 4001', async () => {
    const { email } = await newUser();
    const a = await login(stack.baseUrl, email, PASSWORD);
    const b = await login(stack.baseUrl, email, PASSWORD);
    const bystander = await newUser();
    const c = await login(stack.baseUrl, bystander.email, PASSWORD);
    const sockets = [await openSocket(stack.baseUrl, a.accessToken), await openSocket(stack.baseUrl, b.accessToken)];
    const theirs = await openSocket(stack.baseUrl, c.accessToken);
    const answer = await call(stack.baseUrl, 'POST', '/auth/logout-all', { token: a.accessToken, body: {} });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ revokedSessions: 2 });
    expect(await Promise.all(sockets.map((s) => closeCode(s)))).toEqual([4001, 4001]);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: b.accessToken })).status).toBe(401);
    expect((await refresh(b.refresh)).status).toBe(401);
    await expect(closeCode(theirs, 300)).rejects.toThrow('socket stayed open');
    theirs.close();
  });
});

describe('tokens of the wrong kind, or of a dead session (0 accepted)', () => {
  it('refuses a refresh token, an mfa token and a ticket used as the Bearer access token', async () => {
    const { email, id } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const { tokens } = stack.switchboard.services;
    const mfa = await tokens.issueMfaToken({ userId: id, tenantId: stack.tenantId, purpose: 'verify' });
    const ticket = await getTicket(stack.baseUrl, s.accessToken);
    for (const token of [s.refresh, mfa.token, ticket]) {
      const answer = await call(stack.baseUrl, 'GET', '/sessions', { token });
      expect(answer.status, token.slice(0, 12)).toBe(401);
    }
  });

  it('refuses an mfa token or an access token as a WebSocket ticket', async () => {
    const { email, id } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const mfa = await stack.switchboard.services.tokens.issueMfaToken({ userId: id, tenantId: stack.tenantId, purpose: 'verify' });
    await expect(connectWebchat(stack.baseUrl, mfa.token)).rejects.toThrow();
    await expect(connectWebchat(stack.baseUrl, s.accessToken)).rejects.toThrow();
    await expect(connectWebchat(stack.baseUrl, s.refresh)).rejects.toThrow();
  });

  it('refuses the ticket of a session revoked after the ticket was issued', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const ticket = await getTicket(stack.baseUrl, s.accessToken);
    await call(stack.baseUrl, 'POST', '/auth/logout', { token: s.accessToken, body: {} });
    await expect(connectWebchat(stack.baseUrl, ticket)).rejects.toThrow();
  });

  it('refuses the access token of an expired session, and a ticket of an expired session', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const ticket = await getTicket(stack.baseUrl, s.accessToken);
    await stack.switchboard.services.db.query(
      "UPDATE sessions SET idle_expires_at = now() - interval '1 second', absolute_expires_at = now() - interval '1 second' WHERE id = $1",
      [s.sessionId],
    );
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: s.accessToken })).status).toBe(401);
    await expect(connectWebchat(stack.baseUrl, ticket)).rejects.toThrow();
    expect((await refresh(s.refresh)).status).toBe(401);
  });

  it('a socket is closed with 4001 when its session reaches its absolute end', async () => {
    const { email } = await newUser();
    const s = await login(stack.baseUrl, email, PASSWORD);
    await stack.switchboard.services.db.query("UPDATE sessions SET absolute_expires_at = now() + interval '1500 milliseconds', idle_expires_at = now() + interval '1500 milliseconds' WHERE id = $1", [s.sessionId]);
    const socket = await openSocket(stack.baseUrl, s.accessToken);
    expect(await closeCode(socket, 5000)).toBe(4001);
  });

});
