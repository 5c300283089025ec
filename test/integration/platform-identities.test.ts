/** Admins link platform accounts to tenant users; links never cross tenants. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { signIn } from '../../src/cli/webchat-client.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { insertUser } from '../../src/store/users.ts';
import { findLinkedUser, upsertInstallation } from '../../src/store/installations.ts';
import { hashPassword } from '../../src/auth/passwords.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

it('links, lists and unlinks within the tenant only', async () => {
  const { db } = stack.switchboard.services;
  const password = 'long enough password';
  await stack.createUser({ email: 'admin@a.test', password, role: 'admin' });
  const member = await stack.createUser({ email: 'member@a.test', password });
  const otherTenant = await ensureTenant(db, 'other', 'Other', 'redact');
  const stranger = await insertUser(db, { tenantId: otherTenant, email: 's@b.test', displayName: 'S', role: 'member', passwordHash: await hashPassword(password) });
  await upsertInstallation(db, { id: crypto.randomUUID(), tenantId: stack.tenantId, platform: 'telegram', externalId: 'bot-a', name: 'A', seal: () => null });
  await upsertInstallation(db, { id: crypto.randomUUID(), tenantId: otherTenant, platform: 'telegram', externalId: 'bot-b', name: 'B', seal: () => null });

  const admin = await signIn(stack.baseUrl, 'admin@a.test', password);
  const call = (method: string, token: string, body?: unknown) =>
    fetch(`${stack.baseUrl}/api/v1/admin/platform-identities`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const link = { platform: 'telegram', installationId: 'bot-a', platformUserId: '4242', userId: member.id };
  expect((await call('POST', admin, link)).status).toBe(201);
  expect(await findLinkedUser(db, 'telegram', 'bot-a', '4242')).toBe(member.id);
  const listed = (await (await call('GET', admin)).json()) as { identities: Array<{ userId: string }> };
  expect(listed.identities.map((i) => i.userId)).toEqual([member.id]);

  // Another tenant's installation or user: 404, nothing linked.
  expect((await call('POST', admin, { ...link, installationId: 'bot-b' })).status).toBe(404);
  expect((await call('POST', admin, { ...link, platformUserId: '7', userId: stranger.id })).status).toBe(404);
  expect(await findLinkedUser(db, 'telegram', 'bot-a', '7')).toBeUndefined();
  // Unknown fields and members are refused.
  expect((await call('POST', admin, { ...link, tenantId: otherTenant })).status).toBe(400);
  const memberToken = await signIn(stack.baseUrl, 'member@a.test', password);
  expect((await call('POST', memberToken, { ...link, platformUserId: '8' })).status).toBe(403);

  const { userId: _unused, ...key } = link;
  expect((await call('DELETE', admin, key)).status).toBe(204);
  expect(await findLinkedUser(db, 'telegram', 'bot-a', '4242')).toBeUndefined();
  expect((await call('DELETE', admin, key)).status).toBe(404);
});
