/**
 * Graceful shutdown of a real process on SIGTERM: open sockets are closed with 1001, the process
 * exits 0 within its deadline even with a model call in flight, and the unfinished job is answered
 * by the next process.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../../src/auth/passwords.ts';
import { openWebchat } from '../../src/cli/webchat-client.ts';
import { createTestDatabase, deleteRedisPrefix, testEnv, uniqueSuffix } from '../support/env.ts';
import { startSwitchboardProcess, type Child } from '../support/processes.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { startOpenAiStandin, type OpenAiStandin } from '../standins/llm-openai.ts';
import { reply } from '../standins/http-standin.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let standin: OpenAiStandin;
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
    SHUTDOWN_DEADLINE_MS: '1500',
    WORKER_LOCK_DURATION_MS: '1500',
  });
});
afterAll(async () => {
  for (const child of children) child.process.kill('SIGKILL');
  await standin?.close();
  await database?.drop();
  await deleteRedisPrefix(env['REDIS_URL'] ?? '', prefix);
});

it('SIGTERM closes sockets with 1001, exits 0 within the deadline, and loses no work', async () => {
  const first = await startSwitchboardProcess('all', env);
  children.push(first);
  const port = /READY (\d+)/.exec(first.output())?.[1];
  const baseUrl = `http://127.0.0.1:${port}`;
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    const tenant = await db.query<{ id: string }>(`SELECT id FROM tenants WHERE slug = 'default'`);
    await db.query(
      `INSERT INTO users (tenant_id, email, display_name, role, password_hash) VALUES ($1, 'bye@example.test', 'Bye', 'member', $2)`,
      [tenant.rows[0]!.id, await hashPassword('long enough password')],
    );
    const client = await openWebchat(baseUrl, 'bye@example.test', 'long enough password');
    standin.reply(reply.hang());
    const id = randomUUID();
    client.send('answer me after the restart', id);
    await client.waitFor((f) => f.type === 'ack' && f.id === id);
    await standin.waitForRequests(1, 10_000);

    const started = Date.now();
    first.process.kill('SIGTERM');
    expect(await client.closed()).toBe(1001);
    expect(await first.exited).toBe(0);
    // Deadline 1.5 s for workers plus closing pools; far below the hung model call.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await countRows(db, `SELECT count(*) AS n FROM messages WHERE direction = 'out'`)).toBe(0);

    const second = await startSwitchboardProcess('all', env);
    children.push(second);
    await waitUntil(
      () => countRows(db, `SELECT count(*) AS n FROM outbox WHERE status = 'sent'`),
      (n) => n === 1,
      { timeoutMs: 20_000, what: 'the interrupted message to be answered by the next process' },
    );
    expect(await countRows(db, `SELECT count(*) AS n FROM messages WHERE direction = 'out'`)).toBe(1);
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  } finally {
    await db.end();
  }
}, 60_000);
