/**
 * The express app factory (it never listens): security headers (HSTS only over TLS), TLS
 * enforcement, trust proxy, CORS from an allow-list, body limits, JSON depth limit, request ids,
 * health and metrics, the REST API under /api/v1 and the web chat page at /.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Logger } from '../core/logger.ts';
import { assertJsonDepth } from '../core/json.ts';
import { apiNotFound, errorHandler } from './errors.ts';
import { isSecureRequest, requireTls, type TrustFunction } from './transport-policy.ts';

/** The strict Content-Security-Policy of every page: no inline script or style, same-origin only. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  upgradeInsecureRequests: null,
} as const;

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** What the app factory needs. */
export interface HttpAppOptions {
  readonly log: Logger;
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
  /** Routers mounted at the root (health, metrics). */
  readonly rootRoutes: readonly express.Router[];
  /** Routers mounted under /api/v1. */
  readonly apiRoutes: readonly express.Router[];
  /** Platform webhooks, mounted at /webhooks/<platform> with the raw body as a Buffer (for signatures). */
  readonly webhookRoutes?: ReadonlyArray<{ readonly platform: string; readonly router: express.Router }>;
  /** Platform install flows, mounted at /oauth/<platform>. */
  readonly oauthRoutes?: ReadonlyArray<{ readonly platform: string; readonly router: express.Router }>;
  /** Which peers are trusted proxies (TRUST_PROXY); default: none. */
  readonly trust?: TrustFunction;
  /** Refuse requests that did not arrive over TLS (REQUIRE_TLS; always in production). */
  readonly requireTls?: boolean;
  /** Origins allowed to call /api/v1 from a browser (CORS_ORIGINS); `*` allows any, without credentials. */
  readonly corsOrigins?: readonly string[];
  /** HSTS max-age sent on requests that arrived over TLS; 0 disables. */
  readonly hstsMaxAgeSeconds?: number;
}

/** Headers a browser may send and read cross-origin. */
const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Request-Id'];
const CORS_EXPOSED_HEADERS = ['X-Request-Id', 'Retry-After'];

/** CORS for the API from an allow-list; undefined when no origin is allowed (same-origin only). */
function corsFor(origins: readonly string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  const common = { allowedHeaders: CORS_ALLOWED_HEADERS, exposedHeaders: CORS_EXPOSED_HEADERS, maxAge: 600 };
  // Any origin, but never with credentials (browsers forbid `*` with credentials anyway).
  if (origins.includes('*')) return cors({ ...common, origin: '*', credentials: false });
  const allowed = new Set(origins);
  // Exact string match of the Origin header: no suffix or regex matching to get wrong.
  return cors({ ...common, origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)), credentials: true });
}

/** Strict-Transport-Security, only on responses to requests that arrived over TLS (RFC 6797 §7.2). */
function hstsOverTls(maxAgeSeconds: number, trust: TrustFunction): RequestHandler {
  const hsts = helmet.strictTransportSecurity({ maxAge: maxAgeSeconds, includeSubDomains: true });
  return (req, res, next) => {
    if (maxAgeSeconds > 0 && isSecureRequest(req, trust)) hsts(req, res, next);
    else next();
  };
}

const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const id = incoming !== undefined && /^[A-Za-z0-9._-]{1,100}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  next();
};

/** Builds the app. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  const trust: TrustFunction = options.trust ?? (() => false);
  // The same function decides req.ip, req.protocol and our TLS checks, so they never disagree.
  app.set('trust proxy', trust);
  app.use(requestId);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      crossOriginEmbedderPolicy: false,
      // Set below, per request: HSTS sent over plain HTTP is ignored by browsers and misleads readers.
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  app.use(hstsOverTls(options.hstsMaxAgeSeconds ?? 31_536_000, trust));
  if (options.requireTls === true) app.use(requireTls(trust));
  for (const router of options.rootRoutes) app.use(router);

  const api = express.Router();
  const apiCors = corsFor(options.corsOrigins ?? []);
  if (apiCors) api.use(apiCors);
  api.use(express.json({ limit: options.bodyLimitBytes, strict: true, type: ['application/json'] }));
  api.use((req, _res, next) => {
    assertJsonDepth(req.body, options.jsonMaxDepth);
    next();
  });
  api.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  for (const router of options.apiRoutes) api.use(router);
  api.use(apiNotFound);
  app.use('/api/v1', api);

  // Signatures are computed over the exact bytes received, so webhooks get the raw body, never parsed JSON.
  for (const { platform, router } of options.webhookRoutes ?? []) {
    app.use(`/webhooks/${platform}`, express.raw({ type: () => true, limit: options.bodyLimitBytes }), router);
  }
  for (const { platform, router } of options.oauthRoutes ?? []) app.use(`/oauth/${platform}`, router);

  app.use(express.static(PUBLIC_DIR, { index: 'index.html', dotfiles: 'ignore', maxAge: 0 }));
  app.use(errorHandler(options.log));
  return app;
}
