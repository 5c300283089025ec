/**
 * IP_ADDRESS: IPv4 dotted quads and IPv6 (full, `::`-compressed, IPv4-suffixed). Loopback,
 * unspecified and 255.x addresses are not reported (see validators/ip.ts for why).
 * A dotted quad right after a version word ("version 1.2.3.4", "build 10.0.1.2") is a version
 * number, not an address; "v1.2.3.4" never matches because 'v' is a word char.
 */
import { isAsciiLetter, isDigit, isHexDigit, isWordChar } from '../chars.ts';
import { isReportableIpv4, isReportableIpv6, isValidIpAddress, parseIpv4At, parseIpv6 } from '../validators/ip.ts';
import type { PiiDetector, Span } from '../types.ts';

export { isValidIpAddress };

const MAX_IPV6 = 45;
const VERSION_WORDS = ['version', 'ver', 'v', 'build', 'release', 'firmware', 'rev', 'revision'];

/** True when the word just before `start` (skipping spaces, ':' and '.') names a version. */
function afterVersionWord(text: string, start: number): boolean {
  let p = start;
  while (p > 0 && start - p < 3) {
    const c = text.charCodeAt(p - 1);
    if (c === 32 || c === 58 || c === 46) p--;
    else break;
  }
  let w = p;
  while (w > 0 && p - w < 9 && isAsciiLetter(text.charCodeAt(w - 1))) w--;
  if (w === p || isAsciiLetter(text.charCodeAt(w - 1))) return false;
  return VERSION_WORDS.includes(text.slice(w, p).toLowerCase());
}

/** The IPv4 address starting at `i`, or null. */
export function ipv4SpanAt(text: string, i: number): Span | null {
  const prev = text.charCodeAt(i - 1);
  if (prev === 46 && isDigit(text.charCodeAt(i - 2))) return null;
  const r = parseIpv4At(text, i);
  if (r === null) return null;
  const next = text.charCodeAt(r.end);
  if (isWordChar(next) || (next === 46 && isDigit(text.charCodeAt(r.end + 1)))) return null;
  if (!isReportableIpv4(r.octets) || afterVersionWord(text, i)) return null;
  return { start: i, end: r.end };
}

function isIpv6Char(c: number): boolean {
  return isHexDigit(c) || c === 58 || c === 46;
}

/** The IPv6 address starting at `i`, or null. Reads at most 46 chars; a longer run is not an address. */
export function ipv6SpanAt(text: string, i: number): Span | null {
  const prev = text.charCodeAt(i - 1);
  if (prev === 58 || prev === 46) return null;
  let p = i;
  let colons = 0;
  while (p - i <= MAX_IPV6 && isIpv6Char(text.charCodeAt(p))) {
    if (text.charCodeAt(p) === 58) colons++;
    p++;
  }
  if (colons < 2 || p - i > MAX_IPV6) return null;
  // Trailing sentence punctuation: "at fe80::1." or "host 2001:db8::1: refused".
  while (p > i && text.charCodeAt(p - 1) === 46) p--;
  if (text.charCodeAt(p - 1) === 58 && text.charCodeAt(p - 2) !== 58) p--;
  if (isWordChar(text.charCodeAt(p)) && text.charCodeAt(p) !== 46) return null;
  const groups = parseIpv6(text.slice(i, p));
  if (groups === null || !isReportableIpv6(groups)) return null;
  return { start: i, end: p };
}

/**
 * The start of the IPv6 candidate whose FIRST colon is at `i` (up to 4 hex digits before it,
 * preceded by a boundary), or -1 when `i` is not the first colon of a candidate. Triggering on
 * that one colon, instead of on every hex letter and digit, keeps prose and numbers cheap and
 * examines each candidate once.
 */
function ipv6StartForColon(text: string, i: number): number {
  let s = i;
  while (s > 0 && i - s < 4 && isHexDigit(text.charCodeAt(s - 1))) s--;
  const before = text.charCodeAt(s - 1);
  if (before === 58 || before === 46 || isWordChar(before)) return -1;
  return s;
}

/** IP_ADDRESS (IPv4) detector, triggered by a digit at a word boundary. */
export const ipv4Detector: PiiDetector = {
  type: 'IP_ADDRESS',
  triggers: '0123456789',
  needsBoundary: true,
  detect: ipv4SpanAt,
};

/** IP_ADDRESS (IPv6) detector, triggered by the first ':' of a candidate. */
export const ipv6Detector: PiiDetector = {
  type: 'IP_ADDRESS',
  triggers: ':',
  needsBoundary: false,
  detect(text: string, i: number): Span | null {
    const start = ipv6StartForColon(text, i);
    return start < 0 ? null : ipv6SpanAt(text, start);
  },
};
