/** Web API failures → SwitchboardErrors the outbound worker acts on (wait, back off, or give up). */
import { describe, expect, it } from 'vitest';
import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { toSendError } from '../../adapters/slack/web-client.ts';

describe('Slack send errors', () => {
  it('turns a 429 into send_rate_limited with Retry-After in milliseconds', () => {
    const error = toSendError(new WebAPIRateLimitedError(7), 'chat.postMessage');
    expect(error.code).toBe('send_rate_limited');
    expect(error.details.retryAfterMs).toBe(7000);
    expect(error.retryable).toBe(true);
  });

  it('gives up on errors another attempt cannot fix and retries the rest', () => {
    const platform = (code: string) => toSendError(new WebAPIPlatformError({ ok: false, error: code }), 'chat.postMessage');
    for (const code of ['invalid_auth', 'token_revoked', 'channel_not_found', 'not_in_channel', 'is_archived', 'msg_too_long']) {
      expect(platform(code)).toMatchObject({ code: 'send_failed', retryable: false });
    }
    expect(platform('internal_error')).toMatchObject({ code: 'send_failed', retryable: true });
    expect(platform('ratelimited')).toMatchObject({ code: 'send_rate_limited', retryable: true });
    expect(toSendError(new WebAPIHTTPError(503, 'Service Unavailable', {}), 'x').retryable).toBe(true);
    expect(toSendError(new WebAPIHTTPError(404, 'Not Found', {}), 'x').retryable).toBe(false);
    expect(toSendError(new WebAPIRequestError(new Error('ECONNREFUSED')), 'x')).toMatchObject({ code: 'send_failed', retryable: true });
  });
});
