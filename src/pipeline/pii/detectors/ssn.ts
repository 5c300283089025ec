/**
 * US_SSN: `ddd-dd-dddd` or `ddd dd dddd` with one delimiter kind, not glued to other digits,
 * and passing the issuance rules in validators/ssn.ts. Bare nine-digit runs are not reported:
 * without context they are indistinguishable from ids.
 */
import { digitsAt, joinedAfter, joinedBefore, spacedAfterDigit, spacedBeforeDigit } from '../chars.ts';
import { isValidSsn } from '../validators/ssn.ts';
import type { PiiDetector, Span } from '../types.ts';

export { isValidSsn };

/** The SSN starting at `i`, or null. Looks at 11 chars plus two on each side. */
export function ssnSpanAt(text: string, i: number): Span | null {
  const sep = text.charCodeAt(i + 3);
  if (sep !== 45 && sep !== 32) return null;
  if (!digitsAt(text, i, 3) || !digitsAt(text, i + 4, 2) || text.charCodeAt(i + 6) !== sep || !digitsAt(text, i + 7, 4)) {
    return null;
  }
  const end = i + 11;
  if (joinedBefore(text, i) || text.charCodeAt(i - 1) === 43 || joinedAfter(text, end)) return null;
  if (sep === 32 && (spacedAfterDigit(text, i) || spacedBeforeDigit(text, end))) return null;
  return isValidSsn(text.slice(i, end)) ? { start: i, end } : null;
}

/** US_SSN detector, triggered by a digit at a word boundary. */
export const ssnDetector: PiiDetector = {
  type: 'US_SSN',
  triggers: '0123456789',
  needsBoundary: true,
  detect: ssnSpanAt,
};
