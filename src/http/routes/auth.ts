/**
 * Sign-in, the second step (TOTP or recovery code), refresh-token rotation, sign-out, "sign out
 * everywhere", the account's 2FA management, the tenant's 2FA policy, and WebSocket tickets.
 * The refresh token only ever travels in the HttpOnly cookie (see auth-cookie.ts); access tokens
 * travel in JSON bodies and are kept in memory by the page.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../store/db.ts';
import { findUsersForLogin } from '../../store/users.ts';
import { recordWsTicket } from '../../store/ws-tickets.ts';
import { appendAudit } from '../../store/audit.ts';
import { getRequired2faRoles, setRequired2faRoles } from '../../store/totp.ts';
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import type { TokenService } from '../../auth/tokens.ts';
import { ROLES } from '../../auth/token-claims.ts';
import type { AuthServices } from '../../auth/services.ts';
import type { IssuedSession } from '../../auth/sessions.ts';
import type { RequestContext, SecondFactorProof, TwoFactorUser } from '../../auth/two-factor.ts';
import { otpauthQrDataUrl } from '../../auth/otpauth-qr.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { parseBody } from '../validate.ts';
import { assertSameOriginRequest, clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './auth-cookie.ts';

const LoginBodySchema = z.strictObject({
  email: z.string().trim().toLowerCase().min(3).max(320),
  password: z.string().min(1).max(256),
  tenant: z.string().min(1).max(63).optional(),
});

const mfaToken = z.string().min(1).max(4096);
const code = z.string().min(1).max(16);
const recoveryCode = z.string().min(1).max(64);

// Exactly one proof: a code from the app, or a recovery code.
const ProofSchema = z.union([z.strictObject({ code }), z.strictObject({ recoveryCode })]);
const VerifyBodySchema = z.union([z.strictObject({ mfaToken, code }), z.strictObject({ mfaToken, recoveryCode })]);
const EmptyBodySchema = z.strictObject({});
const EnrolBodySchema = z.strictObject({ mfaToken: mfaToken.optional() });
const ConfirmBodySchema = z.strictObject({ code, mfaToken: mfaToken.optional() });
const CodeBodySchema = z.strictObject({ code });
const PolicyBodySchema = z.strictObject({ requiredRoles: z.array(z.enum(ROLES)).max(ROLES.length) });

/** What the auth routes need. */
export interface AuthRouteDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly auth: AuthServices;
  readonly authenticators: readonly Authenticator[];
  /** PUBLIC_URL's origin when configured: the only Origin allowed to spend the refresh cookie. */
  readonly publicOrigin?: string;
}

/** Where a request came from, for sessions and the audit log. */
export function requestContext(req: Request): RequestContext {
  const userAgent = req.get('user-agent');
  return { ...(req.ip === undefined ? {} : { ip: req.ip }), ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 500) }) };
}

function proofOf(body: { code: string } | { recoveryCode: string }): SecondFactorProof {
  return 'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode };
}

/** The sign-in routes and `POST /ws-ticket`. */
export async function createAuthRoutes(deps: AuthRouteDeps): Promise<Router> {
  const router = Router();
  const { db, clock, auth } = deps;
  // Verifying against a real hash when the user does not exist keeps both paths equally slow.
  const decoyHash = await hashPassword('decoy-password-for-unknown-users');
  const signedIn = requireAuth(deps.authenticators, 'sessions:manage_own');
  const anyUser = requireAuth(deps.authenticators);
  // For routes whose credential is either an mfa token in the body or the access token.
  const authenticate = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => signedIn(req, res, (err?: unknown) => (err === undefined ? resolve() : reject(err as Error))));
  const expiresIn = (at: Date) => Math.max(0, Math.round((at.getTime() - clock.now()) / 1000));

  /** The body every completed sign-in or refresh answers with; the refresh token goes in the cookie. */
  function sendSession(res: Response, issued: IssuedSession, extra: Record<string, unknown> = {}): void {
    setRefreshCookie(res, issued.refreshToken, issued.session.absoluteExpiresAt, clock.now());
    const { user, session } = issued;
    res.json({
      accessToken: issued.accessToken,
      tokenType: 'Bearer',
      expiresIn: expiresIn(issued.accessExpiresAt),
      user: { id: user.id, email: user.email, displayName: user.displayName, role: user.role },
      session: { id: session.id, expiresAt: session.absoluteExpiresAt.toISOString(), authMethod: session.authMethod },
      ...extra,
    });
  }

  async function currentUser(req: Request): Promise<TwoFactorUser> {
    const principal = userPrincipalOf(req);
    return { id: principal.userId, tenantId: principal.tenantId, email: principal.email, role: principal.role };
  }

  router.post('/auth/login', async (req, res) => {
    const body = parseBody(LoginBodySchema, req.body);
    const candidates = await findUsersForLogin(db, body.email, body.tenant);
    if (candidates.length > 1) {
      throw new SwitchboardError('validation_failed', 'This email exists in several workspaces; add "tenant"', {
        issues: [{ path: 'tenant', message: 'required for this account' }],
      });
    }
    const user = candidates[0];
    const ok = await verifyPassword(user?.passwordHash ?? decoyHash, body.password);
    const ctx = requestContext(req);
    if (!user || !ok || user.disabled || user.passwordHash === null) {
      await appendAudit(db, {
        ...(user ? { tenantId: user.tenantId, actorId: user.id } : {}),
        actorType: 'user',
        action: 'auth.login_failed',
        ...ctx,
      });
      throw new SwitchboardError('unauthenticated', 'Wrong email or password');
    }
    const outcome = await auth.signIn.afterFirstFactor(user, 'password', ctx);
    if (outcome.kind === 'session') {
      sendSession(res, outcome.issued);
      return;
    }
    res.json({
      ...(outcome.purpose === 'verify' ? { mfaRequired: true } : { mfaEnrolmentRequired: true }),
      mfaToken: outcome.mfaToken,
      expiresIn: expiresIn(outcome.expiresAt),
    });
  });

  router.post('/auth/2fa/verify', async (req, res) => {
    const body = parseBody(VerifyBodySchema, req.body);
    sendSession(res, await auth.signIn.verifySecondFactor(body.mfaToken, proofOf(body), requestContext(req)));
  });

  router.post('/auth/refresh', async (req, res) => {
    assertSameOriginRequest(req, deps.publicOrigin);
    parseBody(EmptyBodySchema, req.body ?? {});
    const token = readRefreshCookie(req);
    if (token === undefined) throw new SwitchboardError('unauthenticated', 'Not signed in');
    try {
      sendSession(res, await auth.sessions.refresh(token, requestContext(req)));
    } catch (err) {
      // A refused cookie is useless from now on; don't let the browser keep sending it.
      clearRefreshCookie(res);
      throw err;
    }
  });

  router.post('/auth/logout', async (req, res) => {
    parseBody(EmptyBodySchema, req.body ?? {});
    const ctx = requestContext(req);
    if (req.headers.authorization !== undefined) {
      // Signed in with an access token: end exactly that session (any signed-in user may sign out).
      await new Promise<void>((resolve, reject) =>
        anyUser(req, res, (err?: unknown) => (err === undefined ? resolve() : reject(err as Error))),
      );
      const principal = userPrincipalOf(req);
      if (principal.sessionId !== undefined) {
        await auth.sessions.revoke(principal.sessionId, principal.tenantId, 'logout', { actorType: 'user', actorId: principal.userId }, ctx);
      }
    } else {
      // Only the cookie (the access token was lost, e.g. after a reload): it must come from our page.
      assertSameOriginRequest(req, deps.publicOrigin);
      const token = readRefreshCookie(req);
      const session = token === undefined ? undefined : await auth.sessions.sessionOfRefreshToken(token);
      if (session) await auth.sessions.revoke(session.id, session.tenantId, 'logout', { actorType: 'user', actorId: session.userId }, ctx);
    }
    clearRefreshCookie(res);
    res.status(204).end();
  });

  router.post('/auth/logout-all', signedIn, async (req, res) => {
    parseBody(EmptyBodySchema, req.body ?? {});
    const principal = userPrincipalOf(req);
    const revoked = await auth.sessions.revokeAllForUser(
      { id: principal.userId, tenantId: principal.tenantId },
      'logout_all',
      { actorType: 'user', actorId: principal.userId },
      requestContext(req),
    );
    clearRefreshCookie(res);
    res.json({ revokedSessions: revoked });
  });

  router.get('/auth/2fa', signedIn, async (req, res) => {
    const status = await auth.twoFactor.status(await currentUser(req));
    res.json({ ...status, enabledAt: status.enabledAt?.toISOString() ?? null });
  });

  router.post('/auth/2fa/enrol', async (req, res) => {
    const body = parseBody(EnrolBodySchema, req.body ?? {});
    const ctx = requestContext(req);
    let enrolment: { secret: string; otpauthUri: string };
    if (body.mfaToken !== undefined) {
      // Sign-in with 2FA required by policy: the enrol-only token is the credential.
      enrolment = await auth.signIn.beginRequiredEnrolment(body.mfaToken, ctx);
    } else {
      await authenticate(req, res);
      enrolment = await auth.twoFactor.beginEnrolment(await currentUser(req), ctx);
    }
    res.json({ otpauthUri: enrolment.otpauthUri, secret: enrolment.secret, qrCode: await otpauthQrDataUrl(enrolment.otpauthUri) });
  });

  router.post('/auth/2fa/confirm', async (req, res) => {
    const body = parseBody(ConfirmBodySchema, req.body);
    const ctx = requestContext(req);
    if (body.mfaToken !== undefined) {
      const { issued, recoveryCodes } = await auth.signIn.confirmRequiredEnrolment(body.mfaToken, body.code, ctx);
      sendSession(res, issued, { enabled: true, recoveryCodes });
      return;
    }
    await authenticate(req, res);
    const { recoveryCodes } = await auth.twoFactor.confirmEnrolment(await currentUser(req), body.code, ctx);
    res.json({ enabled: true, recoveryCodes });
  });

  router.post('/auth/2fa/disable', signedIn, async (req, res) => {
    const body = parseBody(ProofSchema, req.body);
    await auth.twoFactor.disable(await currentUser(req), proofOf(body), requestContext(req));
    res.status(204).end();
  });

  router.post('/auth/2fa/recovery-codes', signedIn, async (req, res) => {
    const body = parseBody(CodeBodySchema, req.body);
    res.json(await auth.twoFactor.regenerateRecoveryCodes(await currentUser(req), body.code, requestContext(req)));
  });

  const configureTenant = requireAuth(deps.authenticators, 'tenant:configure');

  router.get('/auth/2fa/policy', configureTenant, async (req, res) => {
    res.json({ requiredRoles: await getRequired2faRoles(db, userPrincipalOf(req).tenantId) });
  });

  router.put('/auth/2fa/policy', configureTenant, async (req, res) => {
    const body = parseBody(PolicyBodySchema, req.body);
    const principal = userPrincipalOf(req);
    const before = await getRequired2faRoles(db, principal.tenantId);
    await setRequired2faRoles(db, principal.tenantId, body.requiredRoles);
    const after = await getRequired2faRoles(db, principal.tenantId);
    await appendAudit(db, {
      tenantId: principal.tenantId,
      actorType: 'user',
      actorId: principal.userId,
      action: 'auth.2fa_policy_changed',
      targetType: 'tenant',
      targetId: principal.tenantId,
      ...requestContext(req),
      details: { before, after },
    });
    res.json({ requiredRoles: after });
  });

  router.post('/ws-ticket', requireAuth(deps.authenticators, 'chat:send'), async (req, res) => {
    parseBody(EmptyBodySchema, req.body ?? {});
    const principal = userPrincipalOf(req);
    // Tickets are bound to the session, so revoking it closes the socket they open.
    if (principal.sessionId === undefined) throw new SwitchboardError('forbidden', 'A signed-in session is required');
    const { userId, tenantId, sessionId } = principal;
    const { ticket, jti, expiresAt } = await deps.tokens.issueWsTicket({ userId, tenantId, sessionId });
    await recordWsTicket(db, jti, userId, expiresAt);
    res.json({ ticket, expiresIn: expiresIn(expiresAt) });
  });

  return router;
}
