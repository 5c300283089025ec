/**
 * Turns sanitized text into what is stored: the redacted text for every reader, and — only when
 * it held PII — the original sealed by the vault, bound to its message row.
 */
import type { PiiScanResult } from './pii/index.ts';
import { applyPiiPolicy } from './pii/index.ts';
import type { PiiAction } from '../store/tenants.ts';

/** The vault operations this module needs. */
export interface TextSealer {
  seal(plaintext: string, aad: { table: string; column: string; rowId: string }): Buffer;
  openText(sealed: Uint8Array, aad: { table: string; column: string; rowId: string }): string;
}

/** The AAD that binds a message's sealed original to its row. */
export function originalTextAad(messageId: string): { table: string; column: string; rowId: string } {
  return { table: 'messages', column: 'original_sealed', rowId: messageId };
}

/** What is stored for a message's text. */
export interface ProtectedText {
  readonly textRedacted: string;
  readonly originalSealed?: Buffer;
  readonly blocked: boolean;
}

/** Applies the tenant's PII action and seals the original when it held PII. */
export function protectText(
  sealer: TextSealer,
  messageId: string,
  text: string,
  scan: PiiScanResult,
  action: PiiAction,
): ProtectedText {
  const verdict = applyPiiPolicy(text, scan, action);
  if (scan.findings.length === 0) return { textRedacted: text, blocked: false };
  return {
    textRedacted: verdict.redactedText,
    originalSealed: sealer.seal(text, originalTextAad(messageId)),
    blocked: verdict.blocked,
  };
}

/** The text a reader may see: the original under 'log' (or when `original` is asked for), else redacted. */
export function readableText(
  sealer: TextSealer,
  message: { id: string; textRedacted: string; originalSealed: Buffer | null },
  want: 'original' | 'redacted',
): string {
  if (want === 'redacted' || message.originalSealed === null) return message.textRedacted;
  return sealer.openText(message.originalSealed, originalTextAad(message.id));
}
