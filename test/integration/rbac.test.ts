/**
 * Authorization through the real stack: the written matrix (docs/permissions.md) equals the code
 * (src/auth/rbac.ts); every mounted route is listed there with its permission (OWASP API9 route
 * inventory); every route × role (and API key scope) gets exactly the documented 401/403; the
 * admin user endpoints keep owners safe, reject mass assignment and stay inside the tenant; the
 * audit log reads for auditors, not members.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { openWebchat, signIn } from '../../src/cli/webchat-client.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { insertUser } from '../../src/store/users.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { PERMISSIONS, ROLE_PERMISSIONS, type Permission } from '../../src/auth/rbac.ts';
import { ROLES, type Role } from '../../src/auth/token-claims.ts';

const PASSWORD = 'correct horse battery staple';
const DOC = readFileSync(new URL('../../docs/permissions.md', import.meta.url), 'utf8');
const RBAC_DENIAL = { error: { code: 'forbidden', message: 'Not allowed' } };

let stack: Stack;
let otherTenantId: string;
/** One argon2id hash of PASSWORD, reused for every test user (hashing is the slow part). */
let passwordHash: string;

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function api(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(`${stack.baseUrl}${path.startsWith('/api/') || path.startsWith('/healthz') ? '' : '/api/v1'}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch {
    return { status: response.status, body: { text } };
  }
}

/** Creates a user (any tenant) and signs them in. */
async function userWithToken(tenantId: string, email: string, role: Role): Promise<{ id: string; token: string; email: string }> {
  const user = await insertUser(stack.switchboard.services.db, { tenantId, email, displayName: email.split('@')[0] ?? email, role, passwordHash });
  return { id: user.id, token: await signIn(stack.baseUrl, email, PASSWORD), email };
}

// ── the documents ────────────────────────────────────────────────────────────────────────────

function tableRows(heading: string): string[][] {
  const section = DOC.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/permissions.md has no "## ${heading}" section`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .slice(1)
    .map((line) =>
      line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

interface DocumentedRoute {
  readonly method: string;
  readonly path: string;
  readonly permission: Permission | 'public';
  readonly roles: string;
  readonly apiKeys: string;
}

const documentedRoutes = (): DocumentedRoute[] =>
  tableRows('Routes').map(([method = '', path = '', permission = '', roles = '', apiKeys = '']) => ({
    method,
    path: path.replaceAll('`', ''),
    permission: permission === 'public' ? 'public' : (permission.replaceAll('`', '') as Permission),
    roles,
    apiKeys,
  }));

// ── the app's router stack ───────────────────────────────────────────────────────────────────

interface Layer {
  readonly rawPath?: unknown;
  readonly name?: string;
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly Layer[] };
}

/** Every route (METHOD path) the app answers, plus any plain handler mounted on a specific path. */
function mountedRoutes(): string[] {
  const app = stack.switchboard.httpApp() as unknown as { router: { stack: readonly Layer[] } } | undefined;
  if (!app) throw new Error('the stack has no HTTP app');
  const found = new Set<string>();
  const walk = (layers: readonly Layer[], prefix: string): void => {
    for (const layer of layers) {
      const raw = typeof layer.rawPath === 'string' ? layer.rawPath.replace(/\/$/, '') : '';
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.add(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, `${prefix}${raw}`);
      } else if (raw !== '' && raw !== '/api/v1') {
        // A handler mounted with app.use('/somewhere', fn) answers requests too: it must be listed.
        found.add(`USE ${prefix}${raw}`);
      }
    }
  };
  walk(app.router.stack, '');
  return [...found].sort();
}

beforeAll(async () => {
  stack = await startStack();
  passwordHash = await hashPassword(PASSWORD);
  otherTenantId = await ensureTenant(stack.switchboard.services.db, 'rbac-other', 'Other', 'redact');
});

afterAll(async () => {
  await stack?.stop();
});

describe('the written permission matrix', () => {
  it('docs/permissions.md lists every permission with exactly the roles src/auth/rbac.ts gives it', () => {
    const rows = tableRows('Roles and permissions');
    const header = DOC.split(/^## Roles and permissions/m)[1]?.split('\n').find((l) => l.startsWith('| permission'));
    expect(header?.split('|').map((c) => c.trim()).slice(2, 7)).toEqual([...ROLES]);
    const written = new Map(rows.map(([permission = '', ...marks]) => [permission.replaceAll('`', ''), marks.slice(0, ROLES.length)]));
    expect([...written.keys()].sort()).toEqual([...PERMISSIONS].sort());
    for (const permission of PERMISSIONS) {
      const marks = written.get(permission) ?? [];
      ROLES.forEach((role, index) => {
        expect({ permission, role, granted: marks[index] === '✓' }).toEqual({ permission, role, granted: ROLE_PERMISSIONS[role].has(permission) });
        expect(['✓', '—']).toContain(marks[index]);
      });
    }
  });
});

describe('route inventory (OWASP API9)', () => {
  it('every mounted route is in docs/permissions.md, and every documented route is mounted', () => {
    const documented = documentedRoutes().map((r) => `${r.method} ${r.path}`).sort();
    expect(new Set(documented).size).toBe(documented.length);
    const mounted = mountedRoutes();
    expect(mounted.filter((r) => !documented.includes(r)), 'mounted but not documented (add them to docs/permissions.md)').toEqual([]);
    expect(documented.filter((r) => !mounted.includes(r)), 'documented but not mounted').toEqual([]);
  });

  it('each documented permission exists and its roles column is derived from the matrix', () => {
    for (const route of documentedRoutes()) {
      if (route.permission === 'public') {
        expect(route.roles).toBe('anyone');
        continue;
      }
      expect(PERMISSIONS).toContain(route.permission);
      const roles = ROLES.filter((role) => ROLE_PERMISSIONS[role].has(route.permission as Permission)).join(', ');
      expect({ route: route.path, roles: route.roles }).toEqual({ route: route.path, roles });
      expect(['yes', 'no']).toContain(route.apiKeys);
    }
  });
});

describe('RBAC matrix: every route × role', () => {
  /** Bodies that get a route past its body parsing, so the credential check is what answers. */
  const BODY: Record<string, () => unknown> = {
    'POST /api/v1/auth/2fa/confirm': () => ({ code: '000000' }),
    'POST /api/v1/auth/2fa/disable': () => ({ code: '000000' }),
    'POST /api/v1/auth/2fa/recovery-codes': () => ({ code: '000000' }),
    'PUT /api/v1/auth/2fa/policy': () => ({ requiredRoles: [] }),
    'POST /api/v1/messages': () => ({ id: randomUUID(), text: 'matrix check' }),
    'DELETE /api/v1/account': () => ({ password: 'not the password at all' }),
  };
  /** The credential check's own 401 (a domain 401, e.g. a wrong TOTP code, means the caller got through). */
  const credentialRefused = (reply: Reply): boolean =>
    reply.status === 401 && (reply.body['error'] as { message?: string } | undefined)?.message === 'Authentication required';
  const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, () => randomUUID());
  const users = new Map<Role, { email: string; token: string }>();

  async function call(route: DocumentedRoute, token?: string): Promise<Reply> {
    const key = `${route.method} ${route.path}`;
    const body = route.method === 'GET' ? undefined : (BODY[key]?.() ?? {});
    return api(route.method, concrete(route.path), { ...(token === undefined ? {} : { token }), ...(body === undefined ? {} : { body }) });
  }

  /** Calls as `role`; a token revoked by an earlier call (logout-all) is replaced once. */
  async function callAs(route: DocumentedRoute, role: Role): Promise<Reply> {
    const user = users.get(role);
    if (!user) throw new Error(`no ${role}`);
    const reply = await call(route, user.token);
    if (!credentialRefused(reply)) return reply;
    user.token = await signIn(stack.baseUrl, user.email, PASSWORD);
    return call(route, user.token);
  }

  beforeAll(async () => {
    for (const role of ROLES) {
      const email = `matrix-${role}@rbac.test`;
      const { token } = await userWithToken(stack.tenantId, email, role);
      users.set(role, { email, token });
    }
  });

  // Routes that end the caller's sessions run last, so the others are checked with live tokens.
  const ordered = (): DocumentedRoute[] =>
    documentedRoutes()
      .filter((r) => r.permission !== 'public')
      .sort((a, b) => Number(a.path.includes('logout')) - Number(b.path.includes('logout')));

  it('without credentials every protected route answers 401', async () => {
    const wrong: string[] = [];
    await Promise.all(
      ordered().map(async (route) => {
        const reply = await call(route);
        if (reply.status !== 401) wrong.push(`${route.method} ${route.path} → ${reply.status}`);
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('each role gets 403 exactly where the matrix says no, and is let through elsewhere', async () => {
    const wrong: string[] = [];
    let checked = 0;
    // One route at a time (so a logout cannot race the others), every role at once.
    for (const route of ordered()) {
      await Promise.all(
        ROLES.map(async (role) => {
          const reply = await callAs(route, role);
          const allowed = ROLE_PERMISSIONS[role].has(route.permission as Permission);
          const denied = reply.status === 403 && JSON.stringify(reply.body) === JSON.stringify(RBAC_DENIAL);
          checked += 1;
          if (allowed && (denied || credentialRefused(reply))) wrong.push(`${role} ${route.method} ${route.path}: expected allowed, got ${reply.status} ${JSON.stringify(reply.body)}`);
          if (!allowed && !denied) wrong.push(`${role} ${route.method} ${route.path}: expected 403 Not allowed, got ${reply.status} ${JSON.stringify(reply.body)}`);
        }),
      );
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(ordered().length * ROLES.length);
  });

  it('an API key passes exactly where its scopes (and the "API keys" column) say so', async () => {
    const owner = users.get('owner');
    if (!owner) throw new Error('no owner');
    // The matrix above ended with logout-all: sign in again.
    const ownerToken = await signIn(stack.baseUrl, owner.email, PASSWORD);
    const keyFor = async (scopes: readonly Permission[]): Promise<string> => {
      const reply = await api('POST', '/admin/api-keys', { token: ownerToken, body: { name: 'matrix', role: 'owner', scopes } });
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      return reply.body['secret'] as string;
    };
    const wrong: string[] = [];
    const routes = ordered();
    const permissions = [...new Set(routes.map((r) => r.permission as Permission))];
    await Promise.all(permissions.map(async (permission) => {
      const only = await keyFor([permission]);
      const allBut = await keyFor(PERMISSIONS.filter((p) => p !== permission));
      for (const route of routes.filter((r) => r.permission === permission)) {
        const scoped = await call(route, only);
        const userOnly = scoped.status === 403 && JSON.stringify(scoped.body) !== JSON.stringify(RBAC_DENIAL);
        if (credentialRefused(scoped) || JSON.stringify(scoped.body) === JSON.stringify(RBAC_DENIAL)) {
          wrong.push(`key with ${permission}: ${route.method} ${route.path} → ${scoped.status}`);
        } else if ((route.apiKeys === 'no') !== userOnly) {
          wrong.push(`key with ${permission}: ${route.method} ${route.path} → ${scoped.status} ${JSON.stringify(scoped.body)} but the doc says API keys: ${route.apiKeys}`);
        }
        const unscoped = await call(route, allBut);
        if (JSON.stringify(unscoped.body) !== JSON.stringify(RBAC_DENIAL)) {
          wrong.push(`key without ${permission}: ${route.method} ${route.path} → ${unscoped.status} ${JSON.stringify(unscoped.body)}`);
        }
      }
    }));
    expect(wrong).toEqual([]);
  });
});

describe('admin users', () => {
  let owner: { id: string; token: string; email: string };
  let admin: { id: string; token: string; email: string };
  let member: { id: string; token: string; email: string };
  let otherAdmin: { id: string; token: string; email: string };

  beforeAll(async () => {
    owner = await userWithToken(stack.tenantId, 'owner@rbac.test', 'owner');
    admin = await userWithToken(stack.tenantId, 'admin@rbac.test', 'admin');
    member = await userWithToken(stack.tenantId, 'member@rbac.test', 'member');
    otherAdmin = await userWithToken(otherTenantId, 'admin@rbac-other.test', 'admin');
  });

  it('creates a person with a role and a password shown once, which signs in; agents get no password', async () => {
    const reply = await api('POST', '/admin/users', { token: admin.token, body: { email: 'New.Person@rbac.test', role: 'member', displayName: 'New' } });
    expect(reply.status).toBe(201);
    expect(reply.body['user']).toMatchObject({ email: 'new.person@rbac.test', role: 'member', disabled: false, hasPassword: true });
    const password = reply.body['password'] as string;
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(await signIn(stack.baseUrl, 'new.person@rbac.test', password)).toMatch(/\./);
    const list = await api('GET', '/admin/users?limit=100', { token: admin.token });
    expect(JSON.stringify(list.body)).not.toContain(password);
    expect(JSON.stringify(list.body)).not.toContain('argon2');

    const agent = await api('POST', '/admin/users', { token: admin.token, body: { email: 'bot@rbac.test', role: 'agent' } });
    expect(agent.status).toBe(201);
    expect(agent.body['password']).toBeUndefined();
    expect(agent.body['user']).toMatchObject({ role: 'agent', hasPassword: false });
    const audit = await stack.switchboard.services.db.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'admin.user_created' AND actor_id = $1", [admin.id]);
    expect(audit.rows[0]).toEqual({ n: 2 });
  });

  it('refuses a weak chosen password, a duplicate email (409), and creating owners unless an owner asks', async () => {
    expect((await api('POST', '/admin/users', { token: admin.token, body: { email: 'weak@rbac.test', role: 'member', password: 'short' } })).status).toBe(400);
    expect((await api('POST', '/admin/users', { token: admin.token, body: { email: 'member@rbac.test', role: 'member' } })).status).toBe(409);
    const byAdmin = await api('POST', '/admin/users', { token: admin.token, body: { email: 'owner2@rbac.test', role: 'owner' } });
    expect(byAdmin.status).toBe(400);
    expect(byAdmin.body).toMatchObject({ error: { code: 'validation_failed', issues: [{ path: 'role' }] } });
    const byOwner = await api('POST', '/admin/users', { token: owner.token, body: { email: 'owner2@rbac.test', role: 'owner' } });
    expect(byOwner.status).toBe(201);
    expect((await api('POST', '/admin/users', { token: member.token, body: { email: 'x@rbac.test', role: 'member' } })).status).toBe(403);
  });

  it.each([
    ['tenantId', { tenantId: '00000000-0000-4000-8000-000000000000' }],
    ['id', { id: '00000000-0000-4000-8000-000000000000' }],
    ['passwordHash', { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y' }],
    ['createdAt', { createdAt: '2020-01-01T00:00:00Z' }],
    ['disabled', { disabled: false }],
    ['hasPassword', { hasPassword: true }],
    ['an unknown field', { isAdmin: true }],
  ])('POST refuses %s in the body (400 validation_failed) and creates nobody', async (_name, extra) => {
    const email = `mass-${randomUUID().slice(0, 8)}@rbac.test`;
    const reply = await api('POST', '/admin/users', { token: owner.token, body: { email, role: 'member', ...extra } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'validation_failed' } });
    const found = await stack.switchboard.services.db.query('SELECT 1 FROM users WHERE email = $1', [email]);
    expect(found.rowCount).toBe(0);
  });

  it.each([
    ['email', { email: 'taken@rbac.test' }],
    ['tenantId', { tenantId: '00000000-0000-4000-8000-000000000000' }],
    ['passwordHash', { passwordHash: 'x' }],
    ['id', { id: '00000000-0000-4000-8000-000000000000' }],
    ['createdAt', { createdAt: '2020-01-01T00:00:00Z' }],
    ['nothing', {}],
    ['a role that is not one', { role: 'superuser' }],
  ])('PATCH refuses %s (400 validation_failed) and changes nothing', async (_name, body) => {
    const before = await stack.switchboard.services.db.query('SELECT * FROM users WHERE id = $1', [member.id]);
    const reply = await api('PATCH', `/admin/users/${member.id}`, { token: owner.token, body });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'validation_failed' } });
    const after = await stack.switchboard.services.db.query('SELECT * FROM users WHERE id = $1', [member.id]);
    expect(after.rows).toEqual(before.rows);
  });

  it('admins re-role non-owners, but cannot promote to owner (400) or change an owner (403)', async () => {
    const target = await userWithToken(stack.tenantId, 'rerole@rbac.test', 'member');
    const promoted = await api('PATCH', `/admin/users/${target.id}`, { token: admin.token, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body['user']).toMatchObject({ role: 'admin' });
    // The role change applies to the user's existing token at once (the role is read per request).
    expect((await api('GET', '/admin/users', { token: target.token })).status).toBe(200);
    expect((await api('PATCH', `/admin/users/${target.id}`, { token: admin.token, body: { role: 'auditor' } })).status).toBe(200);
    expect((await api('GET', '/admin/users', { token: target.token })).status).toBe(403);
    const toOwner = await api('PATCH', `/admin/users/${target.id}`, { token: admin.token, body: { role: 'owner' } });
    expect(toOwner.status).toBe(400);
    expect(toOwner.body).toMatchObject({ error: { issues: [{ path: 'role' }] } });
    expect((await api('PATCH', `/admin/users/${owner.id}`, { token: admin.token, body: { role: 'member' } })).status).toBe(403);
    expect((await api('PATCH', `/admin/users/${owner.id}`, { token: admin.token, body: { disabled: true } })).status).toBe(403);
    expect((await api('PATCH', `/admin/users/${target.id}`, { token: member.token, body: { role: 'member' } })).status).toBe(403);
  });

  it('nobody can demote or disable the last owner (409), and two owners demoting each other at once leave one', async () => {
    const tenantId = await ensureTenant(stack.switchboard.services.db, 'rbac-owners', 'Owners', 'redact');
    const first = await userWithToken(tenantId, 'first@rbac-owners.test', 'owner');
    // The sole owner cannot step down or disable themselves.
    expect((await api('PATCH', `/admin/users/${first.id}`, { token: first.token, body: { role: 'admin' } })).status).toBe(409);
    expect((await api('PATCH', `/admin/users/${first.id}`, { token: first.token, body: { disabled: true } })).status).toBe(409);
    // Nor can an owner-role API key holding users:manage.
    const key = await api('POST', '/admin/api-keys', { token: first.token, body: { name: 'owner tool', role: 'owner', scopes: ['users:manage'] } });
    expect(key.status).toBe(201);
    const keyReply = await api('PATCH', `/admin/users/${first.id}`, { token: key.body['secret'] as string, body: { role: 'member' } });
    expect(keyReply).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });

    for (let round = 0; round < 3; round += 1) {
      const a = await userWithToken(tenantId, `a${round}@rbac-owners.test`, 'owner');
      const b = await userWithToken(tenantId, `b${round}@rbac-owners.test`, 'owner');
      // Leave only a and b as enabled owners.
      await stack.switchboard.services.db.query("UPDATE users SET role = 'admin' WHERE tenant_id = $1 AND role = 'owner' AND id NOT IN ($2, $3)", [tenantId, a.id, b.id]);
      const [ab, ba] = await Promise.all([
        api('PATCH', `/admin/users/${b.id}`, { token: a.token, body: { role: 'admin' } }),
        api('PATCH', `/admin/users/${a.id}`, { token: b.token, body: { disabled: true } }),
      ]);
      const statuses = [ab.status, ba.status].sort();
      // One succeeds; the other is either 409 (last owner) or 403/401 (its actor is no longer an owner / disabled).
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      const owners = await stack.switchboard.services.db.query(
        "SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL",
        [tenantId],
      );
      expect(owners.rows[0]).toEqual({ n: 1 });
    }
  });

  it('disabling a user closes their sockets (4001), stops their token and is audited; enabling lets them back', async () => {
    const target = await userWithToken(stack.tenantId, 'disable-me@rbac.test', 'member');
    const client = await openWebchat(stack.baseUrl, target.email, PASSWORD);
    const closed = client.closed();
    const reply = await api('PATCH', `/admin/users/${target.id}`, { token: admin.token, body: { disabled: true } });
    expect(reply.status).toBe(200);
    expect(reply.body['user']).toMatchObject({ disabled: true });
    expect(await closed).toBe(4001);
    expect((await api('GET', '/conversations', { token: target.token })).status).toBe(401);
    await expect(signIn(stack.baseUrl, target.email, PASSWORD)).rejects.toThrow();
    const audit = await stack.switchboard.services.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'admin.user_updated' AND target_id = $1",
      [target.id],
    );
    expect(audit.rows[0]?.details).toMatchObject({ wasDisabled: false, disabled: true });
    expect(Number(audit.rows[0]?.details['sessionsRevoked'])).toBeGreaterThanOrEqual(2);
    expect((await api('PATCH', `/admin/users/${target.id}`, { token: admin.token, body: { disabled: false } })).status).toBe(200);
    // Enabled again: a new sign-in works, but the sessions that were open stay ended.
    const fresh = await signIn(stack.baseUrl, target.email, PASSWORD);
    expect((await api('GET', '/conversations', { token: fresh })).status).toBe(200);
    expect((await api('GET', '/conversations', { token: target.token })).status).toBe(401);
  });

  it("another tenant's admin sees none of this tenant's users and can change none (404)", async () => {
    const list = await api('GET', '/admin/users?limit=100', { token: otherAdmin.token });
    expect(list.status).toBe(200);
    const emails = (list.body['users'] as Array<{ email: string }>).map((u) => u.email);
    expect(emails).toEqual(['admin@rbac-other.test']);
    for (const body of [{ role: 'member' }, { disabled: true }]) {
      expect((await api('PATCH', `/admin/users/${member.id}`, { token: otherAdmin.token, body })).status).toBe(404);
    }
    const still = await stack.switchboard.services.db.query('SELECT role, disabled_at FROM users WHERE id = $1', [member.id]);
    expect(still.rows[0]).toEqual({ role: 'member', disabled_at: null });
    // The same email in another tenant is another account.
    const created = await api('POST', '/admin/users', { token: otherAdmin.token, body: { email: 'member@rbac.test', role: 'member' } });
    expect(created.status).toBe(201);
    expect((created.body['user'] as { id: string }).id).not.toBe(member.id);
  });

  it('lists page by page with an opaque cursor, filtered by role', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await api('GET', `/admin/users?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token });
      expect(page.status).toBe(200);
      const usersOnPage = page.body['users'] as Array<{ id: string }>;
      expect(usersOnPage.length).toBeLessThanOrEqual(3);
      seen.push(...usersOnPage.map((u) => u.id));
      cursor = page.body['nextCursor'] as string | null;
    } while (cursor !== null);
    const total = await stack.switchboard.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE tenant_id = $1', [stack.tenantId]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(total.rows[0]!.n);
    const owners = await api('GET', '/admin/users?role=owner&limit=100', { token: admin.token });
    expect((owners.body['users'] as Array<{ role: string }>).every((u) => u.role === 'owner')).toBe(true);
    expect((await api('GET', '/admin/users?cursor=bm90LWEtY3Vyc29y', { token: admin.token })).status).toBe(400);
    expect((await api('GET', '/admin/users?tenantId=x', { token: admin.token })).status).toBe(400);
  });
});

describe('audit read', () => {
  let owner: { id: string; token: string };
  let auditor: { id: string; token: string };
  let member: { id: string; token: string };
  let otherAuditor: { id: string; token: string };

  beforeAll(async () => {
    owner = await userWithToken(stack.tenantId, 'owner@audit.test', 'owner');
    auditor = await userWithToken(stack.tenantId, 'auditor@audit.test', 'auditor');
    member = await userWithToken(stack.tenantId, 'member@audit.test', 'member');
    otherAuditor = await userWithToken(otherTenantId, 'auditor@audit-other.test', 'auditor');
    for (let i = 0; i < 5; i += 1) {
      expect((await api('POST', '/admin/users', { token: owner.token, body: { email: `audited${i}@audit.test`, role: 'member' } })).status).toBe(201);
    }
  });

  it('works for auditors, is denied to members (403) and agents, and needs credentials (401)', async () => {
    const reply = await api('GET', '/audit', { token: auditor.token });
    expect(reply.status).toBe(200);
    expect((reply.body['entries'] as unknown[]).length).toBeGreaterThan(0);
    expect(await api('GET', '/audit', { token: member.token })).toMatchObject({ status: 403, body: RBAC_DENIAL });
    expect((await api('GET', '/audit')).status).toBe(401);
  });

  it('filters by exact action, action prefix, actor and time, newest first', async () => {
    const exact = await api('GET', '/audit?action=admin.user_created&limit=200', { token: auditor.token });
    const entries = exact.body['entries'] as Array<{ id: string; action: string; actorId: string; at: string }>;
    expect(entries.length).toBeGreaterThanOrEqual(5);
    expect(entries.every((e) => e.action === 'admin.user_created')).toBe(true);
    expect(entries.map((e) => Number(e.id))).toEqual([...entries.map((e) => Number(e.id))].sort((a, b) => b - a));

    const prefix = await api('GET', '/audit?action=admin.*&limit=200', { token: auditor.token });
    const prefixed = prefix.body['entries'] as Array<{ action: string }>;
    expect(prefixed.every((e) => e.action.startsWith('admin.'))).toBe(true);
    expect(prefixed.length).toBeGreaterThanOrEqual(entries.length);

    const byActor = await api('GET', `/audit?actorId=${owner.id}&action=admin.user_created`, { token: auditor.token });
    expect((byActor.body['entries'] as unknown[]).length).toBe(5);

    const newest = entries[0]!;
    const after = await api('GET', `/audit?action=admin.user_created&since=${encodeURIComponent(new Date(Date.parse(newest.at) + 1).toISOString())}`, { token: auditor.token });
    expect(after.body['entries']).toEqual([]);
    const before = await api('GET', `/audit?action=admin.user_created&until=${encodeURIComponent(newest.at)}&limit=200`, { token: auditor.token });
    expect((before.body['entries'] as Array<{ id: string }>).map((e) => e.id)).not.toContain(newest.id);
  });

  it('pages with a cursor: pages are disjoint and together hold every row', async () => {
    const all = await api('GET', '/audit?action=admin.user_created&limit=200', { token: auditor.token });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await api('GET', `/audit?action=admin.user_created&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: auditor.token });
      ids.push(...(page.body['entries'] as Array<{ id: string }>).map((e) => e.id));
      cursor = page.body['nextCursor'] as string | null;
    } while (cursor !== null);
    expect(ids).toEqual((all.body['entries'] as Array<{ id: string }>).map((e) => e.id));
  });

  it('refuses unknown, repeated and malformed parameters (400)', async () => {
    for (const query of ['tenantId=x', 'action=a&action=b', 'action=DROP TABLE', 'since=yesterday', 'limit=0', 'limit=1000', 'cursor=-1', `since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z`]) {
      const reply = await api('GET', `/audit?${query}`, { token: auditor.token });
      expect({ query, status: reply.status }).toEqual({ query, status: 400 });
    }
  });

  it('is tenant-scoped: another tenant sees none of these rows', async () => {
    const mine = await api('GET', '/audit?action=admin.user_created&limit=200', { token: auditor.token });
    const theirs = await api('GET', '/audit?limit=200', { token: otherAuditor.token });
    expect(theirs.status).toBe(200);
    const theirIds = new Set((theirs.body['entries'] as Array<{ id: string }>).map((e) => e.id));
    for (const entry of mine.body['entries'] as Array<{ id: string }>) expect(theirIds.has(entry.id)).toBe(false);
    const rows = await stack.switchboard.services.db.query<{ tenant_id: string | null }>(
      `SELECT DISTINCT tenant_id FROM audit_log WHERE id = ANY($1::bigint[])`,
      [[...theirIds]],
    );
    expect(rows.rows.map((r) => r.tenant_id)).toEqual([otherTenantId]);
  });

  it('records each read as audit.read', async () => {
    await api('GET', '/audit?action=admin.*', { token: auditor.token });
    const rows = await stack.switchboard.services.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'audit.read' AND actor_id = $1 ORDER BY id DESC LIMIT 1",
      [auditor.id],
    );
    expect(rows.rows[0]?.details).toMatchObject({ action: 'admin.*' });
  });
});
