/**
 * A decorator that remembers what a provider was asked and what it answered, so the demo can print
 * exactly what the LLM saw (redacted text included). Bounded: only the last RECORDING_LIMIT calls.
 */
import { isSwitchboardError } from '../core/errors.ts';
import type { LlmProvider, LlmRequest, LlmResponse } from '../core/ports.ts';

/** How many calls a recording provider keeps. */
export const RECORDING_LIMIT = 100;

/** One recorded call: the request, then either the response or the error code once it settles. */
export interface RecordedLlmCall {
  request: LlmRequest;
  response?: LlmResponse;
  errorCode?: string;
}

/** A provider that also exposes its recent calls, oldest first. */
export type RecordingProvider = LlmProvider & { readonly calls: ReadonlyArray<RecordedLlmCall> };

/** Wraps `inner`; a call is recorded when it starts and completed when it settles. */
export function createRecordingProvider(inner: LlmProvider): RecordingProvider {
  const calls: RecordedLlmCall[] = [];
  return {
    name: inner.name,
    model: inner.model,
    get calls(): ReadonlyArray<RecordedLlmCall> {
      return calls;
    },
    async complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse> {
      // A copy, so a caller reusing its message array cannot rewrite history.
      const entry: RecordedLlmCall = { request: structuredClone(request) };
      calls.push(entry);
      if (calls.length > RECORDING_LIMIT) calls.splice(0, calls.length - RECORDING_LIMIT);
      try {
        const response = await inner.complete(request, signal);
        entry.response = structuredClone(response);
        return response;
      } catch (error) {
        entry.errorCode = isSwitchboardError(error) ? error.code : 'internal';
        throw error;
      }
    },
  };
}
