/** The webhook secret token check: present, equal, constant time over equal-length digests. */
import { describe, expect, it } from 'vitest';
import { verifyTelegramSecret } from '../../adapters/telegram/verify.ts';

const SECRET = 'k3Yq0w9x_VbN-2mT7pLr4sZa8dGh1jEu';

describe('Telegram webhook secret', () => {
  it('accepts exactly the configured secret', () => {
    expect(verifyTelegramSecret(SECRET, SECRET)).toEqual({ ok: true });
  });

  it('refuses a missing, empty, forged, prefix, longer or huge value without throwing', () => {
    expect(verifyTelegramSecret(SECRET, undefined)).toEqual({ ok: false, reason: 'missing_secret' });
    expect(verifyTelegramSecret(SECRET, '')).toEqual({ ok: false, reason: 'missing_secret' });
    for (const forged of [`${SECRET.slice(0, -1)}X`, SECRET.slice(0, 10), `${SECRET}a`, SECRET.toUpperCase(), 'x'.repeat(5000), `${SECRET}\u0000`]) {
      expect(verifyTelegramSecret(SECRET, forged)).toEqual({ ok: false, reason: 'bad_secret' });
    }
  });
});
