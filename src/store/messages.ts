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

/** A position in a newest-first listing: the row's time (microseconds, UTC ISO) and id. */
export interface ListCursor {
  readonly at: string;
  readonly id: string;
}

// Postgres keeps microseconds, JS Dates do not: cursors carry the time as Postgres prints it.
const CURSOR_TIME = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** A message with its redaction metadata and its cursor, as the data-rights API lists it. */
export interface ParticipantMessage {
  readonly message: MessageRecord;
  readonly redactedAt: Date | null;
  readonly redactedBy: string | null;
  readonly cursor: ListCursor;
}

interface ParticipantMessageRow extends MessageRow {
  redacted_at: Date | null;
  redacted_by: string | null;
  cursor_at: string;
}

/** True when the conversation exists in the tenant and the user takes part in it. */
export async function canReadConversation(
  q: Queryable,
  input: { tenantId: string; userId: string; conversationId: string },
): Promise<boolean> {
  const result = await q.query(
    `SELECT 1 FROM conversations c
     WHERE c.id = $1 AND c.tenant_id = $2
       AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.user_id = $3)`,
    [input.conversationId, input.tenantId, input.userId],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * One page of a conversation's messages, newest first, strictly older than `after`. The tenant and
 * participation conditions are part of the query, so a caller that skipped the check still gets nothing.
 */
export async function participantMessagesPage(
  q: Queryable,
  input: { tenantId: string; userId: string; conversationId: string; limit: number; after?: ListCursor },
): Promise<{ items: ParticipantMessage[]; hasMore: boolean }> {
  const result = await q.query<ParticipantMessageRow>(
    `SELECT m.*, to_char(m.created_at AT TIME ZONE 'UTC', ${CURSOR_TIME}) AS cursor_at
     FROM messages m
     WHERE m.conversation_id = $1 AND m.tenant_id = $2
       AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = m.conversation_id AND p.user_id = $3)
       AND ($4::timestamptz IS NULL OR (m.created_at, m.id) < ($4::timestamptz, $5::uuid))
     ORDER BY m.created_at DESC, m.id DESC
     LIMIT $6`,
    [input.conversationId, input.tenantId, input.userId, input.after?.at ?? null, input.after?.id ?? null, input.limit + 1],
  );
  const items = result.rows.slice(0, input.limit).map((row) => ({
    message: toRecord(row),
    redactedAt: row.redacted_at,
    redactedBy: row.redacted_by,
    cursor: { at: row.cursor_at, id: row.id },
  }));
  return { items, hasMore: result.rows.length > input.limit };
}

/** A conversation as its participants list it. */
export interface ParticipantConversation {
  readonly id: string;
  readonly platform: string;
  readonly kind: string;
  readonly createdAt: Date;
  readonly lastMessageAt: Date;
  readonly participants: ReadonlyArray<{ displayName: string; isAgent: boolean; isMe: boolean }>;
  readonly participantCount: number;
  readonly cursor: ListCursor;
}

/** How many participants a listing shows per conversation (channels can have thousands). */
export const LISTED_PARTICIPANTS_MAX = 50;

/**
 * One page of the conversations a user takes part in, newest activity first, strictly older than
 * `after`. `onlyIds` narrows it further (API keys limited to some conversations).
 */
export async function participantConversationsPage(
  q: Queryable,
  input: { tenantId: string; userId: string; limit: number; after?: ListCursor; onlyIds?: readonly string[] },
): Promise<{ items: ParticipantConversation[]; hasMore: boolean }> {
  const result = await q.query<{
    id: string;
    platform: string;
    kind: string;
    created_at: Date;
    last_message_at: Date;
    cursor_at: string;
    participant_count: number;
    participants: Array<{ display_name: string; is_agent: boolean; is_me: boolean }>;
  }>(
    `SELECT c.id, c.platform, c.kind, c.created_at, c.last_message_at,
            to_char(c.last_message_at AT TIME ZONE 'UTC', ${CURSOR_TIME}) AS cursor_at,
            (SELECT count(*)::int FROM participants a WHERE a.conversation_id = c.id) AS participant_count,
            (SELECT coalesce(json_agg(json_build_object('display_name', s.display_name, 'is_agent', s.is_agent,
                       'is_me', s.user_id IS NOT DISTINCT FROM $2::uuid)), '[]'::json)
             FROM (SELECT display_name, is_agent, user_id FROM participants a
                   WHERE a.conversation_id = c.id ORDER BY a.joined_at, a.platform_user_id LIMIT $7) s) AS participants
     FROM conversations c
     WHERE c.tenant_id = $1
       AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
       AND ($3::uuid[] IS NULL OR c.id = ANY($3::uuid[]))
       AND ($4::timestamptz IS NULL OR (c.last_message_at, c.id) < ($4::timestamptz, $5::uuid))
     ORDER BY c.last_message_at DESC, c.id DESC
     LIMIT $6`,
    [
      input.tenantId,
      input.userId,
      input.onlyIds ?? null,
      input.after?.at ?? null,
      input.after?.id ?? null,
      input.limit + 1,
      LISTED_PARTICIPANTS_MAX,
    ],
  );
  const items = result.rows.slice(0, input.limit).map((row) => ({
    id: row.id,
    platform: row.platform,
    kind: row.kind,
    createdAt: row.created_at,
    lastMessageAt: row.last_message_at,
    participantCount: row.participant_count,
    participants: row.participants.map((p) => ({ displayName: p.display_name, isAgent: p.is_agent, isMe: p.is_me })),
    cursor: { at: row.cursor_at, id: row.id },
  }));
  return { items, hasMore: result.rows.length > input.limit };
}

/** The columns of a `messages` row as `pg` returns them (for modules that stream rows through cursors). */
export type MessageRowData = MessageRow;

/** Maps a raw `messages` row to a record. */
export function messageRecordFromRow(row: MessageRowData): MessageRecord {
  return toRecord(row);
}
