/**
 * A worker killed mid-job (SIGKILL while the LLM call is in flight) leads to exactly one reply
 * after recovery: the BullMQ lock lapses, another worker process retries the job, and the unique
 * reply-per-event index makes any double run harmless.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../config/load.ts';
import { createSwitchboard, type Switchboard } from '../../src/main.ts';
import { insertUser } from '../../src/store/users.ts';
import { createTestDatabase, deleteRedisPrefix, testEnv, uniqueSuffix } from '../support/env.ts';
import { startSwitchboardProcess, type Child } from '../support/processes.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { startOpenAiStandin, type OpenAiStandin } from '../standins/llm-openai.ts';
import { reply } from '../standins/http-standin.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let standin: OpenAiStandin;
let api: Switchboard;
let env: Record<string, string>;
const prefix = `{sbt-${uniqueSuffix()}}`;
const children: Child[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  standin = await startOpenAiStandin();
  env = testEnv(database.url, prefix, {
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: standin.baseURL,
    LLM_MODEL: 'standin',
    WORKER_LOCK_DURATION_MS: '1500',
    SWEEPER_STALE_AFTER_MS: '60000',
  });
  api = await createSwitchboard({ config: loadConfig({ env }), role: 'api', defaultMetrics: false });
  await api.start();
});

afterAll(async () => {
  for (const child of children) child.process.kill('SIGKILL');
  await api?.stop();
  await standin?.close();
  await database?.drop();
  await deleteRedisPrefix(env['REDIS_URL'] ?? '', prefix);
});

it('a worker killed mid-job leads to exactly one reply', async () => {
  const { db, webchat } = api.services;
  const tenant = await db.query<{ id: string }>(`SELECT id FROM tenants WHERE slug = 'default'`);
  const user = await insertUser(db, {
    tenantId: tenant.rows[0]!.id,
    email: 'crash@example.test',
    displayName: 'Crash',
    role: 'member',
    passwordHash: 'unused',
  });
  // The first model call never answers: the worker is mid-job when it dies.
  standin.reply(reply.hang());

  const first = await startSwitchboardProcess('worker', env);
  children.push(first);
  const receipt = await webchat.submit(
    { userId: user.id, tenantId: user.tenantId, displayName: user.displayName },
    { clientMessageId: randomUUID(), text: 'Are you still there?' },
  );
  await standin.waitForRequests(1, 15_000);
  first.process.kill('SIGKILL');
  await first.exited;
  expect(
    await countRows(db, `SELECT count(*) AS n FROM messages WHERE reply_to_event_id = $1`, [receipt.eventId]),
  ).toBe(0);

  const second = await startSwitchboardProcess('worker', env);
  children.push(second);
  await waitUntil(
    () => countRows(db, `SELECT count(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id
      WHERE m.reply_to_event_id = $1 AND o.status = 'sent'`, [receipt.eventId]),
    (n) => n === 1,
    { timeoutMs: 20_000, what: 'the reply to be sent after recovery' },
  );
  // Let any duplicate run surface before counting.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await countRows(db, `SELECT count(*) AS n FROM messages WHERE reply_to_event_id = $1`, [receipt.eventId])).toBe(1);
  const event = await db.query<{ status: string; attempts: number }>(
    'SELECT status, attempts FROM inbound_events WHERE id = $1',
    [receipt.eventId],
  );
  expect(event.rows[0]).toMatchObject({ status: 'answered' });
  expect(event.rows[0]!.attempts).toBeGreaterThanOrEqual(2);
  expect(standin.chatRequests().length).toBe(2);
  second.process.kill('SIGTERM');
  await second.exited;
}, 60_000);
