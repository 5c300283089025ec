/**
 * Sessions: list and end my own (`sessions:manage_own`); list and end anyone's in my tenant
 * (`sessions:manage`). Ending a session closes its sockets on every process (4001). Only an owner
 * may end an owner's sessions.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../store/db.ts';
import { getUser } from '../../store/users.ts';
import { getSession, listLiveTenantSessions, listLiveUserSessions, type SessionRecord } from '../../store/sessions.ts';
import type { AuthServices } from '../../auth/services.ts';
import { isSessionLive } from '../../auth/sessions.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody } from '../validate.ts';
import { clearRefreshCookie } from './auth-cookie.ts';
import { requestContext } from './auth.ts';

const IdParamSchema = z.strictObject({ id: z.uuid() });
const UserParamSchema = z.strictObject({ userId: z.uuid() });
const AdminListQuerySchema = z.strictObject({
  userId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** What the session routes need. */
export interface SessionRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly auth: AuthServices;
  readonly authenticators: readonly Authenticator[];
}

/** How a session is shown: when, where from, how it signed in; never a token. */
function sessionView(session: SessionRecord, currentId: string | undefined) {
  return {
    id: session.id,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    idleExpiresAt: session.idleExpiresAt.toISOString(),
    expiresAt: session.absoluteExpiresAt.toISOString(),
    authMethod: session.authMethod,
    ip: session.ip,
    userAgent: session.userAgent,
    current: session.id === currentId,
  };
}

function parseParams<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse({ ...req.params });
  if (!parsed.success) throw new SwitchboardError('not_found', 'No such session');
  return parsed.data;
}

/** `/sessions` (mine) and `/admin/sessions` (the tenant's). */
export function createSessionRoutes(deps: SessionRouteDeps): Router {
  const router = Router();
  const { db, clock, auth } = deps;
  const own = requireAuth(deps.authenticators, 'sessions:manage_own');
  const manage = requireAuth(deps.authenticators, 'sessions:manage');

  router.get('/sessions', own, async (req, res) => {
    const me = userPrincipalOf(req);
    const sessions = await listLiveUserSessions(db, me.userId, new Date(clock.now()));
    res.json({ sessions: sessions.map((s) => sessionView(s, me.sessionId)) });
  });

  router.delete('/sessions/:id', own, async (req, res) => {
    const { id } = parseParams(IdParamSchema, req);
    const me = userPrincipalOf(req);
    const session = await getSession(db, id);
    // Someone else's session looks exactly like a missing one.
    if (!session || session.userId !== me.userId || !isSessionLive(session, clock.now())) {
      throw new SwitchboardError('not_found', 'No such session');
    }
    await auth.sessions.revoke(id, me.tenantId, 'logout', { actorType: 'user', actorId: me.userId }, requestContext(req));
    if (id === me.sessionId) clearRefreshCookie(res);
    res.status(204).end();
  });

  router.get('/admin/sessions', manage, async (req, res) => {
    const me = userPrincipalOf(req);
    const parsed = AdminListQuerySchema.safeParse({ ...req.query });
    if (!parsed.success) {
      throw new SwitchboardError('validation_failed', 'Query failed validation', {
        issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const rows = await listLiveTenantSessions(db, me.tenantId, new Date(clock.now()), {
      ...(parsed.data.userId === undefined ? {} : { userId: parsed.data.userId }),
      limit: parsed.data.limit,
    });
    res.json({ sessions: rows.map((s) => ({ ...sessionView(s, me.sessionId), userId: s.userId, email: s.email, role: s.role })) });
  });

  /** Admins may not end an owner's sessions; the tenant boundary is checked by the lookups. */
  const assertMayManage = (actorRole: string, targetRole: string) => {
    if (targetRole === 'owner' && actorRole !== 'owner') throw new SwitchboardError('forbidden', "Only an owner may end an owner's sessions");
  };

  router.delete('/admin/sessions/:id', manage, async (req, res) => {
    const { id } = parseParams(IdParamSchema, req);
    const me = userPrincipalOf(req);
    const session = await getSession(db, id);
    if (!session || session.tenantId !== me.tenantId || !isSessionLive(session, clock.now())) {
      throw new SwitchboardError('not_found', 'No such session');
    }
    const owner = await getUser(db, session.userId);
    assertMayManage(me.role, owner?.role ?? 'member');
    await auth.sessions.revoke(id, me.tenantId, 'admin', { actorType: 'user', actorId: me.userId }, requestContext(req));
    res.status(204).end();
  });

  router.post('/admin/users/:userId/sessions/revoke', manage, async (req, res) => {
    const { userId } = parseParams(UserParamSchema, req);
    parseBody(z.strictObject({}), req.body ?? {});
    const me = userPrincipalOf(req);
    const target = await getUser(db, userId);
    if (!target || target.tenantId !== me.tenantId) throw new SwitchboardError('not_found', 'No such user');
    assertMayManage(me.role, target.role);
    const revoked = await auth.sessions.revokeAllForUser(target, 'admin', { actorType: 'user', actorId: me.userId }, requestContext(req));
    res.json({ revokedSessions: revoked });
  });

  return router;
}
