/**
 * Where the refresh token travels: an HttpOnly, Secure, SameSite=Strict cookie scoped to
 * /api/v1/auth, so page scripts never see it (an XSS cannot carry it away) and the page survives a
 * reload. Because browsers attach cookies by themselves, every request that spends the cookie must
 * also prove it comes from our own page (CSRF): SameSite=Strict, a custom header a cross-site form
 * or simple request cannot send, `Sec-Fetch-Site` when the browser sends it, and `Origin` when present.
 */
import type { Request, Response } from 'express';
import { SwitchboardError } from '../../core/errors.ts';

/** The cookie's name; `__Secure-` makes browsers refuse it unless it is set with `Secure`. */
export const REFRESH_COOKIE = '__Secure-sb_refresh';

/** The only path the cookie is sent to. */
export const REFRESH_COOKIE_PATH = '/api/v1/auth';

/** The header the page adds to every cookie-spending request; its value is fixed. */
export const CSRF_HEADER = 'x-switchboard-csrf';

/** Sets the refresh cookie until the session's absolute end. */
export function setRefreshCookie(res: Response, token: string, expiresAt: Date, nowMs: number): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - nowMs) / 1000));
  res.append('Set-Cookie', `${REFRESH_COOKIE}=${token}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`);
}

/** Tells the browser to forget the refresh cookie. */
export function clearRefreshCookie(res: Response): void {
  res.append('Set-Cookie', `${REFRESH_COOKIE}=; Path=${REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`);
}

/** The refresh cookie's value, or undefined (bounded parse of the Cookie header). */
export function readRefreshCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > 8192) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== REFRESH_COOKIE) continue;
    // Two cookies of our name (one planted by a sibling subdomain without __Secure-): refuse both.
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

/**
 * Refuses requests that may come from another site. `publicOrigin` is PUBLIC_URL's origin when
 * configured; otherwise the Origin must name the host the request was sent to.
 */
export function assertSameOriginRequest(req: Request, publicOrigin: string | undefined): void {
  const forbid = (reason: string) => new SwitchboardError('forbidden', 'Cross-site request refused', { context: { reason } });
  if (req.get(CSRF_HEADER) !== '1') throw forbid('csrf_header');
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') throw forbid('sec_fetch_site');
  const origin = req.get('origin');
  if (origin === undefined) return;
  if (publicOrigin !== undefined) {
    if (origin !== publicOrigin) throw forbid('origin');
    return;
  }
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw forbid('origin');
  }
  if (host !== req.get('host')) throw forbid('origin');
}
