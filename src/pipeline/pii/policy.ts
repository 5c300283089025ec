/** What a tenant's PII action means for one message. */
import { PII_ACTIONS } from '../../core/envelope.ts';
import { redactPii } from './redact.ts';
import type { PiiScanResult } from './types.ts';

/** The PII actions a tenant can choose: keep and log, redact, or refuse the message. */
export const PII_POLICY_ACTIONS = PII_ACTIONS;

/** One of `PII_POLICY_ACTIONS`. */
export type PiiPolicyAction = (typeof PII_POLICY_ACTIONS)[number];

/** The outcome of applying a policy: the redacted form is always computed, for logs and audits. */
export interface PiiPolicyVerdict {
  readonly action: PiiPolicyAction;
  readonly blocked: boolean;
  readonly redactedText: string;
}

/** Applies `action` to `text` given its scan; `blocked` only for 'block' with findings. */
export function applyPiiPolicy(text: string, scan: PiiScanResult, action: PiiPolicyAction): PiiPolicyVerdict {
  return {
    action,
    blocked: action === 'block' && scan.findings.length > 0,
    redactedText: redactPii(text, scan.findings),
  };
}
