import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { scanPii } from '../../src/pipeline/pii/index.ts';
import { SANITIZER_DEFAULT_MAX_CHARS, sanitizeText, type SanitizeResult } from '../../src/pipeline/sanitize.ts';

const opts = { maxChars: SANITIZER_DEFAULT_MAX_CHARS };

function clean(input: string | Uint8Array, extra: { normalization?: 'NFC' | 'NFKC' } = {}): SanitizeResult {
  return sanitizeText(input, { ...opts, ...extra });
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('sanitizeText', () => {
  it('leaves clean text alone and reports no changes', () => {
    expect(clean('Hello, world!\n\tIndented. Ünïcödé 日本語 🙂')).toEqual({
      text: 'Hello, world!\n\tIndented. Ünïcödé 日本語 🙂',
      changes: [],
    });
  });

  it('does not HTML-escape', () => {
    expect(clean('<b>bold</b> & "quotes"').text).toBe('<b>bold</b> & "quotes"');
  });

  it('a zero-width space inside a card number no longer hides it from the scanner', () => {
    const raw = '4111\u200B1111 1111 1111';
    expect(scanPii(raw).findings).toEqual([]);
    const r = clean(raw);
    expect(r.text).toBe('41111111 1111 1111');
    expect(r.changes).toEqual([{ kind: 'zero_width_stripped', count: 1 }]);
    expect(scanPii(r.text).findings.map((f) => f.type)).toEqual(['CREDIT_CARD']);
  });

  it('full-width digits become ASCII under NFKC, so the scanner finds them', () => {
    const raw = 'card ４１１１ １１１１ １１１１ １１１１';
    expect(scanPii(raw).findings).toEqual([]);
    const r = clean(raw);
    expect(r.text).toBe('card 4111 1111 1111 1111');
    expect(r.changes).toEqual([{ kind: 'normalized', count: 1 }]);
    expect(scanPii(r.text).findings.map((f) => f.type)).toEqual(['CREDIT_CARD']);
  });

  it('NFC keeps compatibility characters', () => {
    expect(clean('４２ ﬁ', { normalization: 'NFC' })).toEqual({ text: '４２ ﬁ', changes: [] });
    expect(clean('４２ ﬁ').text).toBe('42 fi');
  });

  it('composes decomposed accents and records it', () => {
    expect(clean('Cafe\u0301')).toEqual({ text: 'Café', changes: [{ kind: 'normalized', count: 1 }] });
  });

  it('strips bidi overrides and isolates (Trojan Source)', () => {
    const r = clean('access\u202E\u2066 level\u2069\u202C = "user\u200F\u061C"');
    expect(r.text).toBe('access level = "user"');
    expect(r.changes).toEqual([{ kind: 'bidi_stripped', count: 6 }]);
  });

  it('strips C0/C1 controls but keeps \\n and \\t', () => {
    const r = clean('a\u0000b\u0007c\u001Bd\u007Fe\u0080f\u009Fg\th\ni');
    expect(r.text).toBe('abcdefg\th\ni');
    expect(r.changes).toEqual([{ kind: 'control_stripped', count: 6 }]);
  });

  it('turns \\r\\n, \\r, NEL, LS and PS into \\n', () => {
    const r = clean('a\r\nb\rc\u0085d\u2028e\u2029f');
    expect(r.text).toBe('a\nb\nc\nd\ne\nf');
    expect(r.changes).toEqual([{ kind: 'newlines_normalized', count: 5 }]);
  });

  it('strips every listed zero-width char', () => {
    const r = clean('a\u200Bb\u200Cc\u2060d\uFEFFe\u180Ef\u00ADg\u200Dh');
    expect(r.text).toBe('abcdefgh');
    expect(r.changes).toEqual([{ kind: 'zero_width_stripped', count: 7 }]);
  });

  it('keeps ZWJ inside emoji sequences', () => {
    for (const emoji of ['👨‍👩‍👧‍👦', '👩🏽‍💻', '🏳️‍🌈', '🧑‍🤝‍🧑', '❤️‍🔥', '🏴‍☠️']) {
      expect(clean(`family ${emoji} ok`)).toEqual({ text: `family ${emoji} ok`, changes: [] });
    }
  });

  it('strips ZWJ that does not join two emoji', () => {
    expect(clean('a\u200D😀').text).toBe('a😀');
    expect(clean('😀\u200Db').text).toBe('😀b');
    expect(clean('😀\u200D\u200D😀').text).toBe('😀\u200D😀');
    expect(clean('😀\u200B\u200D😀').text).toBe('😀\u200D😀');
  });

  it('replaces lone surrogates in strings with U+FFFD', () => {
    const r = clean('a\uD800b\uDC00c\uD83D');
    expect(r.text).toBe('a\uFFFDb\uFFFDc\uFFFD');
    expect(r.changes).toEqual([{ kind: 'invalid_utf8', count: 3 }]);
  });

  it('decodes UTF-8 bytes, replacing invalid sequences', () => {
    const ok = clean(new TextEncoder().encode('héllo 🙂'));
    expect(ok).toEqual({ text: 'héllo 🙂', changes: [] });
    const bad = clean(new Uint8Array([0x61, 0xff, 0x62, 0xc3, 0x63, 0xef, 0xbf, 0xbd, 0xe2, 0x82]));
    expect(bad.text).toBe('a\uFFFDb\uFFFDc\uFFFD\uFFFD');
    // The genuine U+FFFD (EF BF BD) is not counted; the three broken sequences are.
    expect(bad.changes).toEqual([{ kind: 'invalid_utf8', count: 3 }]);
  });

  it('strips a UTF-8 BOM from bytes as a zero-width char', () => {
    expect(clean(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]))).toEqual({
      text: 'hi',
      changes: [{ kind: 'zero_width_stripped', count: 1 }],
    });
  });

  it('throws message_too_long past maxChars after cleaning, without truncating', () => {
    const err = errorOf(() => sanitizeText('x'.repeat(11), { maxChars: 10 }));
    expect(isSwitchboardError(err, 'message_too_long')).toBe(true);
    expect(isSwitchboardError(err) && err.details.context).toEqual({ maxChars: 10, length: 11 });
    expect(sanitizeText('x'.repeat(10), { maxChars: 10 }).text).toBe('x'.repeat(10));
    // Length is measured after stripping: 10 visible chars padded with zero-width spaces fit.
    expect(sanitizeText('x\u200B'.repeat(10), { maxChars: 10 }).text).toBe('x'.repeat(10));
    // NFKC can lengthen text (ﬃ → ffi); the limit applies to the result.
    expect(isSwitchboardError(errorOf(() => sanitizeText('ﬃ'.repeat(4), { maxChars: 10 })), 'message_too_long')).toBe(true);
  });

  it('rejects input over the hard pre-limit (8 × maxChars) before any work', () => {
    const err = errorOf(() => sanitizeText('\u200B'.repeat(81), { maxChars: 10 }));
    expect(isSwitchboardError(err, 'message_too_long')).toBe(true);
    expect(isSwitchboardError(err) && err.details.context).toEqual({ maxChars: 10, length: 81 });
    const bytes = errorOf(() => sanitizeText(new Uint8Array(81), { maxChars: 10 }));
    expect(isSwitchboardError(bytes, 'message_too_long')).toBe(true);
    expect(sanitizeText('\u200B'.repeat(80), { maxChars: 10 }).text).toBe('');
  });

  it('rejects a nonsensical maxChars', () => {
    for (const maxChars of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(isSwitchboardError(errorOf(() => sanitizeText('x', { maxChars })), 'validation_failed')).toBe(true);
    }
  });

  it('stays stable when normalization moves a ZWJ off an emoji (™ → TM)', () => {
    const once = clean('™\u200D😀');
    expect(once.text).toBe('TM😀');
    expect(clean(once.text)).toEqual({ text: 'TM😀', changes: [] });
  });
});
