/**
 * Maps what the vendor SDKs throw onto SwitchboardError codes, so the agent worker branches on
 * one vocabulary whatever the vendor. Messages carry the vendor, status and ids, never bodies.
 */
import * as AnthropicSdk from '@anthropic-ai/sdk';
import * as OpenAiSdk from 'openai';
import { SwitchboardError, type ErrorCode } from '../core/errors.ts';

/** A vendor label used in error messages and context: openai, anthropic, openai-compatible. */
export type LlmVendor = string;

/** Longest wait a vendor's retry hint may ask for; beyond it the hint is surely bogus. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Reads `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) into a
 * non-negative delay; undefined when neither header says anything usable.
 */
export function parseRetryAfterMs(headers: Headers | undefined, nowMs: number): number | undefined {
  if (headers === undefined) return undefined;
  const clamp = (ms: number): number | undefined =>
    Number.isFinite(ms) ? Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS) : undefined;
  const msHeader = headers.get('retry-after-ms')?.trim();
  if (msHeader !== undefined && msHeader !== '' && /^\d+(\.\d+)?$/.test(msHeader)) return clamp(Number(msHeader));
  const header = headers.get('retry-after')?.trim();
  if (header === undefined || header === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(header)) return clamp(Number(header) * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : clamp(date - nowMs);
}

/** The code, and whether to retry, for an HTTP status a vendor answered with. */
export function codeForStatus(status: number): { code: ErrorCode; retryable: boolean } {
  if (status === 429) return { code: 'llm_rate_limited', retryable: true };
  // 402 is a billing problem (Anthropic): like a bad key, only an operator can fix it.
  if (status === 401 || status === 402 || status === 403) return { code: 'llm_auth_failed', retryable: false };
  if (status === 408) return { code: 'llm_timeout', retryable: true };
  // 409 is a transient lock conflict on OpenAI's side; the SDKs themselves treat it as retryable.
  if (status === 409) return { code: 'llm_unavailable', retryable: true };
  if (status >= 400 && status < 500) return { code: 'llm_bad_request', retryable: false };
  // 5xx, and Anthropic's 529 "overloaded".
  return { code: 'llm_unavailable', retryable: true };
}

interface VendorApiError {
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  readonly requestID: string | null | undefined;
  readonly type: string | null | undefined;
}

function isApiError(error: unknown): error is VendorApiError & Error {
  return error instanceof OpenAiSdk.APIError || error instanceof AnthropicSdk.APIError;
}

function isConnectionTimeout(error: unknown): boolean {
  return error instanceof OpenAiSdk.APIConnectionTimeoutError || error instanceof AnthropicSdk.APIConnectionTimeoutError;
}

function isConnectionError(error: unknown): boolean {
  return error instanceof OpenAiSdk.APIConnectionError || error instanceof AnthropicSdk.APIConnectionError;
}

function isUserAbort(error: unknown): boolean {
  return error instanceof OpenAiSdk.APIUserAbortError || error instanceof AnthropicSdk.APIUserAbortError;
}

/** The error for a request that did not finish within the configured time. */
export function llmTimeoutError(vendor: LlmVendor, timeoutMs: number, cause?: unknown): SwitchboardError {
  return new SwitchboardError(
    'llm_timeout',
    `${vendor} did not answer within ${timeoutMs} ms`,
    { retryable: true, context: { vendor, timeoutMs } },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Converts anything an SDK call threw into a SwitchboardError. Aborts are decided by the caller
 * (see timeout.ts), because only it knows which signal fired; here an SDK abort is a fallback.
 */
export function toLlmError(error: unknown, vendor: LlmVendor, timeoutMs: number, nowMs: number): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  // Order matters: the timeout and abort classes extend APIConnectionError, which extends APIError.
  if (isConnectionTimeout(error)) return llmTimeoutError(vendor, timeoutMs, error);
  if (isUserAbort(error)) {
    return new SwitchboardError('shutting_down', `${vendor} request was aborted`, { context: { vendor } }, { cause: error });
  }
  if (isConnectionError(error)) {
    return new SwitchboardError(
      'llm_unavailable',
      `${vendor} could not be reached`,
      { retryable: true, context: { vendor } },
      { cause: error },
    );
  }
  if (isApiError(error) && error.status !== undefined) {
    const { code, retryable } = codeForStatus(error.status);
    const retryAfterMs = code === 'llm_rate_limited' ? parseRetryAfterMs(error.headers, nowMs) : undefined;
    return new SwitchboardError(
      code,
      `${vendor} answered HTTP ${error.status}`,
      {
        retryable,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        context: {
          vendor,
          status: error.status,
          requestId: error.requestID ?? null,
          vendorErrorType: typeof error.type === 'string' ? error.type : null,
        },
      },
      { cause: error },
    );
  }
  // A stream error event, a body cut off mid-read ("terminated"), malformed JSON: the vendor's
  // side failed in a way a later attempt may not repeat.
  return new SwitchboardError(
    'llm_unavailable',
    `${vendor} call failed`,
    { retryable: true, context: { vendor } },
    { cause: error },
  );
}
