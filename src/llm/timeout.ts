/**
 * Runs one vendor call under the caller's AbortSignal AND the configured LLM_TIMEOUT_MS, so a
 * hung server is reported as llm_timeout and a shutdown stops the call at once, whatever the SDK
 * does with the signal internally.
 *
 * Abort semantics (documented contract of every provider here):
 * - our deadline fired first        → `llm_timeout` (retryable);
 * - the caller's signal fired first → its `reason` when that is a SwitchboardError (the caller
 *   picks the code), `llm_timeout` when the reason is a DOMException "TimeoutError" (as from
 *   AbortSignal.timeout), otherwise `shutting_down` (retryable: the job runs again elsewhere).
 */
import { SwitchboardError } from '../core/errors.ts';
import { llmTimeoutError, toLlmError, type LlmVendor } from './errors.ts';

/** What a deadline needs to know: vendor label for messages, timeout, and the time source. */
export interface DeadlineOptions {
  readonly vendor: LlmVendor;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** The error reported when the caller's signal stopped a call (see the file comment). */
export function callerAbortError(signal: AbortSignal, vendor: LlmVendor): SwitchboardError {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchboardError) return reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new SwitchboardError('llm_timeout', `${vendor} call timed out (caller deadline)`, {
      retryable: true,
      context: { vendor },
    });
  }
  return new SwitchboardError('shutting_down', `${vendor} call was cancelled by the caller`, {
    retryable: true,
    context: { vendor },
  });
}

/** Rejects once `signal` aborts; never resolves. The listener is removed by `cleanup`. */
function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; cleanup: () => void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The race below may settle through `run` first; keep the loser from becoming unhandled.
  promise.catch(() => {});
  return { promise, cleanup: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * Calls `run` with a signal that aborts on the caller's signal or after `timeoutMs`, and turns
 * every failure into a SwitchboardError. Also races the abort itself, so an SDK that ignored the
 * signal somewhere still cannot make the caller wait.
 */
export async function withLlmDeadline<T>(
  callerSignal: AbortSignal,
  options: DeadlineOptions,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { vendor, timeoutMs, now } = options;
  if (callerSignal.aborted) throw callerAbortError(callerSignal, vendor);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(llmTimeoutError(vendor, timeoutMs)), timeoutMs);
  const signal = AbortSignal.any([callerSignal, deadline.signal]);
  const aborted = rejectOnAbort(signal);
  try {
    return await Promise.race([run(signal), aborted.promise]);
  } catch (error) {
    // Whichever signal fired first decides; the SDK's own error is secondary to that.
    if (callerSignal.aborted) throw callerAbortError(callerSignal, vendor);
    if (deadline.signal.aborted) throw llmTimeoutError(vendor, timeoutMs, error);
    throw toLlmError(error, vendor, timeoutMs, now());
  } finally {
    clearTimeout(timer);
    aborted.cleanup();
  }
}
