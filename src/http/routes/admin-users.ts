/**
 * `/admin/users`: list, create and change the tenant's users (role, disabled). Only owners create,
 * promote or change owners; nobody demotes or disables the last enabled owner; disabling a user
 * ends their sessions, closes their sockets (bus `user_revoked`), and their tokens and API keys
 * stop working at once.
 */
import { Router } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { isUniqueViolation, withTransaction, type Db, type Queryable } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import { revokeUserRows } from '../../store/sessions.ts';
import {
  getTenantUser,
  insertTenantUser,
  listTenantUsers,
  lockActiveOwners,
  updateTenantUser,
  type AdminUserRecord,
} from '../../store/users.ts';
import { generatePassword, hashPassword, validateNewPassword } from '../../auth/passwords.ts';
import type { Authenticator, Principal } from '../../auth/principal.ts';
import { RoleSchema, type Role } from '../../auth/token-claims.ts';
import type { Bus } from '../../queue/bus.ts';
import { principalOf, requireAuth } from '../auth-middleware.ts';
import { parseBody, parseQuery } from '../validate.ts';
import { decodeTimeCursor, nextTimeCursor } from '../cursor.ts';

/** What the user admin routes need. */
export interface AdminUserRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly bus: Pick<Bus, 'publish'>;
  readonly log: Logger;
  readonly authenticators: readonly Authenticator[];
}

const CreateBodySchema = z.strictObject({
  email: z.email().max(320),
  displayName: z.string().trim().min(1).max(200).optional(),
  role: RoleSchema,
  // Omitted: generated and shown once (people), or none at all (agents sign in with API keys only).
  password: z.string().min(1).max(1024).optional(),
});

const PatchBodySchema = z
  .strictObject({ role: RoleSchema.optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { message: 'role or disabled is required' });

const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(200).optional(),
  role: RoleSchema.optional(),
  includeDisabled: z.enum(['true', 'false']).optional(),
});


/** A user as the admin endpoints show it (never the password hash). */
export interface AdminUserView {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly createdAt: string;
}

function toView(user: AdminUserRecord): AdminUserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    disabled: user.disabled,
    hasPassword: user.hasPassword,
    createdAt: user.createdAt.toISOString(),
  };
}

function invalid(path: string, message: string): SwitchboardError {
  return new SwitchboardError('validation_failed', 'Request body failed validation', { issues: [{ path, message }] });
}


/** Who did it, for the audit row: a user, or an API key (acting as its user when it has one). */
function auditActor(principal: Principal): { actorType: 'user' | 'api_key'; actorId: string } {
  return principal.kind === 'user' ? { actorType: 'user', actorId: principal.userId } : { actorType: 'api_key', actorId: principal.apiKeyId };
}

/**
 * The actor's role as of now, inside the transaction: a user's role is re-read (the principal was
 * built before the owner lock was taken, and may have been demoted since); a key's is its own.
 */
async function actorRoleNow(q: Queryable, principal: Principal): Promise<Role> {
  if (principal.kind === 'api_key') return principal.role;
  const actor = await getTenantUser(q, principal.tenantId, principal.userId);
  if (!actor || actor.disabled) throw new SwitchboardError('unauthenticated', 'Authentication required');
  return actor.role;
}

function userIdParam(value: unknown): string {
  const parsed = z.uuid().safeParse(value);
  if (!parsed.success) throw new SwitchboardError('not_found', 'No such user');
  return parsed.data;
}

/** The user admin routes. */
export function createAdminUserRoutes(deps: AdminUserRouteDeps): Router {
  const router = Router();
  const meta = (req: { ip?: string | undefined; get(name: string): string | undefined }) => ({
    ip: req.ip ?? '',
    userAgent: req.get('user-agent') ?? '',
  });

  router.get('/admin/users', requireAuth(deps.authenticators, 'users:read'), async (req, res) => {
    const principal = principalOf(req);
    const query = parseQuery(ListQuerySchema, req.query);
    const limit = query.limit ?? 50;
    const after = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor);
    const users = await listTenantUsers(deps.db, principal.tenantId, {
      limit: limit + 1,
      ...(after ? { after } : {}),
      ...(query.role ? { role: query.role } : {}),
      includeDisabled: query.includeDisabled !== 'false',
    });
    const page = users.slice(0, limit);
    const nextCursor = nextTimeCursor(users, limit);
    res.json({ users: page.map(toView), nextCursor });
  });

  router.post('/admin/users', requireAuth(deps.authenticators, 'users:manage'), async (req, res) => {
    const principal = principalOf(req);
    const body = parseBody(CreateBodySchema, req.body);
    if (body.role === 'owner' && principal.role !== 'owner') throw invalid('role', 'only owners can create owners');
    let password: string | undefined;
    if (body.password !== undefined) validateNewPassword(body.password);
    else if (body.role !== 'agent') password = generatePassword();
    const secret = body.password ?? password;
    const passwordHash = secret === undefined ? null : await hashPassword(secret);
    const user = await withTransaction(deps.db, async (tx) => {
      if (body.role === 'owner') {
        await lockActiveOwners(tx, principal.tenantId);
        if ((await actorRoleNow(tx, principal)) !== 'owner') throw invalid('role', 'only owners can create owners');
      }
      const created = await insertTenantUser(tx, {
        tenantId: principal.tenantId,
        email: body.email,
        displayName: body.displayName ?? body.email.split('@')[0] ?? body.email,
        role: body.role,
        passwordHash,
      }).catch((err: unknown) => {
        if (isUniqueViolation(err)) throw new SwitchboardError('conflict', 'A user with this email already exists in the tenant');
        throw err;
      });
      await appendAudit(tx, {
        tenantId: principal.tenantId,
        ...auditActor(principal),
        action: 'admin.user_created',
        targetType: 'user',
        targetId: created.id,
        ...meta(req),
        details: { role: created.role, passwordSet: created.hasPassword },
      });
      return created;
    });
    res.status(201).json({ user: toView(user), ...(password === undefined ? {} : { password }) });
  });

  router.patch('/admin/users/:id', requireAuth(deps.authenticators, 'users:manage'), async (req, res) => {
    const principal = principalOf(req);
    const userId = userIdParam(req.params['id']);
    const body = parseBody(PatchBodySchema, req.body);
    if (body.role === 'owner' && principal.role !== 'owner') throw invalid('role', 'only owners can make owners');
    const now = deps.clock.now();
    const { before, after } = await withTransaction(deps.db, async (tx) => {
      // Owners first, then the target: one lock order for every change, so demotions serialize.
      const owners = await lockActiveOwners(tx, principal.tenantId);
      const target = await getTenantUser(tx, principal.tenantId, userId, true);
      if (!target) throw new SwitchboardError('not_found', 'No such user');
      const actorRole = await actorRoleNow(tx, principal);
      if (body.role === 'owner' && actorRole !== 'owner') throw invalid('role', 'only owners can make owners');
      if (target.role === 'owner' && actorRole !== 'owner') throw new SwitchboardError('forbidden', 'Only owners can change owners');
      const losesOwner = owners.includes(target.id) && ((body.role !== undefined && body.role !== 'owner') || body.disabled === true);
      if (losesOwner && owners.length <= 1) {
        throw new SwitchboardError('conflict', 'The last owner cannot be demoted or disabled; make another owner first');
      }
      const disabledAt = body.disabled === undefined || body.disabled === target.disabled ? undefined : body.disabled ? new Date(now) : null;
      const updated = await updateTenantUser(tx, principal.tenantId, userId, {
        ...(body.role === undefined ? {} : { role: body.role }),
        ...(disabledAt === undefined ? {} : { disabledAt }),
      });
      if (!updated) throw new SwitchboardError('not_found', 'No such user');
      // Their sessions end with the disabling, so enabling them later does not revive old tokens.
      const revoked = disabledAt instanceof Date ? await revokeUserRows(tx, userId, 'user_disabled', disabledAt) : [];
      await appendAudit(tx, {
        tenantId: principal.tenantId,
        ...auditActor(principal),
        action: 'admin.user_updated',
        targetType: 'user',
        targetId: userId,
        ...meta(req),
        details: {
          fromRole: target.role,
          toRole: updated.role,
          wasDisabled: target.disabled,
          disabled: updated.disabled,
          sessionsRevoked: revoked.length,
        },
      });
      return { before: target, after: updated };
    });
    if (after.disabled && !before.disabled) {
      // Sockets in every process close with 4001; tokens already fail (the authenticators check the user).
      await deps.bus.publish({ kind: 'user_revoked', userId }).catch((err: unknown) => {
        deps.log.error({ err, userId }, 'could not publish user_revoked; open sockets close at their next check');
      });
    }
    res.json({ user: toView(after) });
  });

  return router;
}

