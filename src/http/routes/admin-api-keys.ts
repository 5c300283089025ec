/**
 * `/admin/api-keys`: create (the token is shown once), list, rotate and revoke the tenant's API
 * keys. Only signed-in users manage keys (a key never mints keys), and nobody can give a key a
 * role or a scope beyond their own.
 */
import { Router } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import { isUniqueViolation, withTransaction, type Db } from '../../store/db.ts';
import type { Queryable } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import {
  existingConversationIds,
  getApiKey,
  insertApiKey,
  listApiKeys,
  setApiKeyReplacedBy,
  setApiKeyRevokedAt,
  type ApiKeyRecord,
  type NewApiKey,
} from '../../store/api-keys.ts';
import { getTenantUser } from '../../store/users.ts';
import { apiKeyDisplayPrefix, generateApiKey } from '../../auth/api-keys.ts';
import type { ApiKeyAuth } from '../../auth/api-key-authenticator.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { PERMISSIONS, ROLE_PERMISSIONS, type Permission } from '../../auth/rbac.ts';
import { RoleSchema, type Role } from '../../auth/token-claims.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody, parseQuery } from '../validate.ts';
import { decodeTimeCursor, nextTimeCursor } from '../cursor.ts';

const DAY_MS = 86_400_000;

/** What the API key routes need. */
export interface AdminApiKeyRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly authenticators: readonly Authenticator[];
  readonly apiKeys: Pick<ApiKeyAuth, 'hash'>;
  /** API_KEY_MAX_TTL_DAYS: 0 means no limit. */
  readonly maxTtlDays: number;
  /** API_KEY_MAX_OVERLAP_SECONDS. */
  readonly maxOverlapSeconds: number;
}

const uniqueItems = <T>(items: readonly T[]): boolean => new Set(items).size === items.length;

const CreateBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: RoleSchema.optional(),
  scopes: z.array(z.enum(PERMISSIONS)).min(1).max(PERMISSIONS.length).refine(uniqueItems, 'scopes must not repeat'),
  conversationIds: z.array(z.uuid()).min(1).max(100).refine(uniqueItems, 'conversationIds must not repeat').optional(),
  userId: z.uuid().optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

const RotateBodySchema = z.strictObject({
  overlapSeconds: z.int().min(0).max(86_400).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(200).optional(),
  includeInactive: z.enum(['true', 'false']).optional(),
});


/** The shape of a key in responses: everything but the hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly role: Role;
  readonly scopes: readonly Permission[];
  readonly conversationIds: readonly string[] | null;
  readonly userId: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly rotatedFrom: string | null;
  readonly replacedBy: string | null;
  /** `rotating`: replaced, and the old secret still works until `revokedAt`. */
  readonly status: 'active' | 'rotating' | 'revoked' | 'expired';
}

/** A key as responses show it, its status judged at `now`. */
export function toApiKeyView(key: ApiKeyRecord, now: number): ApiKeyView {
  const revoked = key.revokedAt !== null && key.revokedAt.getTime() <= now;
  const expired = key.expiresAt !== null && key.expiresAt.getTime() <= now;
  const status = revoked ? 'revoked' : expired ? 'expired' : key.revokedAt !== null ? 'rotating' : 'active';
  return {
    id: key.id,
    name: key.name,
    prefix: apiKeyDisplayPrefix(key.publicId),
    role: key.role,
    scopes: key.scopes,
    conversationIds: key.conversationIds,
    userId: key.userId,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    rotatedFrom: key.rotatedFrom,
    replacedBy: key.replacedBy,
    status,
  };
}

function invalid(path: string, message: string): SwitchboardError {
  return new SwitchboardError('validation_failed', 'Request body failed validation', { issues: [{ path, message }] });
}


/** Roles an actor may give: owners any, everyone else anything but owner. */
function canGrantRole(actorRole: Role, role: Role): boolean {
  return role !== 'owner' || actorRole === 'owner';
}

/** Refuses a role or scopes beyond the actor's own, and scopes the key's role does not hold (dead scopes). */
function checkGrant(actorRole: Role, role: Role, scopes: readonly Permission[]): void {
  if (!canGrantRole(actorRole, role)) throw invalid('role', 'not a role you can grant');
  scopes.forEach((scope, index) => {
    if (!ROLE_PERMISSIONS[actorRole].has(scope)) throw invalid(`scopes.${index}`, 'not a permission you hold');
    if (!ROLE_PERMISSIONS[role].has(scope)) throw invalid(`scopes.${index}`, `not a permission of role ${role}`);
  });
}

/** Resolves the expiry: requested (in the future, within the limit) or the default lifetime. */
function resolveExpiry(requested: string | undefined, now: number, maxTtlDays: number, fallback: Date | null): Date | null {
  const limit = maxTtlDays > 0 ? now + maxTtlDays * DAY_MS : undefined;
  if (requested === undefined) {
    if (fallback !== null && fallback.getTime() > now) return fallback;
    return limit === undefined ? null : new Date(limit);
  }
  const at = new Date(requested);
  if (at.getTime() <= now) throw invalid('expiresAt', 'must be in the future');
  if (limit !== undefined && at.getTime() > limit) throw invalid('expiresAt', `must be within ${maxTtlDays} days`);
  return at;
}

/** Inserts a key with a fresh token; retries the (astronomically rare) public id collision. */
async function insertWithToken(
  q: Queryable,
  hash: (token: string) => Buffer,
  key: Omit<NewApiKey, 'publicId' | 'secretHash'>,
): Promise<{ record: ApiKeyRecord; token: string }> {
  for (let attempt = 0; ; attempt += 1) {
    const generated = generateApiKey();
    try {
      // A savepoint keeps the surrounding transaction usable after a collision.
      await q.query('SAVEPOINT api_key_insert');
      const record = await insertApiKey(q, { ...key, publicId: generated.publicId, secretHash: hash(generated.token) });
      await q.query('RELEASE SAVEPOINT api_key_insert');
      return { record, token: generated.token };
    } catch (err) {
      await q.query('ROLLBACK TO SAVEPOINT api_key_insert').catch(() => undefined);
      if (!isUniqueViolation(err) || attempt >= 2) throw err;
    }
  }
}

/** The API key management routes. */
export function createAdminApiKeyRoutes(deps: AdminApiKeyRouteDeps): Router {
  const router = Router();
  const manage = requireAuth(deps.authenticators, 'api_keys:manage');
  const auditMeta = (req: { ip?: string | undefined; get(name: string): string | undefined }) => ({
    ip: req.ip ?? '',
    userAgent: req.get('user-agent') ?? '',
  });

  router.post('/admin/api-keys', manage, async (req, res) => {
    const actor = userPrincipalOf(req);
    const body = parseBody(CreateBodySchema, req.body);
    const now = deps.clock.now();
    const created = await withTransaction(deps.db, async (tx) => {
      let role: Role = body.role ?? 'agent';
      if (body.userId !== undefined) {
        const user = await getTenantUser(tx, actor.tenantId, body.userId);
        if (!user || user.disabled) throw invalid('userId', 'no such enabled user in this tenant');
        if (body.role !== undefined && body.role !== user.role) throw invalid('role', `must be the user's role (${user.role})`);
        role = user.role;
      }
      checkGrant(actor.role, role, body.scopes);
      if (body.conversationIds !== undefined) {
        const found = await existingConversationIds(tx, actor.tenantId, body.conversationIds);
        body.conversationIds.forEach((id, index) => {
          if (!found.has(id)) throw invalid(`conversationIds.${index}`, 'no such conversation in this tenant');
        });
      }
      const { record, token } = await insertWithToken(tx, deps.apiKeys.hash, {
        tenantId: actor.tenantId,
        name: body.name,
        role,
        scopes: body.scopes,
        conversationIds: body.conversationIds ?? null,
        userId: body.userId ?? null,
        createdBy: actor.userId,
        createdAt: new Date(now),
        expiresAt: resolveExpiry(body.expiresAt, now, deps.maxTtlDays, null),
        rotatedFrom: null,
      });
      await appendAudit(tx, {
        tenantId: actor.tenantId,
        actorType: 'user',
        actorId: actor.userId,
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: record.id,
        ...auditMeta(req),
        details: {
          publicId: record.publicId,
          role: record.role,
          scopes: [...record.scopes],
          expiresAt: record.expiresAt?.toISOString() ?? null,
          conversations: record.conversationIds?.length ?? null,
          boundUser: record.userId,
        },
      });
      return { record, token };
    });
    res.status(201).json({ apiKey: toApiKeyView(created.record, now), secret: created.token });
  });

  router.get('/admin/api-keys', manage, async (req, res) => {
    const actor = userPrincipalOf(req);
    const query = parseQuery(ListQuerySchema, req.query);
    const limit = query.limit ?? 50;
    const after = query.cursor === undefined ? undefined : decodeTimeCursor(query.cursor);
    const now = deps.clock.now();
    const keys = await listApiKeys(deps.db, actor.tenantId, {
      limit: limit + 1,
      ...(after ? { after } : {}),
      includeInactive: query.includeInactive === 'true',
      now: new Date(now),
    });
    const page = keys.slice(0, limit);
    const nextCursor = nextTimeCursor(keys, limit);
    res.json({ apiKeys: page.map((k) => toApiKeyView(k, now)), nextCursor });
  });

  router.post('/admin/api-keys/:id/rotate', manage, async (req, res) => {
    const actor = userPrincipalOf(req);
    const id = keyIdParam(req.params['id']);
    const body = parseBody(RotateBodySchema, req.body ?? {});
    const overlapSeconds = body.overlapSeconds ?? 0;
    if (overlapSeconds > deps.maxOverlapSeconds) throw invalid('overlapSeconds', `must be at most ${deps.maxOverlapSeconds}`);
    const now = deps.clock.now();
    const result = await withTransaction(deps.db, async (tx) => {
      const old = await getApiKey(tx, actor.tenantId, id, true);
      if (!old) throw new SwitchboardError('not_found', 'No such API key');
      if (old.revokedAt !== null && old.revokedAt.getTime() <= now) throw new SwitchboardError('conflict', 'The key is revoked');
      if (old.replacedBy !== null) throw new SwitchboardError('conflict', 'The key was already rotated; rotate its successor');
      if (old.expiresAt !== null && old.expiresAt.getTime() <= now) throw new SwitchboardError('conflict', 'The key has expired; create a new one');
      // A new secret for a key is as powerful as the key: only someone who could create it may rotate it.
      if (!canGrantRole(actor.role, old.role) || old.scopes.some((s) => !ROLE_PERMISSIONS[actor.role].has(s))) {
        throw new SwitchboardError('forbidden', 'This key has a role or scopes beyond yours');
      }
      const { record, token } = await insertWithToken(tx, deps.apiKeys.hash, {
        tenantId: actor.tenantId,
        name: old.name,
        role: old.role,
        scopes: old.scopes,
        conversationIds: old.conversationIds,
        userId: old.userId,
        createdBy: actor.userId,
        createdAt: new Date(now),
        expiresAt: resolveExpiry(body.expiresAt, now, deps.maxTtlDays, old.expiresAt),
        rotatedFrom: old.id,
      });
      await setApiKeyReplacedBy(tx, actor.tenantId, old.id, record.id);
      const previous = await setApiKeyRevokedAt(tx, actor.tenantId, old.id, new Date(now + overlapSeconds * 1000));
      await appendAudit(tx, {
        tenantId: actor.tenantId,
        actorType: 'user',
        actorId: actor.userId,
        action: 'api_key.rotated',
        targetType: 'api_key',
        targetId: old.id,
        ...auditMeta(req),
        details: { publicId: old.publicId, newKeyId: record.id, newPublicId: record.publicId, overlapSeconds },
      });
      return { record, token, previous: previous ?? old };
    });
    res.status(201).json({ apiKey: toApiKeyView(result.record, now), secret: result.token, previous: toApiKeyView(result.previous, now) });
  });

  router.delete('/admin/api-keys/:id', manage, async (req, res) => {
    const actor = userPrincipalOf(req);
    const id = keyIdParam(req.params['id']);
    const now = deps.clock.now();
    const revoked = await withTransaction(deps.db, async (tx) => {
      const before = await getApiKey(tx, actor.tenantId, id, true);
      if (!before) throw new SwitchboardError('not_found', 'No such API key');
      const after = await setApiKeyRevokedAt(tx, actor.tenantId, id, new Date(now));
      await appendAudit(tx, {
        tenantId: actor.tenantId,
        actorType: 'user',
        actorId: actor.userId,
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: id,
        ...auditMeta(req),
        details: { publicId: before.publicId, alreadyRevoked: before.revokedAt !== null && before.revokedAt.getTime() <= now },
      });
      return after ?? before;
    });
    res.json({ apiKey: toApiKeyView(revoked, now) });
  });

  return router;
}

function keyIdParam(value: unknown): string {
  const parsed = z.uuid().safeParse(value);
  if (!parsed.success) throw new SwitchboardError('not_found', 'No such API key');
  return parsed.data;
}

