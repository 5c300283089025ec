/** Conversations and their participants. */
import type { Queryable } from './db.ts';
import type { ConversationRef, Platform } from '../core/envelope.ts';

/** A conversation row as the code sees it. */
export interface ConversationRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly platform: Platform;
  readonly installationId: string;
  readonly ref: ConversationRef;
}

interface ConversationRow {
  id: string;
  tenant_id: string;
  platform: Platform;
  installation_id: string;
  conversation_key: string;
  channel_id: string;
  thread_id: string | null;
  kind: ConversationRef['kind'];
}

function toRecord(row: ConversationRow): ConversationRecord {
  const ref: ConversationRef = {
    key: row.conversation_key,
    channelId: row.channel_id,
    kind: row.kind,
    ...(row.thread_id === null ? {} : { threadId: row.thread_id }),
  };
  return { id: row.id, tenantId: row.tenant_id, platform: row.platform, installationId: row.installation_id, ref };
}

/**
 * Finds or creates the conversation with this key in the tenant. It takes no row lock on an
 * existing conversation, so concurrent messages to one conversation do not serialize on it.
 */
export async function upsertConversation(
  q: Queryable,
  input: { tenantId: string; platform: Platform; installationId: string; ref: ConversationRef },
): Promise<string> {
  const existing = await q.query<{ id: string }>(
    'SELECT id FROM conversations WHERE tenant_id = $1 AND conversation_key = $2',
    [input.tenantId, input.ref.key],
  );
  if (existing.rows[0]) return existing.rows[0].id;
  const result = await q.query<{ id: string }>(
    `INSERT INTO conversations (tenant_id, platform, installation_id, conversation_key, channel_id, thread_id, kind)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, conversation_key) DO NOTHING
     RETURNING id`,
    [
      input.tenantId,
      input.platform,
      input.installationId,
      input.ref.key,
      input.ref.channelId,
      input.ref.threadId ?? null,
      input.ref.kind,
    ],
  );
  const inserted = result.rows[0];
  if (inserted) return inserted.id;
  // Created concurrently by another transaction: it is visible now that the insert waited for it.
  const raced = await q.query<{ id: string }>(
    'SELECT id FROM conversations WHERE tenant_id = $1 AND conversation_key = $2',
    [input.tenantId, input.ref.key],
  );
  if (!raced.rows[0]) throw new Error('conversation upsert found no row');
  return raced.rows[0].id;
}

/** Records activity on a conversation; outside the ingest transaction so it never holds a lock there. */
export async function touchConversation(q: Queryable, conversationId: string): Promise<void> {
  await q.query(
    `UPDATE conversations SET last_message_at = now() WHERE id = $1 AND last_message_at < now() - interval '1 second'`,
    [conversationId],
  );
}

/** Adds a participant if missing. Existing rows are left alone (and unlocked) on the hot path. */
export async function upsertParticipant(
  q: Queryable,
  input: { conversationId: string; platformUserId: string; userId?: string; displayName: string; isAgent: boolean },
): Promise<void> {
  await q.query(
    `INSERT INTO participants (conversation_id, platform_user_id, user_id, display_name, is_agent)
     SELECT $1, $2, $3, $4, $5
     WHERE NOT EXISTS (SELECT 1 FROM participants WHERE conversation_id = $1 AND platform_user_id = $2)
     ON CONFLICT (conversation_id, platform_user_id) DO NOTHING`,
    [input.conversationId, input.platformUserId, input.userId ?? null, input.displayName, input.isAgent],
  );
}

/** One conversation by id. */
export async function getConversation(q: Queryable, id: string): Promise<ConversationRecord | undefined> {
  const result = await q.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [id]);
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** One conversation by its key in a tenant. */
export async function findConversationByKey(
  q: Queryable,
  tenantId: string,
  key: string,
): Promise<ConversationRecord | undefined> {
  const result = await q.query<ConversationRow>(
    'SELECT * FROM conversations WHERE tenant_id = $1 AND conversation_key = $2',
    [tenantId, key],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : undefined;
}

/** True when the user takes part in the conversation (the access rule for conversation content). */
export async function isParticipant(q: Queryable, conversationId: string, userId: string): Promise<boolean> {
  const result = await q.query('SELECT 1 FROM participants WHERE conversation_id = $1 AND user_id = $2', [
    conversationId,
    userId,
  ]);
  return (result.rowCount ?? 0) > 0;
}

/** User ids of the human participants of a conversation. */
export async function participantUserIds(q: Queryable, conversationId: string): Promise<string[]> {
  const result = await q.query<{ user_id: string }>(
    'SELECT user_id FROM participants WHERE conversation_id = $1 AND user_id IS NOT NULL',
    [conversationId],
  );
  return result.rows.map((r) => r.user_id);
}
