/**
 * PII scanner vocabulary. Entity and level names come from the envelope contract so the
 * scanner and the stored envelope can never disagree.
 */
import { PII_ENTITY_TYPES, PII_LEVELS } from '../../core/envelope.ts';

export { PII_ENTITY_TYPES, PII_LEVELS };

/** A PII entity type, named as in Microsoft Presidio. */
export type PiiEntityType = (typeof PII_ENTITY_TYPES)[number];

/** A data classification level, lowest first: public < internal < sensitive < restricted. */
export type PiiLevel = (typeof PII_LEVELS)[number];

/** One detected value: `text.slice(start, end)` is exactly the matched value (UTF-16 offsets). */
export interface PiiFinding {
  readonly type: PiiEntityType;
  readonly start: number;
  readonly end: number;
  readonly level: PiiLevel;
}

/** Findings sorted by start and non-overlapping, and the highest level among them. */
export interface PiiScanResult {
  readonly findings: PiiFinding[];
  readonly level: PiiLevel;
}

/** Options for `scanPii`. */
export interface PiiScanOptions {
  /** Only look for these types (default: all). */
  readonly types?: readonly PiiEntityType[];
  /** Reject longer input with `message_too_long` (default `PII_SCAN_DEFAULT_MAX_CHARS`). */
  readonly maxChars?: number;
}

/** A half-open UTF-16 range `[start, end)`. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * One entity detector. The scanner calls `detect` only at indexes holding one of `triggers`
 * and, when `needsBoundary` is set, only where the previous char is not an ASCII word char;
 * `detect` must look at a bounded window around `i` so the whole scan stays linear.
 */
export interface PiiDetector {
  readonly type: PiiEntityType;
  readonly triggers: string;
  readonly needsBoundary: boolean;
  detect(text: string, i: number): Span | null;
}

/** The level each entity type carries. */
export const PII_ENTITY_LEVEL: Readonly<Record<PiiEntityType, PiiLevel>> = {
  EMAIL_ADDRESS: 'sensitive',
  PHONE_NUMBER: 'sensitive',
  IP_ADDRESS: 'sensitive',
  US_SSN: 'restricted',
  CREDIT_CARD: 'restricted',
  IBAN_CODE: 'restricted',
};

/** The higher of two levels. */
export function maxPiiLevel(a: PiiLevel, b: PiiLevel): PiiLevel {
  return PII_LEVELS.indexOf(a) >= PII_LEVELS.indexOf(b) ? a : b;
}
