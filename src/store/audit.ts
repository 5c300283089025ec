/** The audit log: append-only facts about security-relevant events. Ids, types and counts only. */
import type { Queryable } from './db.ts';

/** One audit entry. `details` must never hold message text, tokens or secrets. */
export interface AuditEntry {
  readonly tenantId?: string;
  readonly actorType: 'user' | 'system' | 'platform' | 'api_key';
  readonly actorId?: string;
  readonly action: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null | readonly string[] | Readonly<Record<string, number>>>>;
}

/** Appends one entry. */
export async function appendAudit(q: Queryable, entry: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.tenantId ?? null,
      entry.actorType,
      entry.actorId ?? null,
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.ip ?? null,
      entry.userAgent?.slice(0, 500) ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
}
