/**
 * Bot API failures → SwitchboardErrors with retry semantics. A 429 carries Telegram's
 * `parameters.retry_after` (seconds) as `retryAfterMs`, which the outbound worker waits out
 * exactly; 5xx, timeouts and network errors are retryable; 400/401/403/404 are permanent (a bad
 * request, a revoked token, a user who blocked the bot or a chat that is gone will not improve).
 */
import { TelegramError } from 'telegraf';
import { SwitchboardError } from '../../src/core/errors.ts';

/** The `parameters` of a Telegram error, when it has them. */
export interface TelegramErrorParameters {
  readonly retryAfterSeconds: number | undefined;
  readonly migrateToChatId: number | undefined;
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The error code, description and parameters of a TelegramError (undefined for anything else). */
export function telegramFailure(err: unknown): { code: number; description: string; parameters: TelegramErrorParameters } | undefined {
  if (!(err instanceof TelegramError)) return undefined;
  const parameters: unknown = err.parameters;
  const record = parameters !== null && typeof parameters === 'object' ? (parameters as Record<string, unknown>) : {};
  return {
    code: typeof err.code === 'number' ? err.code : 0,
    description: String(err.description ?? '').slice(0, 200),
    parameters: { retryAfterSeconds: finite(record['retry_after']), migrateToChatId: finite(record['migrate_to_chat_id']) },
  };
}

/** True for "can't parse entities": our HTML was refused (the part is then sent as plain text). */
export function isEntityParseError(err: unknown): boolean {
  const failure = err instanceof SwitchboardError ? telegramFailure(err.cause) : telegramFailure(err);
  return failure?.code === 400 && /can't parse entities|unsupported start tag|can't find end tag/i.test(failure.description);
}

/** Maps anything a Bot API call threw. `cancelled`: our signal aborted; `timedOut`: the deadline passed. */
export function toTelegramError(err: unknown, method: string, how: { cancelled: boolean; timedOut: boolean } = { cancelled: false, timedOut: false }): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const failure = telegramFailure(err);
  if (failure) {
    const context = { method, status: failure.code, telegram: failure.description };
    if (failure.code === 429) {
      const seconds = Math.min(Math.max(failure.parameters.retryAfterSeconds ?? 1, 0), 3600);
      return new SwitchboardError('send_rate_limited', 'Telegram answered 429', { retryAfterMs: seconds * 1000, context }, { cause: err });
    }
    const retryable = failure.code >= 500 || failure.code === 409 || failure.code === 0;
    return new SwitchboardError('send_failed', `Telegram refused ${method}`, { retryable, context }, { cause: err });
  }
  if (how.cancelled) return new SwitchboardError('shutting_down', `Telegram ${method} cancelled`, { context: { method } });
  if (how.timedOut) return new SwitchboardError('send_failed', `Telegram ${method} timed out`, { retryable: true, context: { method, timeout: true } });
  return new SwitchboardError('send_failed', `Telegram ${method} failed`, { retryable: true, context: { method } }, { cause: err });
}
