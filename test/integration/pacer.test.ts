import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createPacer } from '../../src/queue/pacer.ts';
import { deleteRedisPrefix, TEST_REDIS_URL, uniqueSuffix } from '../support/env.ts';

const prefix = `{sbt-${uniqueSuffix()}}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteRedisPrefix(TEST_REDIS_URL, prefix);
});

describe('GCRA pacer', () => {
  it('spaces sends to one chat by the interval, after the burst', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'chat:a', intervalMs: 1000, burst: 1 }];
    const t0 = 1_000_000;
    const waits = [];
    for (let i = 0; i < 4; i += 1) waits.push(await pacer.reserve(rule, t0));
    expect(waits).toEqual([0, 1000, 2000, 3000]);
    // Time passing frees the budget again.
    expect(await pacer.reserve(rule, t0 + 10_000)).toBe(0);
  });

  it('allows a burst, then paces', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'group:b', intervalMs: 3000, burst: 3 }];
    const waits = [];
    for (let i = 0; i < 5; i += 1) waits.push(await pacer.reserve(rule, 5_000_000));
    expect(waits).toEqual([0, 0, 0, 3000, 6000]);
  });

  it('takes the strictest of several budgets and books all of them', async () => {
    const pacer = createPacer(redis, prefix);
    const global = { key: 'global', intervalMs: 100, burst: 1 };
    const chatC = { key: 'chat:c', intervalMs: 1000, burst: 1 };
    const chatD = { key: 'chat:d', intervalMs: 1000, burst: 1 };
    const t0 = 9_000_000;
    expect(await pacer.reserve([global, chatC], t0)).toBe(0);
    expect(await pacer.reserve([global, chatC], t0)).toBe(1000);
    // Another chat only waits for the global budget (booked at t0 and t0+1000).
    expect(await pacer.reserve([global, chatD], t0)).toBe(1100);
  });

  it('never books two sends closer than the interval, whatever the arrival times', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'chat:e', intervalMs: 250, burst: 1 }];
    const slots: number[] = [];
    let now = 20_000_000;
    for (let i = 0; i < 40; i += 1) {
      now += Math.floor((i * 7919) % 300);
      slots.push(now + (await pacer.reserve(rule, now)));
    }
    const sorted = [...slots].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i += 1) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(250);
  });

  it('counts the next slot from a late send, not from the slot it missed', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'chat:f', intervalMs: 1000, burst: 1 }];
    const t0 = 30_000_000;
    expect(await pacer.reserve(rule, t0)).toBe(0);
    // The send happened 400 ms late (queue latency): the next one must wait a full interval after it.
    await pacer.settle(rule, t0 + 400);
    expect(await pacer.reserve(rule, t0 + 400)).toBe(1000);
  });

  it('gate: refuses a send closer than the interval to the last actual send, and charges only when allowed', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'chat:g', intervalMs: 1000, burst: 1 }];
    const t0 = 40_000_000;
    expect(await pacer.gate(rule, t0)).toBe(0);
    expect(await pacer.gate(rule, t0 + 900)).toBe(100);
    // A refused check charged nothing: the send is allowed at exactly one interval.
    expect(await pacer.gate(rule, t0 + 1000)).toBe(0);
  });

  it('gate-only budgets are never booked ahead, so one busy chat does not hold others back', async () => {
    const pacer = createPacer(redis, prefix);
    const bot = { key: 'bot:h', intervalMs: 100, burst: 1, gateOnly: true };
    const busy = { key: 'chat:busy', intervalMs: 5000, burst: 1 };
    const quiet = { key: 'chat:quiet', intervalMs: 5000, burst: 1 };
    const t0 = 50_000_000;
    expect(await pacer.reserve([bot, busy], t0)).toBe(0);
    expect(await pacer.reserve([bot, busy], t0)).toBe(5000);
    // Without gate-only, the bot budget would now be booked at t0+5000 and the quiet chat would wait.
    expect(await pacer.reserve([bot, quiet], t0)).toBe(0);
  });

  it('window rules allow a burst of max sends, then wait for the oldest to leave the window', async () => {
    const pacer = createPacer(redis, prefix);
    const rule = [{ key: 'group:i', intervalMs: 3000, burst: 1, window: { max: 3, ms: 60_000 } }];
    const t0 = 60_000_000;
    expect(await pacer.gate(rule, t0)).toBe(0);
    expect(await pacer.gate(rule, t0 + 1000)).toBe(0);
    expect(await pacer.gate(rule, t0 + 2000)).toBe(0);
    expect(await pacer.gate(rule, t0 + 3000)).toBe(57_000);
    expect(await pacer.gate(rule, t0 + 60_001)).toBe(0);
  });
});
