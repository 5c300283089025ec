/**
 * Redis stopped and restarted (empty: no persistence) during a run loses no accepted message:
 * ingest commits to Postgres first, and the sweeper re-enqueues what Redis forgot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../support/stack.ts';
import { freePort, startRedisServer, type Child } from '../support/processes.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { signIn } from '../../src/cli/webchat-client.ts';

let stack: Stack;
let redis: Child;
let port: number;

beforeAll(async () => {
  port = await freePort();
  redis = await startRedisServer(port);
  stack = await startStack({
    env: {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      SWEEPER_INTERVAL_MS: '300',
      SWEEPER_STALE_AFTER_MS: '1500',
    },
  });
});

afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  redis?.process.kill('SIGKILL');
});

it('messages accepted while Redis is down are all answered once after it returns', async () => {
  await stack.createUser({ email: 'redis@example.test', password: 'long enough password' });
  const token = await signIn(stack.baseUrl, 'redis@example.test', 'long enough password');
  const post = (text: string) =>
    fetch(`${stack.baseUrl}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: randomUUID(), text }),
    });
  const { db } = stack.switchboard.services;
  const answered = () => countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE status = 'answered'`);
  const sentReplies = () => countRows(db, `SELECT count(*) AS n FROM outbox WHERE status = 'sent'`);

  expect((await post('before the outage')).status).toBe(202);
  await waitUntil(answered, (n) => n === 1, { what: 'first answer' });

  redis.process.kill('SIGKILL');
  await redis.exited;
  const during = await Promise.all([1, 2, 3, 4, 5].map((i) => post(`during the outage #${i}`)));
  // Accepted means committed: the client gets 202 although nothing could be queued.
  expect(during.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
  expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events`)).toBe(6);
  const ready = await fetch(`${stack.baseUrl}/readyz`);
  expect(ready.status).toBe(503);

  redis = await startRedisServer(port);
  await waitUntil(answered, (n) => n === 6, { timeoutMs: 30_000, what: 'all six answered' });
  await waitUntil(sentReplies, (n) => n === 6, { timeoutMs: 30_000, what: 'all six replies sent' });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await countRows(db, `SELECT count(*) AS n FROM messages WHERE direction = 'out'`)).toBe(6);
  expect(await countRows(db, `SELECT count(*) AS n FROM messages WHERE direction = 'in'`)).toBe(6);
}, 90_000);
