import { describe, expect, it } from 'vitest';
import { scanPii } from '../../src/pipeline/pii/index.ts';

const SIZE = 16 * 1024;

/** Inputs built to make a backtracking or quadratic scanner blow up. */
const PATTERNS = [
  '1', 'a', '@', '.', ':', '+', '(', '-', ' ', 'f', '1 ', '1.', '1-', '1:', 'a@', 'a.', '@a.', 'f:', '::', '::1 ',
  '1.1.', '0 ', '00 ', '12 ', '+1 ', '+4', '(2', '1234 ', '4111 ', 'DE89 ', 'GB', 'a@b.co ', 'x.y@', '0.0.0.0 ',
  '4111111111111111 ', '(212) 555-1234 ', '212-555-1234-', 'ffff:', '.@', '1@', '+(0)', '1a', '..@', 'a-',
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

describe('scanPii performance (linear time)', () => {
  // The one timing bound the issue asks for: median of 20 runs over 16 KiB under 16 ms, i.e.
  // under 1 ms per KiB. Typical figures are 10–50× below that, so this cannot flake, while a
  // quadratic scanner (16 K × 16 K steps) fails it by orders of magnitude.
  it.each(PATTERNS)('16 KiB of %j scans in under 1 ms per KiB', (unit) => {
    const text = unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
    scanPii(text);
    const times: number[] = [];
    for (let r = 0; r < 20; r++) {
      const t0 = performance.now();
      scanPii(text);
      times.push(performance.now() - t0);
    }
    expect(median(times)).toBeLessThan(16);
  });

  it('work grows linearly: 4× the input costs well under 16× the time', () => {
    const unit = 'a@b.co 212-555-1234 4111 1111 1111 1111 ::1 1.2.3.4 ';
    const cost = (n: number): number => {
      const text = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
      scanPii(text);
      const times: number[] = [];
      for (let r = 0; r < 10; r++) {
        const t0 = performance.now();
        scanPii(text);
        times.push(performance.now() - t0);
      }
      return median(times);
    };
    const small = cost(20_000);
    const large = cost(80_000);
    expect(large).toBeLessThan(Math.max(16 * small, 20));
  });
});
