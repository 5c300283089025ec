/**
 * Splits a long reply into parts no longer than a platform's limit, on the most natural boundary
 * available (paragraph, line, sentence, word), never inside a surrogate pair.
 */

/** Boundaries tried in order; each regex finds a break position after its match. */
const BOUNDARIES: readonly RegExp[] = [/\n\s*\n/g, /\n/g, /[.!?。！？](?=\s)/g, /\s/g];

function lastBoundary(window: string, pattern: RegExp, minimum: number): number {
  let best = -1;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(window); match !== null; match = pattern.exec(window)) {
    const end = match.index + match[0].length;
    if (end >= minimum && end <= window.length) best = end;
    if (match[0].length === 0) pattern.lastIndex += 1;
  }
  return best;
}

function safeCut(text: string, position: number): number {
  // Never leave a high surrogate at the end of a part.
  const code = text.charCodeAt(position - 1);
  return code >= 0xd800 && code <= 0xdbff ? position - 1 : position;
}

/**
 * Splits `text` into parts of at most `limit` UTF-16 units. Boundaries closer than half the
 * limit to the start are ignored so parts stay reasonably full. Whitespace at part edges is trimmed.
 */
export function splitText(text: string, limit: number): string[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError('limit must be an integer ≥ 2');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = -1;
    for (const pattern of BOUNDARIES) {
      cut = lastBoundary(window, pattern, Math.floor(limit / 2));
      if (cut > 0) break;
    }
    cut = safeCut(rest, cut > 0 ? cut : limit);
    const part = rest.slice(0, cut).trimEnd();
    if (part.length > 0) parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}
