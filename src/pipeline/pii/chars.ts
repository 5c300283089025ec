/**
 * Char-code predicates shared by the detectors. They take `charCodeAt` results directly:
 * reading outside the string yields NaN, for which every predicate is false, so callers need
 * no bounds checks.
 */

/** ASCII 0–9. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** ASCII A–Z or a–z. */
export function isAsciiLetter(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}

/** ASCII A–Z. */
export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** ASCII letter or digit. */
export function isAsciiAlnum(c: number): boolean {
  return isDigit(c) || isAsciiLetter(c);
}

/** What `\w` matches without the `u` flag: ASCII letters, digits and `_`. */
export function isWordChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 95;
}

/** 0–9, a–f, A–F. */
export function isHexDigit(c: number): boolean {
  if (isDigit(c)) return true;
  const l = c | 32;
  return l >= 97 && l <= 102;
}

/** Latin-1 and Latin Extended-A/B letters (é, ü, ø, ł…), so names like müller@ stay whole. */
export function isLatinExtendedLetter(c: number): boolean {
  return c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7;
}

/** True when `n` digits start at `i`. */
export function digitsAt(text: string, i: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (!isDigit(text.charCodeAt(i + k))) return false;
  return true;
}

/** Length of the digit run starting at `i`, counting at most `limit` digits. */
export function digitRun(text: string, i: number, limit: number): number {
  let k = 0;
  while (k < limit && isDigit(text.charCodeAt(i + k))) k++;
  return k;
}

/**
 * True when the token at `start` is glued to the one before it: `12-`, `7.`, `3/` (digit then
 * joiner) or `ORD-` (letter then hyphen). Such values are parts of ids, ranges or decimals.
 */
export function joinedBefore(text: string, start: number): boolean {
  const p = text.charCodeAt(start - 1);
  const pp = text.charCodeAt(start - 2);
  if (p === 45) return isAsciiAlnum(pp);
  if (p === 46 || p === 47) return isDigit(pp);
  return false;
}

/**
 * True when the token ending at `end` continues: a word char, or `-`, `.`, `/` followed by a
 * digit (a longer number, a decimal, a range).
 */
export function joinedAfter(text: string, end: number): boolean {
  const n = text.charCodeAt(end);
  if (isWordChar(n)) return true;
  return (n === 45 || n === 46 || n === 47) && isDigit(text.charCodeAt(end + 1));
}

const SHORT_GROUP = 6;

/**
 * True when a space at `start - 1` follows a short digit group (≤ 6 digits): the value is one
 * group of a longer spaced number ("12 4111 1111…"). A long run before the space is a separate
 * number in a list, not a group.
 */
export function spacedAfterDigit(text: string, start: number): boolean {
  if (text.charCodeAt(start - 1) !== 32) return false;
  let k = 0;
  while (k <= SHORT_GROUP && isDigit(text.charCodeAt(start - 2 - k))) k++;
  return k >= 1 && k <= SHORT_GROUP;
}

/** True when a space then a short digit group (≤ 6 digits) follow `end`: more groups of a spaced number come. */
export function spacedBeforeDigit(text: string, end: number): boolean {
  if (text.charCodeAt(end) !== 32) return false;
  let k = 0;
  while (k <= SHORT_GROUP && isDigit(text.charCodeAt(end + 1 + k))) k++;
  return k >= 1 && k <= SHORT_GROUP;
}
