import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidCreditCard,
  isValidEmail,
  isValidIban,
  isValidIpAddress,
  isValidPhone,
  isValidSsn,
  redactPii,
  scanPii,
  type PiiEntityType,
} from '../../src/pipeline/pii/index.ts';
import { anyFiller, cardLayout, invalidSsn, luhnInvalidDigits, piiValue, safeWord } from '../fixtures/pii/arbitraries.ts';

const VALIDATORS: Readonly<Record<PiiEntityType, (value: string) => boolean>> = {
  EMAIL_ADDRESS: isValidEmail,
  PHONE_NUMBER: isValidPhone,
  US_SSN: isValidSsn,
  CREDIT_CARD: isValidCreditCard,
  IBAN_CODE: isValidIban,
  IP_ADDRESS: isValidIpAddress,
};

/** Text made of arbitrary filler (any Unicode, digits, separators) interleaved with PII values. */
const mixedText = fc
  .array(fc.oneof(anyFiller, piiValue.map((p) => p.value)), { maxLength: 12 })
  .map((parts) => parts.join(''));

/**
 * Safe words and PII values separated by single spaces: every value should be found. Two values
 * always have a word between them, since "…1111 1111 212 555 1234" is ambiguous by nature.
 */
const cleanText = fc
  .array(fc.oneof(safeWord.map((w) => ({ word: w })), piiValue), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.flatMap((p, i) => (i > 0 && !('word' in p) && !('word' in (parts[i - 1] ?? p)) ? [{ word: 'and' }, p] : [p])));

const RUNS = { numRuns: 400 };

describe('scanPii properties', () => {
  it('every finding slices back to a value that re-validates as its type; sorted; non-overlapping', () => {
    fc.assert(
      fc.property(mixedText, (text) => {
        const { findings, level } = scanPii(text);
        let prevEnd = 0;
        for (const f of findings) {
          expect(f.start).toBeGreaterThanOrEqual(prevEnd);
          expect(f.end).toBeGreaterThan(f.start);
          expect(f.end).toBeLessThanOrEqual(text.length);
          const value = text.slice(f.start, f.end);
          expect(VALIDATORS[f.type](value), `${f.type} ${JSON.stringify(value)}`).toBe(true);
          prevEnd = f.end;
        }
        expect(level === 'public').toBe(findings.length === 0);
      }),
      RUNS,
    );
  });

  it('finds every generated value between plain words, with exact offsets', () => {
    fc.assert(
      fc.property(cleanText, (parts) => {
        let text = '';
        const expected: Array<{ type: PiiEntityType; start: number; end: number }> = [];
        for (const p of parts) {
          if (text !== '') text += ' ';
          if ('word' in p) text += p.word;
          else {
            expected.push({ type: p.type, start: text.length, end: text.length + p.value.length });
            text += p.value;
          }
        }
        const got = scanPii(text).findings.map(({ type, start, end }) => ({ type, start, end }));
        expect(got).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('Luhn-invalid numbers are never CREDIT_CARD, in any layout', () => {
    fc.assert(
      fc.property(luhnInvalidDigits, fc.constantFrom('' as const, ' ' as const, '-' as const), safeWord, safeWord, (digits, sep, a, b) => {
        const text = `${a} ${cardLayout(digits, sep)} ${b}`;
        expect(scanPii(text).findings.filter((f) => f.type === 'CREDIT_CARD')).toEqual([]);
      }),
      RUNS,
    );
  });

  it('SSN-shaped strings with an invalid area, group or serial are never US_SSN', () => {
    fc.assert(
      fc.property(invalidSsn, safeWord, safeWord, (ssn, a, b) => {
        expect(scanPii(`${a} ${ssn} ${b}`).findings.filter((f) => f.type === 'US_SSN')).toEqual([]);
        expect(isValidSsn(ssn)).toBe(false);
      }),
      RUNS,
    );
  });

  it('is deterministic and stable under a types filter', () => {
    fc.assert(
      fc.property(mixedText, (text) => {
        const all = scanPii(text).findings;
        expect(scanPii(text).findings).toEqual(all);
        const emails = scanPii(text, { types: ['EMAIL_ADDRESS'] }).findings;
        // Emails outrank every other type, so filtering to them cannot change them.
        expect(emails).toEqual(all.filter((f) => f.type === 'EMAIL_ADDRESS'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('redactPii properties', () => {
  it('replaces exactly the findings with placeholders and keeps the rest', () => {
    fc.assert(
      fc.property(mixedText, (text) => {
        const { findings } = scanPii(text);
        const redacted = redactPii(text, findings);
        let expected = '';
        let cursor = 0;
        for (const f of findings) {
          expected += text.slice(cursor, f.start) + `[${f.type}]`;
          cursor = f.end;
        }
        expect(redacted).toBe(expected + text.slice(cursor));
      }),
      RUNS,
    );
  });

  it('removes every generated value from clean text', () => {
    fc.assert(
      fc.property(cleanText, (parts) => {
        const text = parts.map((p) => ('word' in p ? p.word : p.value)).join(' ');
        const redacted = redactPii(text, scanPii(text).findings);
        for (const p of parts) if (!('word' in p)) expect(redacted).not.toContain(p.value);
        expect(scanPii(redacted).findings).toEqual([]);
      }),
      RUNS,
    );
  });
});
