/**
 * The Slack Web API client (`@slack/web-api` WebClient) as the adapter uses it: our base URL,
 * deadline and retry count; 429s are never waited out inside the SDK (rejectRateLimitedCalls),
 * method names can never become absolute URLs, and the SDK's logs go to ours without bodies.
 * Also maps the SDK's errors to SwitchboardErrors the outbound worker understands.
 */
import { LogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import type { Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../../src/core/logger.ts';
import { SwitchboardError } from '../../src/core/errors.ts';

/** How every WebClient of the adapter is built. */
export interface SlackApiOptions {
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly log: Logger;
}

/**
 * The SDK's logger interface over ours: only warnings and errors pass, as a short message without
 * arguments (the SDK's debug lines carry request bodies, i.e. message text).
 */
export function slackLogger(log: Logger, name: string): SlackLogger {
  const first = (msg: unknown[]): string => String(msg[0] ?? '').slice(0, 300);
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => log.warn({ sdk: name }, first(msg)),
    error: (...msg: unknown[]) => log.error({ sdk: name }, first(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
}

/** A WebClient with the adapter's options (`token` may be undefined for oauth.v2.access). */
export function createWebClient(token: string | undefined, options: SlackApiOptions): WebClient {
  return new WebClient(token, {
    slackApiUrl: options.apiUrl,
    timeout: options.timeoutMs,
    retryConfig: { retries: options.retries },
    rejectRateLimitedCalls: true,
    allowAbsoluteUrls: false,
    logger: slackLogger(options.log, 'slack-web-api'),
  });
}

// Platform errors that another attempt cannot fix: auth, permissions, the target, the payload.
const PERMANENT: ReadonlySet<string> = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'team_access_not_granted',
  'ekm_access_denied',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'msg_too_long',
  'no_text',
  'invalid_arguments',
  'invalid_blocks',
  'cannot_reply_to_message',
  'invalid_auth_for_team',
]);

/** The Slack error code of a platform error (`invalid_auth`, `ratelimited`, …), if it is one. */
export function slackPlatformError(err: unknown): string | undefined {
  return err instanceof WebAPIPlatformError ? err.data.error.slice(0, 100) : undefined;
}

/** Maps anything a Web API call threw to a SwitchboardError with retry semantics. */
export function toSendError(err: unknown, method: string): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  if (err instanceof WebAPIRateLimitedError) {
    return new SwitchboardError('send_rate_limited', 'Slack answered 429', { retryAfterMs: Math.max(0, err.retryAfter) * 1000, context: { method } }, { cause: err });
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error.slice(0, 100);
    if (code === 'ratelimited' || code === 'rate_limited') {
      const retryAfter = Number(err.data.response_metadata?.retryAfter ?? 1);
      return new SwitchboardError('send_rate_limited', 'Slack says rate limited', { retryAfterMs: retryAfter * 1000, context: { method, slack: code } });
    }
    return new SwitchboardError('send_failed', `Slack refused ${method}`, { retryable: !PERMANENT.has(code), context: { method, slack: code } });
  }
  if (err instanceof WebAPIHTTPError) {
    const retryable = err.statusCode >= 500 || err.statusCode === 408;
    return new SwitchboardError('send_failed', `Slack answered HTTP ${err.statusCode}`, { retryable, context: { method, status: err.statusCode } });
  }
  if (err instanceof WebAPIRequestError) {
    return new SwitchboardError('send_failed', 'Slack could not be reached', { retryable: true, context: { method } }, { cause: err.original });
  }
  return new SwitchboardError('send_failed', `Slack call failed: ${method}`, { retryable: true, context: { method } }, { cause: err });
}
