/** Messages: stored redacted; the original text, when it held PII, sealed by the vault. */
import type { Queryable } from './db.ts';
import type { PiiAction } from './tenants.ts';

/** A PII finding as stored: type and offsets into the sanitized original. */
export interface StoredFinding {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** A message row. */
export interface MessageRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly conversationId: string;
  readonly direction: 'in' | 'out';
  readonly inboundEventId: string | null;
  readonly replyToEventId: string | null;
  readonly clientMessageId: string | null;
  readonly platformMessageId: string | null;
  readonly authorPlatformId: string;
  readonly authorUserId: string | null;
  readonly authorDisplayName: string;
  readonly textRedacted: string;
  readonly originalSealed: Buffer | null;
  readonly piiFindings: readonly StoredFinding[];
  readonly piiAction: PiiAction;
  readonly createdAt: Date;
}

interface MessageRow {
  id: string;
  tenant_id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  inbound_event_id: string | null;
  reply_to_event_id: string | null;
  client_message_id: string | null;
  platform_message_id: string | null;
  author_platform_id: string;
  author_user_id: string | null;
  author_display_name: string;
  text_redacted: string;
  original_sealed: Buffer | null;
  pii_findings: StoredFinding[];
  pii_action: PiiAction;
  created_at: Date;
}

function toRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    conversationId: row.conversation_id,
    direction: row.direction,
    inboundEventId: row.inbound_event_id,
    replyToEventId: row.reply_to_event_id,
    clientMessageId: row.client_message_id,
    platformMessageId: row.platform_message_id,
    authorPlatformId: row.author_platform_id,
    authorUserId: row.author_user_id,
    authorDisplayName: row.author_display_name,
    textRedacted: row.text_redacted,
    originalSealed: row.original_sealed,
    piiFindings: row.pii_findings,
    piiAction: row.pii_action,
    createdAt: row.created_at,
  };
}

/** What inserting a message needs. `id` is chosen by the caller: it is bound into the vault's AAD. */
export interface NewMessage {
  readonly id: string;
  readonly tenantId: string;
  readonly conversationId: string;
  readonly direction: 'in' | 'out';
  readonly inboundEventId?: string;
  readonly replyToEventId?: string;
  readonly clientMessageId?: string;
  readonly platformMessageId?: string;
  readonly authorPlatformId: string;
  readonly authorUserId?: string;
  readonly authorDisplayName: string;
  readonly textRedacted: string;
  readonly originalSealed?: Buffer;
  readonly piiFindings: readonly StoredFinding[];
  readonly piiLevel: string;
  readonly piiAction: PiiAction;
  readonly sanitizerChanges: ReadonlyArray<{ kind: string; count: number }>;
  readonly verifiedBy: string;
}

/** Inserts a message; a second reply to the same event raises a unique violation. */
export async function insertMessage(q: Queryable, m: NewMessage): Promise<void> {
  await q.query(
    `INSERT INTO messages (id, tenant_id, conversation_id, direction, inbound_event_id, reply_to_event_id,
       client_message_id, platform_message_id, author_platform_id, author_user_id, author_display_name,
       text_redacted, original_sealed, pii_findings, pii_level, pii_action, sanitizer_changes, verified_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      m.id,
      m.tenantId,
      m.conversationId,
      m.direction,
      m.inboundEventId ?? null,
      m.replyToEventId ?? null,
      m.clientMessageId ?? null,
      m.platformMessageId ?? null,
      m.authorPlatformId,
      m.authorUserId ?? null,
      m.authorDisplayName,
      m.textRedacted,
      m.originalSealed ?? null,
      JSON.stringify(m.piiFindings),
      m.piiLevel,
      m.piiAction,
      JSON.stringify(m.sanitizerChanges),
      m.verifiedBy,
    ],
  );
}

/** One message by id. */
export async function getMessage(q: Queryable, id: string): Promise<MessageRecord | undefined> {
  const result = await q.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** The message an inbound event carried. */
export async function getMessageByInboundEvent(q: Queryable, eventId: string): Promise<MessageRecord | undefined> {
  const result = await q.query<MessageRow>('SELECT * FROM messages WHERE inbound_event_id = $1', [eventId]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** The reply written for an inbound event, if any. */
export async function getReplyToEvent(q: Queryable, eventId: string): Promise<MessageRecord | undefined> {
  const result = await q.query<MessageRow>('SELECT * FROM messages WHERE reply_to_event_id = $1', [eventId]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** The newest `limit` messages of a conversation up to and including message `upToId`, oldest first. */
export async function recentMessages(
  q: Queryable,
  conversationId: string,
  limit: number,
  upToId?: string,
): Promise<MessageRecord[]> {
  // Compare against the stored row: JS Dates lose Postgres's microseconds.
  const result = await q.query<MessageRow>(
    `SELECT * FROM messages
     WHERE conversation_id = $1
       AND ($2::uuid IS NULL OR (created_at, id) <= (SELECT created_at, id FROM messages WHERE id = $2::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [conversationId, upToId ?? null, limit],
  );
  return result.rows.map(toRecord).reverse();
}

/** A page of history up to `before` (millisecond precision, inclusive), oldest first, and whether more exist. */
export async function historyPage(
  q: Queryable,
  conversationId: string,
  limit: number,
  before?: Date,
): Promise<{ messages: MessageRecord[]; hasMore: boolean }> {
  const result = await q.query<MessageRow>(
    // Clients page by the millisecond ISO time they were shown; compare at that precision and
    // include the boundary millisecond, so nothing is skipped (clients drop repeats by id).
    `SELECT * FROM messages
     WHERE conversation_id = $1 AND ($2::timestamptz IS NULL OR date_trunc('milliseconds', created_at) <= $2)
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [conversationId, before ?? null, limit + 1],
  );
  const rows = result.rows.map(toRecord);
  return { messages: rows.slice(0, limit).reverse(), hasMore: rows.length > limit };
}
