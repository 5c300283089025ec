/**
 * `GET /audit`: the tenant's audit log, newest first, keyset-paginated by row id, filtered by
 * action (exact, or a `prefix.*`), time, actor and target. Permission `audit:read` (owners,
 * admins, auditors, and keys scoped to it). Every read is itself audited (`audit.read`).
 */
import { Router } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Db, Queryable } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import type { Authenticator } from '../../auth/principal.ts';
import { principalOf, requireAuth } from '../auth-middleware.ts';

/** What the audit route needs. */
export interface AuditRouteDeps {
  readonly db: Db;
  readonly authenticators: readonly Authenticator[];
}

const ACTION = /^[a-z0-9_]+(?:\.[a-z0-9_]+)*(?:\.\*)?$/;

const QuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().regex(/^[1-9][0-9]{0,17}$/, 'invalid cursor').optional(),
  action: z.string().max(100).regex(ACTION, 'an action such as auth.login, or a prefix such as auth.*').optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  actorId: z.string().min(1).max(100).optional(),
  targetId: z.string().min(1).max(100).optional(),
});

type AuditQuery = z.infer<typeof QuerySchema>;

/** One audit row as the API shows it. */
export interface AuditEntryView {
  readonly id: string;
  readonly at: string;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly details: unknown;
}

interface AuditRow {
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: unknown;
}

/**
 * Reads one page of a tenant's audit rows. Lives here rather than in src/store/audit.ts because
 * that module is the chain's writer; reading needs only the columns every version has.
 */
async function readAuditPage(q: Queryable, tenantId: string, query: AuditQuery, limit: number): Promise<AuditRow[]> {
  const exact = query.action !== undefined && !query.action.endsWith('.*') ? query.action : null;
  const prefix = query.action?.endsWith('.*') ? query.action.slice(0, -1) : null;
  const result = await q.query<AuditRow>(
    `SELECT id::text AS id, at, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details
     FROM audit_log
     WHERE tenant_id = $1
       AND ($2::bigint IS NULL OR id < $2::bigint)
       AND ($3::text IS NULL OR action = $3)
       AND ($4::text IS NULL OR starts_with(action, $4))
       AND ($5::timestamptz IS NULL OR at >= $5)
       AND ($6::timestamptz IS NULL OR at < $6)
       AND ($7::text IS NULL OR actor_id = $7)
       AND ($8::text IS NULL OR target_id = $8)
     ORDER BY audit_log.id DESC
     LIMIT $9`,
    [tenantId, query.cursor ?? null, exact, prefix, query.since ?? null, query.until ?? null, query.actorId ?? null, query.targetId ?? null, limit],
  );
  return result.rows;
}

function toView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  };
}

/** The audit read route. */
export function createAuditRoutes(deps: AuditRouteDeps): Router {
  const router = Router();
  router.get('/audit', requireAuth(deps.authenticators, 'audit:read'), async (req, res) => {
    const principal = principalOf(req);
    const parsed = QuerySchema.safeParse(req.query);
    if (!parsed.success) {
      throw new SwitchboardError('validation_failed', 'Query failed validation', {
        issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const query = parsed.data;
    if (query.since !== undefined && query.until !== undefined && Date.parse(query.since) >= Date.parse(query.until)) {
      throw new SwitchboardError('validation_failed', 'Query failed validation', { issues: [{ path: 'until', message: 'must be after since' }] });
    }
    const limit = query.limit ?? 50;
    const rows = await readAuditPage(deps.db, principal.tenantId, query, limit + 1);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
    await appendAudit(deps.db, {
      tenantId: principal.tenantId,
      ...(principal.kind === 'user'
        ? { actorType: 'user' as const, actorId: principal.userId }
        : { actorType: 'api_key' as const, actorId: principal.apiKeyId }),
      action: 'audit.read',
      ip: req.ip ?? '',
      userAgent: req.get('user-agent') ?? '',
      details: {
        returned: page.length,
        ...(query.action === undefined ? {} : { action: query.action }),
        ...(query.since === undefined ? {} : { since: query.since }),
        ...(query.until === undefined ? {} : { until: query.until }),
      },
    });
    res.json({ entries: page.map(toView), nextCursor });
  });
  return router;
}
