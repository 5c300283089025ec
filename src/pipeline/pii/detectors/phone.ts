/**
 * PHONE_NUMBER, three shapes, each read in a bounded window:
 *  - international: '+' then 8–15 digits (E.164) in groups split by single ' ', '-', '.', with an
 *    optional parenthesised group ("+44 (0)20 7946 0958"); '+1' must be followed by a valid NANP
 *    number;
 *  - North American: (212) 555-1234, 212-555-1234, 212.555.1234, 212 555 1234, 1-212-555-1234,
 *    where area code and exchange start with 2–9 and are not N11 service codes;
 *  - national trunk-prefix (UK, FR, DE…): 0 then 9–11 more digits in ≥ 2 groups
 *    ("020 7946 0958", "06 12 34 56 78", "030/1234567");
 *  - "00" international prefix written with groups ("0044 20 7946 0958"), read like '+';
 *  - Chinese mobile numbers in their fixed 3-4-4 layout ("138 0013 8000", "139-1234-5678").
 * Bare digit runs without '+' are never phone numbers: they are ids, epoch times, Slack ts
 * values (1712345678.123456) and Discord snowflakes far more often than phones.
 */
import { digitRun, digitsAt, isDigit, joinedAfter, joinedBefore, spacedAfterDigit, spacedBeforeDigit } from '../chars.ts';
import type { PiiDetector, Span } from '../types.ts';

const SPACE = 32;
const DASH = 45;
const DOT = 46;
const SLASH = 47;
const LPAREN = 40;
const RPAREN = 41;
const PLUS = 43;
const MAX_E164 = 15;
const MIN_INTL = 8;

function isSep(c: number): boolean {
  return c === SPACE || c === DASH || c === DOT;
}

/** [2-9]dd and not N11 (211, 311 … 911 are service codes): a NANP area code or exchange. */
function nanpTriple(text: string, i: number): boolean {
  const a = text.charCodeAt(i);
  const b = text.charCodeAt(i + 1);
  const c = text.charCodeAt(i + 2);
  return a >= 50 && a <= 57 && isDigit(b) && isDigit(c) && !(b === 49 && c === 49);
}

interface Match {
  readonly end: number;
  /** Whether the number uses spaces between its groups (then a spaced digit next to it continues it). */
  readonly spaced: boolean;
}

/** "(212) 555-1234", "212-555-1234", "212.555.1234", "212 555 1234", "212 555-1234" at `i`. */
function nanpCoreAt(text: string, i: number): Match | null {
  let p = i;
  let sep1: number;
  if (text.charCodeAt(p) === LPAREN) {
    if (!nanpTriple(text, p + 1) || text.charCodeAt(p + 4) !== RPAREN) return null;
    p += 5;
    const c = text.charCodeAt(p);
    if (c === SPACE || c === DASH) p++;
    sep1 = RPAREN;
  } else {
    if (!nanpTriple(text, p)) return null;
    sep1 = text.charCodeAt(p + 3);
    if (!isSep(sep1)) return null;
    p += 4;
  }
  if (!nanpTriple(text, p)) return null;
  const sep2 = text.charCodeAt(p + 3);
  if (!isSep(sep2)) return null;
  if (sep1 !== RPAREN && sep1 !== sep2 && !(sep1 === SPACE && sep2 === DASH)) return null;
  if (!digitsAt(text, p + 4, 4)) return null;
  return { end: p + 8, spaced: sep1 === SPACE || sep2 === SPACE };
}

/** North American number at `i` (digit or '('), optionally with a leading "1-" / "1 ". */
function nanpNationalAt(text: string, i: number): Match | null {
  let core = i;
  let spacedLead = false;
  if (text.charCodeAt(i) === 49) {
    const s = text.charCodeAt(i + 1);
    if (!isSep(s)) return null;
    spacedLead = s === SPACE;
    core = i + 2;
  }
  const m = nanpCoreAt(text, core);
  if (m === null) return null;
  return { end: m.end, spaced: m.spaced || spacedLead };
}

/** National number with trunk prefix 0 at `i`: "020 7946 0958", "06 12 34 56 78", "030/1234567". */
function trunkAt(text: string, i: number): Match | null {
  const c1 = text.charCodeAt(i + 1);
  if (text.charCodeAt(i) !== 48 || !(c1 >= 49 && c1 <= 57)) return null;
  let p = i;
  let digits = 0;
  let groups = 0;
  let first = -1;
  let rest = -1;
  for (;;) {
    const len = digitRun(text, p, 9);
    if (len < 2 || len > 8) return null;
    digits += len;
    groups++;
    p += len;
    if (digits > 12) return null;
    const c = text.charCodeAt(p);
    if (!(isSep(c) || c === SLASH) || !isDigit(text.charCodeAt(p + 1))) break;
    if (first === -1) first = c;
    else if (rest === -1) rest = c;
    // One separator kind throughout, except "030/123 4567" where '/' follows the area code.
    if (rest !== -1 && rest !== c) return null;
    if (rest !== -1 && first !== SLASH && first !== rest) return null;
    if (rest === SLASH) return null;
    p++;
  }
  if (groups < 2 || digits < 10) return null;
  return { end: p, spaced: first === SPACE || rest === SPACE };
}

/** International number whose country code starts at `cc` (after '+' or "00"). */
function intlAt(text: string, cc: number): Match | null {
  const c1 = text.charCodeAt(cc);
  if (!(c1 >= 49 && c1 <= 57)) return null;
  if (c1 === 49) return nanpIntlAt(text, cc);
  let p = cc;
  let digits = 0;
  let groups = 0;
  let end = -1;
  let spaced = false;
  let prevEnd = -1;
  let prevDigits = 0;
  let lastLen = 0;
  for (;;) {
    let q = p;
    let len: number;
    let counted: number;
    if (text.charCodeAt(q) === LPAREN) {
      len = digitRun(text, q + 1, 5);
      if (len < 1 || len > 4 || text.charCodeAt(q + 1 + len) !== RPAREN) break;
      // "(0)" is the national trunk prefix, not dialled from abroad.
      counted = len === 1 && text.charCodeAt(q + 1) === 48 ? 0 : len;
      q += len + 2;
    } else {
      len = digitRun(text, q, MAX_E164 + 1);
      if (len === 0) break;
      counted = len;
      q += len;
    }
    if (digits + counted > MAX_E164) return null;
    prevEnd = end;
    prevDigits = digits;
    digits += counted;
    groups++;
    lastLen = len;
    end = q;
    const c = text.charCodeAt(q);
    const n = text.charCodeAt(q + 1);
    if (isSep(c) && (isDigit(n) || n === LPAREN)) {
      if (c === SPACE) spaced = true;
      p = q + 1;
    } else if (c === LPAREN || (text.charCodeAt(q - 1) === RPAREN && isDigit(c))) {
      p = q;
    } else break;
  }
  // A trailing one-digit group after a space is prose ("+49 30 1234567 2 times"), not the number.
  if (groups > 2 && lastLen === 1 && text.charCodeAt(end - 2) === SPACE && prevEnd > 0) {
    end = prevEnd;
    digits = prevDigits;
  }
  if (end < 0 || digits < MIN_INTL) return null;
  return { end, spaced };
}

/** "+1 212 555 1234", "+1 (212) 555-1234", "+1-212-555-1234", "+12125551234"; `cc` is at the '1'. */
function nanpIntlAt(text: string, cc: number): Match | null {
  const c2 = text.charCodeAt(cc + 1);
  if (isDigit(c2)) {
    if (!nanpTriple(text, cc + 1) || !nanpTriple(text, cc + 4) || !digitsAt(text, cc + 7, 4)) return null;
    return { end: cc + 11, spaced: false };
  }
  let core = cc + 1;
  if (isSep(c2)) core++;
  else if (c2 !== LPAREN) return null;
  const m = nanpCoreAt(text, core);
  if (m === null) return null;
  return { end: m.end, spaced: m.spaced || c2 === SPACE };
}

/** "0044 20 7946 0958": like '+', but only with separators, since "00…" runs are often ids. */
function doubleZeroAt(text: string, i: number): Match | null {
  const cc = digitRun(text, i + 2, 4);
  if (cc < 1 || cc > 3 || !isSep(text.charCodeAt(i + 2 + cc))) return null;
  return intlAt(text, i + 2);
}

/** Chinese mobile: 1[3-9]x, then 4 and 4 digits split by one space or dash kind. */
function chinaMobileAt(text: string, i: number): Match | null {
  const c1 = text.charCodeAt(i + 1);
  if (!(c1 >= 51 && c1 <= 57) || !isDigit(text.charCodeAt(i + 2))) return null;
  const sep = text.charCodeAt(i + 3);
  if ((sep !== SPACE && sep !== DASH) || !digitsAt(text, i + 4, 4) || text.charCodeAt(i + 8) !== sep || !digitsAt(text, i + 9, 4)) {
    return null;
  }
  return { end: i + 13, spaced: sep === SPACE };
}

function rawMatchAt(text: string, i: number): Match | null {
  const c = text.charCodeAt(i);
  if (c === PLUS) return intlAt(text, i + 1);
  if (c === 48) return text.charCodeAt(i + 1) === 48 ? doubleZeroAt(text, i) : trunkAt(text, i);
  if (c === 49) return nanpNationalAt(text, i) ?? chinaMobileAt(text, i);
  return nanpNationalAt(text, i);
}

/** The phone number starting at `i` ('+', '(' or a digit), or null. */
export function phoneSpanAt(text: string, i: number): Span | null {
  const c = text.charCodeAt(i);
  if (c === PLUS ? text.charCodeAt(i - 1) === PLUS : joinedBefore(text, i)) return null;
  const m = rawMatchAt(text, i);
  if (m === null || joinedAfter(text, m.end)) return null;
  if (m.spaced && (spacedBeforeDigit(text, m.end) || (c !== PLUS && spacedAfterDigit(text, i)))) return null;
  return { start: i, end: m.end };
}

/** True when the whole of `value` is one phone number in an accepted shape. */
export function isValidPhone(value: string): boolean {
  const span = phoneSpanAt(value, 0);
  return span !== null && span.end === value.length;
}

/** PHONE_NUMBER detector, triggered by '+', '(' or a digit at a word boundary. */
export const phoneDetector: PiiDetector = {
  type: 'PHONE_NUMBER',
  triggers: '+(0123456789',
  needsBoundary: true,
  detect: phoneSpanAt,
};
