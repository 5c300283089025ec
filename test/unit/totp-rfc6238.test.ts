/**
 * TOTP against the published RFC 6238 Appendix B vectors (through otplib, the library we verify
 * with), our ±1-step window at exact step boundaries, code normalisation, recovery codes and the QR.
 */
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { matchTotpStep, newTotpSecret, normalizeTotpCode, timeStepAt, totpCodeAt, totpUri } from '../../src/auth/totp.ts';
import { generateRecoveryCode, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../../src/auth/recovery-codes.ts';
import { otpauthQrDataUrl, otpauthQrSvg } from '../../src/auth/otpauth-qr.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
const SHA1_KEY = ascii('12345678901234567890');
const SHA256_KEY = ascii('12345678901234567890123456789012');
const SHA512_KEY = ascii('1234567890123456789012345678901234567890123456789012345678901234');

// RFC 6238 Appendix B: time, then the 8-digit codes for SHA-1, SHA-256 and SHA-512.
const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('RFC 6238 Appendix B vectors', () => {
  it.each(VECTORS)('T = %i', async (t, sha1, sha256, sha512) => {
    expect(await generate({ secret: SHA1_KEY, epoch: t, digits: 8, algorithm: 'sha1' })).toBe(sha1);
    expect(await generate({ secret: SHA256_KEY, epoch: t, digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(await generate({ secret: SHA512_KEY, epoch: t, digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('time steps follow T = floor(t / 30) (vector times)', () => {
    expect(timeStepAt(59_000)).toBe(1);
    expect(timeStepAt(1_111_111_109_000)).toBe(0x023523ec);
    expect(timeStepAt(20_000_000_000_000)).toBe(0x27bc86aa);
  });
});

describe('our TOTP: 6 digits, SHA-1, 30 s, ±1 step', () => {
  const secret = newTotpSecret();
  const T = 1_893_499_200_000; // a step boundary (2030-01-01T12:00:00Z)

  it('matches the current step and reports it', async () => {
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T), T)).toBe(timeStepAt(T));
  });

  it('accepts the previous and next step exactly, and nothing further', async () => {
    // At the first millisecond of step N: N-1 and N+1 accepted, N-2 and N+2 refused.
    const n = timeStepAt(T);
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T - 1), T)).toBe(n - 1);
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T + 30_000), T)).toBe(n + 1);
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T - 30_001), T)).toBeUndefined();
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T + 60_000), T)).toBeUndefined();
    // At the last millisecond of step N, the same holds.
    const end = T + 29_999;
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T - 1), end)).toBe(n - 1);
    expect(await matchTotpStep(secret, await totpCodeAt(secret, T - 30_001), end)).toBeUndefined();
  });

  it('codes of another secret do not match', async () => {
    const other = newTotpSecret();
    let matches = 0;
    for (let i = 0; i < 20; i += 1) {
      if ((await matchTotpStep(secret, await totpCodeAt(other, T + i * 30_000), T + i * 30_000)) !== undefined) matches += 1;
    }
    expect(matches).toBeLessThanOrEqual(1); // ~3 in a million per try
  });

  it('normalises what people type and refuses everything else', () => {
    expect(normalizeTotpCode('123456')).toBe('123456');
    expect(normalizeTotpCode(' 123 456 ')).toBe('123456');
    expect(normalizeTotpCode('123-456')).toBe('123456');
    for (const bad of ['12345', '1234567', 'abcdef', '12345a', '１２３４５６', '']) expect(normalizeTotpCode(bad)).toBeUndefined();
  });

  it('builds the otpauth URI with issuer and account', () => {
    const uri = new URL(totpUri('Switchboard', 'ada@example.com', secret));
    expect(uri.href.startsWith('otpauth://totp/Switchboard:ada%40example.com?')).toBe(true);
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ secret, issuer: 'Switchboard' });
  });

  it('secrets are 160-bit base32 and unique', () => {
    const secrets = new Set(Array.from({ length: 50 }, newTotpSecret));
    expect(secrets.size).toBe(50);
    for (const s of secrets) expect(s).toMatch(/^[A-Z2-7]{32}$/);
  });
});

describe('recovery codes', () => {
  it('are 24 characters of a 32-letter alphabet in four groups (120 bits)', () => {
    for (let i = 0; i < 100; i += 1) expect(generateRecoveryCode()).toMatch(/^[0-9a-hjkmnp-tv-z]{6}(-[0-9a-hjkmnp-tv-z]{6}){3}$/);
  });

  it('normalise case, spaces and dashes; refuse other lengths and letters', () => {
    const code = generateRecoveryCode();
    const canonical = code.replaceAll('-', '');
    expect(normalizeRecoveryCode(code)).toBe(canonical);
    expect(normalizeRecoveryCode(` ${code.toUpperCase().replaceAll('-', ' ')} `)).toBe(canonical);
    expect(normalizeRecoveryCode(code.slice(0, -1))).toBeUndefined();
    expect(normalizeRecoveryCode(`${code}a`)).toBeUndefined();
    expect(normalizeRecoveryCode(canonical.replace(/.$/, 'l'))).toBeUndefined();
    expect(normalizeRecoveryCode('x'.repeat(1000))).toBeUndefined();
  });

  it('a set has 10 distinct codes whose hashes are their canonical forms hashed', () => {
    const { codes, hashes } = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    codes.forEach((code, i) => expect(hashes[i]?.equals(hashRecoveryCode(normalizeRecoveryCode(code) ?? ''))).toBe(true));
  });
});

describe('QR code', () => {
  it('renders the otpauth URI as an SVG with no script, style or external reference', async () => {
    const uri = totpUri('Switchboard', 'ada@example.com', newTotpSecret());
    const svg = await otpauthQrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/<script|style=|<style|href=|on[a-z]+=/i);
    const dataUrl = await otpauthQrDataUrl(uri);
    expect(dataUrl.startsWith('data:image/svg+xml;base64,')).toBe(true);
    expect(Buffer.from(dataUrl.split(',')[1] ?? '', 'base64').toString('utf8')).toBe(svg);
  });
});
