import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { sanitizeText } from '../../src/pipeline/sanitize.ts';
import { isBidiControl, isStrippedControl, isZeroWidth } from '../../src/pipeline/sanitize/char-classes.ts';

const NASTY = [
  '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u180E', '\u00AD', '\u200E', '\u200F', '\u202A', '\u202E',
  '\u2066', '\u2069', '\u061C', '\r', '\r\n', '\u0000', '\u001B', '\u007F', '\u0085', '\u009B', '\u2028',
  '\uD800', '\uDFFF', '😀', '👨', '🏽', '\uFE0F', '™', '\u0301', 'ﬁ', '４', 'Ａ', 'e', ' ', '\n', '\t',
];

/** Strings mixing any Unicode with the characters the sanitizer cares about. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 40 }),
  fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 5 }), fc.constantFrom(...NASTY)), { maxLength: 30 }).map((xs) => xs.join('')),
);

const maxChars = 200;

/** No lone surrogates (String#isWellFormed is ES2024, beyond the project's lib). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}
const RUNS = { numRuns: 1000 };

function sanitizeOrNull(x: string | Uint8Array, normalization?: 'NFC' | 'NFKC'): string | null {
  try {
    return sanitizeText(x, normalization === undefined ? { maxChars } : { maxChars, normalization }).text;
  } catch (err) {
    if (isSwitchboardError(err, 'message_too_long')) return null;
    throw err;
  }
}

describe('sanitizeText properties', () => {
  it('is idempotent (NFKC and NFC)', () => {
    fc.assert(
      fc.property(hostile, fc.constantFrom<'NFC' | 'NFKC'>('NFC', 'NFKC'), (x, form) => {
        const once = sanitizeOrNull(x, form);
        if (once === null) return;
        const again = sanitizeText(once, { maxChars, normalization: form });
        expect(again.text).toBe(once);
        expect(again.changes).toEqual([]);
      }),
      RUNS,
    );
  });

  it('output never contains stripped classes, lone surrogates or \\r, and is normalized', () => {
    fc.assert(
      fc.property(hostile, (x) => {
        const out = sanitizeOrNull(x);
        if (out === null) return;
        expect(isWellFormed(out)).toBe(true);
        expect(out.normalize('NFKC')).toBe(out);
        for (let i = 0; i < out.length; i++) {
          const c = out.charCodeAt(i);
          expect(isStrippedControl(c) || isZeroWidth(c) || isBidiControl(c) || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('output never exceeds maxChars; over-long input throws message_too_long', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1, max: 300 }), (x, limit) => {
        try {
          expect(sanitizeText(x, { maxChars: limit }).text.length).toBeLessThanOrEqual(limit);
        } catch (err) {
          expect(isSwitchboardError(err, 'message_too_long')).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('bytes and the equivalent string give the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (x) => {
        const fromBytes = sanitizeOrNull(new TextEncoder().encode(x));
        expect(fromBytes).toBe(sanitizeOrNull(x));
      }),
      RUNS,
    );
  });

  it('never throws anything but message_too_long on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const out = sanitizeOrNull(bytes);
        if (out !== null) expect(isWellFormed(out)).toBe(true);
      }),
      RUNS,
    );
  });
});
