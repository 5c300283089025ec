/**
 * One pass that repairs and strips: lone surrogates → U+FFFD, foreign newlines → \n, and
 * removal of controls, zero-width and bidi chars. ZWJ survives only between two emoji, so
 * family and profession emoji (👨‍👩‍👧, 👩🏽‍💻) keep their meaning. Returns the input string itself
 * when nothing changed.
 */
import {
  isBidiControl,
  isEmojiExtender,
  isExtendedPictographic,
  isForeignNewline,
  isStrippedControl,
  isZeroWidth,
} from './char-classes.ts';

/** How many chars of each kind one pass changed. */
export interface CleanCounts {
  invalidUtf16: number;
  newlines: number;
  controls: number;
  zeroWidth: number;
  bidi: number;
}

/** A fresh all-zero tally. */
export function emptyCleanCounts(): CleanCounts {
  return { invalidUtf16: 0, newlines: 0, controls: 0, zeroWidth: 0, bidi: 0 };
}

const ZWJ = 0x200d;
const LOOKBACK = 16;

function isSurrogateHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isSurrogateLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Whether the char at `i` is stripped by this pass (used to look past it). */
function isDropped(c: number): boolean {
  return isStrippedControl(c) || isZeroWidth(c) || isBidiControl(c);
}

/**
 * Whether the ZWJ at `i` joins two emoji: the nearest kept code point before it (past emoji
 * extenders and chars this pass drops, within a short window) and the code point right after
 * it are both Extended_Pictographic.
 */
function zwjJoinsEmoji(text: string, i: number): boolean {
  const next = text.codePointAt(i + 1);
  if (next === undefined || !isExtendedPictographic(next)) return false;
  let p = i;
  while (p > 0 && i - p < LOOKBACK) {
    const lo = text.charCodeAt(p - 1);
    const cp = isSurrogateLow(lo) && p >= 2 && isSurrogateHigh(text.charCodeAt(p - 2)) ? (text.codePointAt(p - 2) ?? lo) : lo;
    const width = cp > 0xffff ? 2 : 1;
    // A ZWJ reached here is followed by no emoji, so this pass drops it too.
    if (isEmojiExtender(cp) || cp === ZWJ || (cp <= 0xffff && isDropped(cp))) {
      p -= width;
      continue;
    }
    return isExtendedPictographic(cp);
  }
  return false;
}

/** Repairs and strips `text` in one pass, adding to `counts`. */
export function cleanText(text: string, counts: CleanCounts): string {
  let out = '';
  let runStart = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    let replacement: string;
    let width = 1;
    if (c === 0x0a || c === 0x09) continue;
    if (isSurrogateHigh(c)) {
      if (isSurrogateLow(text.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      replacement = '\uFFFD';
      counts.invalidUtf16++;
    } else if (isSurrogateLow(c)) {
      replacement = '\uFFFD';
      counts.invalidUtf16++;
    } else if (isForeignNewline(c)) {
      replacement = '\n';
      counts.newlines++;
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) width = 2;
    } else if (isStrippedControl(c)) {
      replacement = '';
      counts.controls++;
    } else if (isZeroWidth(c) || (c === ZWJ && !zwjJoinsEmoji(text, i))) {
      replacement = '';
      counts.zeroWidth++;
    } else if (isBidiControl(c)) {
      replacement = '';
      counts.bidi++;
    } else continue;
    out += text.slice(runStart, i) + replacement;
    i += width - 1;
    runStart = i + 1;
  }
  return runStart === 0 ? text : out + text.slice(runStart);
}
