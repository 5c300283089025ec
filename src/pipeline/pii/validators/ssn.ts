/**
 * US Social Security Number rules. Presidio's rules plus the area range 900–999 (ITINs, never
 * issued as SSNs) and the SSA's well-known sample numbers.
 */

const NEVER_ISSUED = new Set(['123456789', '078051120', '219099999']);

/** True when nine ASCII digits could be an issued SSN. */
export function ssnDigitsValid(digits: string): boolean {
  if (digits.length !== 9 || !/^[0-9]{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666' || area.charCodeAt(0) === 57) return false;
  if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return false;
  if (NEVER_ISSUED.has(digits)) return false;
  for (let i = 1; i < 9; i++) if (digits[i] !== digits[0]) return true;
  return false;
}

/** True for `ddd-dd-dddd` or `ddd dd dddd` (one delimiter kind) holding a possible SSN. */
export function isValidSsn(value: string): boolean {
  if (value.length !== 11) return false;
  const sep = value[3];
  if ((sep !== '-' && sep !== ' ') || value[6] !== sep) return false;
  return ssnDigitsValid(value.slice(0, 3) + value.slice(4, 6) + value.slice(7));
}
