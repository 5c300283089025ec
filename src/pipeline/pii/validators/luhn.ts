/** Luhn (mod 10) check used by payment card numbers. */

/** True when `digits` (ASCII digits only, non-empty) passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  if (digits.length === 0) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The digit that makes `payload + digit` Luhn-valid (for generating test data). */
export function luhnCheckDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(payload + String(d))) return String(d);
  throw new RangeError('payload must be ASCII digits');
}
