/**
 * Polling mode, a process killed before it committed an update: a real Switchboard process
 * (TELEGRAM_MODE=polling) receives the update from getUpdates while its commit is held by a table
 * lock, and is SIGKILLed there. Telegram (the stand-in) still has the update pending: no offset
 * above it was ever sent. The next process takes the polling lease once it lapses, is handed the
 * update again, commits it and answers it exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig } from '../../config/load.ts';
import { createSwitchboard, type Switchboard } from '../../src/main.ts';
import { createTestDatabase, deleteRedisPrefix, testEnv, uniqueSuffix } from '../support/env.ts';
import { startSwitchboardProcess, type Child } from '../support/processes.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import { privateMessage, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME, TG_PERSON, update } from '../standins/telegram-fixtures.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let standin: TelegramStandin;
let env: Record<string, string>;
let survivor: Switchboard | undefined;
const prefix = `{sbt-${uniqueSuffix()}}`;
const children: Child[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME } });
  env = testEnv(database.url, prefix, {
    TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN,
    TELEGRAM_MODE: 'polling',
    TELEGRAM_API_URL: standin.apiUrl,
    TELEGRAM_API_TIMEOUT_MS: '3000',
    TELEGRAM_POLL_TIMEOUT_SECONDS: '1',
    TELEGRAM_POLL_LEASE_MS: '2000',
  });
});

afterAll(async () => {
  for (const child of children) child.process.kill('SIGKILL');
  await survivor?.stop();
  await standin?.close();
  await database?.drop();
  await deleteRedisPrefix(env['REDIS_URL'] ?? '', prefix);
});

it('re-delivers an update whose process died before the commit, and answers it once', async () => {
  const from = { ...TG_PERSON, id: 990_000_001 };
  const delivery = update(privateMessage({ from }));
  const id = delivery.update_id;

  // Hold every insert into inbound_events: the first process will receive the update and hang in its commit.
  const blocker = new pg.Client({ connectionString: database.url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE inbound_events IN EXCLUSIVE MODE');
  let released = false;
  try {
    standin.pushUpdate(delivery);
    const first = await startSwitchboardProcess('api', env);
    children.push(first);
    await waitUntil(async () => standin.getUpdatesCalls().some((c) => c.answered.includes(id)), (served) => served, { what: 'the update handed out' });
    // The first process is now waiting on the lock inside its ingest transaction.
    await waitUntil(
      () => countRows(blocker, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`),
      (n) => n >= 1,
      { what: 'the commit blocked' },
    );
    first.process.kill('SIGKILL');
    await first.exited;
    await blocker.query('ROLLBACK');
    released = true;
  } finally {
    if (!released) await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
  }

  // Nothing committed, nothing confirmed: Telegram still holds the update.
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    expect(await countRows(admin, `SELECT count(*) AS n FROM inbound_events`)).toBe(0);
  } finally {
    await admin.end();
  }
  expect(standin.pending()).toContain(id);
  expect(standin.getUpdatesCalls().filter((c) => c.offset !== undefined && c.offset > id)).toEqual([]);

  // The next process (API and workers) takes the lease after it lapses, polls, commits and answers.
  survivor = await createSwitchboard({ config: loadConfig({ env }), role: 'all', defaultMetrics: false });
  await survivor.start();
  const { db } = survivor.services;
  await waitUntil(async () => standin.messages().filter((m) => m.chatId === from.id).length, (n) => n >= 1, { timeoutMs: 20_000, what: 'the reply' });
  await waitUntil(async () => standin.pending(), (p) => !p.includes(id), { what: 'the update confirmed' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(standin.messages().filter((m) => m.chatId === from.id)).toHaveLength(1);
  expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'telegram' AND platform_event_id = $1`, [String(id)])).toBe(1);
  // Handed out twice in all: once to the process that died, once to the survivor.
  expect(standin.getUpdatesCalls().filter((c) => c.answered.includes(id))).toHaveLength(2);
}, 60_000);
