/** Inbound events: one row per accepted platform delivery; the dedupe key and the work state. */
import type { Queryable } from './db.ts';
import type { Platform } from '../core/envelope.ts';

/** Where an inbound event is in its life. `answered`, `ignored` and `failed` are terminal. */
export type InboundEventStatus = 'queued' | 'processing' | 'answered' | 'ignored' | 'failed';

/** An inbound event row. */
export interface InboundEventRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly platform: Platform;
  readonly installationId: string;
  readonly platformEventId: string;
  readonly conversationId: string;
  readonly status: InboundEventStatus;
  readonly attempts: number;
}

interface EventRow {
  id: string;
  tenant_id: string;
  platform: Platform;
  installation_id: string;
  platform_event_id: string;
  conversation_id: string;
  status: InboundEventStatus;
  attempts: number;
}

function toRecord(row: EventRow): InboundEventRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    platform: row.platform,
    installationId: row.installation_id,
    platformEventId: row.platform_event_id,
    conversationId: row.conversation_id,
    status: row.status,
    attempts: row.attempts,
  };
}

/** Inserts the event unless its (platform, installation, event id) exists; returns the new id or undefined. */
export async function insertInboundEvent(
  q: Queryable,
  input: { id: string; tenantId: string; platform: Platform; installationId: string; platformEventId: string; conversationId: string },
): Promise<string | undefined> {
  const result = await q.query<{ id: string }>(
    `INSERT INTO inbound_events (id, tenant_id, platform, installation_id, platform_event_id, conversation_id)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (platform, installation_id, platform_event_id) DO NOTHING
     RETURNING id`,
    [input.id, input.tenantId, input.platform, input.installationId, input.platformEventId, input.conversationId],
  );
  return result.rows[0]?.id;
}

/** The event with this dedupe key. */
export async function findInboundEventByKey(
  q: Queryable,
  platform: Platform,
  installationId: string,
  platformEventId: string,
): Promise<InboundEventRecord | undefined> {
  const result = await q.query<EventRow>(
    'SELECT * FROM inbound_events WHERE platform = $1 AND installation_id = $2 AND platform_event_id = $3',
    [platform, installationId, platformEventId],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Moves a non-terminal event to `processing` and counts the attempt; undefined when terminal or missing. */
export async function claimInboundEvent(q: Queryable, id: string): Promise<InboundEventRecord | undefined> {
  const result = await q.query<EventRow>(
    `UPDATE inbound_events SET status = 'processing', attempts = attempts + 1, updated_at = now()
     WHERE id = $1 AND status IN ('queued', 'processing') RETURNING *`,
    [id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** Sets an event's status (and error code when it failed). */
export async function setInboundEventStatus(
  q: Queryable,
  id: string,
  status: InboundEventStatus,
  errorCode?: string,
): Promise<void> {
  await q.query(
    'UPDATE inbound_events SET status = $2, last_error_code = $3, updated_at = now() WHERE id = $1',
    [id, status, errorCode ?? null],
  );
}

/** Ids of non-terminal events untouched for longer than `staleAfterMs`, oldest first. */
export async function listStaleInboundEvents(q: Queryable, staleAfterMs: number, limit: number): Promise<string[]> {
  const result = await q.query<{ id: string }>(
    `SELECT id FROM inbound_events
     WHERE status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
     ORDER BY updated_at LIMIT $2`,
    [staleAfterMs, limit],
  );
  return result.rows.map((r) => r.id);
}

/** Marks events as just looked at, so the sweeper does not re-enqueue them again at once. */
export async function touchInboundEvents(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE inbound_events SET updated_at = now() WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'processing')`,
    [ids],
  );
}
