/**
 * Overlap resolution: candidates are ranked by a fixed type priority, then by length (longer
 * first), then by position, and accepted greedily when they overlap nothing accepted so far.
 *
 * IBAN ranks above CREDIT_CARD (unlike the usual "card first"): an IBAN's BBAN can contain a
 * Luhn-valid digit run, while a card (digits only) can never contain an IBAN (which starts with
 * letters), so preferring the IBAN never loses a real card.
 */
import type { PiiEntityType, Span } from './types.ts';

/** Type priority for overlaps, highest first. */
export const PII_TYPE_PRIORITY: readonly PiiEntityType[] = [
  'EMAIL_ADDRESS',
  'IBAN_CODE',
  'CREDIT_CARD',
  'US_SSN',
  'IP_ADDRESS',
  'PHONE_NUMBER',
];

/** A detector hit before overlap resolution. */
export interface Candidate extends Span {
  readonly type: PiiEntityType;
}

const RANK: Readonly<Record<PiiEntityType, number>> = Object.fromEntries(
  PII_TYPE_PRIORITY.map((t, i) => [t, i]),
) as Record<PiiEntityType, number>;

const PAIRWISE_LIMIT = 16;

/** The common case: detectors emitted disjoint spans in text order, so nothing to resolve. */
function alreadyDisjoint(candidates: readonly Candidate[]): boolean {
  for (let k = 1; k < candidates.length; k++) {
    const prev = candidates[k - 1];
    const cur = candidates[k];
    if (prev === undefined || cur === undefined || cur.start < prev.end) return false;
  }
  return true;
}

/** Non-overlapping candidates, sorted by start. `textLength` bounds the occupancy map. */
export function resolveOverlaps(candidates: readonly Candidate[], textLength: number): Candidate[] {
  if (candidates.length <= 1) return [...candidates];
  if (alreadyDisjoint(candidates)) return [...candidates];
  const ranked = [...candidates].sort(
    (a, b) => RANK[a.type] - RANK[b.type] || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const accepted: Candidate[] = [];
  if (ranked.length <= PAIRWISE_LIMIT) {
    for (const c of ranked) if (accepted.every((a) => c.end <= a.start || a.end <= c.start)) accepted.push(c);
  } else {
    // Each position is covered by a bounded number of candidates (windows are bounded), so
    // marking positions keeps resolution linear in the text length.
    const taken = new Uint8Array(textLength);
    for (const c of ranked) {
      let free = true;
      for (let k = c.start; k < c.end; k++) {
        if (taken[k] === 1) {
          free = false;
          break;
        }
      }
      if (!free) continue;
      taken.fill(1, c.start, c.end);
      accepted.push(c);
    }
  }
  return accepted.sort((a, b) => a.start - b.start);
}
