/** UTF-8 bytes → string, replacing invalid sequences with U+FFFD and counting them. */
import { TextDecoder } from 'node:util';

/** Decodes `bytes` (WHATWG replacement semantics) and counts the invalid sequences replaced. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), invalid: 0 };
  } catch {
    // Fall through: decode leniently and tell replaced sequences from genuine U+FFFD below.
  }
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
  let replacements = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) replacements++;
  // A genuine U+FFFD is the bytes EF BF BD, which the decoder always reads as one unit (EF can
  // never be a continuation byte), so the rest of the U+FFFDs are replaced sequences.
  let genuine = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) {
      genuine++;
      i += 2;
    }
  }
  return { text, invalid: Math.max(1, replacements - genuine) };
}
