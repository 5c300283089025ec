/**
 * Object-level authorization of the data-rights endpoints (OWASP API1 / ASVS 8.2.2, 8.4.1): two
 * tenants with two users each. Every user tries every endpoint with every id that is not theirs —
 * the other user's in the same tenant and both users' of the other tenant — and must get nothing:
 * no listing, no messages, no redaction, nothing in the export, no deletion beyond their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { startStack, type Stack } from '../support/stack.ts';
import { waitUntil } from '../support/wait.ts';
import { signIn } from '../../src/cli/webchat-client.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { insertUser } from '../../src/store/users.ts';
import { ensureTenant } from '../../src/store/tenants.ts';

const PASSWORD = 'isolation test password';

interface Person {
  readonly name: string;
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  token: string;
  /** Conversations this person takes part in. */
  readonly conversations: Set<string>;
  /** Messages this person wrote. */
  readonly messages: Set<string>;
}

let stack: Stack;
let people: Person[] = [];
/** conversation id → the ids of its messages (every conversation in both tenants). */
const messagesOf = new Map<string, string[]>();
let sharedA = '';
let sharedB = '';

const db = (): pg.Pool => stack.switchboard.services.db;

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`${stack.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text };
}

async function makePerson(name: string, tenantId: string): Promise<Person> {
  const email = `${name}@isolation.test`;
  const user = await insertUser(db(), { tenantId, email, displayName: name, role: 'member', passwordHash: await hashPassword(PASSWORD) });
  return { name, id: user.id, tenantId, email, token: await signIn(stack.baseUrl, email, PASSWORD), conversations: new Set(), messages: new Set() };
}

/** A web chat message through the real path; waits for the agent's reply so its id exists too. */
async function chat(person: Person, text: string): Promise<void> {
  const sent = await call('POST', '/messages', person.token, { id: randomUUID(), text });
  expect(sent.status).toBe(202);
  const { messageId, conversationId } = sent.body as { messageId: string; conversationId: string };
  person.conversations.add(conversationId);
  person.messages.add(messageId);
  await waitUntil(
    async () =>
      (await db().query('SELECT 1 FROM messages r JOIN messages m ON m.inbound_event_id = r.reply_to_event_id WHERE m.id = $1', [messageId]))
        .rowCount ?? 0,
    (n) => n > 0,
    { what: 'agent reply' },
  );
}

/** A group conversation of two people of one tenant, with a message by each and one by the agent. */
async function shared(tenantId: string, members: readonly Person[]): Promise<string> {
  const key = `isolation:${randomUUID()}`;
  const created = await db().query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind)
     VALUES ($1, 'webchat', 'test', $2, $2, 'group') RETURNING id`,
    [tenantId, key],
  );
  const id = created.rows[0]!.id;
  for (const member of members) {
    await db().query(
      `INSERT INTO participants (conversation_id, platform_user_id, user_id, display_name, is_agent) VALUES ($1, $2, $3, $4, false)`,
      [id, member.id, member.id, member.name],
    );
    const messageId = randomUUID();
    await db().query(
      `INSERT INTO messages (id, tenant_id, conversation_id, direction, author_platform_id, author_user_id, author_display_name, text_redacted, verified_by)
       VALUES ($1, $2, $3, 'in', $4, $5, $6, $7, 'test')`,
      [messageId, tenantId, id, member.id, member.id, member.name, `hello from ${member.name}`],
    );
    member.conversations.add(id);
    member.messages.add(messageId);
  }
  await db().query(
    `INSERT INTO messages (tenant_id, conversation_id, direction, author_platform_id, author_display_name, text_redacted, verified_by)
     VALUES ($1, $2, 'out', 'agent', 'Switchboard', 'hello all', 'test')`,
    [tenantId, id],
  );
  return id;
}

async function indexMessages(): Promise<void> {
  messagesOf.clear();
  const all = await db().query<{ id: string; conversation_id: string }>('SELECT id, conversation_id FROM messages');
  for (const row of all.rows) messagesOf.set(row.conversation_id, [...(messagesOf.get(row.conversation_id) ?? []), row.id]);
}

beforeAll(async () => {
  stack = await startStack();
  const tenantB = await ensureTenant(db(), 'tenant-b', 'Tenant B', 'redact');
  people = [
    await makePerson('alice', stack.tenantId),
    await makePerson('amir', stack.tenantId),
    await makePerson('bella', tenantB),
    await makePerson('bo', tenantB),
  ];
  for (const person of people) await chat(person, `I am ${person.name}, mail ${person.email}`);
  sharedA = await shared(stack.tenantId, [people[0]!, people[1]!]);
  sharedB = await shared(tenantB, [people[2]!, people[3]!]);
  await indexMessages();
});
afterAll(async () => {
  await stack?.stop();
});

const others = (me: Person): Person[] => people.filter((p) => p !== me);
const allConversations = (): string[] => [...messagesOf.keys()];

describe('every endpoint × every foreign id, two tenants × two users', () => {
  it('GET /conversations lists exactly my conversations, whatever cursor I forge', async () => {
    for (const me of people) {
      const listed = await call('GET', '/conversations?limit=100', me.token);
      expect(listed.status).toBe(200);
      const ids = (listed.body as { conversations: Array<{ id: string }> }).conversations.map((c) => c.id);
      expect(new Set(ids), me.name).toEqual(me.conversations);
      for (const foreign of allConversations().filter((c) => !me.conversations.has(c))) {
        const cursor = Buffer.from(JSON.stringify({ at: '2999-01-01T00:00:00.000000Z', id: foreign })).toString('base64url');
        const paged = await call('GET', `/conversations?cursor=${cursor}`, me.token);
        expect(paged.status).toBe(200);
        for (const c of (paged.body as { conversations: Array<{ id: string }> }).conversations) expect(me.conversations.has(c.id)).toBe(true);
      }
    }
  });

  it('GET /conversations/:id/messages answers 404 for every conversation I am not in, like a missing one', async () => {
    for (const me of people) {
      const missing = await call('GET', `/conversations/${randomUUID()}/messages`, me.token);
      expect(missing.status).toBe(404);
      for (const conversationId of allConversations()) {
        const reply = await call('GET', `/conversations/${conversationId}/messages`, me.token);
        if (me.conversations.has(conversationId)) {
          expect(reply.status).toBe(200);
          const shown = (reply.body as { messages: Array<{ id: string }> }).messages.map((m) => m.id).sort();
          expect(shown).toEqual([...(messagesOf.get(conversationId) ?? [])].sort());
        } else {
          expect(reply.status, `${me.name} reading ${conversationId}`).toBe(404);
          expect(reply.body).toEqual(missing.body);
        }
      }
    }
  });

  it('POST /messages/:id/redact changes nothing that is not mine (404 where I cannot see it, 403 where I can)', async () => {
    const snapshot = async () =>
      (await db().query('SELECT id, text_redacted, redacted_at, redacted_by, original_sealed FROM messages ORDER BY id')).rows;
    const before = await snapshot();
    for (const me of people) {
      for (const [conversationId, ids] of messagesOf) {
        for (const messageId of ids) {
          if (me.messages.has(messageId)) continue;
          const reply = await call('POST', `/messages/${messageId}/redact`, me.token);
          expect(reply.status, `${me.name} redacting ${messageId}`).toBe(me.conversations.has(conversationId) ? 403 : 404);
        }
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('GET /account/export holds nothing of anybody else', async () => {
    for (const me of people) {
      const reply = await call('GET', '/account/export', me.token);
      expect(reply.status).toBe(200);
      const doc = reply.body as { profile: { id: string }; conversations: Array<{ id: string }> };
      expect(doc.profile.id).toBe(me.id);
      expect(new Set(doc.conversations.map((c) => c.id))).toEqual(me.conversations);
      for (const other of others(me)) {
        expect(reply.text).not.toContain(other.id);
        expect(reply.text).not.toContain(other.email);
      }
      for (const conversationId of allConversations().filter((c) => !me.conversations.has(c))) {
        expect(reply.text).not.toContain(conversationId);
        for (const messageId of messagesOf.get(conversationId) ?? []) expect(reply.text).not.toContain(messageId);
      }
      // No way to name another account.
      for (const other of others(me)) {
        expect((await call('GET', `/account/export?userId=${other.id}`, me.token)).status).toBe(400);
        expect((await call('GET', `/account/export?tenantId=${other.tenantId}`, me.token)).status).toBe(400);
      }
    }
  });

  it('an API key acting as a user sees only its allowed conversations of that user', async () => {
    const alice = people[0]!;
    const ownerEmail = 'owner-a@isolation.test';
    await insertUser(db(), { tenantId: stack.tenantId, email: ownerEmail, displayName: 'Owner', role: 'owner', passwordHash: await hashPassword(PASSWORD) });
    const ownerToken = await signIn(stack.baseUrl, ownerEmail, PASSWORD);
    const webchatOfAlice = [...alice.conversations].find((c) => c !== sharedA)!;
    const created = await call('POST', '/admin/api-keys', ownerToken, {
      name: 'alice reader',
      role: 'member',
      scopes: ['conversations:read'],
      userId: alice.id,
      conversationIds: [webchatOfAlice],
    });
    expect(created.status).toBe(201);
    const key = (created.body as { secret: string }).secret;
    const listed = await call('GET', '/conversations', key);
    expect(listed.status).toBe(200);
    expect((listed.body as { conversations: Array<{ id: string }> }).conversations.map((c) => c.id)).toEqual([webchatOfAlice]);
    expect((await call('GET', `/conversations/${webchatOfAlice}/messages`, key)).status).toBe(200);
    for (const conversationId of allConversations().filter((c) => c !== webchatOfAlice)) {
      expect((await call('GET', `/conversations/${conversationId}/messages`, key)).status).toBe(404);
    }
    // Keys never redact, export or erase: those are a signed-in person's acts.
    const someMessage = [...alice.messages][0]!;
    expect((await call('POST', `/messages/${someMessage}/redact`, key)).status).toBe(403);
    expect((await call('GET', '/account/export', key)).status).toBe(403);
    expect((await call('DELETE', '/account', key, { password: PASSWORD })).status).toBe(403);
  });

  it('DELETE /account erases only me: no body field can point it elsewhere, and everyone else is intact', async () => {
    const [alice, amir, bella, bo] = people as [Person, Person, Person, Person];
    for (const other of others(alice)) {
      for (const body of [
        { password: PASSWORD, userId: other.id },
        { password: PASSWORD, tenantId: other.tenantId },
        { password: PASSWORD, email: other.email },
      ]) {
        expect((await call('DELETE', '/account', alice.token, body)).status).toBe(400);
      }
      // Someone else's password does not re-authenticate me either.
      expect((await call('DELETE', '/account', alice.token, { password: `${PASSWORD} of ${other.name}` })).status).toBe(403);
    }
    const footprint = async (person: Person) => ({
      user: (await db().query('SELECT 1 FROM users WHERE id = $1', [person.id])).rowCount,
      participants: (await db().query('SELECT 1 FROM participants WHERE user_id = $1', [person.id])).rowCount,
      messages: (await db().query('SELECT 1 FROM messages WHERE author_user_id = $1', [person.id])).rowCount,
      sessions: (await db().query('SELECT 1 FROM sessions WHERE user_id = $1', [person.id])).rowCount,
      conversations: (await db().query('SELECT 1 FROM conversations WHERE id = ANY($1::uuid[])', [[...person.conversations]])).rowCount,
    });
    const before = [await footprint(amir), await footprint(bella), await footprint(bo)];
    expect(before.every((f) => f.user === 1 && (f.messages ?? 0) >= 2)).toBe(true);

    const erased = await call('DELETE', '/account', alice.token, { password: PASSWORD });
    expect(erased.status).toBe(200);
    expect(await footprint(alice)).toMatchObject({ user: 0, participants: 0, messages: 0, sessions: 0 });
    expect([await footprint(amir), await footprint(bella), await footprint(bo)]).toEqual(before);
    // The group conversation Alice shared with Amir stays for him, without her messages.
    const left = await call('GET', `/conversations/${sharedA}/messages`, amir.token);
    expect(left.status).toBe(200);
    expect((left.body as { messages: Array<{ text: string }> }).messages.map((m) => m.text).sort()).toEqual(['hello all', 'hello from amir']);
    expect((await call('GET', `/conversations/${sharedB}/messages`, bella.token)).status).toBe(200);
  });
});
