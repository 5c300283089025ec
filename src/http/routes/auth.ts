/** Sign-in and WebSocket tickets. */
import { Router } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../store/db.ts';
import { findUsersForLogin } from '../../store/users.ts';
import { recordWsTicket } from '../../store/ws-tickets.ts';
import { appendAudit } from '../../store/audit.ts';
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import type { TokenService } from '../../auth/tokens.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { parseBody } from '../validate.ts';

const LoginBodySchema = z.strictObject({
  email: z.string().trim().toLowerCase().min(3).max(320),
  password: z.string().min(1).max(256),
  tenant: z.string().min(1).max(63).optional(),
});

/** What the auth routes need. */
export interface AuthRouteDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly accessTtlSeconds: number;
  readonly authenticators: readonly Authenticator[];
}

/** `POST /auth/login` and `POST /ws-ticket`. */
export async function createAuthRoutes(deps: AuthRouteDeps): Promise<Router> {
  const router = Router();
  // Verifying against a real hash when the user does not exist keeps both paths equally slow.
  const decoyHash = await hashPassword('decoy-password-for-unknown-users');

  router.post('/auth/login', async (req, res) => {
    const body = parseBody(LoginBodySchema, req.body);
    const candidates = await findUsersForLogin(deps.db, body.email, body.tenant);
    if (candidates.length > 1) {
      throw new SwitchboardError('validation_failed', 'This email exists in several workspaces; add "tenant"', {
        issues: [{ path: 'tenant', message: 'required for this account' }],
      });
    }
    const user = candidates[0];
    const ok = await verifyPassword(user?.passwordHash ?? decoyHash, body.password);
    const audit = { ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' };
    if (!user || !ok || user.disabled || user.passwordHash === null) {
      await appendAudit(deps.db, {
        ...(user ? { tenantId: user.tenantId, actorId: user.id } : {}),
        actorType: 'user',
        action: 'auth.login_failed',
        ...audit,
      });
      throw new SwitchboardError('unauthenticated', 'Wrong email or password');
    }
    const { token, expiresAt } = await deps.tokens.issueAccessToken({ userId: user.id, tenantId: user.tenantId, role: user.role });
    await appendAudit(deps.db, { tenantId: user.tenantId, actorType: 'user', actorId: user.id, action: 'auth.login', ...audit });
    res.json({
      accessToken: token,
      tokenType: 'Bearer',
      expiresIn: Math.round((expiresAt.getTime() - deps.clock.now()) / 1000),
      user: { id: user.id, email: user.email, displayName: user.displayName, role: user.role },
    });
  });

  router.post('/ws-ticket', requireAuth(deps.authenticators, 'chat:send'), async (req, res) => {
    parseBody(z.strictObject({}), req.body ?? {});
    const user = userPrincipalOf(req);
    const { ticket, jti, expiresAt } = await deps.tokens.issueWsTicket({ userId: user.userId, tenantId: user.tenantId });
    await recordWsTicket(deps.db, jti, user.userId, expiresAt);
    res.json({ ticket, expiresIn: Math.round((expiresAt.getTime() - deps.clock.now()) / 1000) });
  });

  return router;
}
