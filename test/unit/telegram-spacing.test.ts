/** The in-process gate: late jobs are delayed, never bunched, per bot, chat and group. */
import { describe, expect, it } from 'vitest';
import { createSendSpacing } from '../../adapters/telegram/spacing.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

describe('Telegram send spacing', () => {
  it('keeps concurrent calls apart: globally, per chat and (longer) per group', async () => {
    const spacing = createSendSpacing({ globalMs: 20, chatMs: 80, groupMs: 200 });
    const signal = new AbortController().signal;
    const done: Array<{ chat: string; at: number }> = [];
    const start = performance.now();
    // Everything arrives at once, as a burst of late jobs would.
    const calls = ['a', 'b', 'a', 'c', 'g', 'a', 'g', 'd'].map(async (chat) => {
      await spacing.wait(chat, chat === 'g', signal);
      done.push({ chat, at: performance.now() - start });
    });
    await Promise.all(calls);
    const times = done.map((d) => d.at).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i += 1) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(15); // timers may fire a few ms early
    const of = (chat: string) => done.filter((d) => d.chat === chat).map((d) => d.at);
    const [a1 = 0, a2 = 0, a3 = 0] = of('a');
    expect(a2 - a1).toBeGreaterThanOrEqual(75);
    expect(a3 - a2).toBeGreaterThanOrEqual(75);
    const [g1 = 0, g2 = 0] = of('g');
    expect(g2 - g1).toBeGreaterThanOrEqual(195);
  });

  it('does not wait when the gaps are already there, and stops waiting on abort', async () => {
    const spacing = createSendSpacing({ globalMs: 5, chatMs: 10_000, groupMs: 10_000 });
    const signal = new AbortController().signal;
    const started = performance.now();
    await spacing.wait('x', false, signal);
    expect(performance.now() - started).toBeLessThan(20);
    const controller = new AbortController();
    const second = spacing.wait('x', false, controller.signal);
    controller.abort();
    await expect(second).rejects.toSatisfy((err: unknown) => isSwitchboardError(err, 'shutting_down'));
  });
});
