/** The OAuth `state`: signed, short-lived, tamper-evident. */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/core/clock.ts';
import { createOAuthState, OAUTH_STATE_TTL_MS } from '../../adapters/slack/oauth-state.ts';

describe('Slack OAuth state', () => {
  it('accepts its own state until it expires', () => {
    const clock = createManualClock(Date.UTC(2026, 10, 22));
    const codec = createOAuthState('client-secret', clock);
    const { state, nonce } = codec.issue();
    expect(codec.check(state)).toEqual({ ok: true, nonce });
    clock.advance(OAUTH_STATE_TTL_MS);
    expect(codec.check(state)).toEqual({ ok: true, nonce });
    clock.advance(1);
    expect(codec.check(state)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses states made with another secret, changed payloads and garbage', () => {
    const clock = createManualClock(Date.UTC(2026, 10, 22));
    const codec = createOAuthState('client-secret', clock);
    const other = createOAuthState('another-secret', clock).issue().state;
    expect(codec.check(other)).toEqual({ ok: false, reason: 'bad_mac' });
    const { state } = codec.issue();
    const [payload = '', mac = ''] = state.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'A'.repeat(22), e: clock.now() + 1e9 })).toString('base64url');
    expect(codec.check(`${forged}.${mac}`)).toEqual({ ok: false, reason: 'bad_mac' });
    expect(codec.check(`${payload}.${mac.slice(0, -1)}`)).toEqual({ ok: false, reason: 'malformed' });
    for (const junk of ['', '.', 'a.b', `${payload}`, `${payload}.${mac}.x`, '{"n":1}']) expect(codec.check(junk).ok).toBe(false);
  });
});
