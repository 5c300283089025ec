/**
 * CREDIT_CARD: 13–19 digits in groups joined by single spaces or single dashes (one kind per
 * number), e.g. 4111 1111 1111 1111, 3782-822463-10005, 4111111111111111. Each group has at
 * least 3 digits, so a zero-width char stripped from inside a group still leaves a match
 * ("41111111 1111 1111"). Accepted only with Luhn and a known network prefix/length.
 * A digit run longer than 19 is an id, never a card.
 */
import { digitRun, isDigit, joinedAfter, joinedBefore, spacedAfterDigit } from '../chars.ts';
import { isKnownCardBrand } from '../validators/card-brands.ts';
import { luhnValid } from '../validators/luhn.ts';
import type { PiiDetector, Span } from '../types.ts';

const MAX_DIGITS = 19;
const MIN_DIGITS = 13;
const MIN_GROUP = 3;

/** True when `digits` is a Luhn-valid number of a known card network. */
export function isValidCardDigits(digits: string): boolean {
  return isKnownCardBrand(digits) && luhnValid(digits);
}

/** True when the whole of `value` is a card number in an accepted layout. */
export function isValidCreditCard(value: string): boolean {
  const span = cardSpanAt(value, 0);
  return span !== null && span.end === value.length;
}

/**
 * The card number starting at `i`, or null. Reads at most 19 digits and their separators; the
 * whole group sequence is the candidate (never a prefix of it), so a Luhn-valid prefix of a
 * longer number is not reported.
 */
export function cardSpanAt(text: string, i: number): Span | null {
  // '+' makes it an international phone number ("+4915112345678").
  if (joinedBefore(text, i) || text.charCodeAt(i - 1) === 43) return null;
  let sep = -1;
  let total = 0;
  let p = i;
  for (;;) {
    const len = digitRun(text, p, MAX_DIGITS + 1 - total);
    if (len < MIN_GROUP) {
      if (total === 0) return null;
      // A short run after the separator is not a group ("… 1111 12/27"): end before it.
      p--;
      break;
    }
    total += len;
    p += len;
    if (total > MAX_DIGITS) return null;
    const c = text.charCodeAt(p);
    if ((c === 32 || c === 45) && (sep === -1 || sep === c) && isDigit(text.charCodeAt(p + 1))) {
      sep = c;
      p++;
    } else break;
  }
  if (total < MIN_DIGITS || joinedAfter(text, p)) return null;
  // A spaced card right after a short digit group ("12 4111 1111…") is part of a longer number.
  if (sep === 32 && spacedAfterDigit(text, i)) return null;
  return isValidCardDigits(collectDigits(text, i, p)) ? { start: i, end: p } : null;
}

function collectDigits(text: string, start: number, end: number): string {
  let out = '';
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (isDigit(c)) out += text[k];
  }
  return out;
}

/** CREDIT_CARD detector, triggered by a digit at a word boundary. */
export const cardDetector: PiiDetector = {
  type: 'CREDIT_CARD',
  triggers: '0123456789',
  needsBoundary: true,
  detect: cardSpanAt,
};
