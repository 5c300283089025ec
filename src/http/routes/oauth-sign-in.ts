/**
 * Sign in with Google / GitHub over HTTP (see src/auth/oidc/sign-in-flow.ts for the protocol):
 *
 *   GET  /auth/providers                 which buttons the sign-in page shows
 *   GET  /auth/oidc/:provider/start      303 to the provider; sets the state-binding cookie
 *   GET  /auth/oidc/:provider/callback   the provider's redirect back; 303 to the page with
 *                                        `#oidc=signed-in` (and a hand-off cookie) or `#oidc-error=<code>`
 *   POST /auth/oidc/complete             the page's same-origin exchange of the hand-off for the
 *                                        same answer as POST /auth/login (session or 2FA step)
 *   GET/PUT /auth/oidc/policy            the tenant's auto-provisioning domains (tenant:configure)
 *
 * Cookies: the binding cookie is HttpOnly, Secure, SameSite=Lax (the provider's redirect back is a
 * cross-site top-level GET: Strict cookies would not come with it), scoped to the provider's
 * callback path and as short-lived as the flow. The hand-off cookie is HttpOnly, Secure,
 * SameSite=Strict, scoped to /auth/oidc/complete, 60 s, single use.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import { SwitchboardError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Db } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import { getAutoProvisionDomains, setAutoProvisionDomains } from '../../store/oauth-identities.ts';
import type { Authenticator } from '../../auth/principal.ts';
import type { SignIn } from '../../auth/sign-in.ts';
import { createProviderClients } from '../../auth/oidc/clients.ts';
import { callbackPath, enabledProviders, isProviderId, PROVIDER_NAMES, resolveOidcSettings, type OidcConfig, type OidcProviderId } from '../../auth/oidc/providers.ts';
import { PAGE_ERROR_CODE } from '../../auth/oidc/refusals.ts';
import { createOidcSignIn } from '../../auth/oidc/sign-in-flow.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody } from '../validate.ts';
import { requestContext } from './auth.ts';
import { assertSameOriginRequest, setRefreshCookie } from './auth-cookie.ts';

/** The binding cookie (one name; its path makes it per provider). */
export const OIDC_STATE_COOKIE = '__Secure-sb_oidc_state';
/** The hand-off cookie. */
export const OIDC_HANDOFF_COOKIE = '__Secure-sb_oidc_handoff';
/** Where the hand-off cookie is sent. */
export const OIDC_COMPLETE_PATH = '/api/v1/auth/oidc/complete';

const MAX_QUERY_PARAMS = 30;
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a tenant slug');
const StartQuerySchema = z.strictObject({ tenant: slug.optional() });
const CallbackQuerySchema = z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.string().max(4096));
const EmptyBodySchema = z.strictObject({});

// Domains anyone can get an address at: auto-provisioning one would open the tenant to the world.
const PUBLIC_MAIL_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.net',
  'mail.com',
  'yandex.com',
  'zoho.com',
  'users.noreply.github.com',
]);
const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a domain such as example.com')
  .refine((d) => !PUBLIC_MAIL_DOMAINS.has(d), 'a public mail domain: anyone could create an account');
const PolicyBodySchema = z.strictObject({ autoProvisionDomains: z.array(Domain).max(50) });

/** What the routes need. */
export interface OidcRouteDeps {
  readonly config: OidcConfig;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Pick<Logger, 'warn' | 'error'>;
  readonly signIn: Pick<SignIn, 'afterFirstFactor'>;
  readonly authenticators: readonly Authenticator[];
  /** PUBLIC_URL's origin: the only Origin allowed to complete a sign-in. */
  readonly publicOrigin?: string;
}

/** Reads one cookie (bounded; two cookies of the same name are refused, as planted ones could be). */
function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > 8192) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

function setCookie(res: Response, name: string, value: string, path: string, maxAgeSeconds: number, sameSite: 'Lax' | 'Strict'): void {
  res.append('Set-Cookie', `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=${sameSite}`);
}

/** Query parameters as received, refusing repeated names (a second `state` or `code` is never legitimate). */
function queryOf(req: Request): URLSearchParams | undefined {
  const raw = req.originalUrl.indexOf('?') < 0 ? '' : req.originalUrl.slice(req.originalUrl.indexOf('?') + 1);
  const params = new URLSearchParams(raw);
  const names = [...params.keys()];
  if (names.length > MAX_QUERY_PARAMS || new Set(names).size !== names.length) return undefined;
  return params;
}

function providerOf(req: Request, enabled: ReadonlySet<OidcProviderId>): OidcProviderId {
  const provider = req.params['provider'];
  if (!isProviderId(provider) || !enabled.has(provider)) throw new SwitchboardError('not_found', 'This sign-in provider is not configured');
  return provider;
}

/** Builds the routes; throws `config_invalid` for an incomplete provider configuration. */
export function createOidcSignInRoutes(deps: OidcRouteDeps): Router {
  const { db, clock } = deps;
  const settings = resolveOidcSettings(deps.config);
  const enabled = new Set(enabledProviders(settings));
  const flow = createOidcSignIn({ db, clock, settings, clients: createProviderClients(settings), signIn: deps.signIn, log: deps.log });
  const configureTenant = requireAuth(deps.authenticators, 'tenant:configure');
  const expiresIn = (at: Date) => Math.max(0, Math.round((at.getTime() - clock.now()) / 1000));
  const router = Router();

  router.get('/auth/providers', (_req, res) => {
    res.json({
      providers: [...enabled].map((id) => ({ id, name: PROVIDER_NAMES[id], startUrl: `/api/v1/auth/oidc/${id}/start` })),
    });
  });

  router.get('/auth/oidc/policy', configureTenant, async (req, res) => {
    res.json({ autoProvisionDomains: await getAutoProvisionDomains(db, userPrincipalOf(req).tenantId) });
  });

  router.put('/auth/oidc/policy', configureTenant, async (req, res) => {
    // Who first: an API key is refused as such, whatever its body.
    const principal = userPrincipalOf(req);
    const body = parseBody(PolicyBodySchema, req.body);
    const after = [...new Set(body.autoProvisionDomains)].sort();
    const before = await getAutoProvisionDomains(db, principal.tenantId);
    await setAutoProvisionDomains(db, principal.tenantId, after);
    await appendAudit(db, {
      tenantId: principal.tenantId,
      actorType: 'user',
      actorId: principal.userId,
      action: 'auth.oidc_policy_changed',
      targetType: 'tenant',
      targetId: principal.tenantId,
      ...requestContext(req),
      details: { before, after },
    });
    res.json({ autoProvisionDomains: after });
  });

  router.get('/auth/oidc/:provider/start', async (req, res) => {
    const provider = providerOf(req, enabled);
    const params = queryOf(req);
    if (!params) throw new SwitchboardError('validation_failed', 'Repeated or too many query parameters');
    const query = parseBody(StartQuerySchema, Object.fromEntries(params));
    const started = await flow.start(provider, query.tenant ?? null);
    setCookie(res, OIDC_STATE_COOKIE, started.binding, callbackPath(provider), started.maxAgeSeconds, 'Lax');
    res.redirect(303, started.authorizationUrl.href);
  });

  router.get('/auth/oidc/:provider/callback', async (req, res) => {
    const provider = providerOf(req, enabled);
    // The binding is spent either way: the browser should not keep sending it.
    setCookie(res, OIDC_STATE_COOKIE, '', callbackPath(provider), 0, 'Lax');
    const params = queryOf(req);
    const parsed = params === undefined ? undefined : CallbackQuerySchema.safeParse(Object.fromEntries(params));
    let outcome: Awaited<ReturnType<typeof flow.callback>>;
    try {
      outcome = await flow.callback(
        provider,
        // A malformed query is handled as a forged one: no state matches it.
        { params: params !== undefined && parsed?.success === true ? params : new URLSearchParams(), binding: readCookie(req, OIDC_STATE_COOKIE) },
        requestContext(req),
      );
    } catch (err) {
      // A browser is waiting on this navigation: send it back to the page, not to a JSON error.
      deps.log.error({ err, provider }, 'sign-in callback failed');
      res.redirect(303, '/#oidc-error=failed');
      return;
    }
    if (outcome.kind === 'refused') {
      res.redirect(303, `/#oidc-error=${PAGE_ERROR_CODE[outcome.reason]}`);
      return;
    }
    setCookie(res, OIDC_HANDOFF_COOKIE, outcome.handoff, OIDC_COMPLETE_PATH, outcome.maxAgeSeconds, 'Strict');
    res.redirect(303, '/#oidc=signed-in');
  });

  router.post('/auth/oidc/complete', async (req, res) => {
    assertSameOriginRequest(req, deps.publicOrigin);
    parseBody(EmptyBodySchema, req.body ?? {});
    const handoff = readCookie(req, OIDC_HANDOFF_COOKIE);
    setCookie(res, OIDC_HANDOFF_COOKIE, '', OIDC_COMPLETE_PATH, 0, 'Strict');
    const outcome = await flow.complete(handoff, requestContext(req));
    if (outcome.kind === 'mfa') {
      res.json({
        ...(outcome.purpose === 'verify' ? { mfaRequired: true } : { mfaEnrolmentRequired: true }),
        mfaToken: outcome.mfaToken,
        expiresIn: expiresIn(outcome.expiresAt),
      });
      return;
    }
    // The same answer as POST /auth/login (src/http/routes/auth.ts sendSession); the test compares them.
    const { issued } = outcome;
    setRefreshCookie(res, issued.refreshToken, issued.session.absoluteExpiresAt, clock.now());
    res.json({
      accessToken: issued.accessToken,
      tokenType: 'Bearer',
      expiresIn: expiresIn(issued.accessExpiresAt),
      user: { id: issued.user.id, email: issued.user.email, displayName: issued.user.displayName, role: issued.user.role },
      session: { id: issued.session.id, expiresAt: issued.session.absoluteExpiresAt.toISOString(), authMethod: issued.session.authMethod },
    });
  });

  return router;
}
