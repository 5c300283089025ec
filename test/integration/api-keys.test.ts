/**
 * API keys through the real HTTP stack (real Postgres and Redis): shown once, stored as a keyed
 * hash, accepted only as `Authorization: Bearer sbk_…` (trailing newline, query string, body and
 * every malformation refused and audited), scoped, expiring, rotating, revoking, tenant-scoped.
 */
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { signIn } from '../../src/cli/webchat-client.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { insertUser } from '../../src/store/users.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { createApiKeyAuth } from '../../src/auth/api-key-authenticator.ts';
import { parseApiKeyHashKey } from '../../src/auth/api-keys.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { systemClock } from '../../src/core/clock.ts';

const PASSWORD = 'correct horse battery staple';
const HASH_KEY = Buffer.alloc(32, 7).toString('base64');

let stack: Stack;
let ownerToken: string;
let adminToken: string;
let memberToken: string;
let otherAdminToken: string;
let otherTenantId: string;
let agentUserId: string;

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function api(method: string, path: string, options: { token?: string; authorization?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  const response = await fetch(`${stack.baseUrl}/api/v1${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface CreatedKey {
  readonly id: string;
  readonly secret: string;
  readonly publicId: string;
  readonly view: Record<string, unknown>;
}

async function createKey(token: string, body: Record<string, unknown>): Promise<CreatedKey> {
  const reply = await api('POST', '/admin/api-keys', { token, body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const view = reply.body['apiKey'] as Record<string, unknown>;
  const secret = reply.body['secret'] as string;
  return { id: view['id'] as string, secret, publicId: secret.slice(4, 20), view };
}

/** One raw HTTP/1.1 request, so headers can carry bytes fetch refuses to send. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

type AuditRow = { tenant_id: string | null; actor_id: string | null; target_id: string | null; details: Record<string, unknown>; ip: string | null };

/** The newest audit row id: rows written after it belong to the code under test. */
async function auditMark(): Promise<number> {
  const result = await stack.switchboard.services.db.query<{ id: string | null }>('SELECT max(id)::text AS id FROM audit_log');
  return Number(result.rows[0]?.id ?? 0);
}

async function auditRows(action: string, afterId: number): Promise<AuditRow[]> {
  const result = await stack.switchboard.services.db.query<AuditRow>(
    `SELECT tenant_id, actor_id, target_id, details, ip FROM audit_log WHERE action = $1 AND id > $2 ORDER BY id`,
    [action, afterId],
  );
  return result.rows;
}

beforeAll(async () => {
  stack = await startStack({ env: { API_KEY_HASH_KEY: HASH_KEY } });
  await stack.createUser({ email: 'owner@keys.test', password: PASSWORD, role: 'owner' });
  await stack.createUser({ email: 'admin@keys.test', password: PASSWORD, role: 'admin' });
  await stack.createUser({ email: 'member@keys.test', password: PASSWORD, role: 'member' });
  ({ id: agentUserId } = await stack.createUser({ email: 'agent@keys.test', password: PASSWORD, role: 'agent' }));
  const db = stack.switchboard.services.db;
  otherTenantId = await ensureTenant(db, 'other-keys', 'Other', 'redact');
  await insertUser(db, { tenantId: otherTenantId, email: 'admin@other-keys.test', displayName: 'Other admin', role: 'admin', passwordHash: await hashPassword(PASSWORD) });
  ownerToken = await signIn(stack.baseUrl, 'owner@keys.test', PASSWORD);
  adminToken = await signIn(stack.baseUrl, 'admin@keys.test', PASSWORD);
  memberToken = await signIn(stack.baseUrl, 'member@keys.test', PASSWORD);
  otherAdminToken = await signIn(stack.baseUrl, 'admin@other-keys.test', PASSWORD);
});

afterAll(async () => {
  await stack?.stop();
});

describe('creating a key', () => {
  it('shows the secret once, stores only HMAC-SHA-256(server key, token), and lists without it', async () => {
    const key = await createKey(adminToken, { name: 'ci bot', role: 'auditor', scopes: ['audit:read'] });
    expect(key.secret).toMatch(/^sbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.view).toMatchObject({ name: 'ci bot', role: 'auditor', scopes: ['audit:read'], prefix: `sbk_${key.publicId}`, status: 'active' });

    const row = await stack.switchboard.services.db.query<{ secret_hash: Buffer; public_id: string; row: string }>(
      'SELECT secret_hash, public_id, row_to_json(api_keys)::text AS row FROM api_keys WHERE id = $1',
      [key.id],
    );
    const stored = row.rows[0]!;
    expect(stored.secret_hash).toEqual(createHmac('sha256', parseApiKeyHashKey(HASH_KEY)).update(key.secret).digest());
    expect(stored.row).not.toContain(key.secret.slice(21));
    expect(stored.public_id).toBe(key.publicId);

    const list = await api('GET', '/admin/api-keys', { token: adminToken });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key.secret.slice(21));
    expect((list.body['apiKeys'] as Array<{ id: string }>).map((k) => k.id)).toContain(key.id);
    const audit = await stack.switchboard.services.db.query<{ text: string }>("SELECT string_agg(row_to_json(audit_log)::text, ' ') AS text FROM audit_log");
    expect(audit.rows[0]?.text).toContain(key.publicId);
    expect(audit.rows[0]?.text).not.toContain(key.secret.slice(21));
  });

  it('gets the default lifetime (API_KEY_MAX_TTL_DAYS) and refuses expiries in the past or beyond it', async () => {
    const key = await createKey(adminToken, { name: 'default ttl', scopes: ['chat:send'] });
    const expiresAt = Date.parse(key.view['expiresAt'] as string);
    expect(Math.abs(expiresAt - (Date.now() + 365 * 86_400_000))).toBeLessThan(60_000);
    for (const when of [new Date(Date.now() - 1000), new Date(Date.now() + 366 * 86_400_000)]) {
      const reply = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', scopes: ['chat:send'], expiresAt: when.toISOString() } });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: { code: 'validation_failed', issues: [{ path: 'expiresAt' }] } });
    }
  });

  it.each([
    ['tenantId', { tenantId: '00000000-0000-4000-8000-000000000000' }],
    ['id', { id: '00000000-0000-4000-8000-000000000000' }],
    ['secretHash', { secretHash: 'AAAA' }],
    ['publicId', { publicId: '0123456789abcdef' }],
    ['createdAt', { createdAt: new Date().toISOString() }],
    ['createdBy', { createdBy: '00000000-0000-4000-8000-000000000000' }],
    ['lastUsedAt', { lastUsedAt: new Date().toISOString() }],
    ['revokedAt', { revokedAt: null }],
    ['an unknown field', { admin: true }],
  ])('refuses a body with %s (400 validation_failed, nothing created)', async (_name, extra) => {
    const before = await stack.switchboard.services.db.query('SELECT count(*)::int AS n FROM api_keys');
    const reply = await api('POST', '/admin/api-keys', { token: ownerToken, body: { name: 'mass', scopes: ['chat:send'], ...extra } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'validation_failed' } });
    const after = await stack.switchboard.services.db.query('SELECT count(*)::int AS n FROM api_keys');
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  it("never beyond the creator's own permissions or role, nor scopes the key's role lacks", async () => {
    const ownerRole = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', role: 'owner', scopes: ['chat:send'] } });
    expect(ownerRole.status).toBe(400);
    expect(ownerRole.body).toMatchObject({ error: { issues: [{ path: 'role' }] } });
    const beyond = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', role: 'admin', scopes: ['tenant:configure'] } });
    expect(beyond.status).toBe(400);
    expect(beyond.body).toMatchObject({ error: { issues: [{ path: 'scopes.0', message: 'not a permission you hold' }] } });
    const dead = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', role: 'agent', scopes: ['chat:send', 'audit:read'] } });
    expect(dead.status).toBe(400);
    expect(dead.body).toMatchObject({ error: { issues: [{ path: 'scopes.1' }] } });
    const notAPermission = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', scopes: ['root'] } });
    expect(notAPermission.status).toBe(400);
    // The owner holds tenant:configure and may give it to an owner-role key.
    await createKey(ownerToken, { name: 'owner tool', role: 'owner', scopes: ['tenant:configure'] });
  });

  it('is refused to members (403) and to callers without credentials (401)', async () => {
    expect((await api('POST', '/admin/api-keys', { token: memberToken, body: { name: 'x', scopes: ['chat:send'] } })).status).toBe(403);
    expect((await api('POST', '/admin/api-keys', { body: { name: 'x', scopes: ['chat:send'] } })).status).toBe(401);
  });

  it('can act as an enabled user of the tenant, taking its role, and stops working when that user is disabled', async () => {
    const key = await createKey(adminToken, { name: 'agent key', userId: agentUserId, scopes: ['chat:send', 'conversations:read'] });
    expect(key.view).toMatchObject({ role: 'agent', userId: agentUserId });
    const mismatch = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', userId: agentUserId, role: 'member', scopes: ['chat:send'] } });
    expect(mismatch.status).toBe(400);
    const foreignUser = await stack.switchboard.services.db.query<{ id: string }>("SELECT id FROM users WHERE email = 'admin@other-keys.test'");
    const foreign = await api('POST', '/admin/api-keys', { token: ownerToken, body: { name: 'x', userId: foreignUser.rows[0]!.id, scopes: ['chat:send'] } });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: { issues: [{ path: 'userId' }] } });

    // An agent key may call what its scopes and role allow: GET /conversations is conversations:read.
    expect((await api('GET', '/conversations', { token: key.secret })).status).not.toBe(401);
    const disabled = await api('PATCH', `/admin/users/${agentUserId}`, { token: adminToken, body: { disabled: true } });
    expect(disabled.status).toBe(200);
    const refused = await api('GET', '/conversations', { token: key.secret });
    expect(refused.status).toBe(401);
    expect((await api('PATCH', `/admin/users/${agentUserId}`, { token: adminToken, body: { disabled: false } })).status).toBe(200);
    expect((await api('GET', '/conversations', { token: key.secret })).status).not.toBe(401);
  });

  it('checks a conversation allow-list against the tenant (another tenant\'s conversation is unknown)', async () => {
    const db = stack.switchboard.services.db;
    const mine = await db.query<{ id: string }>(
      `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind)
       VALUES ($1, 'webchat', 'w', 'keys-allow-list-a', 'c', 'dm') RETURNING id`,
      [stack.tenantId],
    );
    const theirs = await db.query<{ id: string }>(
      `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind)
       VALUES ($1, 'webchat', 'w', 'keys-allow-list-b', 'c', 'dm') RETURNING id`,
      [otherTenantId],
    );
    const key = await createKey(adminToken, { name: 'one room', scopes: ['chat:send'], conversationIds: [mine.rows[0]!.id] });
    expect(key.view['conversationIds']).toEqual([mine.rows[0]!.id]);
    const foreign = await api('POST', '/admin/api-keys', { token: adminToken, body: { name: 'x', scopes: ['chat:send'], conversationIds: [theirs.rows[0]!.id] } });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ error: { issues: [{ path: 'conversationIds.0' }] } });
  });
});

describe('presenting a key', () => {
  let key: CreatedKey;
  beforeAll(async () => {
    key = await createKey(adminToken, { name: 'reader', role: 'auditor', scopes: ['audit:read'] });
  });

  it('is accepted as `Authorization: Bearer sbk_…` and carries its tenant, role and scopes', async () => {
    const reply = await api('GET', '/audit?limit=5', { token: key.secret });
    expect(reply.status).toBe(200);
    // Out of scope even though a key could hold it: users:read is not among this key's scopes.
    const outOfScope = await api('GET', '/admin/users', { token: key.secret });
    expect(outOfScope.status).toBe(403);
  });

  it('with a trailing newline is refused: by the HTTP parser on the wire, and by the authenticator itself', async () => {
    const port = Number(new URL(stack.baseUrl).port);
    const ok = await rawRequest(port, `GET /api/v1/audit?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${key.secret}\r\n\r\n`);
    expect(ok.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    for (const suffix of ['\n', '\r', '\x0b']) {
      const response = await rawRequest(port, `GET /api/v1/audit?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${key.secret}${suffix}\r\n\r\n`);
      expect(response.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (400|401) /);
    }
    // Behind a lenient proxy the value could arrive with the newline: the authenticator refuses it too.
    const { authenticate } = createApiKeyAuth({ db: stack.switchboard.services.db, hashKey: parseApiKeyHashKey(HASH_KEY), clock: systemClock });
    for (const value of [`Bearer ${key.secret}\n`, `Bearer ${key.secret}\r\n`, `Bearer ${key.secret} `, `Bearer ${key.secret}\t`, ` Bearer ${key.secret}`]) {
      const error = await authenticate(value).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isSwitchboardError(error, 'unauthenticated')).toBe(true);
    }
    expect(await authenticate(`Bearer ${key.secret}`)).toMatchObject({ kind: 'api_key', apiKeyId: key.id, role: 'auditor' });
  });

  it.each([
    ['a lower-case scheme', (s: string) => `bearer ${s}`],
    ['two spaces', (s: string) => `Bearer  ${s}`],
    ['no scheme', (s: string) => s],
    ['another scheme', (s: string) => `Token ${s}`],
    ['a percent-encoded newline', (s: string) => `Bearer ${s}%0A`],
    ['an extra character', (s: string) => `Bearer ${s}x`],
    ['a missing character', (s: string) => `Bearer ${s.slice(0, -1)}`],
    ['padding', (s: string) => `Bearer ${s}=`],
    ['two keys', (s: string) => `Bearer ${s}, ${s}`],
    ['quotes', (s: string) => `Bearer "${s}"`],
  ])('with %s is refused (401) and audited as malformed', async (_name, shape) => {
    const since = await auditMark();
    const reply = await api('GET', '/audit', { authorization: shape(key.secret) });
    expect(reply.status).toBe(401);
    const rows = await auditRows('api_key.rejected', since);
    const row = rows.find((r) => r.details['reason'] === 'malformed' && r.details['publicId'] === key.publicId);
    expect(row).toBeDefined();
    expect(row?.tenant_id).toBe(stack.tenantId);
    expect(JSON.stringify(rows)).not.toContain(key.secret.slice(21));
  });

  it('in the query string is refused (400) even next to a valid header, and audited with the key id only', async () => {
    const since = await auditMark();
    for (const query of [`api_key=${key.secret}`, `token=${encodeURIComponent(key.secret)}`, `x=Bearer%20${key.secret}`]) {
      const reply = await api('GET', `/audit?${query}`, { token: key.secret });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: { code: 'validation_failed', issues: [{ path: 'query' }] } });
    }
    const noHeader = await api('GET', `/admin/users?access_token=${key.secret}`);
    expect(noHeader.status).toBe(400);
    const rows = await auditRows('api_key.misplaced', since);
    expect(rows.filter((r) => r.details['where'] === 'query')).toHaveLength(4);
    expect(rows.every((r) => r.tenant_id === stack.tenantId && r.target_id === key.id && r.ip !== null)).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(key.secret.slice(21));
  });

  it('in the body or another header is refused (400) and audited', async () => {
    const since = await auditMark();
    const inBody = await api('POST', '/admin/users', { token: adminToken, body: { email: 'x@keys.test', role: 'member', password: key.secret } });
    expect(inBody.status).toBe(400);
    expect(inBody.body).toMatchObject({ error: { issues: [{ path: 'body' }] } });
    const nested = await api('POST', '/messages', { token: memberToken, body: { id: '6c1d6a52-8a9f-4a57-9d68-1b0a4f4e0c11', text: `here: ${key.secret}` } });
    expect(nested.status).toBe(400);
    const otherHeader = await api('GET', '/audit', { headers: { 'x-api-key': key.secret } });
    expect(otherHeader.status).toBe(400);
    const rows = await auditRows('api_key.misplaced', since);
    expect(rows.map((r) => r.details['where']).sort()).toEqual(['body', 'body', 'header']);
  });

  it('with a wrong secret or an unknown id is refused (401) and audited', async () => {
    const since = await auditMark();
    const other = await createKey(adminToken, { name: 'other', role: 'auditor', scopes: ['audit:read'] });
    const forged = `sbk_${key.publicId}_${other.secret.slice(21)}`;
    expect((await api('GET', '/audit', { token: forged })).status).toBe(401);
    const unknown = `sbk_0000000000000000_${other.secret.slice(21)}`;
    expect((await api('GET', '/audit', { token: unknown })).status).toBe(401);
    const rows = await auditRows('api_key.rejected', since);
    expect(rows.map((r) => r.details['reason']).sort()).toEqual(['bad_secret', 'unknown']);
    expect(rows.find((r) => r.details['reason'] === 'bad_secret')?.target_id).toBe(key.id);
  });

  it('records last use at most once a minute (one api_key.used audit row), and again after a minute', async () => {
    const fresh = await createKey(adminToken, { name: 'usage', role: 'auditor', scopes: ['audit:read'] });
    const since = await auditMark();
    for (let i = 0; i < 3; i += 1) expect((await api('GET', '/audit?limit=1', { token: fresh.secret })).status).toBe(200);
    const db = stack.switchboard.services.db;
    const first = await db.query<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [fresh.id]);
    expect(first.rows[0]?.last_used_at).toBeInstanceOf(Date);
    expect((await auditRows('api_key.used', since)).filter((r) => r.target_id === fresh.id)).toHaveLength(1);
    await db.query("UPDATE api_keys SET last_used_at = last_used_at - interval '61 seconds' WHERE id = $1", [fresh.id]);
    expect((await api('GET', '/audit?limit=1', { token: fresh.secret })).status).toBe(200);
    expect((await auditRows('api_key.used', since)).filter((r) => r.target_id === fresh.id)).toHaveLength(2);
    const listed = await api('GET', '/admin/api-keys', { token: adminToken });
    const view = (listed.body['apiKeys'] as Array<{ id: string; lastUsedAt: string | null }>).find((k) => k.id === fresh.id);
    expect(view?.lastUsedAt).not.toBeNull();
  });

  it('expired is refused (401) and no longer listed as active', async () => {
    const expiring = await createKey(adminToken, { name: 'short', role: 'auditor', scopes: ['audit:read'] });
    expect((await api('GET', '/audit?limit=1', { token: expiring.secret })).status).toBe(200);
    await stack.switchboard.services.db.query("UPDATE api_keys SET expires_at = now() - interval '1 second', created_at = now() - interval '1 day' WHERE id = $1", [
      expiring.id,
    ]);
    const reply = await api('GET', '/audit?limit=1', { token: expiring.secret });
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', message: 'API key expired' } } });
    const active = await api('GET', '/admin/api-keys', { token: adminToken });
    expect((active.body['apiKeys'] as Array<{ id: string }>).map((k) => k.id)).not.toContain(expiring.id);
    const all = await api('GET', '/admin/api-keys?includeInactive=true&limit=100', { token: adminToken });
    expect((all.body['apiKeys'] as Array<{ id: string; status: string }>).find((k) => k.id === expiring.id)?.status).toBe('expired');
  });

  it('cannot manage API keys (a key never mints keys)', async () => {
    const manager = await createKey(adminToken, { name: 'manager', role: 'admin', scopes: ['api_keys:manage'] });
    const reply = await api('POST', '/admin/api-keys', { token: manager.secret, body: { name: 'child', scopes: ['chat:send'] } });
    expect(reply.status).toBe(403);
  });
});

describe('rotating and revoking', () => {
  it('rotation gives a new secret and the old one stops at once (no overlap)', async () => {
    const key = await createKey(adminToken, { name: 'rotate me', role: 'auditor', scopes: ['audit:read'] });
    const rotated = await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: {} });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body['secret'] as string;
    expect(fresh).not.toBe(key.secret);
    expect(rotated.body['apiKey']).toMatchObject({ rotatedFrom: key.id, name: 'rotate me', scopes: ['audit:read'], status: 'active' });
    expect(rotated.body['previous']).toMatchObject({ id: key.id, status: 'revoked' });
    expect((await api('GET', '/audit?limit=1', { token: fresh })).status).toBe(200);
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).body).toMatchObject({ error: { message: 'API key revoked' } });
    // Rotating it again, or a revoked key, is a conflict: rotate the successor.
    expect((await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: {} })).status).toBe(409);
    const audit = await stack.switchboard.services.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'api_key.rotated' AND target_id = $1",
      [key.id],
    );
    expect(audit.rows[0]?.details).toMatchObject({ publicId: key.publicId, overlapSeconds: 0 });
    expect(JSON.stringify(audit.rows)).not.toContain(fresh.slice(21));
  });

  it('with an overlap, both secrets work until it ends; the overlap is bounded by the setting', async () => {
    const key = await createKey(adminToken, { name: 'overlap', role: 'auditor', scopes: ['audit:read'] });
    const tooLong = await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: { overlapSeconds: 3601 } });
    expect(tooLong.status).toBe(400);
    const rotated = await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: { overlapSeconds: 60 } });
    expect(rotated.status).toBe(201);
    expect(rotated.body['previous']).toMatchObject({ status: 'rotating' });
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).status).toBe(200);
    expect((await api('GET', '/audit?limit=1', { token: rotated.body['secret'] as string })).status).toBe(200);
    // The overlap ends: move its end into the past.
    await stack.switchboard.services.db.query("UPDATE api_keys SET revoked_at = now() - interval '1 second' WHERE id = $1", [key.id]);
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).status).toBe(401);
    expect((await api('GET', '/audit?limit=1', { token: rotated.body['secret'] as string })).status).toBe(200);
  });

  it('an admin cannot rotate a key holding more than the admin holds', async () => {
    const key = await createKey(ownerToken, { name: 'owner only', role: 'owner', scopes: ['tenant:configure'] });
    const reply = await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: {} });
    expect(reply.status).toBe(403);
    expect((await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: ownerToken, body: {} })).status).toBe(201);
  });

  it('revocation is immediate, idempotent and audited', async () => {
    const key = await createKey(adminToken, { name: 'revoke me', role: 'auditor', scopes: ['audit:read'] });
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).status).toBe(200);
    const revoked = await api('DELETE', `/admin/api-keys/${key.id}`, { token: adminToken });
    expect(revoked.status).toBe(200);
    expect(revoked.body['apiKey']).toMatchObject({ id: key.id, status: 'revoked' });
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).status).toBe(401);
    expect((await api('DELETE', `/admin/api-keys/${key.id}`, { token: adminToken })).status).toBe(200);
    const rows = await stack.switchboard.services.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'api_key.revoked' AND target_id = $1 ORDER BY id",
      [key.id],
    );
    expect(rows.rows.map((r) => r.details['alreadyRevoked'])).toEqual([false, true]);
  });

  it("another tenant's admin can neither see, rotate nor revoke the key (404), and the key does not work there", async () => {
    const key = await createKey(adminToken, { name: 'tenant a', role: 'auditor', scopes: ['audit:read'] });
    const list = await api('GET', '/admin/api-keys?includeInactive=true&limit=100', { token: otherAdminToken });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key.id);
    expect((await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: otherAdminToken, body: {} })).status).toBe(404);
    expect((await api('DELETE', `/admin/api-keys/${key.id}`, { token: otherAdminToken })).status).toBe(404);
    expect((await api('GET', '/audit?limit=1', { token: key.secret })).status).toBe(200);
    // The key reads its own tenant's audit log only.
    const entries = (await api('GET', '/audit?limit=200', { token: key.secret })).body['entries'] as Array<{ actorId: string | null }>;
    const otherAdmin = await stack.switchboard.services.db.query<{ id: string }>("SELECT id FROM users WHERE email = 'admin@other-keys.test'");
    expect(entries.some((e) => e.actorId === otherAdmin.rows[0]!.id)).toBe(false);
  });

  it('refuses unknown fields in rotate bodies and non-uuid ids', async () => {
    const key = await createKey(adminToken, { name: 'strict', role: 'auditor', scopes: ['audit:read'] });
    expect((await api('POST', `/admin/api-keys/${key.id}/rotate`, { token: adminToken, body: { scopes: ['audit:read'] } })).status).toBe(400);
    expect((await api('DELETE', '/admin/api-keys/not-a-uuid', { token: adminToken })).status).toBe(404);
  });
});
