/**
 * One error type for the whole product. Every failure carries a stable `code` that callers
 * branch on, an HTTP status derived in one place, and a `cause`; never a payload or PII.
 */

/** Every error code Switchboard raises, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  config_invalid: 500,
  validation_failed: 400,
  payload_too_large: 413,
  json_too_deep: 400,
  message_too_long: 413,
  invalid_encoding: 400,
  pii_blocked: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  /** The rate-limit store (Redis) cannot be reached and the limit fails closed (sign-in). */
  limiter_unavailable: 503,
  llm_rate_limited: 503,
  llm_timeout: 504,
  llm_bad_request: 502,
  llm_auth_failed: 502,
  llm_unavailable: 503,
  agent_step_limit: 500,
  tool_failed: 500,
  adapter_unavailable: 503,
  send_failed: 502,
  send_rate_limited: 503,
  queue_unavailable: 503,
  db_unavailable: 503,
  vault_key_missing: 500,
  vault_decrypt_failed: 500,
  shutting_down: 503,
  internal: 500,
} as const satisfies Record<string, number>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Extra, payload-free facts about an error: ids, limits, retry hints. */
export interface ErrorDetails {
  /** Whether doing the same thing again later may succeed. */
  readonly retryable?: boolean;
  /** How long to wait before retrying, when the other side said so. */
  readonly retryAfterMs?: number;
  /** Ids, counts and limits that help an operator; never message text or secrets. */
  readonly context?: Readonly<Record<string, string | number | boolean | null>>;
  /** zod-style issues for validation errors: paths and messages only. */
  readonly issues?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'limiter_unavailable',
  'llm_rate_limited',
  'llm_timeout',
  'llm_unavailable',
  'adapter_unavailable',
  'send_failed',
  'send_rate_limited',
  'queue_unavailable',
  'db_unavailable',
  'shutting_down',
]);

/** The only error class Switchboard throws on purpose. */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** Whether a retry may succeed: explicit detail first, then the code's default. */
  get retryable(): boolean {
    return this.details.retryable ?? RETRYABLE_BY_DEFAULT.has(this.code);
  }

  /** A body safe to send to a client: code, message, and issues; no stack, no cause. */
  toJSON(): { error: { code: ErrorCode; message: string; issues?: ErrorDetails['issues'] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.issues ? { issues: this.details.issues } : {}),
      },
    };
  }
}

/** True when `value` is a SwitchboardError, optionally with the given code. */
export function isSwitchboardError(value: unknown, code?: ErrorCode): value is SwitchboardError {
  return value instanceof SwitchboardError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into a SwitchboardError, keeping the original as `cause`. */
export function toSwitchboardError(value: unknown, fallback: ErrorCode = 'internal'): SwitchboardError {
  if (value instanceof SwitchboardError) return value;
  return new SwitchboardError(fallback, 'Unexpected error', {}, { cause: value });
}
