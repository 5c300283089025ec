/** Which invisible or control characters the sanitizer removes, as char-code predicates. */

/** Zero-width and invisible formatting chars (ZWJ is handled separately: it may join emoji). */
export function isZeroWidth(c: number): boolean {
  return (
    c === 0x200b || // zero width space
    c === 0x200c || // zero width non-joiner
    c === 0x2060 || // word joiner
    c === 0xfeff || // zero width no-break space / BOM
    c === 0x180e || // Mongolian vowel separator
    c === 0x00ad || // soft hyphen
    (c >= 0x2061 && c <= 0x2064) // invisible math operators, same trick as U+2060
  );
}

/** Bidirectional formatting controls (Trojan Source, CVE-2021-42574). */
export function isBidiControl(c: number): boolean {
  return c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0x061c;
}

/** C0 controls other than \t, \n, \r (handled as newlines), DEL, and C1 controls other than NEL. */
export function isStrippedControl(c: number): boolean {
  if (c < 0x20) return c !== 0x09 && c !== 0x0a && c !== 0x0d;
  return c === 0x7f || (c >= 0x80 && c <= 0x9f && c !== 0x85);
}

/** Line breaks other than \n that become \n: CR (alone or in CRLF), NEL, LINE and PARAGRAPH SEPARATOR. */
export function isForeignNewline(c: number): boolean {
  return c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;
}

const EXT_PICT = /^\p{Extended_Pictographic}$/u;

/** Whether a code point is Extended_Pictographic (emoji and pictographs). */
export function isExtendedPictographic(cp: number): boolean {
  return cp >= 0xa9 && EXT_PICT.test(String.fromCodePoint(cp));
}

/** Emoji extenders that may sit between an emoji and a ZWJ: variation selectors, skin tones, tags, keycap. */
export function isEmojiExtender(cp: number): boolean {
  return cp === 0xfe0e || cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0xe0020 && cp <= 0xe007f) || cp === 0x20e3;
}
