/**
 * IBAN_CODE: country code + 2 check digits + BBAN, either compact (DE89370400440532013000) or
 * printed in groups of four separated by single spaces or dashes (GB82 WEST 1234 5698 7654 32).
 * The country's registry length fixes how many chars to read, so the window is at most 34
 * chars plus separators; the value must then pass mod-97. Country codes must be upper case or
 * the whole IBAN lower case; only countries in the registry table are recognised.
 */
import { isAsciiAlnum, isAsciiLetter, isDigit, isUpper, isWordChar } from '../chars.ts';
import { IBAN_LENGTHS } from '../validators/iban-countries.ts';
import { ibanChecksumValid } from '../validators/mod97.ts';
import type { PiiDetector, Span } from '../types.ts';

/** The IBAN starting at `i`, or null. */
export function ibanSpanAt(text: string, i: number): Span | null {
  const c0 = text.charCodeAt(i);
  const c1 = text.charCodeAt(i + 1);
  if (!isDigit(text.charCodeAt(i + 2)) || !isDigit(text.charCodeAt(i + 3))) return null;
  const upper = isUpper(c0);
  if (upper !== isUpper(c1)) return null;
  const country = text.slice(i, i + 2).toUpperCase();
  const length = IBAN_LENGTHS.get(country);
  if (length === undefined) return null;
  const s = text.charCodeAt(i + 4);
  const sep = (s === 32 || s === 45) && isAsciiAlnum(text.charCodeAt(i + 5)) ? s : -1;
  let compact = country + text.slice(i + 2, i + 4);
  let p = i + 4;
  for (let n = 4; n < length; n++) {
    if (sep !== -1 && n % 4 === 0) {
      if (text.charCodeAt(p) !== sep) return null;
      p++;
    }
    const c = text.charCodeAt(p);
    if (isDigit(c)) compact += text[p];
    else if (upper ? isUpper(c) : c >= 97 && c <= 122) compact += String.fromCharCode(upper ? c : c - 32);
    else return null;
    p++;
  }
  const next = text.charCodeAt(p);
  if (isAsciiAlnum(next) || next === 95) return null;
  // More groups after the registry length: a longer code, not this IBAN.
  if (sep !== -1 && next === sep && (sep === 45 ? isAsciiAlnum : isDigit)(text.charCodeAt(p + 1))) return null;
  return ibanChecksumValid(compact) ? { start: i, end: p } : null;
}

/** True when the whole of `value` is one IBAN in an accepted layout. */
export function isValidIban(value: string): boolean {
  const span = ibanSpanAt(value, 0);
  return span !== null && span.end === value.length;
}

/**
 * IBAN_CODE detector. Triggered by the first check digit rather than by every letter, so plain
 * prose costs nothing: it looks back two chars for the country code and one more for a boundary.
 */
export const ibanDetector: PiiDetector = {
  type: 'IBAN_CODE',
  triggers: '0123456789',
  needsBoundary: false,
  detect(text: string, i: number): Span | null {
    const start = i - 2;
    if (!isAsciiLetter(text.charCodeAt(start)) || !isAsciiLetter(text.charCodeAt(i - 1)) || isWordChar(text.charCodeAt(start - 1))) {
      return null;
    }
    return ibanSpanAt(text, start);
  },
};
