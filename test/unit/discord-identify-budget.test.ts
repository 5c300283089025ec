/**
 * The persisted IDENTIFY budget as discord.js's identify throttler: it lets identifies through up
 * to the limit in any 24 h, refuses past it (never letting the shard identify, never rejecting
 * except on abort), frees up as hours roll out of the window, spaces identifies, and refuses when
 * the counter store cannot be read. Counters are an in-memory CounterPort with TTLs on a manual clock.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/core/clock.ts';
import type { CounterPort } from '../../src/core/platform.ts';
import { createIdentifyBudget, type IdentifyRefusal } from '../../adapters/discord/identify-budget.ts';

const HOUR = 3_600_000;

function memoryCounters(clock: { now(): number }): CounterPort & { broken: boolean } {
  const values = new Map<string, { value: number; expiresAt: number }>();
  const live = (name: string) => {
    const entry = values.get(name);
    return entry && entry.expiresAt > clock.now() ? entry : undefined;
  };
  const port = {
    broken: false,
    increment: async (name: string, ttlMs: number, by = 1) => {
      if (port.broken) throw new Error('redis down');
      const entry = live(name) ?? { value: 0, expiresAt: clock.now() + ttlMs };
      entry.value += by;
      values.set(name, entry);
      return entry.value;
    },
    get: async (name: string) => {
      if (port.broken) throw new Error('redis down');
      return live(name)?.value ?? 0;
    },
  };
  return port;
}

/**
 * Resolves to 'allowed', or 'pending' if the throttler has not let the shard through within 50 ms
 * (the shard is then closed, aborting the wait, as the adapter does on a refusal).
 */
async function attempt(budget: ReturnType<typeof createIdentifyBudget>): Promise<'allowed' | 'pending'> {
  const controller = new AbortController();
  const outcome = await Promise.race([
    budget.waitForIdentify(0, controller.signal).then(
      () => 'allowed' as const,
      () => 'pending' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 50)),
  ]);
  controller.abort();
  return outcome;
}

function setup(limit: number, minIntervalMs = 0) {
  const clock = createManualClock(Date.UTC(2026, 10, 22, 10, 30));
  const counters = memoryCounters(clock);
  const refusals: IdentifyRefusal[] = [];
  const budget = createIdentifyBudget({ counters, clock, botKey: 'app', dailyLimit: limit, minIntervalMs, onRefused: (r) => refusals.push(r) });
  return { clock, counters, refusals, budget };
}

describe('identify budget', () => {
  it('allows up to the limit, then holds the shard back and reports the refusal', async () => {
    const { budget, refusals } = setup(3);
    for (let i = 0; i < 3; i += 1) expect(await attempt(budget)).toBe('allowed');
    expect(await budget.used()).toBe(3);
    expect(await budget.available()).toBe(false);
    const controller = new AbortController();
    const held = budget.waitForIdentify(0, controller.signal);
    const outcome = await Promise.race([held.then(() => 'allowed', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 100))]);
    expect(outcome).toBe('pending');
    expect(refusals).toEqual([{ kind: 'exhausted', used: 3 }]);
    // Only the shard closing (abort) ends the wait, with a rejection discord.js treats as "closed".
    controller.abort();
    await expect(held).rejects.toBeDefined();
    expect(await budget.used()).toBe(3);
  });

  it('counts a rolling 24 h window in hourly buckets that survive a new budget (a restart)', async () => {
    const { budget, clock, counters } = setup(2);
    expect(await attempt(budget)).toBe('allowed');
    clock.advance(10 * HOUR);
    expect(await attempt(budget)).toBe('allowed');
    // A new process: same counters, fresh budget object.
    const restarted = createIdentifyBudget({ counters, clock, botKey: 'app', dailyLimit: 2, minIntervalMs: 0, onRefused: () => undefined });
    expect(await restarted.used()).toBe(2);
    expect(await attempt(restarted)).toBe('pending');
    // 24 h after the first identify's hour, it leaves the window.
    clock.advance(14 * HOUR + HOUR);
    expect(await restarted.used()).toBe(1);
    expect(await attempt(restarted)).toBe('allowed');
    // Another bot's budget is separate.
    const other = createIdentifyBudget({ counters, clock, botKey: 'other', dailyLimit: 2, minIntervalMs: 0, onRefused: () => undefined });
    expect(await other.used()).toBe(0);
  });

  it('spaces identifies by the minimum interval', async () => {
    const { budget } = setup(10, 150);
    const started = Date.now();
    await budget.waitForIdentify(0, new AbortController().signal);
    await budget.waitForIdentify(0, new AbortController().signal);
    // The manual clock stands still, so the second waits the full interval in real time.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('refuses (and never throws) when the counter store is unreachable', async () => {
    const { budget, counters, refusals } = setup(10);
    counters.broken = true;
    expect(await attempt(budget)).toBe('pending');
    expect(refusals).toEqual([{ kind: 'unavailable' }]);
    await expect(budget.available()).rejects.toThrow();
  });
});
