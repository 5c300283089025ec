import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { PII_POLICY_ACTIONS, applyPiiPolicy, piiPlaceholder, redactPii, scanPii } from '../../src/pipeline/pii/index.ts';

const TEXT = 'mail bob@example.com or call (212) 555-1234, ssn 078-05-1126';

describe('redactPii', () => {
  it('replaces each finding with its typed placeholder', () => {
    expect(redactPii(TEXT, scanPii(TEXT).findings)).toBe('mail [EMAIL_ADDRESS] or call [PHONE_NUMBER], ssn [US_SSN]');
    expect(piiPlaceholder('IBAN_CODE')).toBe('[IBAN_CODE]');
  });

  it('returns the text unchanged without findings', () => {
    expect(redactPii('nothing here', [])).toBe('nothing here');
  });

  it('accepts findings in any order and merges overlapping ones', () => {
    expect(
      redactPii('0123456789', [
        { type: 'PHONE_NUMBER', start: 6, end: 9 },
        { type: 'CREDIT_CARD', start: 1, end: 4 },
        { type: 'US_SSN', start: 2, end: 7 },
      ]),
    ).toBe('0[CREDIT_CARD]9');
  });

  it('rejects findings outside the text', () => {
    for (const bad of [
      { start: -1, end: 2 },
      { start: 0, end: 99 },
      { start: 3, end: 3 },
      { start: 0.5, end: 2 },
    ]) {
      try {
        redactPii('short', [{ type: 'US_SSN', ...bad }]);
        expect.unreachable();
      } catch (err) {
        expect(isSwitchboardError(err, 'validation_failed')).toBe(true);
      }
    }
  });
});

describe('applyPiiPolicy', () => {
  const scan = scanPii(TEXT);
  const redacted = 'mail [EMAIL_ADDRESS] or call [PHONE_NUMBER], ssn [US_SSN]';

  it('lists the actions', () => expect(PII_POLICY_ACTIONS).toEqual(['log', 'redact', 'block']));

  it.each([
    ['log', false],
    ['redact', false],
    ['block', true],
  ] as const)('%s → blocked=%s, redactedText always redacted', (action, blocked) => {
    expect(applyPiiPolicy(TEXT, scan, action)).toEqual({ action, blocked, redactedText: redacted });
  });

  it('never blocks a message without findings', () => {
    expect(applyPiiPolicy('hello', scanPii('hello'), 'block')).toEqual({ action: 'block', blocked: false, redactedText: 'hello' });
  });
});
