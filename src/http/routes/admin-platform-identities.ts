/**
 * `/admin/platform-identities`: link a Slack, Discord or Telegram account to a tenant user, so
 * their platform messages carry the user id and the participants-only rule applies to those
 * conversations too. Links are made by admins who know both sides; the installation must belong
 * to the admin's tenant, and so must the user.
 */
import { Router } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Db } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import { getUser } from '../../store/users.ts';
import {
  findInstallation,
  linkPlatformIdentity,
  listPlatformIdentities,
  unlinkPlatformIdentity,
} from '../../store/installations.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { principalOf, requireAuth } from '../auth-middleware.ts';
import { parseBody } from '../validate.ts';

const PlatformSchema = z.enum(['slack', 'discord', 'telegram', 'email', 'whatsapp']);
const IdentitySchema = z.strictObject({
  platform: PlatformSchema,
  installationId: z.string().min(1).max(200),
  platformUserId: z.string().min(1).max(200),
});
const LinkBodySchema = IdentitySchema.extend({ userId: z.uuid() });
const ListQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).optional() });

/** The platform identity admin routes. */
export function createAdminPlatformIdentityRoutes(deps: { db: Db; authenticators: readonly Authenticator[] }): Router {
  const router = Router();
  const manage = requireAuth(deps.authenticators, 'users:manage');

  router.get('/admin/platform-identities', requireAuth(deps.authenticators, 'users:read'), async (req, res) => {
    const query = parseBody(ListQuerySchema, req.query);
    const links = await listPlatformIdentities(deps.db, principalOf(req).tenantId, query.limit ?? 100);
    res.json({ identities: links.map((l) => ({ ...l, linkedAt: l.linkedAt.toISOString() })) });
  });

  router.post('/admin/platform-identities', manage, async (req, res) => {
    const body = parseBody(LinkBodySchema, req.body);
    const principal = principalOf(req);
    const [installation, user] = await Promise.all([
      findInstallation(deps.db, body.platform, body.installationId),
      getUser(deps.db, body.userId),
    ]);
    // Same answer for "missing" and "another tenant's", so ids of other tenants cannot be probed.
    if (!installation || installation.tenantId !== principal.tenantId || !user || user.tenantId !== principal.tenantId) {
      throw new SwitchboardError('not_found', 'No such installation or user');
    }
    await linkPlatformIdentity(deps.db, body);
    await appendAudit(deps.db, {
      tenantId: principal.tenantId,
      actorType: principal.kind === 'user' ? 'user' : 'api_key',
      actorId: principal.kind === 'user' ? principal.userId : principal.apiKeyId,
      action: 'admin.platform_identity_linked',
      targetType: 'user',
      targetId: body.userId,
      details: { platform: body.platform, installationId: body.installationId },
    });
    res.status(201).json({ identity: { ...body } });
  });

  router.delete('/admin/platform-identities', manage, async (req, res) => {
    const body = parseBody(IdentitySchema, req.body);
    const principal = principalOf(req);
    if (!(await unlinkPlatformIdentity(deps.db, principal.tenantId, body))) {
      throw new SwitchboardError('not_found', 'No such link');
    }
    await appendAudit(deps.db, {
      tenantId: principal.tenantId,
      actorType: principal.kind === 'user' ? 'user' : 'api_key',
      actorId: principal.kind === 'user' ? principal.userId : principal.apiKeyId,
      action: 'admin.platform_identity_unlinked',
      details: { platform: body.platform, installationId: body.installationId },
    });
    res.status(204).end();
  });
  return router;
}
