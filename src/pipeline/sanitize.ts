/**
 * The sanitizer every inbound text passes before PII scanning and storage: valid Unicode only,
 * NFKC by default (so full-width digits "４１１１" and other look-alikes cannot slip past the PII
 * scanner), no control, zero-width or bidi characters, \n newlines, and a hard size limit that
 * throws instead of truncating. The output is NOT HTML-escaped: escaping belongs to rendering,
 * per target.
 */
import { SwitchboardError } from '../core/errors.ts';
import { cleanText, emptyCleanCounts, type CleanCounts } from './sanitize/clean.ts';
import { decodeUtf8 } from './sanitize/decode.ts';

/** The limit callers use unless configured otherwise (UTF-16 code units). */
export const SANITIZER_DEFAULT_MAX_CHARS = 10_000;

/** Input longer than `maxChars` times this is rejected before any work. */
export const SANITIZER_PRE_LIMIT_FACTOR = 8;

/** The kinds of change the sanitizer records. */
export const SANITIZER_CHANGE_KINDS = [
  'invalid_utf8',
  'newlines_normalized',
  'control_stripped',
  'zero_width_stripped',
  'bidi_stripped',
  'normalized',
] as const;

/** One kind of change and how many times it happened. */
export interface SanitizerChange {
  kind: (typeof SANITIZER_CHANGE_KINDS)[number];
  count: number;
}

/** Sanitized text and what was changed to get it. */
export interface SanitizeResult {
  text: string;
  changes: SanitizerChange[];
}

/** Options for `sanitizeText`. */
export interface SanitizeOptions {
  /** Longest accepted result in UTF-16 code units; longer throws `message_too_long`. */
  maxChars: number;
  /** Unicode normalization form, NFKC unless told otherwise. */
  normalization?: 'NFC' | 'NFKC';
}

// Stripping can leave a string that is no longer normalized (a stripped char sat between a
// base and a combining mark) and normalizing can move a ZWJ off an emoji (™ → TM), so the two
// alternate until stable; in practice that is one round.
const MAX_ROUNDS = 4;

function tooLong(maxChars: number, length: number, message: string): SwitchboardError {
  return new SwitchboardError('message_too_long', message, { context: { maxChars, length } });
}

/** Sanitizes a message text given as a string or as UTF-8 bytes. */
export function sanitizeText(input: string | Uint8Array, options: SanitizeOptions): SanitizeResult {
  const { maxChars } = options;
  if (!Number.isSafeInteger(maxChars) || maxChars <= 0) {
    throw new SwitchboardError('validation_failed', 'maxChars must be a positive integer', {
      context: { maxChars: Number.isFinite(maxChars) ? maxChars : null },
    });
  }
  const form = options.normalization ?? 'NFKC';
  const inputLength = typeof input === 'string' ? input.length : input.byteLength;
  if (inputLength > maxChars * SANITIZER_PRE_LIMIT_FACTOR) {
    throw tooLong(maxChars, inputLength, 'Message is far too long');
  }

  let invalidUtf8 = 0;
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const decoded = decodeUtf8(input);
    text = decoded.text;
    invalidUtf8 = decoded.invalid;
  }

  const counts: CleanCounts = emptyCleanCounts();
  text = cleanText(text, counts);
  let normalized = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = text.normalize(form);
    if (next === text) break;
    normalized = true;
    text = cleanText(next, counts);
  }

  if (text.length > maxChars) throw tooLong(maxChars, text.length, 'Message is too long');

  const tally: Record<SanitizerChange['kind'], number> = {
    invalid_utf8: invalidUtf8 + counts.invalidUtf16,
    newlines_normalized: counts.newlines,
    control_stripped: counts.controls,
    zero_width_stripped: counts.zeroWidth,
    bidi_stripped: counts.bidi,
    // Normalization is all-or-nothing per text, so it counts once when it changed anything.
    normalized: normalized ? 1 : 0,
  };
  const changes: SanitizerChange[] = [];
  for (const kind of SANITIZER_CHANGE_KINDS) if (tally[kind] > 0) changes.push({ kind, count: tally[kind] });
  return { text, changes };
}
