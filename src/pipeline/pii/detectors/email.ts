/**
 * EMAIL_ADDRESS: found from each '@' by scanning back over the local part (≤ 64 chars) and
 * forward over the domain (≤ 253 chars), so every '@' costs a bounded amount of work.
 * Local parts and domain labels take ASCII plus Latin letters (müller@bücher.de); CJK and other
 * scripts end the address, because chat in those scripts often has no space before it.
 */
import { isAsciiAlnum, isAsciiLetter, isLatinExtendedLetter } from '../chars.ts';
import type { PiiDetector, Span } from '../types.ts';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;

function isLocalChar(c: number): boolean {
  // . _ % + -
  return isAsciiAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || isLatinExtendedLetter(c);
}

function isDomainChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 45 || c === 46 || isLatinExtendedLetter(c);
}

/** Start of the local part ending before `at`, or -1. */
function localStart(text: string, at: number): number {
  let p = at;
  while (p > 0 && at - p <= MAX_LOCAL && isLocalChar(text.charCodeAt(p - 1))) p--;
  if (at - p > MAX_LOCAL) return -1;
  // An ellipsis ("see you..bob@x.org") is prose, not part of the address.
  for (let k = at - 2; k >= p; k--) {
    if (text.charCodeAt(k) === 46 && text.charCodeAt(k + 1) === 46) {
      p = k + 2;
      break;
    }
  }
  // Punctuation that cannot start a local part is prose around it ("--bob@", "+bob@").
  while (p < at) {
    const c = text.charCodeAt(p);
    if (c === 46 || c === 45 || c === 43 || c === 37) p++;
    else break;
  }
  if (p === at || text.charCodeAt(at - 1) === 46) return -1;
  return p;
}

function validLabel(text: string, start: number, end: number): boolean {
  const len = end - start;
  return len >= 1 && len <= 63 && text.charCodeAt(start) !== 45 && text.charCodeAt(end - 1) !== 45;
}

function validTld(text: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  if (text.startsWith('xn--', start)) return true;
  for (let i = start; i < end; i++) if (!isAsciiLetter(text.charCodeAt(i))) return false;
  return true;
}

/** End of the domain starting at `from`, or -1. */
function domainEnd(text: string, from: number): number {
  let q = from;
  while (q - from <= MAX_DOMAIN && isDomainChar(text.charCodeAt(q))) q++;
  if (q - from > MAX_DOMAIN) return -1;
  // Sentence punctuation after the address ("mail bob@x.org.") is not part of it.
  while (q > from && (text.charCodeAt(q - 1) === 46 || text.charCodeAt(q - 1) === 45)) q--;
  let labelStart = from;
  let labels = 0;
  for (let i = from; i <= q; i++) {
    if (i === q || text.charCodeAt(i) === 46) {
      if (!validLabel(text, labelStart, i)) return -1;
      labels++;
      if (i === q && !validTld(text, labelStart, i)) return -1;
      labelStart = i + 1;
    }
  }
  return labels >= 2 ? q : -1;
}

/** The address around the '@' at `at`, or null. */
export function emailSpanAt(text: string, at: number): Span | null {
  const start = localStart(text, at);
  if (start < 0) return null;
  const end = domainEnd(text, at + 1);
  if (end < 0) return null;
  return { start, end };
}

/** True when the whole of `value` is one email address. */
export function isValidEmail(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 0 || value.indexOf('@', at + 1) >= 0) return false;
  const span = emailSpanAt(value, at);
  return span !== null && span.start === 0 && span.end === value.length;
}

/** EMAIL_ADDRESS detector, triggered by '@'. */
export const emailDetector: PiiDetector = {
  type: 'EMAIL_ADDRESS',
  triggers: '@',
  needsBoundary: false,
  detect: emailSpanAt,
};
