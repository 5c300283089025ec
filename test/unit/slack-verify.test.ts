/** Slack request signatures: the documented vector, the 300 s window both ways, malformed headers. */
import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackRequest } from '../../adapters/slack/verify.ts';

// Slack's documented example (platform-security-facts §5.2).
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TS = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const verifyAt = (nowSeconds: number, headers: { timestamp?: string; signature?: string }, body = DOC_BODY) =>
  verifySlackRequest({ signingSecret: DOC_SECRET, headers: { timestamp: headers.timestamp, signature: headers.signature }, rawBody: Buffer.from(body), nowMs: nowSeconds * 1000 });

describe('Slack signature verification', () => {
  it('computes the documented signature and accepts the documented request', () => {
    expect(slackSignature(DOC_SECRET, DOC_TS, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(verifyAt(Number(DOC_TS) + 60, { timestamp: DOC_TS, signature: DOC_SIGNATURE })).toEqual({ ok: true });
  });

  it('accepts 300 s and refuses 301 s, in the past and in the future', () => {
    const ts = Number(DOC_TS);
    const headers = { timestamp: DOC_TS, signature: DOC_SIGNATURE };
    expect(verifyAt(ts + 300, headers)).toEqual({ ok: true });
    expect(verifyAt(ts - 300, headers)).toEqual({ ok: true });
    expect(verifyAt(ts + 301, headers)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyAt(ts - 301, headers)).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a changed body, a changed signature, another secret and missing headers', () => {
    const now = Number(DOC_TS) + 1;
    expect(verifyAt(now, { timestamp: DOC_TS, signature: DOC_SIGNATURE }, `${DOC_BODY}&x=1`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(now, { timestamp: DOC_TS, signature: `${DOC_SIGNATURE.slice(0, -1)}4` })).toEqual({ ok: false, reason: 'bad_signature' });
    const other = slackSignature('another-secret', DOC_TS, DOC_BODY);
    expect(verifyAt(now, { timestamp: DOC_TS, signature: other })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(now, { timestamp: DOC_TS })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyAt(now, { signature: DOC_SIGNATURE })).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('refuses malformed timestamps and signatures of the wrong length or scheme without throwing', () => {
    const now = Number(DOC_TS);
    for (const timestamp of ['', 'abc', '1531420618.5', '-1531420618', '1e9', ' 1531420618', '9'.repeat(20)]) {
      expect(verifyAt(now, { timestamp, signature: DOC_SIGNATURE })).toEqual({ ok: false, reason: 'bad_timestamp' });
    }
    for (const signature of ['', 'v0=', 'v0=abc', `v1=${DOC_SIGNATURE.slice(3)}`, `${DOC_SIGNATURE}00`, DOC_SIGNATURE.slice(0, -2), `v0=${'z'.repeat(64)}`]) {
      expect(verifyAt(now, { timestamp: DOC_TS, signature })).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });
});
