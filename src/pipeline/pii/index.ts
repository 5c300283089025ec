/** Public API of the PII scanner: scan, redact, apply a policy, run the JSONL CLI core. */
export { scanPii, PII_SCAN_DEFAULT_MAX_CHARS, PII_DETECTORS } from './scanner.ts';
export { redactPii, piiPlaceholder } from './redact.ts';
export { applyPiiPolicy, PII_POLICY_ACTIONS } from './policy.ts';
export type { PiiPolicyAction, PiiPolicyVerdict } from './policy.ts';
export { runPiiScanJsonl, PII_JSONL_MAX_LINE_BYTES, PII_JSONL_MAX_TEXT_CHARS } from './jsonl.ts';
export { PII_TYPE_PRIORITY } from './resolve.ts';
export { PII_ENTITY_TYPES, PII_LEVELS, PII_ENTITY_LEVEL, maxPiiLevel } from './types.ts';
export type { PiiEntityType, PiiLevel, PiiFinding, PiiScanResult, PiiScanOptions, Span, PiiDetector } from './types.ts';
export { isValidEmail } from './detectors/email.ts';
export { isValidPhone } from './detectors/phone.ts';
export { isValidSsn } from './detectors/ssn.ts';
export { isValidCreditCard, isValidCardDigits } from './detectors/credit-card.ts';
export { isValidIban } from './detectors/iban.ts';
export { isValidIpAddress } from './detectors/ip.ts';
export { luhnValid } from './validators/luhn.ts';
export { ibanChecksumValid } from './validators/mod97.ts';
