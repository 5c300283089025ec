import { describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import {
  PII_SCAN_DEFAULT_MAX_CHARS,
  ibanChecksumValid,
  isValidCreditCard,
  isValidIban,
  isValidIpAddress,
  isValidSsn,
  luhnValid,
  scanPii,
  type PiiEntityType,
} from '../../src/pipeline/pii/index.ts';
import { resolveOverlaps } from '../../src/pipeline/pii/resolve.ts';

/** The values found in `text`, as [type, value] pairs. */
function found(text: string): Array<[PiiEntityType, string]> {
  return scanPii(text).findings.map((f) => [f.type, text.slice(f.start, f.end)]);
}

function only(text: string, type: PiiEntityType): string[] {
  return found(text)
    .filter(([t]) => t === type)
    .map(([, v]) => v);
}

describe('public test vectors', () => {
  it.each(['4111111111111111', '4242424242424242', '5555555555554444', '378282246310005', '6011111111111117', '79927398713'])(
    'Luhn accepts %s',
    (n) => expect(luhnValid(n)).toBe(true),
  );

  it('Luhn rejects 4111111111111112', () => expect(luhnValid('4111111111111112')).toBe(false));

  it.each(['4111111111111111', '4242424242424242', '5555555555554444', '378282246310005', '6011111111111117'])(
    'finds test card %s',
    (n) => expect(found(`card ${n} ok`)).toEqual([['CREDIT_CARD', n]]),
  );

  it('does not report the Luhn-invalid 4111111111111112 nor the 11-digit 79927398713', () => {
    expect(found('card 4111111111111112 ok')).toEqual([]);
    expect(found('number 79927398713')).toEqual([]);
  });

  it('finds everything in the Presidio demo text', () => {
    const text = 'My credit card number is 4095-2609-9393-4932, my SSN is 078-05-1126 and my phone is (212) 555-1234.';
    expect(found(text)).toEqual([
      ['CREDIT_CARD', '4095-2609-9393-4932'],
      ['US_SSN', '078-05-1126'],
      ['PHONE_NUMBER', '(212) 555-1234'],
    ]);
    expect(scanPii(text).level).toBe('restricted');
  });

  it('finds the registry example IBANs, grouped and compact', () => {
    expect(found('IBAN GB82 WEST 1234 5698 7654 32 please')).toEqual([['IBAN_CODE', 'GB82 WEST 1234 5698 7654 32']]);
    expect(found('DE89370400440532013000')).toEqual([['IBAN_CODE', 'DE89370400440532013000']]);
    expect(found('DE89 3704 0044 0532 0130 00.')).toEqual([['IBAN_CODE', 'DE89 3704 0044 0532 0130 00']]);
    expect(ibanChecksumValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanChecksumValid('GB82WEST12345698765433')).toBe(false);
  });
});

describe('EMAIL_ADDRESS', () => {
  it.each([
    ['mail bob@example.com now', 'bob@example.com'],
    ['Reach out to john.smith+tag@mail.example.co.uk.', 'john.smith+tag@mail.example.co.uk'],
    ['<mailto:a_b-c@x-y.io|a_b-c@x-y.io>', 'a_b-c@x-y.io'],
    ['请发到zhang.wei@example.cn，谢谢', 'zhang.wei@example.cn'],
    ['jürgen.weiß@beispiel.de', 'jürgen.weiß@beispiel.de'],
    ['see you..bob@example.org', 'bob@example.org'],
    ['user@xn--bcher-kva.example', 'user@xn--bcher-kva.example'],
  ])('finds the address in %j', (text, value) => expect(only(text, 'EMAIL_ADDRESS')).toContain(value));

  it.each(['@channel and @here', 'root@localhost', 'bob@', 'x@y.z', 'a@b..com', 'ssh admin@10.0.0.5', 'end.@example.com'])(
    'reports nothing in %j',
    (text) => expect(only(text, 'EMAIL_ADDRESS')).toEqual([]),
  );
});

describe('PHONE_NUMBER', () => {
  it.each([
    '(212) 555-1234',
    '212-555-1234',
    '212.555.1234',
    '212 555 1234',
    '+1 212 555 1234',
    '+1-212-555-1234',
    '+1 (212) 555-1234',
    '+12125551234',
    '1-800-555-0199',
    '+44 20 7946 0958',
    '+44 (0)20 7946 0958',
    '+49 30 12345678',
    '+4915112345678',
    '+33 6 12 34 56 78',
    '+55 11 91234-5678',
    '+81 3-1234-5678',
    '+7 495 123-45-67',
    '020 7946 0958',
    '06 12 34 56 78',
    '030/1234567',
    '0044 20 7946 0958',
    '138 0013 8000',
  ])('finds %s', (phone) => expect(found(`call ${phone} today`)).toEqual([['PHONE_NUMBER', phone]]));

  it.each([
    ['bare 10 digits', 'order 2125551234 shipped'],
    ['Slack ts', 'ts 1712345678.123456'],
    ['Discord snowflake', 'user 1098765432123456789'],
    ['epoch ms', 'created 1712345678901'],
    ['area code starting with 1', '123-555-1234'],
    ['exchange starting with 0', '212-055-1234'],
    ['N11 area code', '911-555-1234'],
    ['mixed separators', '212.555-1234'],
    ['part of a longer dashed id', 'ref 2024-212-555-1234'],
    ['hyphenated id', 'ticket ORD-212-555-1234'],
    ['too few digits after +', 'score +1234567'],
    ['date', '2024-05-12 and 12.05.2024 and 12/05/2024'],
    ['price', '$1,299.99 and €49,90'],
  ])('ignores %s', (_name, text) => expect(only(text, 'PHONE_NUMBER')).toEqual([]));
});

describe('US_SSN', () => {
  it.each(['078-05-1126', '219-09-9998', '123 45 6780', '001-01-0001'])('finds %s', (ssn) => {
    expect(found(`ssn ${ssn}.`)).toEqual([['US_SSN', ssn]]);
    expect(isValidSsn(ssn)).toBe(true);
  });

  it.each([
    '000-12-3456',
    '666-12-3456',
    '900-12-3456',
    '999-12-3456',
    '123-00-4567',
    '123-45-0000',
    '111-11-1111',
    '123-45-6789',
    '078-05-1120',
    '123-45 6780',
    '123.45.6780',
    '1234-56-7890',
    '12-345-6789',
  ])('rejects %s', (ssn) => expect(only(`ssn ${ssn}`, 'US_SSN')).toEqual([]));
});

describe('CREDIT_CARD', () => {
  it.each([
    '4111 1111 1111 1111',
    '4111-1111-1111-1111',
    '3782 822463 10005',
    '5555-5555-5555-4444',
    '41111111 1111 1111',
    '4222222222222',
  ])('finds %s', (card) => expect(found(`card ${card} ok`)).toEqual([['CREDIT_CARD', card]]));

  it('finds a card followed by its expiry date', () => {
    expect(only('card 4111 1111 1111 1111 12/27', 'CREDIT_CARD')).toEqual(['4111 1111 1111 1111']);
  });

  it.each([
    ['Luhn-invalid', '4111 1111 1111 1112'],
    ['mixed separators', '4111 1111-1111 1111'],
    ['double separator', '4111  1111 1111 1111'],
    ['longer digit run', '41111111111111110000'],
    ['letter prefix', 'x4111111111111111'],
    ['hyphenated id', 'ORD-4111111111111111'],
    ['decimal', '3.4111111111111111'],
    ['unknown network (Discord snowflake passing Luhn)', '1000000000000000009'],
    ['phone with +', '+4111111111111111'],
    ['Luhn-valid prefix of a longer dashed number', '6108-4727-7691-0175-000'],
    ['more than 19 digits in spaced groups', '4111 1111 1111 1111 2024'],
    ['group of a longer spaced number', '12 4111 1111 1111 1111'],
  ])('ignores %s', (_name, text) => expect(only(text, 'CREDIT_CARD')).toEqual([]));

  it('validates values on their own', () => {
    expect(isValidCreditCard('4111 1111 1111 1111')).toBe(true);
    expect(isValidCreditCard('4111 1111 1111 1112')).toBe(false);
  });
});

describe('IBAN_CODE', () => {
  it.each(['FR14 2004 1010 0505 0001 3M02 606', 'NL91ABNA0417164300', 'CH93 0076 2011 6238 5295 7', 'NO9386011117947', 'de89370400440532013000'])(
    'finds %s',
    (iban) => expect(found(`iban ${iban}`)).toEqual([['IBAN_CODE', iban]]),
  );

  it.each([
    ['bad checksum', 'GB82 WEST 1234 5698 7654 33'],
    ['wrong length for DE', 'DE8937040044053201300'],
    ['unknown country', 'ZZ82WEST12345698765432'],
    ['irregular grouping', 'GB82 WE ST12 3456 9876 5432'],
    ['mixed case', 'Gb82WEST12345698765432'],
  ])('ignores %s', (_name, text) => expect(only(text, 'IBAN_CODE')).toEqual([]));

  it('validates values on their own', () => {
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(isValidIban('GB82 WEST 1234 5698 7654 3')).toBe(false);
  });
});

describe('IP_ADDRESS', () => {
  it.each([
    '192.168.1.20',
    '10.0.0.1',
    '8.8.8.8',
    '2001:db8:85a3::8a2e:370:7334',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    'fe80::1ff:fe23:4567:890a',
    '::ffff:192.0.2.128',
    '64:ff9b::192.0.2.33',
    '2001:DB8::1',
  ])('finds %s', (ip) => expect(found(`host ${ip} down`)).toEqual([['IP_ADDRESS', ip]]));

  it('finds addresses with a port, a CIDR suffix or brackets, without them', () => {
    expect(only('curl http://10.1.2.3:8080/x', 'IP_ADDRESS')).toEqual(['10.1.2.3']);
    expect(only('range 192.168.0.10/24', 'IP_ADDRESS')).toEqual(['192.168.0.10']);
    expect(only('[2001:db8::1]:443', 'IP_ADDRESS')).toEqual(['2001:db8::1']);
    expect(only('at fe80::1:2.', 'IP_ADDRESS')).toEqual(['fe80::1:2']);
  });

  // Decision (validators/ip.ts): loopback, unspecified and 255.x identify no one; not reported.
  it.each(['127.0.0.1', '127.1.2.3', '0.0.0.0', '::1', '::', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '255.255.255.0', '255.255.255.255'])(
    'does not report %s (loopback / unspecified / netmask)',
    (ip) => {
      expect(only(`bind ${ip} only`, 'IP_ADDRESS')).toEqual([]);
      expect(isValidIpAddress(ip)).toBe(false);
    },
  );

  it.each([
    ['leading zero', '192.168.01.1'],
    ['octet over 255', '256.1.1.1'],
    ['five parts', '1.2.3.4.5'],
    ['version word', 'version 1.2.3.4'],
    ['v prefix', 'v1.2.3.4'],
    ['Chrome version', 'Chrome 124.0.6367.91'],
    ['time', '12:30:45'],
    ['MAC address', '00:1A:2B:3C:4D:5E'],
    ['C++ scope', 'std::vector'],
    ['two double colons', '2001::db8::1'],
    ['nine groups', '1:2:3:4:5:6:7:8:9'],
    ['3-part version', '1.2.3'],
  ])('ignores %s', (_name, text) => expect(only(text, 'IP_ADDRESS')).toEqual([]));
});

describe('scanPii', () => {
  it('returns public and no findings for plain text', () => {
    expect(scanPii('hello world, see you at 10:30')).toEqual({ findings: [], level: 'public' });
    expect(scanPii('')).toEqual({ findings: [], level: 'public' });
  });

  it('levels: sensitive for email/phone/ip, restricted for ssn/card/iban', () => {
    expect(scanPii('a@example.com').level).toBe('sensitive');
    expect(scanPii('8.8.8.8').level).toBe('sensitive');
    expect(scanPii('(212) 555-1234').level).toBe('sensitive');
    expect(scanPii('a@example.com 078-05-1126').level).toBe('restricted');
    expect(scanPii('a@example.com').findings[0]?.level).toBe('sensitive');
  });

  it('filters by type', () => {
    const text = 'a@example.com 078-05-1126 8.8.8.8';
    expect(scanPii(text, { types: ['US_SSN'] }).findings.map((f) => f.type)).toEqual(['US_SSN']);
    expect(scanPii(text, { types: [] })).toEqual({ findings: [], level: 'public' });
  });

  it('returns UTF-16 offsets past astral chars', () => {
    const text = '😀😀 mail 𝒜 bob@example.com';
    const [f] = scanPii(text).findings;
    expect(f).toBeDefined();
    expect(text.slice(f?.start, f?.end)).toBe('bob@example.com');
    expect(f?.start).toBe(text.indexOf('bob'));
  });

  it('resolves overlaps by type priority, then length, then position', () => {
    const resolved = resolveOverlaps(
      [
        { type: 'PHONE_NUMBER', start: 0, end: 30 },
        { type: 'CREDIT_CARD', start: 10, end: 26 },
        { type: 'IBAN_CODE', start: 5, end: 27 },
        { type: 'IP_ADDRESS', start: 40, end: 47 },
        { type: 'IP_ADDRESS', start: 40, end: 52 },
        { type: 'EMAIL_ADDRESS', start: 60, end: 70 },
        { type: 'PHONE_NUMBER', start: 65, end: 80 },
      ],
      100,
    );
    expect(resolved).toEqual([
      { type: 'IBAN_CODE', start: 5, end: 27 },
      { type: 'IP_ADDRESS', start: 40, end: 52 },
      { type: 'EMAIL_ADDRESS', start: 60, end: 70 },
    ]);
  });

  it('a BBAN that holds a Luhn-valid card number is reported once, as the IBAN', () => {
    // BOFI + 36148000003421: the 14 digits are a Luhn-valid Diners Club number on their own.
    expect(found('IBAN GB75BOFI36148000003421 thanks')).toEqual([['IBAN_CODE', 'GB75BOFI36148000003421']]);
    expect(found('IBAN GB75 BOFI 3614 8000 0034 21 thanks')).toEqual([['IBAN_CODE', 'GB75 BOFI 3614 8000 0034 21']]);
    expect(found('card 36148000003421 ok')).toEqual([['CREDIT_CARD', '36148000003421']]);
  });

  it('rejects text over maxChars with message_too_long', () => {
    expect(() => scanPii('a'.repeat(11), { maxChars: 10 })).toThrow();
    try {
      scanPii('x'.repeat(PII_SCAN_DEFAULT_MAX_CHARS + 1));
      expect.unreachable();
    } catch (err) {
      expect(isSwitchboardError(err, 'message_too_long')).toBe(true);
    }
    expect(scanPii('x'.repeat(PII_SCAN_DEFAULT_MAX_CHARS)).findings).toEqual([]);
  });
});
