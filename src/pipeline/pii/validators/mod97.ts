/** ISO 7064 MOD 97-10 as used by IBAN check digits. */

/**
 * Remainder mod 97 of the number formed by `s`, where digits stay digits and letters A–Z count
 * as 10–35 (ISO 13616). Returns -1 for any other char. Works incrementally, so no big integers.
 */
export function mod97(s: string): number {
  let r = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
    else return -1;
  }
  return r;
}

/** True when a compact upper-case IBAN (`GB82WEST…`) has valid check digits. */
export function ibanChecksumValid(compact: string): boolean {
  if (compact.length < 5) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

/** Two check digits that make `country + cc + bban` valid (for generating test data). */
export function ibanCheckDigits(country: string, bban: string): string {
  const r = mod97(bban + country + '00');
  return String(98 - r).padStart(2, '0');
}
