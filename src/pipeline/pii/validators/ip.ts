/**
 * Strict IPv4 / IPv6 parsing and the "does this address identify anyone" rule.
 *
 * Decision: loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::) and the 255.x block
 * (broadcast and netmasks such as 255.255.255.0) are NOT reported. They are the same on every
 * machine, so they identify no one, and issue trackers list them as Presidio false positives
 * (it reports them). Private ranges (10/8, 192.168/16, fc00::/7…) ARE reported: they still map
 * to a host on someone's network.
 */

function octetAt(s: string, i: number): { value: number; end: number } | null {
  const c0 = s.charCodeAt(i);
  if (!(c0 >= 48 && c0 <= 57)) return null;
  if (c0 === 48) return { value: 0, end: i + 1 };
  let value = c0 - 48;
  let p = i + 1;
  while (p < i + 3) {
    const c = s.charCodeAt(p);
    if (!(c >= 48 && c <= 57)) break;
    value = value * 10 + (c - 48);
    p++;
  }
  return value <= 255 ? { value, end: p } : null;
}

/**
 * Parses a dotted quad starting at `i` (octets 0–255, no leading zeros). Returns its octets and
 * end index, or null. Does not look at what follows.
 */
export function parseIpv4At(s: string, i: number): { octets: number[]; end: number } | null {
  const octets: number[] = [];
  let p = i;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (s.charCodeAt(p) !== 46) return null;
      p++;
    }
    const o = octetAt(s, p);
    if (o === null) return null;
    octets.push(o.value);
    p = o.end;
  }
  return { octets, end: p };
}

/** The four octets of a whole-string dotted quad, or null. */
export function parseIpv4(s: string): number[] | null {
  const r = parseIpv4At(s, 0);
  return r !== null && r.end === s.length ? r.octets : null;
}

function parseGroups(part: string, out: number[]): boolean {
  if (part === '') return true;
  for (const g of part.split(':')) {
    if (g.length === 0 || g.length > 4) return false;
    let v = 0;
    for (let i = 0; i < g.length; i++) {
      const c = g.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out.push(v);
  }
  return true;
}

/** The eight 16-bit groups of a whole-string IPv6 address (`::` and IPv4 suffix allowed), or null. */
export function parseIpv6(s: string): number[] | null {
  if (s.length < 2 || s.length > 45) return null;
  let body = s;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    // "::1.2.3.4" keeps its '::'; "::ffff:1.2.3.4" drops the lone colon before the IPv4 part.
    body = s.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const dbl = body.indexOf('::');
  const head: number[] = [];
  const rest: number[] = [];
  if (dbl >= 0) {
    if (body.indexOf('::', dbl + 1) >= 0) return null;
    if (!parseGroups(body.slice(0, dbl), head)) return null;
    if (!parseGroups(body.slice(dbl + 2), rest)) return null;
    const used = head.length + rest.length + tail.length;
    if (used > 7) return null;
    return [...head, ...new Array<number>(8 - used).fill(0), ...rest, ...tail];
  }
  if (!parseGroups(body, head)) return null;
  return head.length + tail.length === 8 ? [...head, ...tail] : null;
}

/** False for loopback, unspecified and 255.x addresses (see the module comment). */
export function isReportableIpv4(octets: readonly number[]): boolean {
  const first = octets[0];
  return first !== 0 && first !== 127 && first !== 255;
}

/** False for `::`, `::1` and IPv4-mapped/compatible forms of unreportable IPv4 addresses. */
export function isReportableIpv6(groups: readonly number[]): boolean {
  let zeroPrefix = 0;
  while (zeroPrefix < 8 && groups[zeroPrefix] === 0) zeroPrefix++;
  if (zeroPrefix === 8) return false;
  if (zeroPrefix === 7 && groups[7] === 1) return false;
  const g5 = groups[5] ?? 0;
  if (zeroPrefix >= 5 && (g5 === 0xffff || zeroPrefix >= 6)) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return isReportableIpv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  return true;
}

/** True when `value` is a whole IPv4 or IPv6 address that identifies a host. */
export function isValidIpAddress(value: string): boolean {
  const v4 = parseIpv4(value);
  if (v4 !== null) return isReportableIpv4(v4);
  const v6 = parseIpv6(value);
  return v6 !== null && isReportableIpv6(v6);
}
