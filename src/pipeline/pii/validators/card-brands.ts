/**
 * Issuer prefix (IIN) and length rules of the card networks. Requiring a known network on top of
 * Luhn rejects most long ids that pass Luhn by chance (1 in 10), e.g. Discord snowflakes and
 * epoch-millisecond ids, which start with 1 and have the wrong length for UATP.
 */

function prefix(digits: string, n: number): number {
  return Number(digits.slice(0, n));
}

/** True when `digits` has the prefix and length of a known card network. */
export function isKnownCardBrand(digits: string): boolean {
  const len = digits.length;
  if (len < 13 || len > 19) return false;
  const p1 = prefix(digits, 1);
  const p2 = prefix(digits, 2);
  const p3 = prefix(digits, 3);
  const p4 = prefix(digits, 4);
  const p6 = prefix(digits, 6);
  if (p1 === 4) return len === 13 || len === 16 || len === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return len === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return len === 15; // American Express
  if (p4 >= 2200 && p4 <= 2204) return len >= 16; // Mir
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return len >= 14; // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return len >= 16; // JCB
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) return len >= 16; // Discover
  if (p2 === 62) return len >= 16; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return true; // Maestro and domestic schemes
  if (p1 === 1) return len === 15; // UATP
  return false;
}
