/**
 * The HTTP(S) server the app and the web chat socket share: TLS served directly when
 * TLS_CERT / TLS_KEY (usually given as TLS_CERT_FILE / TLS_KEY_FILE) are set (minimum TLS 1.2), and, when TLS is required, WebSocket
 * upgrades that did not arrive over TLS are refused before any upgrade handler sees them.
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureVersion } from 'node:tls';
import { SwitchboardError } from '../core/errors.ts';
import { isSecureRequest, type TrustFunction } from './transport-policy.ts';

/** Certificate, key and protocol floor for serving TLS. */
export interface TlsSettings {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly minVersion: SecureVersion;
}

/** The settings `loadTlsSettings` reads (PEM text; TLS_CERT_FILE / TLS_KEY_FILE are read by the config loader). */
export interface TlsConfig {
  readonly TLS_CERT?: string | undefined;
  readonly TLS_KEY?: string | undefined;
  readonly TLS_MIN_VERSION: 'TLSv1.2' | 'TLSv1.3';
}

/** Checks the certificate and key; undefined when TLS is not configured. Never echoes key bytes. */
export function loadTlsSettings(config: TlsConfig): TlsSettings | undefined {
  if (config.TLS_CERT === undefined || config.TLS_KEY === undefined) return undefined;
  // The loader trims secrets; PEM parsers want the final newline back.
  const cert = Buffer.from(`${config.TLS_CERT}\n`);
  const key = Buffer.from(`${config.TLS_KEY}\n`);
  try {
    // Fails now, at start, on unparsable PEM or a key that does not match the certificate.
    createSecureContext({ cert, key, minVersion: config.TLS_MIN_VERSION });
  } catch (cause) {
    throw new SwitchboardError(
      'config_invalid',
      'TLS_CERT_FILE / TLS_KEY_FILE: not a usable PEM certificate and matching private key',
      { issues: [{ path: 'TLS_CERT', message: 'certificate and key unusable' }] },
      { cause },
    );
  }
  return { cert, key, minVersion: config.TLS_MIN_VERSION };
}

function refuseUpgrade(socket: Duplex): void {
  // end(), not write()+destroy(): over TLS a destroy right after a write can drop the response.
  socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\nHTTPS is required.\n');
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * Refuses upgrades that fail `allowed` before any 'upgrade' listener runs. Wrapping emit (rather
 * than adding a listener) is what makes it first and exclusive: listeners added later, such as
 * the web chat's, never see a refused request, so no ticket is consumed and no slot is taken.
 */
export function guardUpgrades(server: Server, allowed: (req: IncomingMessage) => boolean): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  const guarded = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'upgrade') {
      const [req, socket] = args as [IncomingMessage, Duplex];
      if (!allowed(req)) {
        refuseUpgrade(socket);
        return true;
      }
    }
    return emit(event, ...args);
  };
  server.emit = guarded as Server['emit'];
}

/** How to build the server. */
export interface TransportServerOptions {
  readonly tls: TlsSettings | undefined;
  /** Refuse plain HTTP WebSocket upgrades (REQUIRE_TLS / production). */
  readonly requireTls: boolean;
  readonly trust: TrustFunction;
}

/** Creates the HTTP or HTTPS server for `app`; it does not listen. */
export function createTransportServer(app: RequestListener, options: TransportServerOptions): Server {
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: options.tls.minVersion }, app)
    : createHttpServer(app);
  if (options.requireTls) guardUpgrades(server, (req) => isSecureRequest(req, options.trust));
  return server;
}
