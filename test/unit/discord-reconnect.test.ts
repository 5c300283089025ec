/** The reconnect gate: no wait the first time, full-jitter exponential backoff after, reset on success, shut for good when closed. */
import { describe, expect, it } from 'vitest';
import { createReconnectGate } from '../../adapters/discord/reconnect.ts';

const settled = async (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('reconnect gate', () => {
  it('waits nothing first, then a jittered time under base × 2^(n-1), capped, and starts over after a good connection', async () => {
    const delays: Array<[number, number]> = [];
    const gate = createReconnectGate({ baseMs: 100, maxMs: 250, random: () => 0.999, onBackoff: (delay, attempt) => delays.push([delay, attempt]) });
    await gate.beforeConnect();
    expect(delays).toEqual([]);
    for (let i = 0; i < 3; i += 1) await gate.beforeConnect();
    expect(delays).toEqual([
      [99, 1],
      [199, 2],
      [249, 3],
    ]);
    gate.connected();
    await gate.beforeConnect();
    await gate.beforeConnect();
    expect(delays.at(-1)).toEqual([99, 1]);
  });

  it('spreads reconnects with the random source (full jitter)', async () => {
    const delays: number[] = [];
    const gate = createReconnectGate({ baseMs: 1000, maxMs: 60_000, random: () => 0.01, onBackoff: (delay) => delays.push(delay) });
    await gate.beforeConnect();
    await gate.beforeConnect();
    expect(delays).toEqual([10]);
  });

  it('never lets a connection through once closed, even one already waiting', async () => {
    const gate = createReconnectGate({ baseMs: 100, maxMs: 100, random: () => 0.5 });
    await gate.beforeConnect();
    const waiting = gate.beforeConnect();
    gate.close();
    expect(await settled(waiting, 200)).toBe(false);
    expect(await settled(gate.beforeConnect(), 50)).toBe(false);
  });
});
