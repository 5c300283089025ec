import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { splitText } from '../../src/core/split-text.ts';

const strip = (s: string): string => s.replace(/\s+/g, '');

describe('splitText', () => {
  it('keeps short text whole and empty text as one empty part', () => {
    expect(splitText('hello', 10)).toEqual(['hello']);
    expect(splitText('', 10)).toEqual(['']);
  });

  it('prefers paragraph, then line, then sentence, then word boundaries', () => {
    expect(splitText('aaaa aaaa\n\nbbbb', 12)).toEqual(['aaaa aaaa', 'bbbb']);
    expect(splitText('aaaa aaaa\nbbbb bbbb', 12)).toEqual(['aaaa aaaa', 'bbbb bbbb']);
    expect(splitText('One two. Three four five.', 14)).toEqual(['One two.', 'Three four', 'five.']);
    expect(splitText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never splits a surrogate pair', () => {
    const parts = splitText('😀'.repeat(7), 5);
    for (const part of parts) expect(part.isWellFormed()).toBe(true);
    expect(parts.join('')).toBe('😀'.repeat(7));
  });

  it('every part fits, no non-space character is lost or reordered', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.integer({ min: 2, max: 60 }), (text, limit) => {
        const parts = splitText(text, limit);
        for (const part of parts) expect(part.length).toBeLessThanOrEqual(limit);
        expect(strip(parts.join(''))).toBe(strip(text));
      }),
      { numRuns: 500 },
    );
  });
});
