/**
 * The express app factory (it never listens): security headers, body limits, JSON depth limit,
 * request ids, health and metrics, the REST API under /api/v1 and the web chat page at /.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Logger } from '../core/logger.ts';
import { assertJsonDepth } from '../core/json.ts';
import { apiNotFound, errorHandler } from './errors.ts';

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
  app.set('trust proxy', false);
  app.use(requestId);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      crossOriginEmbedderPolicy: false,
      // HSTS only makes sense over TLS; a TLS-terminating proxy sets it (see docs/operations.md).
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  for (const router of options.rootRoutes) app.use(router);

  const api = express.Router();
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
