/**
 * The spine end to end against the real Postgres and Redis: ingest, dedupe, agent, outbox and the
 * web chat socket, through the same HTTP and WebSocket paths a browser uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { dumpRedisPrefix } from '../support/redis-dump.ts';
import { connectWebchat, getTicket, openWebchat, signIn, type WebchatClient } from '../../src/cli/webchat-client.ts';
import { getMessage } from '../../src/store/messages.ts';
import { originalTextAad } from '../../src/pipeline/protect-text.ts';
import { webchatConversationRef } from '../../src/http/webchat-service.ts';
import type { ServerFrame } from '../../adapters/webchat/frames.ts';

const PASSWORD = 'correct horse battery staple';
let stack: Stack;
let userId: string;
const email = 'ada@example.test';

const agentReplies = (client: WebchatClient): Array<Extract<ServerFrame, { type: 'message' }>> =>
  client.frames.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message' && f.message.role === 'agent');

beforeAll(async () => {
  stack = await startStack();
  ({ id: userId } = await stack.createUser({ email, password: PASSWORD, displayName: 'Ada' }));
});
afterAll(async () => {
  await stack?.stop();
});

describe('web chat round trip', () => {
  it('answers a message once, and redacts PII in storage and in what the LLM saw', async () => {
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    const id = client.send('Reach me at ada@example.com, card 4111 1111 1111 1111');
    const ack = await client.waitFor((f) => f.type === 'ack' && f.id === id);
    expect(ack).toMatchObject({
      type: 'ack',
      duplicate: false,
      stored: { text: 'Reach me at [EMAIL_ADDRESS], card [CREDIT_CARD]', piiTypes: ['EMAIL_ADDRESS', 'CREDIT_CARD'] },
    });
    const reply = await client.waitFor((f) => f.type === 'message' && f.message.role === 'agent');
    if (reply.type !== 'message') throw new Error('expected a message');
    // The offline responder reflects what the model was given: the redacted text.
    expect(reply.message.text).toContain('[EMAIL_ADDRESS]');
    expect(reply.message.text).not.toContain('ada@example.com');
    expect(reply.message.text).not.toContain('4111');

    if (ack.type !== 'ack') throw new Error('expected an ack');
    const stored = await getMessage(stack.switchboard.services.db, ack.messageId);
    expect(stored?.textRedacted).toBe('Reach me at [EMAIL_ADDRESS], card [CREDIT_CARD]');
    expect(stored?.originalSealed).toBeInstanceOf(Buffer);
    const original = stack.switchboard.services.vault.openText(stored!.originalSealed!, originalTextAad(ack.messageId));
    expect(original).toBe('Reach me at ada@example.com, card 4111 1111 1111 1111');
    // A sealed original copied onto another row cannot be opened there.
    expect(() => stack.switchboard.services.vault.openText(stored!.originalSealed!, originalTextAad(randomUUID()))).toThrow();

    const audit = await stack.switchboard.services.db.query<{ action: string; details: unknown }>(
      `SELECT action, details FROM audit_log WHERE target_id = $1`,
      [ack.messageId],
    );
    expect(audit.rows).toEqual([{ action: 'pii.redacted', details: { platform: 'webchat', level: 'restricted', counts: { EMAIL_ADDRESS: 1, CREDIT_CARD: 1 } } }]);
    expect(JSON.stringify(audit.rows)).not.toContain('ada@example.com');
    client.close();
  });

  it('the same platform event sent twice gives one message and one reply', async () => {
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    const before = agentReplies(client).length;
    const id = randomUUID();
    client.send('Only once, please', id);
    client.send('Only once, please', id);
    const acks = await waitUntil(
      async () => client.frames.filter((f) => f.type === 'ack' && f.id === id),
      (list) => list.length === 2,
      { what: 'two acks' },
    );
    expect(acks.map((a) => a.type === 'ack' && a.duplicate).sort()).toEqual([false, true]);
    const db = stack.switchboard.services.db;
    const eventCount = () =>
      countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE platform_event_id = $1`, [`${userId}.${id}`]);
    expect(await eventCount()).toBe(1);
    await waitUntil(
      () =>
        countRows(
          db,
          `SELECT count(*) AS n FROM messages m JOIN inbound_events e ON e.id = m.reply_to_event_id
           WHERE e.platform_event_id = $1 AND e.status = 'answered'`,
          [`${userId}.${id}`],
        ),
      (n) => n === 1,
      { what: 'one reply' },
    );
    await waitUntil(async () => agentReplies(client).length - before, (n) => n >= 1, { what: 'reply on socket' });
    // Give a second (wrong) reply time to show up, then check there is none.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(agentReplies(client).length - before).toBe(1);
    expect(
      await countRows(db, `SELECT count(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id
        JOIN inbound_events e ON e.id = m.reply_to_event_id WHERE e.platform_event_id = $1 AND o.status = 'sent'`, [`${userId}.${id}`]),
    ).toBe(1);
    client.close();
  });

  it('a malformed frame gets an error frame and the socket keeps working', async () => {
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    client.sendRaw('{not json');
    client.sendRaw(JSON.stringify({ type: 'send', id: 'not-a-uuid', text: 'x' }));
    client.sendRaw(JSON.stringify({ type: 'send', id: randomUUID(), text: 'hi', role: 'admin' }));
    client.sendRaw(`${'['.repeat(100)}${']'.repeat(100)}`);
    const errors = await waitUntil(
      async () => client.frames.filter((f) => f.type === 'error'),
      (list) => list.length === 4,
      { what: 'four error frames' },
    );
    expect(errors.map((e) => e.type === 'error' && e.code)).toEqual([
      'validation_failed',
      'validation_failed',
      'validation_failed',
      'json_too_deep',
    ]);
    const id = client.send('still there?');
    await client.waitFor((f) => f.type === 'ack' && f.id === id);
    client.close();
  });

  it('an oversize message gets a clear error and nothing is stored', async () => {
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    const db = stack.switchboard.services.db;
    const before = await countRows(db, 'SELECT count(*) AS n FROM messages');
    const id = client.send('x'.repeat(10_001));
    const error = await client.waitFor((f) => f.type === 'error' && f.id === id);
    expect(error).toMatchObject({ type: 'error', code: 'message_too_long' });
    expect(await countRows(db, 'SELECT count(*) AS n FROM messages')).toBe(before);
    // A frame over the 64 KiB cap closes the socket with 1009 (message too big) and stores nothing.
    client.sendRaw(JSON.stringify({ type: 'send', id: randomUUID(), text: 'y'.repeat(70_000) }));
    expect(await client.closed()).toBe(1009);
    expect(await countRows(db, 'SELECT count(*) AS n FROM messages')).toBe(before);
  });

  it('keeps message text and PII out of Redis', async () => {
    const marker = `zebra${randomUUID().slice(0, 8)}`;
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    const id = client.send(`${marker} my SSN is 078-05-1126 and mail ${marker}@example.org`);
    await client.waitFor((f) => f.type === 'ack' && f.id === id);
    await waitUntil(async () => agentReplies(client).length, (n) => n >= 1, { what: 'reply' });
    const dump = await dumpRedisPrefix(stack.config.REDIS_URL, stack.config.QUEUE_PREFIX);
    expect(dump.size).toBeGreaterThan(0);
    const everything = [...dump.values()].flat().join('\n');
    expect(everything).not.toContain(marker);
    expect(everything).not.toContain('078-05-1126');
    expect(everything).not.toContain('example.org');
    client.close();
  });

  it('history replays stored (redacted) messages to a new socket', async () => {
    const client = await openWebchat(stack.baseUrl, email, PASSWORD);
    const history = await client.waitFor((f) => f.type === 'history');
    if (history.type !== 'history') throw new Error('expected history');
    const texts = history.messages.map((m) => m.text);
    expect(texts).toContain('Reach me at [EMAIL_ADDRESS], card [CREDIT_CARD]');
    expect(texts.join('\n')).not.toContain('ada@example.com');
    client.close();
  });
});

describe('tickets and sign-in', () => {
  it('refuses a wrong password, a missing ticket and a reused ticket', async () => {
    const wrong = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'nope nope nope' }),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { code: 'unauthenticated', message: 'Wrong email or password' } });

    await expect(connectWebchat(stack.baseUrl, 'not-a-ticket')).rejects.toThrow();
    const token = await signIn(stack.baseUrl, email, PASSWORD);
    const ticket = await getTicket(stack.baseUrl, token);
    const first = await connectWebchat(stack.baseUrl, ticket);
    await expect(connectWebchat(stack.baseUrl, ticket)).rejects.toThrow();
    first.close();
  });

  it('refuses a socket from another origin', async () => {
    const token = await signIn(stack.baseUrl, email, PASSWORD);
    const ticket = await getTicket(stack.baseUrl, token);
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/ws?ticket=${ticket}`, { origin: 'https://evil.example' });
    const status = await new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });
});

describe('REST boundary', () => {
  it('accepts a message over REST and dedupes it by id', async () => {
    const token = await signIn(stack.baseUrl, email, PASSWORD);
    const id = randomUUID();
    const send = () =>
      fetch(`${stack.baseUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ id, text: 'via REST' }),
      });
    const first = await send();
    expect(first.status).toBe(202);
    const second = await send();
    expect(second.status).toBe(200);
    expect(((await second.json()) as { duplicate: boolean }).duplicate).toBe(true);
    const conversation = webchatConversationRef(userId);
    expect(conversation.kind).toBe('dm');
  });

  it('rejects unknown fields, oversize bodies, deep JSON and missing auth without storing anything', async () => {
    const token = await signIn(stack.baseUrl, email, PASSWORD);
    const db = stack.switchboard.services.db;
    const before = await countRows(db, 'SELECT count(*) AS n FROM messages');
    const post = (body: string, auth = true) =>
      fetch(`${stack.baseUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
        body,
      });
    const unknown = await post(JSON.stringify({ id: randomUUID(), text: 'hi', tenantId: randomUUID() }));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    expect((await post(JSON.stringify({ id: randomUUID(), text: 'z'.repeat(70 * 1024) }))).status).toBe(413);
    const deep = await post(`{"id":"${randomUUID()}","text":"x","n":${'['.repeat(40)}${']'.repeat(40)}}`);
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: { code: string } }).error.code).toBe('json_too_deep');
    expect((await post(JSON.stringify({ id: randomUUID(), text: 'x' }), false)).status).toBe(401);
    const tooLong = await post(JSON.stringify({ id: randomUUID(), text: 'x'.repeat(10_001) }));
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: { code: string } }).error.code).toBe('message_too_long');
    expect(await countRows(db, 'SELECT count(*) AS n FROM messages')).toBe(before);
  });

  it('serves health, readiness, metrics and a strict CSP', async () => {
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ postgres: 'ok', redis: 'ok' });
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_ingest_total\{platform="webchat",outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/switchboard_send_total\{platform="webchat",outcome="sent"\} \d+/);
    expect(metrics).toContain('switchboard_queue_jobs');
    const page = await fetch(`${stack.baseUrl}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-powered-by')).toBeNull();
  });
});
