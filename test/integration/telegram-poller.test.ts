/**
 * Long polling at the getUpdates level, with telegraf's real client against the stand-in (which
 * keeps an update pending until a getUpdates carries an offset above its id, as Telegram does):
 * - telegraf's own `launch()` polling confirms an update whose handler FAILED (why we do not use it);
 * - our poller confirms an update only after its dispatch resolved (committed), fetches it again
 *   after a failure, keeps order, and deletes a webhook before polling;
 * - one poller per bot: a second process stands by behind the Redis lease and takes over on stop,
 *   and Telegram never sees two concurrent getUpdates (no 409 conflicts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Telegraf } from 'telegraf';
import { createLogger } from '../../src/core/logger.ts';
import { SwitchboardError } from '../../src/core/errors.ts';
import { createLockPort } from '../../src/queue/locks.ts';
import { createTelegramApi } from '../../adapters/telegram/api.ts';
import { createTelegramPoller, type TelegramPoller } from '../../adapters/telegram/poller.ts';
import type { DispatchOutcome } from '../../adapters/telegram/dispatch.ts';
import { updateIdOf } from '../../adapters/telegram/normalize.ts';
import { startTelegramStandin, type TelegramStandin } from '../standins/telegram.ts';
import { deleteRedisPrefix, TEST_REDIS_URL, uniqueSuffix } from '../support/env.ts';
import { waitUntil } from '../support/wait.ts';
import { privateMessage, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME, update } from '../standins/telegram-fixtures.ts';

const log = createLogger({ level: 'silent' });
const prefix = `{sbt-${uniqueSuffix()}}`;
let redis: Redis;
let standin: TelegramStandin;
const pollers: TelegramPoller[] = [];

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  standin = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME }, maxHoldMs: 1000 });
});
afterAll(async () => {
  for (const poller of pollers) await poller.stop();
  await standin?.close();
  redis?.disconnect();
  await deleteRedisPrefix(TEST_REDIS_URL, prefix);
});

/** A poller whose dispatcher is `dispatch` (the sink's role: resolve = committed). */
function poller(dispatch: (update: unknown) => Promise<DispatchOutcome>, leaseMs = 1500): TelegramPoller {
  const created = createTelegramPoller({
    botId: String(TG_BOT_ID),
    api: createTelegramApi({ token: TG_BOT_TOKEN, apiUrl: standin.apiUrl, timeoutMs: 2000 }),
    dispatch,
    locks: createLockPort(redis, prefix),
    audit: async () => undefined,
    log,
    leaseMs,
    pollTimeoutSeconds: 1,
    apiTimeoutMs: 2000,
    prepare: async () => undefined,
  });
  pollers.push(created);
  return created;
}

const callsConfirming = (id: number) => standin.getUpdatesCalls().filter((c) => c.offset !== undefined && c.offset > id);

describe('telegraf launch() polling (the SDK, unchanged)', () => {
  it('confirms an update although its handler failed: the update is lost', async () => {
    const id = 610_000_001;
    standin.pushUpdate(update(privateMessage(), id));
    const bot = new Telegraf(TG_BOT_TOKEN, { telegram: { apiRoot: standin.apiUrl, webhookReply: false } });
    let handled = 0;
    bot.on('message', () => {
      handled += 1;
      throw new Error('database down');
    });
    // Rethrow, as telegraf's default handler does (without its console output and process.exitCode).
    bot.catch((err) => {
      throw err;
    });
    const outcome = await bot.launch().then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error ? err.message : 'rejected'),
    );
    expect(outcome).toBe('database down');
    expect(handled).toBe(1);
    // On the way out it called getUpdates with offset id+1: Telegram now considers the update done.
    expect(callsConfirming(id - 1).at(-1)?.offset).toBe(id + 1);
    expect(standin.pending()).not.toContain(id);
  });
});

describe('Switchboard poller', () => {
  it('confirms an update only after it committed, fetches it again after a failure, keeps order', async () => {
    const first = 620_000_001;
    const second = 620_000_002;
    const seen: Array<{ id: number | undefined; at: number; ok: boolean }> = [];
    let failuresLeft = 2;
    let committedAt = 0;
    const p = poller(async (raw) => {
      const id = updateIdOf(raw);
      if (id === first && failuresLeft > 0) {
        failuresLeft -= 1;
        seen.push({ id, at: Date.now(), ok: false });
        throw new SwitchboardError('db_unavailable', 'database down');
      }
      // A commit that takes a moment.
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (id === first) committedAt = Date.now();
      seen.push({ id, at: Date.now(), ok: true });
      return 'accepted';
    });
    standin.pushUpdate(update(privateMessage(), first));
    standin.pushUpdate(update(privateMessage(), second));
    await p.start();
    await waitUntil(async () => standin.pending().length, (n) => n === 0, { timeoutMs: 15_000, what: 'both updates confirmed' });
    expect(seen.map((s) => [s.id, s.ok])).toEqual([
      [first, false],
      [first, false],
      [first, true],
      [second, true],
    ]);
    // Nothing confirmed the first update before it committed.
    const confirming = callsConfirming(first);
    expect(confirming.length).toBeGreaterThan(0);
    expect(Math.min(...confirming.map((c) => c.at))).toBeGreaterThanOrEqual(committedAt);
    // After each failure the next getUpdates asked for the failed update again (it came back).
    const served = standin.getUpdatesCalls().filter((c) => c.answered.includes(first));
    expect(served.length).toBe(3);
    await p.stop();
    expect(p.state()).toBe('stopped');
  }, 30_000);

  it('deletes a webhook before polling (Telegram refuses getUpdates while one is set)', async () => {
    await fetch(`${standin.apiUrl}/bot${TG_BOT_TOKEN}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://old.example.test/hook' }),
    });
    expect(standin.webhook()).toBeDefined();
    const handled: number[] = [];
    const p = poller(async (raw) => {
      handled.push(updateIdOf(raw) ?? -1);
      return 'accepted';
    });
    standin.pushUpdate(update(privateMessage(), 630_000_001));
    await p.start();
    await waitUntil(async () => handled, (h) => h.includes(630_000_001), { what: 'the update polled' });
    expect(standin.webhook()).toBeUndefined();
    await p.stop();
  });

  it('runs one poller per bot: the standby takes over when the holder stops, with no 409 conflicts', async () => {
    const handledBy: Array<{ poller: string; id: number | undefined }> = [];
    const a = poller(async (raw) => {
      handledBy.push({ poller: 'a', id: updateIdOf(raw) });
      return 'accepted';
    });
    const b = poller(async (raw) => {
      handledBy.push({ poller: 'b', id: updateIdOf(raw) });
      return 'accepted';
    });
    const conflictsBefore = standin.conflicts();
    await a.start();
    await b.start();
    expect([a.state(), b.state()]).toEqual(['polling', 'standby']);
    for (let i = 1; i <= 5; i += 1) standin.pushUpdate(update(privateMessage(), 640_000_000 + i));
    await waitUntil(async () => handledBy.length, (n) => n >= 5, { what: 'five updates handled' });
    // Long polls keep running for a while: still one poller, never two at once.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(new Set(handledBy.map((h) => h.poller))).toEqual(new Set(['a']));
    expect(b.state()).toBe('standby');

    await a.stop();
    await waitUntil(async () => b.state(), (s) => s === 'polling', { timeoutMs: 5000, what: 'the standby to take over' });
    for (let i = 6; i <= 8; i += 1) standin.pushUpdate(update(privateMessage(), 640_000_000 + i));
    await waitUntil(async () => handledBy.length, (n) => n >= 8, { what: 'three more updates handled' });
    expect(handledBy.slice(5).map((h) => h.poller)).toEqual(['b', 'b', 'b']);
    // Each update handled once, in order, and Telegram never saw two concurrent getUpdates.
    expect(handledBy.map((h) => h.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => 640_000_000 + i));
    expect(standin.conflicts()).toBe(conflictsBefore);
    await b.stop();
  }, 30_000);
});
