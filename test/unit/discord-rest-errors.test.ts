/** REST failures → SwitchboardErrors: 429 carries the wait, 5xx/network retry, other 4xx are permanent; no request body leaks. */
import { describe, expect, it } from 'vitest';
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { toSendError } from '../../adapters/discord/rest.ts';

const rateLimit = (retryAfter: number, timeToReset: number) =>
  new RateLimitError({
    timeToReset,
    limit: 5,
    method: 'POST',
    hash: 'h',
    url: 'http://x/api/v10/channels/1/messages',
    route: '/channels/:id/messages',
    majorParameter: '1',
    global: false,
    retryAfter,
    sublimitTimeout: 0,
    scope: 'user',
  });

describe('toSendError', () => {
  it('maps a 429 to send_rate_limited with retry_after (or the bucket reset when Discord gave none)', () => {
    expect(toSendError(rateLimit(1050, 900))).toMatchObject({ code: 'send_rate_limited', details: { retryAfterMs: 1050 } });
    expect(toSendError(rateLimit(0, 420.2))).toMatchObject({ code: 'send_rate_limited', details: { retryAfterMs: 421 } });
    expect(toSendError(rateLimit(1050, 900)).retryable).toBe(true);
  });

  it('makes 4xx permanent and 5xx retryable, keeping only status and Discord code', () => {
    const body = { body: { content: 'secret reply text' }, files: undefined };
    const forbidden = toSendError(new DiscordAPIError({ code: 50013, message: 'Missing Permissions' }, 50013, 403, 'POST', 'http://x', body));
    expect(forbidden).toMatchObject({ code: 'send_failed', details: { context: { status: 403, discordCode: '50013' } } });
    expect(forbidden.retryable).toBe(false);
    const unavailable = toSendError(new HTTPError(502, 'Bad Gateway', 'POST', 'http://x', body));
    expect(unavailable.retryable).toBe(true);
    for (const error of [forbidden, unavailable]) {
      expect(JSON.stringify(error.details)).not.toContain('secret');
      expect(error.cause).toBeUndefined();
    }
  });

  it('treats timeouts and network errors as retryable', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toSendError(abort)).toMatchObject({ code: 'send_failed', details: { retryable: true, context: { error: 'AbortError' } } });
    expect(toSendError('weird').retryable).toBe(true);
  });
});
