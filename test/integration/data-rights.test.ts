/**
 * Data rights over REST against the real Postgres and Redis: my conversations and their messages
 * (participants only, cursor pagination), redacting my own message, exporting all my data (10,000
 * messages, counts per table), and erasing my account (every table referencing users is checked
 * through information_schema, so tables added later are covered) with its receipt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startStack, type Stack } from '../support/stack.ts';
import { waitUntil } from '../support/wait.ts';
import { connectWebchat, getTicket, signIn } from '../../src/cli/webchat-client.ts';
import { createOfflineProvider, createRecordingProvider, type RecordingProvider } from '../../src/llm/index.ts';
import { getMessage } from '../../src/store/messages.ts';
import { toMessageView } from '../../src/http/webchat-service.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { insertUser } from '../../src/store/users.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { createTwoFactorService } from '../../src/auth/two-factor.ts';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { REDACTED_BY_USER_TEXT } from '../../src/store/redaction.ts';
import { NOT_EXPORTED_USER_TABLES, USER_TABLE_SECTIONS } from '../../src/store/export.ts';

const PASSWORD = 'a long enough test password';
let stack: Stack;
let llm: RecordingProvider;

beforeAll(async () => {
  llm = createRecordingProvider(createOfflineProvider());
  stack = await startStack({ llm });
});
afterAll(async () => {
  await stack?.stop();
});

const db = (): pg.Pool => stack.switchboard.services.db;

interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

async function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${stack.baseUrl}/api/v1${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

async function person(email: string, role: 'owner' | 'admin' | 'member' = 'member'): Promise<{ id: string; email: string; token: string }> {
  const { id } = await stack.createUser({ email, password: PASSWORD, role, displayName: email.split('@')[0] ?? 'x' });
  return { id, email, token: await signIn(stack.baseUrl, email, PASSWORD) };
}

/** A conversation with these human participants (and the agent), without going through ingest. */
async function seedConversation(humans: ReadonlyArray<{ id: string }>, lastMessageAt: Date, kind = 'group'): Promise<string> {
  const key = `test:${randomUUID()}`;
  const created = await db().query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, kind, last_message_at)
     VALUES ($1, 'webchat', 'test', $2, $2, $3, $4) RETURNING id`,
    [stack.tenantId, key, kind, lastMessageAt],
  );
  const id = created.rows[0]!.id;
  for (const human of humans) {
    await db().query(
      `INSERT INTO participants (conversation_id, platform_user_id, user_id, display_name, is_agent) VALUES ($1, $2, $3, 'person', false)`,
      [id, human.id, human.id],
    );
  }
  await db().query(
    `INSERT INTO participants (conversation_id, platform_user_id, display_name, is_agent) VALUES ($1, 'agent', 'Switchboard', true)`,
    [id],
  );
  return id;
}

/** Bulk messages: `count` by the author (or the agent when null), 1 ms apart from `start`, or all at `start` when `sameTime`. */
async function seedMessages(
  conversationId: string,
  author: { id: string } | null,
  count: number,
  start: Date,
  sameTime = false,
): Promise<void> {
  await db().query(
    `INSERT INTO messages (id, tenant_id, conversation_id, direction, author_platform_id, author_user_id, author_display_name,
       text_redacted, verified_by, created_at)
     SELECT gen_random_uuid(), $1, $2, $3, $4, $5, 'someone', 'bulk message ' || g, 'test',
            $6::timestamptz + CASE WHEN $8 THEN interval '0' ELSE g * interval '1 millisecond' END
     FROM generate_series(1, $7) g`,
    [stack.tenantId, conversationId, author ? 'in' : 'out', author ? author.id : 'agent', author?.id ?? null, start, count, sameTime],
  );
}

async function waitForReply(messageId: string): Promise<void> {
  await waitUntil(
    async () =>
      (
        await db().query(
          `SELECT 1 FROM messages r JOIN messages m ON m.inbound_event_id = r.reply_to_event_id WHERE m.id = $1`,
          [messageId],
        )
      ).rowCount ?? 0,
    (n) => n > 0,
    { what: 'agent reply' },
  );
}

async function send(token: string, text: string): Promise<{ messageId: string; conversationId: string }> {
  const reply = await call('POST', '/messages', token, { id: randomUUID(), text });
  expect(reply.status).toBe(202);
  return reply.body as { messageId: string; conversationId: string };
}

type Page<K extends string> = Record<K, Array<Record<string, unknown>>> & { nextCursor: string | null };

async function allPages<K extends string>(path: string, token: string, key: K, limit: number): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const query: string = `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const reply = await call('GET', `${path}${query}`, token);
    expect(reply.status).toBe(200);
    const page = reply.body as Page<K>;
    expect(page[key].length).toBeLessThanOrEqual(limit);
    seen.push(...page[key]);
    cursor = page.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('pagination did not end');
}

describe('GET /conversations', () => {
  it('lists only conversations I take part in, newest activity first, through every cursor page', async () => {
    const me = await person('lister@example.test');
    const other = await person('lister-other@example.test');
    const base = Date.parse('2030-01-01T00:00:00Z');
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) mine.push(await seedConversation([me], new Date(base + i * 60_000)));
    // Two conversations with the very same activity time: the id breaks the tie, none is skipped.
    const tieA = await seedConversation([me, other], new Date(base + 10 * 60_000));
    const tieB = await seedConversation([me], new Date(base + 10 * 60_000));
    const notMine = await seedConversation([other], new Date(base + 20 * 60_000));

    const listed = await allPages('/conversations', me.token, 'conversations', 2);
    const ids = listed.map((c) => c['id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain(notMine);
    const ties = [tieA, tieB].sort().reverse();
    expect(ids).toEqual([...ties, ...[...mine].reverse()]);
    const shared = listed.find((c) => c['id'] === tieA)!;
    expect(shared['participantCount']).toBe(3);
    expect(shared['participants']).toEqual(
      expect.arrayContaining([
        { displayName: 'person', isAgent: false, isMe: true },
        { displayName: 'person', isAgent: false, isMe: false },
        { displayName: 'Switchboard', isAgent: true, isMe: false },
      ]),
    );
  });

  it('refuses a limit above 100, unknown query parameters, and cursors it did not issue', async () => {
    const me = await person('lister-bad@example.test');
    expect((await call('GET', '/conversations?limit=101', me.token)).status).toBe(400);
    expect((await call('GET', '/conversations?limit=0', me.token)).status).toBe(400);
    expect((await call('GET', `/conversations?userId=${randomUUID()}`, me.token)).status).toBe(400);
    expect((await call('GET', `/conversations?tenantId=${stack.tenantId}`, me.token)).status).toBe(400);
    expect((await call('GET', '/conversations?cursor=bm90LWEtY3Vyc29y', me.token)).status).toBe(400);
    const forged = Buffer.from(JSON.stringify({ at: "2030-01-01T00:00:00.000000Z' OR 1=1 --", id: randomUUID() })).toString('base64url');
    expect((await call('GET', `/conversations?cursor=${forged}`, me.token)).status).toBe(400);
    expect((await call('GET', '/conversations', undefined)).status).toBe(401);
  });
});

describe('GET /conversations/:id/messages', () => {
  it('pages newest first by (created_at, id) with at most 100 per page, ties included', async () => {
    const me = await person('pager@example.test');
    const conversationId = await seedConversation([me], new Date());
    await seedMessages(conversationId, me, 150, new Date('2030-02-01T00:00:00Z'));
    // 100 messages in the same microsecond: only the id orders them.
    await seedMessages(conversationId, null, 100, new Date('2030-02-01T00:00:00.0755Z'), true);
    const listed = await allPages(`/conversations/${conversationId}/messages`, me.token, 'messages', 100);
    expect(listed).toHaveLength(250);
    expect(new Set(listed.map((m) => m['id'])).size).toBe(250);
    const expected = await db().query<{ id: string }>(
      'SELECT id FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC',
      [conversationId],
    );
    expect(listed.map((m) => m['id'])).toEqual(expected.rows.map((r) => r.id));
    expect(listed.filter((m) => m['authoredByMe'] === true)).toHaveLength(150);
    expect((await call('GET', `/conversations/${conversationId}/messages?limit=101`, me.token)).status).toBe(400);
    expect((await call('GET', `/conversations/${conversationId}/messages?order=asc`, me.token)).status).toBe(400);
  });

  it('shows messages the way the web chat does: mine redacted as stored, the agent reply as delivered', async () => {
    const me = await person('viewer@example.test');
    const sent = await send(me.token, 'Write to viewer@example.com please');
    await waitForReply(sent.messageId);
    const reply = await call('GET', `/conversations/${sent.conversationId}/messages`, me.token);
    expect(reply.status).toBe(200);
    const messages = (reply.body as { messages: Array<Record<string, unknown>> }).messages;
    expect(messages).toHaveLength(2);
    const { vault } = stack.switchboard.services;
    for (const shown of messages) {
      const stored = await getMessage(db(), String(shown['id']));
      expect(shown).toEqual({ ...toMessageView(vault, stored!), authoredByMe: stored!.authorUserId === me.id });
    }
    const mine = messages.find((m) => m['role'] === 'user')!;
    expect(mine['text']).toBe('Write to [EMAIL_ADDRESS] please');
    expect(mine['pii']).toEqual({ types: ['EMAIL_ADDRESS'], action: 'redact' });
    expect(JSON.stringify(messages)).not.toContain('viewer@example.com');
  });

  it('answers 404 for a conversation I am not in, exactly as for one that does not exist, and audits the probe', async () => {
    const me = await person('outsider@example.test');
    const owner = await person('insider@example.test');
    const theirs = await seedConversation([owner], new Date());
    const probe = await call('GET', `/conversations/${theirs}/messages`, me.token);
    const missing = await call('GET', `/conversations/${randomUUID()}/messages`, me.token);
    expect(probe.status).toBe(404);
    expect(probe.body).toEqual(missing.body);
    expect((await call('GET', '/conversations/not-a-uuid/messages', me.token)).status).toBe(400);
    const audit = await db().query('SELECT 1 FROM audit_log WHERE action = $1 AND actor_id = $2 AND target_id = $3', [
      'authz.denied',
      me.id,
      theirs,
    ]);
    expect(audit.rowCount).toBe(1);
  });
});

describe('POST /messages/:id/redact', () => {
  it('replaces my text, erases the sealed original and findings, records who and when, once, and audits it', async () => {
    const me = await person('redactor@example.test');
    const sent = await send(me.token, 'My card is 4111 1111 1111 1111, mail redactor@example.com');
    await waitForReply(sent.messageId);
    const before = await getMessage(db(), sent.messageId);
    expect(before?.originalSealed).toBeInstanceOf(Buffer);
    expect(before?.piiFindings.length).toBe(2);

    const first = await call('POST', `/messages/${sent.messageId}/redact`, me.token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: sent.messageId, text: REDACTED_BY_USER_TEXT, redactedBy: me.id, changed: true });
    const row = await db().query<{
      text_redacted: string;
      original_sealed: Buffer | null;
      pii_findings: unknown[];
      redacted_by: string;
      redacted_at: Date;
    }>('SELECT text_redacted, original_sealed, pii_findings, redacted_by, redacted_at FROM messages WHERE id = $1', [sent.messageId]);
    expect(row.rows[0]).toMatchObject({ text_redacted: REDACTED_BY_USER_TEXT, original_sealed: null, pii_findings: [], redacted_by: me.id });
    expect(row.rows[0]!.redacted_at.toISOString()).toBe((first.body as { redactedAt: string }).redactedAt);

    const again = await call('POST', `/messages/${sent.messageId}/redact`, me.token, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...(first.body as object), changed: false });
    const audits = await db().query<{ details: Record<string, unknown> }>(
      'SELECT details FROM audit_log WHERE action = $1 AND target_id = $2',
      ['privacy.message_redacted', sent.messageId],
    );
    expect(audits.rows).toEqual([
      { details: { conversationId: sent.conversationId, originalErased: true, findingsErased: 2, replyOriginalsErased: 0 } },
    ]);
    expect(JSON.stringify(audits.rows)).not.toContain('4111');

    const listed = await call('GET', `/conversations/${sent.conversationId}/messages`, me.token);
    const shown = (listed.body as { messages: Array<Record<string, unknown>> }).messages.find((m) => m['id'] === sent.messageId)!;
    expect(shown).toMatchObject({ text: REDACTED_BY_USER_TEXT, redactedBy: me.id });
    expect(shown['pii']).toBeUndefined();

    // The agent's reply is not mine: visible, so 403 rather than 404.
    const agentReply = (listed.body as { messages: Array<Record<string, unknown>> }).messages.find((m) => m['role'] === 'agent')!;
    expect((await call('POST', `/messages/${String(agentReply['id'])}/redact`, me.token)).status).toBe(403);
  });

  it('feeds the redacted text to the agent from then on, even under the log policy that shows originals', async () => {
    // A tenant of its own with the 'log' policy: the model sees originals there (ingest caches policies).
    const tenantId = await ensureTenant(db(), 'log-policy', 'Log policy', 'log');
    const email = 'context@example.test';
    const user = await insertUser(db(), { tenantId, email, displayName: 'Context', role: 'member', passwordHash: await hashPassword(PASSWORD) });
    const token = await signIn(stack.baseUrl, email, PASSWORD);
    const first = await send(token, 'my address is context-secret@example.com');
    await waitForReply(first.messageId);
    expect(llm.calls.some((c) => JSON.stringify(c.request).includes('context-secret@example.com'))).toBe(true);
    const reply = await db().query<{ id: string }>(
      'SELECT r.id FROM messages r JOIN messages m ON m.inbound_event_id = r.reply_to_event_id WHERE m.id = $1',
      [first.messageId],
    );
    // The offline responder echoes what it got, so its reply quotes the address (sealed, as PII).
    expect((await getMessage(db(), reply.rows[0]!.id))?.originalSealed).toBeInstanceOf(Buffer);

    expect((await call('POST', `/messages/${first.messageId}/redact`, token)).status).toBe(200);
    expect((await getMessage(db(), reply.rows[0]!.id))?.originalSealed).toBeNull();
    const callsBefore = llm.calls.length;
    const second = await send(token, 'what did I tell you?');
    await waitForReply(second.messageId);
    const later = llm.calls.slice(callsBefore).map((c) => JSON.stringify(c.request));
    expect(later.length).toBeGreaterThan(0);
    for (const request of later) {
      expect(request).not.toContain('context-secret@example.com');
      expect(request).toContain(REDACTED_BY_USER_TEXT);
    }
    const audit = await db().query<{ details: Record<string, unknown> }>(
      'SELECT details FROM audit_log WHERE action = $1 AND target_id = $2',
      ['privacy.message_redacted', first.messageId],
    );
    expect(audit.rows[0]?.details).toMatchObject({ originalErased: true, replyOriginalsErased: 1 });
    expect(user.tenantId).toBe(tenantId);
  });

  it('refuses bodies with any field, and ids that are not UUIDs', async () => {
    const me = await person('redact-strict@example.test');
    const sent = await send(me.token, 'plain text');
    for (const body of [{ text: 'new text' }, { redactedBy: randomUUID() }, { authorUserId: me.id }]) {
      const reply = await call('POST', `/messages/${sent.messageId}/redact`, me.token, body);
      expect(reply.status).toBe(400);
      expect((reply.body as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    expect((await call('POST', `/messages/${sent.messageId}/redact`, me.token, '[]')).status).toBe(400);
    expect((await call('POST', '/messages/1%20OR%201=1/redact', me.token)).status).toBe(400);
    const row = await getMessage(db(), sent.messageId);
    expect(row?.textRedacted).toBe('plain text');
  });
});

describe('GET /account/export', () => {
  it('exports a user with 10,000 messages completely, with counts per table that match the database', async () => {
    const me = await person('exporter@example.test');
    const other = await person('exporter-other@example.test');
    const conversations = [
      await seedConversation([me], new Date('2030-03-01T00:00:00Z'), 'dm'),
      await seedConversation([me, other], new Date('2030-03-02T00:00:00Z')),
      await seedConversation([me], new Date('2030-03-03T00:00:00Z')),
    ];
    const started = Date.now();
    await seedMessages(conversations[0]!, me, 5_000, new Date('2030-03-01T00:00:00Z'));
    await seedMessages(conversations[1]!, me, 3_000, new Date('2030-03-02T00:00:00Z'));
    await seedMessages(conversations[2]!, me, 2_000, new Date('2030-03-03T00:00:00Z'));
    await seedMessages(conversations[1]!, other, 500, new Date('2030-03-02T01:00:00Z'));
    await seedMessages(conversations[0]!, null, 1_000, new Date('2030-03-01T01:00:00Z'));
    const seedMs = Date.now() - started;
    // Someone else's conversation must not appear.
    const foreign = await seedConversation([other], new Date());
    await seedMessages(foreign, other, 50, new Date());

    const exportStarted = Date.now();
    const reply = await call('GET', '/account/export', me.token);
    const exportMs = Date.now() - exportStarted;
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/json');
    expect(reply.headers.get('content-disposition')).toMatch(/^attachment; filename="switchboard-export-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(reply.headers.get('content-length')).toBeNull(); // streamed (chunked), not one buffered string
    const doc = reply.body as {
      format: string;
      counts: Record<string, number>;
      profile: Record<string, unknown>;
      conversations: Array<{ id: string; participants: unknown[]; messages: Array<Record<string, unknown>> }>;
      audit_log: Array<Record<string, unknown>>;
    } & Record<string, unknown>;
    expect(doc.format).toBe('switchboard.account-export');
    expect(doc.profile).toMatchObject({ id: me.id, email: me.email, role: 'member', tenant: { id: stack.tenantId } });

    const count = async (sql: string, params: unknown[]): Promise<number> =>
      Number((await db().query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
    const myConversations = `SELECT conversation_id FROM participants WHERE user_id = $1`;
    const expected: Record<string, number> = {
      users: 1,
      conversations: await count(`SELECT count(*) AS n FROM (${myConversations}) c`, [me.id]),
      participants: await count(`SELECT count(*) AS n FROM participants WHERE conversation_id IN (${myConversations})`, [me.id]),
      messages: await count(`SELECT count(*) AS n FROM messages WHERE conversation_id IN (${myConversations})`, [me.id]),
      sessions: await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [me.id]),
    };
    expect(expected.messages).toBe(11_500);
    expect(doc.counts).toMatchObject(expected);
    expect(doc.conversations.map((c) => c.id).sort()).toEqual([...conversations].sort());
    expect(doc.conversations.reduce((n, c) => n + c.messages.length, 0)).toBe(doc.counts['messages']);
    expect(doc.conversations.reduce((n, c) => n + c.participants.length, 0)).toBe(doc.counts['participants']);
    expect(doc.conversations.flatMap((c) => c.messages).filter((m) => m['authoredByMe'] === true)).toHaveLength(10_000);
    // Every section in the document has as many rows as its count says, and every count has its section.
    for (const [section, n] of Object.entries(doc.counts)) {
      if (section === 'users' || section === 'conversations' || section === 'participants' || section === 'messages') continue;
      expect(Array.isArray(doc[section]), section).toBe(true);
      expect((doc[section] as unknown[]).length, section).toBe(n);
    }
    expect(doc.audit_log.some((a) => a['action'] === 'auth.login' && a['byMe'] === true)).toBe(true);
    expect(reply.text).not.toContain(foreign);
    expect(reply.text).not.toMatch(/"(secretHash|tokenHash|passwordHash|secretSealed|codeHash|hash|prevHash)"/);

    const audited = await db().query<{ details: { counts: Record<string, number> } }>(
      'SELECT details FROM audit_log WHERE action = $1 AND actor_id = $2',
      ['privacy.export', me.id],
    );
    expect(audited.rows).toHaveLength(1);
    expect(audited.rows[0]!.details.counts['messages']).toBe(11_500);
    console.info(`export of 11,500 messages (10,000 mine): seed ${seedMs} ms, export ${exportMs} ms, ${reply.text.length} bytes`);
  });

  it('runs one export per account at a time (429 with Retry-After), in any process', async () => {
    const me = await person('busy-exporter@example.test');
    const holder = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('switchboard:export:' || $1::text, 0))`, [me.id]);
      const reply = await call('GET', '/account/export', me.token);
      expect(reply.status).toBe(429);
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await holder.query('ROLLBACK');
      expect((await call('GET', '/account/export', me.token)).status).toBe(200);
    } finally {
      await holder.end();
    }
  });

  it('refuses query parameters (no exporting someone else by id)', async () => {
    const me = await person('export-strict@example.test');
    const other = await person('export-victim@example.test');
    const reply = await call('GET', `/account/export?userId=${other.id}`, me.token);
    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain(other.email);
  });

  it('covers every table that references users: exported, or listed as deliberately not exported', async () => {
    const referencing = await db().query<{ table_name: string }>(
      `SELECT DISTINCT kcu.table_name
       FROM information_schema.referential_constraints rc
       JOIN information_schema.key_column_usage kcu
         ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema
       JOIN information_schema.constraint_column_usage ccu
         ON ccu.constraint_name = rc.constraint_name AND ccu.constraint_schema = rc.constraint_schema
       WHERE ccu.table_name = 'users' AND kcu.table_schema = current_schema()`,
    );
    const covered = new Set([...USER_TABLE_SECTIONS.map((s) => s.table), ...Object.keys(NOT_EXPORTED_USER_TABLES)]);
    const tables = referencing.rows.map((r) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(['participants', 'messages', 'ws_tickets']));
    expect(tables.filter((t) => !covered.has(t))).toEqual([]);
  });
});

describe('DELETE /account', () => {
  /** Every (table, column) with a foreign key to users, straight from information_schema. */
  async function userForeignKeys(): Promise<Array<{ table: string; column: string }>> {
    const result = await db().query<{ table_name: string; column_name: string }>(
      `SELECT kcu.table_name, kcu.column_name
       FROM information_schema.referential_constraints rc
       JOIN information_schema.key_column_usage kcu
         ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema
       JOIN information_schema.constraint_column_usage ccu
         ON ccu.constraint_name = rc.constraint_name AND ccu.constraint_schema = rc.constraint_schema
       WHERE ccu.table_name = 'users' AND ccu.column_name = 'id' AND kcu.table_schema = current_schema()
       ORDER BY 1, 2`,
    );
    return result.rows.map((r) => ({ table: r.table_name, column: r.column_name }));
  }

  /** Tables whose rows, as text, contain `needle` anywhere. */
  async function tablesMentioning(needle: string): Promise<string[]> {
    const tables = await db().query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const hits: string[] = [];
    for (const { table_name } of tables.rows) {
      const found = await db().query(`SELECT 1 FROM "${table_name.replaceAll('"', '""')}" t WHERE t::text ILIKE $1 LIMIT 1`, [
        `%${needle}%`,
      ]);
      if ((found.rowCount ?? 0) > 0) hits.push(table_name);
    }
    return hits.sort();
  }

  it('after re-authentication removes every row of the user in one go, returns and records a receipt', async () => {
    const me = await person('leaver@example.test');
    const friend = await person('friend@example.test');
    // A web chat conversation through the real path (sole human: it goes whole, with the replies).
    const sent = await send(me.token, 'Hello, I am leaving; mail leaver@example.com');
    await waitForReply(sent.messageId);
    await call('POST', `/messages/${sent.messageId}/redact`, me.token);
    // A group conversation with a friend: my messages go, theirs and the agent's stay.
    const shared = await seedConversation([me, friend], new Date());
    await seedMessages(shared, me, 30, new Date('2030-04-01T00:00:00Z'));
    await seedMessages(shared, friend, 20, new Date('2030-04-01T00:00:01Z'));
    await seedMessages(shared, null, 10, new Date('2030-04-01T00:00:02Z'));
    // An API key acting as me, and one I created for my friend (it stays, unlinked from me).
    await db().query(
      `INSERT INTO api_keys (tenant_id, public_id, secret_hash, name, role, scopes, user_id, created_by, created_at)
       VALUES ($1, $2, $3, 'mine', 'member', '{conversations:read}', $4, $4, now()),
              ($1, $5, $3, 'for friend', 'member', '{conversations:read}', $6, $4, now())`,
      [stack.tenantId, '0123456789abcdef', Buffer.alloc(32, 1), me.id, 'fedcba9876543210', friend.id],
    );
    await db().query(
      `INSERT INTO platform_identities (platform, installation_id, platform_user_id, user_id) VALUES ('slack', 'T1', 'U-LEAVER', $1)`,
      [me.id],
    );
    const socket = await connectWebchat(stack.baseUrl, await getTicket(stack.baseUrl, me.token));
    await getTicket(stack.baseUrl, me.token); // an unused ticket row

    const foreignKeys = await userForeignKeys();
    expect(foreignKeys).toEqual(
      expect.arrayContaining([
        { table: 'participants', column: 'user_id' },
        { table: 'messages', column: 'author_user_id' },
        { table: 'sessions', column: 'user_id' },
        { table: 'api_keys', column: 'user_id' },
      ]),
    );
    const referencing = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const { table, column } of foreignKeys) {
        const n = await db().query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" WHERE "${column}" = $1`, [me.id]);
        counts[`${table}.${column}`] = Number(n.rows[0]!.n);
      }
      return counts;
    };
    const before = await referencing();
    expect(before['messages.author_user_id']).toBe(31);
    expect(before['sessions.user_id']).toBeGreaterThanOrEqual(1);

    // Wrong password: refused, audited, nothing removed.
    const wrong = await call('DELETE', '/account', me.token, { password: 'not my password' });
    expect(wrong.status).toBe(403);
    expect(await referencing()).toEqual(before);

    const deleted = await call('DELETE', '/account', me.token, { password: PASSWORD });
    expect(deleted.status).toBe(200);
    const receipt = deleted.body as {
      receiptId: string;
      deletedAt: string;
      removed: Record<string, number>;
      unlinked: Record<string, number>;
      retained: Record<string, number>;
    };
    expect(receipt.receiptId).toMatch(/^[0-9a-f-]{36}$/);
    expect(receipt.removed).toMatchObject({
      users: 1,
      conversations: 1,
      messages: 32, // 30 in the group + my web chat message + the agent's reply there
      participants: 2,
      api_keys: 1,
      platform_identities: 1,
      sessions: before['sessions.user_id'],
      ws_tickets: before['ws_tickets.user_id'],
    });
    expect(receipt.removed['inbound_events']).toBeGreaterThanOrEqual(1);
    expect(receipt.unlinked).toEqual({ 'api_keys.created_by': 1 });
    expect(receipt.retained['audit_log']).toBeGreaterThan(0);

    // None of the user's rows remain in any table that references users…
    const after = await referencing();
    expect(Object.values(after).every((n) => n === 0)).toBe(true);
    // …nor anywhere else: the id and the email survive only in the append-only audit log.
    expect(await tablesMentioning(me.id)).toEqual(['audit_log']);
    expect(await tablesMentioning(me.email)).toEqual([]);
    // The friend's messages, the agent's replies and the group conversation stay.
    const left = await db().query<{ direction: string; n: string }>(
      'SELECT direction, count(*) AS n FROM messages WHERE conversation_id = $1 GROUP BY direction ORDER BY direction',
      [shared],
    );
    expect(left.rows).toEqual([
      { direction: 'in', n: '20' },
      { direction: 'out', n: '10' },
    ]);

    const stored = await db().query('SELECT id, tenant_id, removed, unlinked, retained FROM erasure_receipts WHERE id = $1', [receipt.receiptId]);
    expect(stored.rows[0]).toMatchObject({ tenant_id: stack.tenantId, removed: receipt.removed, unlinked: receipt.unlinked });
    const audit = await db().query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = 'privacy.erasure' AND target_id = $1`,
      [me.id],
    );
    expect(audit.rows[0]?.details).toEqual({ receiptId: receipt.receiptId, removed: receipt.removed });

    expect(await socket.closed()).toBe(4001);
    expect((await call('GET', '/conversations', me.token)).status).toBe(401);
    expect((await call('GET', '/conversations', friend.token)).status).toBe(200);
  });

  it('rejects unknown and privileged fields, and a missing password', async () => {
    const me = await person('strict-leaver@example.test');
    for (const body of [
      {},
      { password: PASSWORD, userId: randomUUID() },
      { password: PASSWORD, tenantId: stack.tenantId },
      { password: PASSWORD, role: 'owner' },
      { password: PASSWORD, keepAuditTrail: false },
    ]) {
      const reply = await call('DELETE', '/account', me.token, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect((reply.body as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    expect((await db().query('SELECT 1 FROM users WHERE id = $1', [me.id])).rowCount).toBe(1);
  });

  it('needs a fresh two-factor code when 2FA is on, and a code cannot be reused', async () => {
    const me = await person('twofactor-leaver@example.test');
    const { vault } = stack.switchboard.services;
    const twoFactor = createTwoFactorService({
      db: db(),
      vault,
      clock: { now: () => Date.now() },
      issuer: 'Switchboard',
      lockout: { maxFailures: 5, windowSeconds: 900, lockoutSeconds: 900 },
    });
    const user = { id: me.id, tenantId: stack.tenantId, email: me.email, role: 'member' as const };
    const { secret } = await twoFactor.beginEnrolment(user, {});
    const confirmCode = await totpCodeAt(secret, Date.now());
    await twoFactor.confirmEnrolment(user, confirmCode, {});

    const noCode = await call('DELETE', '/account', me.token, { password: PASSWORD });
    expect(noCode.status).toBe(403);
    expect((noCode.body as { error: { issues?: Array<{ path: string }> } }).error.issues?.[0]?.path).toBe('code');
    // The code that confirmed enrolment is used up (RFC 6238 §5.2).
    expect((await call('DELETE', '/account', me.token, { password: PASSWORD, code: confirmCode })).status).toBe(403);
    expect((await call('DELETE', '/account', me.token, { password: PASSWORD, code: '000000' })).status).toBe(403);
    expect((await db().query('SELECT 1 FROM users WHERE id = $1', [me.id])).rowCount).toBe(1);

    // The next step's code (±1 step of drift is accepted) has not been used yet.
    const fresh = await totpCodeAt(secret, Date.now() + 30_000);
    const deleted = await call('DELETE', '/account', me.token, { password: PASSWORD, code: fresh });
    expect(deleted.status).toBe(200);
    expect((deleted.body as { removed: Record<string, number> }).removed).toMatchObject({ user_totp: 1, recovery_codes: 10, users: 1 });
    const denials = await db().query<{ details: { reason: string } }>(
      `SELECT details FROM audit_log WHERE action = 'privacy.erasure_denied' AND actor_id = $1 ORDER BY id`,
      [me.id],
    );
    expect(denials.rows.map((r) => r.details.reason)).toEqual(['second_factor_missing', 'second_factor', 'second_factor']);
  });

  it('counts wrong passwords against the account like failed sign-ins: the 11th attempt is throttled', async () => {
    const me = await person('guesser-target@example.test');
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await call('DELETE', '/account', me.token, { password: `guess ${i}` })).status);
    expect(answers).toEqual([...Array<number>(10).fill(403), 429]);
    // The same counter guards sign-in: the account is locked there too, and still exists.
    const login = await call('POST', '/auth/login', undefined, { email: me.email, password: PASSWORD });
    expect(login.status).toBe(429);
    expect((await db().query('SELECT 1 FROM users WHERE id = $1', [me.id])).rowCount).toBe(1);
  });

  it('refuses to erase the last owner of a workspace', async () => {
    const owner = await person('only-owner@example.test', 'owner');
    const reply = await call('DELETE', '/account', owner.token, { password: PASSWORD });
    expect(reply.status).toBe(409);
    expect((await db().query('SELECT 1 FROM users WHERE id = $1', [owner.id])).rowCount).toBe(1);
    const second = await person('second-owner@example.test', 'owner');
    expect((await call('DELETE', '/account', owner.token, { password: PASSWORD })).status).toBe(200);
    expect((await call('DELETE', '/account', second.token, { password: PASSWORD })).status).toBe(409);
  });
});
