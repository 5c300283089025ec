/**
 * The PII scanner: one pass over the string. Each ASCII char code maps to the detectors it can
 * trigger ('@' → email, digits → card/SSN/IPv4/phone/IBAN, ':' → IPv6, '+' '(' → phone); all
 * triggers sit below 'A', so letters, CJK and everything else cost one comparison.
 * Detectors read bounded windows, and those anchored at a word start run only there, so the
 * whole scan is linear in the text length whatever the input.
 */
import { SwitchboardError } from '../../core/errors.ts';
import { isWordChar } from './chars.ts';
import { cardDetector } from './detectors/credit-card.ts';
import { emailDetector } from './detectors/email.ts';
import { ibanDetector } from './detectors/iban.ts';
import { ipv4Detector, ipv6Detector } from './detectors/ip.ts';
import { phoneDetector } from './detectors/phone.ts';
import { ssnDetector } from './detectors/ssn.ts';
import { resolveOverlaps, type Candidate } from './resolve.ts';
import { PII_ENTITY_LEVEL, maxPiiLevel } from './types.ts';
import type { PiiDetector, PiiEntityType, PiiFinding, PiiLevel, PiiScanOptions, PiiScanResult } from './types.ts';

/** Longest text `scanPii` accepts unless told otherwise. */
export const PII_SCAN_DEFAULT_MAX_CHARS = 100_000;

/** Every detector, in the order they run at a shared trigger. */
export const PII_DETECTORS: readonly PiiDetector[] = [
  emailDetector,
  ibanDetector,
  cardDetector,
  ssnDetector,
  ipv4Detector,
  ipv6Detector,
  phoneDetector,
];

interface TriggerTable {
  readonly detectors: readonly PiiDetector[];
  /** Per ASCII code: bit k set when detectors[k] triggers on it. */
  readonly masks: Uint8Array;
  /** The highest trigger code: letters and everything above skip the table with one compare. */
  readonly maxTrigger: number;
}

function buildTable(detectors: readonly PiiDetector[]): TriggerTable {
  if (detectors.length > 8) throw new RangeError('trigger masks hold 8 detectors');
  const masks = new Uint8Array(128);
  let maxTrigger = -1;
  detectors.forEach((d, k) => {
    for (let i = 0; i < d.triggers.length; i++) {
      const code = d.triggers.charCodeAt(i);
      if (code >= 128) throw new RangeError('triggers must be ASCII');
      masks[code] = (masks[code] ?? 0) | (1 << k);
      if (code > maxTrigger) maxTrigger = code;
    }
  });
  return { detectors, masks, maxTrigger };
}

const ALL_TYPES_TABLE = buildTable(PII_DETECTORS);
// Pure memo of immutable tables, bounded by the number of type subsets (at most 64).
const tableCache = new Map<string, TriggerTable>();

function tableFor(types: readonly PiiEntityType[] | undefined): TriggerTable {
  if (types === undefined) return ALL_TYPES_TABLE;
  const key = [...new Set(types)].sort().join(',');
  let table = tableCache.get(key);
  if (table === undefined) {
    table = buildTable(PII_DETECTORS.filter((d) => types.includes(d.type)));
    tableCache.set(key, table);
  }
  return table;
}

/** Finds PII in `text`: sorted, non-overlapping findings with UTF-16 offsets, and the highest level. */
export function scanPii(text: string, options: PiiScanOptions = {}): PiiScanResult {
  const maxChars = options.maxChars ?? PII_SCAN_DEFAULT_MAX_CHARS;
  if (!Number.isSafeInteger(maxChars) || maxChars < 0) {
    throw new SwitchboardError('validation_failed', 'maxChars must be a non-negative integer', {
      context: { maxChars: Number.isFinite(maxChars) ? maxChars : null },
    });
  }
  if (text.length > maxChars) {
    throw new SwitchboardError('message_too_long', 'Text is too long to scan for PII', {
      context: { maxChars, length: text.length },
    });
  }
  const { detectors, masks, maxTrigger } = tableFor(options.types);
  const candidates: Candidate[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > maxTrigger) continue;
    let mask = masks[c] ?? 0;
    if (mask === 0) continue;
    const boundary = !isWordChar(text.charCodeAt(i - 1));
    for (let k = 0; mask !== 0; k++, mask >>= 1) {
      if ((mask & 1) === 0) continue;
      const d = detectors[k];
      if (d === undefined || (d.needsBoundary && !boundary)) continue;
      const span = d.detect(text, i);
      if (span !== null) candidates.push({ type: d.type, start: span.start, end: span.end });
    }
  }
  const findings: PiiFinding[] = [];
  let level: PiiLevel = 'public';
  for (const c of resolveOverlaps(candidates, n)) {
    const findingLevel = PII_ENTITY_LEVEL[c.type];
    findings.push({ type: c.type, start: c.start, end: c.end, level: findingLevel });
    level = maxPiiLevel(level, findingLevel);
  }
  return { findings, level };
}
