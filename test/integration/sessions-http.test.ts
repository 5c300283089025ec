/**
 * Session management over HTTP: my sessions (list, end one), the tenant's sessions for admins
 * (list, end one, end all of a user's), the role and tenant boundaries, and sockets closing with
 * 4001 on every revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { insertUser } from '../../src/store/users.ts';
import { call, closeCode, login, openSocket } from './auth-http-helpers.ts';

const PASSWORD = 'correct horse battery staple 42';
let stack: Stack;
let n = 0;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function newUser(role: 'member' | 'admin' | 'owner' | 'auditor' | 'agent' = 'member'): Promise<{ email: string; id: string }> {
  const email = `sess-${++n}@example.test`;
  const { id } = await stack.createUser({ email, password: PASSWORD, role });
  return { email, id };
}

type SessionView = { id: string; current: boolean; ip: string | null; userAgent: string | null; authMethod: string; userId?: string };

describe('my sessions', () => {
  it('lists my live sessions (current marked, no tokens) and ends another of mine, closing its socket with 4001', async () => {
    const me = await newUser();
    const phone = await login(stack.baseUrl, me.email, PASSWORD);
    const laptop = await login(stack.baseUrl, me.email, PASSWORD);
    const phoneSocket = await openSocket(stack.baseUrl, phone.accessToken);
    const listed = await call(stack.baseUrl, 'GET', '/sessions', { token: laptop.accessToken });
    expect(listed.status).toBe(200);
    const sessions = listed.body['sessions'] as SessionView[];
    expect(sessions.map((s) => s.id).sort()).toEqual([phone.sessionId, laptop.sessionId].sort());
    expect(sessions.find((s) => s.id === laptop.sessionId)?.current).toBe(true);
    expect(sessions.find((s) => s.id === phone.sessionId)?.current).toBe(false);
    expect(sessions[0]).toMatchObject({ authMethod: 'password', ip: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toMatch(/sbr_|eyJ/);

    expect((await call(stack.baseUrl, 'DELETE', `/sessions/${phone.sessionId}`, { token: laptop.accessToken })).status).toBe(204);
    expect(await closeCode(phoneSocket)).toBe(4001);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: phone.accessToken })).status).toBe(401);
    const after = (await call(stack.baseUrl, 'GET', '/sessions', { token: laptop.accessToken })).body['sessions'] as SessionView[];
    expect(after.map((s) => s.id)).toEqual([laptop.sessionId]);
  });

  it("cannot see or end someone else's session (404, like a missing one); bad ids are 404", async () => {
    const me = await newUser();
    const other = await newUser();
    const mine = await login(stack.baseUrl, me.email, PASSWORD);
    const theirs = await login(stack.baseUrl, other.email, PASSWORD);
    expect((await call(stack.baseUrl, 'DELETE', `/sessions/${theirs.sessionId}`, { token: mine.accessToken })).status).toBe(404);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: theirs.accessToken })).status).toBe(200);
    expect((await call(stack.baseUrl, 'DELETE', '/sessions/not-a-uuid', { token: mine.accessToken })).status).toBe(404);
    const listed = (await call(stack.baseUrl, 'GET', '/sessions', { token: mine.accessToken })).body['sessions'] as SessionView[];
    expect(listed.map((s) => s.id)).not.toContain(theirs.sessionId);
  });

  it('agents have no session management', async () => {
    const agent = await newUser('agent');
    const s = await login(stack.baseUrl, agent.email, PASSWORD);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: s.accessToken })).status).toBe(403);
  });
});

describe("the tenant's sessions (sessions:manage)", () => {
  it('members and auditors are refused; admins list the tenant and end a session (socket 4001, audited)', async () => {
    const member = await newUser('member');
    const auditor = await newUser('auditor');
    const admin = await newUser('admin');
    const m = await login(stack.baseUrl, member.email, PASSWORD);
    const au = await login(stack.baseUrl, auditor.email, PASSWORD);
    const a = await login(stack.baseUrl, admin.email, PASSWORD);
    expect((await call(stack.baseUrl, 'GET', '/admin/sessions', { token: m.accessToken })).status).toBe(403);
    expect((await call(stack.baseUrl, 'GET', '/admin/sessions', { token: au.accessToken })).status).toBe(403);
    expect((await call(stack.baseUrl, 'DELETE', `/admin/sessions/${a.sessionId}`, { token: m.accessToken })).status).toBe(403);

    const listed = await call(stack.baseUrl, 'GET', `/admin/sessions?userId=${member.id}`, { token: a.accessToken });
    expect(listed.status).toBe(200);
    expect((listed.body['sessions'] as SessionView[]).map((s) => [s.id, s.userId])).toEqual([[m.sessionId, member.id]]);
    expect((await call(stack.baseUrl, 'GET', '/admin/sessions?limit=100000', { token: a.accessToken })).status).toBe(400);
    expect((await call(stack.baseUrl, 'GET', '/admin/sessions?tenantId=x', { token: a.accessToken })).status).toBe(400);

    const socket = await openSocket(stack.baseUrl, m.accessToken);
    expect((await call(stack.baseUrl, 'DELETE', `/admin/sessions/${m.sessionId}`, { token: a.accessToken })).status).toBe(204);
    expect(await closeCode(socket)).toBe(4001);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: m.accessToken })).status).toBe(401);
    const audit = await stack.switchboard.services.db.query<{ actor_id: string; target_id: string }>(
      "SELECT actor_id, target_id FROM audit_log WHERE action = 'session.revoked_by_admin' AND target_id = $1",
      [m.sessionId],
    );
    expect(audit.rows).toEqual([{ actor_id: admin.id, target_id: m.sessionId }]);
  });

  it("an admin cannot end an owner's sessions; an owner can; ending all of a user's sessions closes all their sockets", async () => {
    const owner = await newUser('owner');
    const admin = await newUser('admin');
    const target = await newUser('member');
    const o = await login(stack.baseUrl, owner.email, PASSWORD);
    const a = await login(stack.baseUrl, admin.email, PASSWORD);
    expect((await call(stack.baseUrl, 'DELETE', `/admin/sessions/${o.sessionId}`, { token: a.accessToken })).status).toBe(403);
    expect((await call(stack.baseUrl, 'POST', `/admin/users/${owner.id}/sessions/revoke`, { token: a.accessToken, body: {} })).status).toBe(403);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: o.accessToken })).status).toBe(200);

    const t1 = await login(stack.baseUrl, target.email, PASSWORD);
    const t2 = await login(stack.baseUrl, target.email, PASSWORD);
    const sockets = [await openSocket(stack.baseUrl, t1.accessToken), await openSocket(stack.baseUrl, t2.accessToken)];
    const all = await call(stack.baseUrl, 'POST', `/admin/users/${target.id}/sessions/revoke`, { token: o.accessToken, body: {} });
    expect(all.body).toEqual({ revokedSessions: 2 });
    expect(await Promise.all(sockets.map((s) => closeCode(s)))).toEqual([4001, 4001]);
    expect((await call(stack.baseUrl, 'DELETE', `/admin/sessions/${a.sessionId}`, { token: o.accessToken })).status).toBe(204);
  });

  it('another tenant is invisible: its sessions are 404 and its users are 404', async () => {
    const db = stack.switchboard.services.db;
    const otherTenant = await ensureTenant(db, 'elsewhere', 'Elsewhere', 'redact');
    const email = `foreign-${++n}@example.test`;
    const foreign = await insertUser(db, { tenantId: otherTenant, email, displayName: 'Foreign', role: 'member', passwordHash: await hashPassword(PASSWORD) });
    const f = await login(stack.baseUrl, email, PASSWORD);
    const owner = await newUser('owner');
    const o = await login(stack.baseUrl, owner.email, PASSWORD);
    expect((await call(stack.baseUrl, 'DELETE', `/admin/sessions/${f.sessionId}`, { token: o.accessToken })).status).toBe(404);
    expect((await call(stack.baseUrl, 'POST', `/admin/users/${foreign.id}/sessions/revoke`, { token: o.accessToken, body: {} })).status).toBe(404);
    const listed = (await call(stack.baseUrl, 'GET', '/admin/sessions?limit=500', { token: o.accessToken })).body['sessions'] as SessionView[];
    expect(listed.map((s) => s.id)).not.toContain(f.sessionId);
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: f.accessToken })).status).toBe(200);
  });
});
