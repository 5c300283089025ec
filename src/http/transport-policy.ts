/**
 * Which requests count as "arrived over TLS", decided the same way for HTTP requests (express)
 * and WebSocket upgrades (which never reach express): the socket is TLS, or the immediate peer is
 * a trusted proxy (TRUST_PROXY) and its X-Forwarded-Proto says https. A client talking to us
 * directly cannot forge the header, because its address is not trusted.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyAddr from 'proxy-addr';
import type { RequestHandler } from 'express';
import { SwitchboardError } from '../core/errors.ts';

/** The parsed TRUST_PROXY setting: off, a hop count, or proxy addresses / CIDRs / named ranges. */
export type TrustProxySetting = false | number | readonly string[];

/** Decides whether the peer at hop `i` (0 = the socket's peer) is a trusted proxy. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** Compiles TRUST_PROXY into the function express and the upgrade guard share. */
export function compileTrust(setting: TrustProxySetting): TrustFunction {
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile([...setting]);
}

/** The protocol the client used: the socket's, or a trusted proxy's first X-Forwarded-Proto value. */
export function requestProtocol(req: IncomingMessage, trust: TrustFunction): 'https' | 'http' {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return 'https';
  const peer = req.socket.remoteAddress;
  if (peer === undefined || !trust(peer, 0)) return 'http';
  const header = req.headers['x-forwarded-proto'];
  const value = Array.isArray(header) ? header[0] : header;
  // The leftmost value is the hop closest to the client, as express reads it.
  const first = value?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' ? 'https' : 'http';
}

/** True when the request came over TLS (directly or through a trusted TLS proxy). */
export function isSecureRequest(req: IncomingMessage, trust: TrustFunction): boolean {
  return requestProtocol(req, trust) === 'https';
}

/** Paths reachable over plain HTTP even when TLS is required: orchestrator probes and scrapes hit the process directly. */
export const PLAIN_HTTP_EXEMPT_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Refuses requests that did not arrive over TLS with 403 (never a redirect: a token may already be on the wire). */
export function requireTls(trust: TrustFunction): RequestHandler {
  return (req, _res, next) => {
    if (PLAIN_HTTP_EXEMPT_PATHS.has(req.path) || isSecureRequest(req, trust)) {
      next();
      return;
    }
    next(
      new SwitchboardError('forbidden', 'HTTPS is required: connect with https:// (or through the configured TLS proxy)', {
        context: { reason: 'tls_required' },
      }),
    );
  };
}
