/**
 * A person redacting their own message: the stored text becomes a fixed marker, the sealed original
 * and the PII findings are erased (and the sealed original of the agent's reply to it), and who and
 * when are recorded. One transaction, audited.
 */
import { withTransaction, type Db, type Queryable } from './db.ts';
import { appendAudit } from './audit.ts';

/** The text a message redacted by its author shows, to people and to the model. */
export const REDACTED_BY_USER_TEXT = '[REDACTED BY USER]';

/** Where a request came from, for the audit entry. */
export interface RequestOrigin {
  readonly ip?: string;
  readonly userAgent?: string;
}

/** What happened to a redaction request. */
export type RedactionOutcome =
  | {
      readonly kind: 'redacted';
      readonly messageId: string;
      readonly conversationId: string;
      readonly redactedAt: Date;
      readonly redactedBy: string;
      /** False when it had already been redacted (the call is idempotent). */
      readonly changed: boolean;
    }
  /** The caller cannot see this message (no such id, another tenant, or not a participant). */
  | { readonly kind: 'not_found' }
  /** The caller can see it, but did not write it. */
  | { readonly kind: 'not_author' };

interface TargetRow {
  id: string;
  conversation_id: string;
  direction: 'in' | 'out';
  author_user_id: string | null;
  redacted_at: Date | null;
  redacted_by: string | null;
  inbound_event_id: string | null;
  had_original: boolean;
  findings: number;
}

/** Redacts the caller's own message; idempotent. */
export async function redactOwnMessage(
  db: Db,
  input: { tenantId: string; userId: string; messageId: string; at: Date; origin: RequestOrigin },
): Promise<RedactionOutcome> {
  return withTransaction(db, async (tx) => {
    // The row lock orders concurrent redactions of one message: the second sees the first's result.
    const found = await tx.query<TargetRow>(
      `SELECT m.id, m.conversation_id, m.direction, m.author_user_id, m.redacted_at, m.redacted_by, m.inbound_event_id,
              m.original_sealed IS NOT NULL AS had_original, jsonb_array_length(m.pii_findings) AS findings
       FROM messages m
       WHERE m.id = $1 AND m.tenant_id = $2
         AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = m.conversation_id AND p.user_id = $3)
       FOR UPDATE OF m`,
      [input.messageId, input.tenantId, input.userId],
    );
    const row = found.rows[0];
    if (!row) return { kind: 'not_found' };
    if (row.direction !== 'in' || row.author_user_id !== input.userId) return { kind: 'not_author' };
    if (row.redacted_at !== null) {
      return {
        kind: 'redacted',
        messageId: row.id,
        conversationId: row.conversation_id,
        redactedAt: row.redacted_at,
        redactedBy: row.redacted_by ?? input.userId,
        changed: false,
      };
    }
    await tx.query(
      `UPDATE messages
       SET text_redacted = $2, original_sealed = NULL, pii_findings = '[]'::jsonb, pii_level = 'public',
           sanitizer_changes = '[]'::jsonb, redacted_at = $3, redacted_by = $4
       WHERE id = $1`,
      [row.id, REDACTED_BY_USER_TEXT, input.at, input.userId],
    );
    // Under the 'log' policy the agent saw the original and its reply may quote it: the reply's
    // sealed original goes too, so people and the model see the reply's redacted form from now on.
    const replies =
      row.inbound_event_id === null
        ? 0
        : ((
            await tx.query(
              `UPDATE messages SET original_sealed = NULL
               WHERE reply_to_event_id = $1 AND tenant_id = $2 AND original_sealed IS NOT NULL`,
              [row.inbound_event_id, input.tenantId],
            )
          ).rowCount ?? 0);
    await appendAudit(tx, {
      tenantId: input.tenantId,
      actorType: 'user',
      actorId: input.userId,
      action: 'privacy.message_redacted',
      targetType: 'message',
      targetId: row.id,
      ...originFields(input.origin),
      details: {
        conversationId: row.conversation_id,
        originalErased: row.had_original,
        findingsErased: row.findings,
        replyOriginalsErased: replies,
      },
    });
    return {
      kind: 'redacted',
      messageId: row.id,
      conversationId: row.conversation_id,
      redactedAt: input.at,
      redactedBy: input.userId,
      changed: true,
    };
  });
}

/** The audit fields of a request origin, leaving out what is unknown. */
export function originFields(origin: RequestOrigin): { ip?: string; userAgent?: string } {
  return {
    ...(origin.ip === undefined ? {} : { ip: origin.ip }),
    ...(origin.userAgent === undefined ? {} : { userAgent: origin.userAgent }),
  };
}

/** Whether a conversation or message with this id exists in any tenant (to audit probes of foreign ids). */
export async function existsAnywhere(q: Queryable, kind: 'conversation' | 'message', id: string): Promise<boolean> {
  const sql =
    kind === 'conversation' ? 'SELECT 1 FROM conversations WHERE id = $1' : 'SELECT 1 FROM messages WHERE id = $1';
  const result = await q.query(sql, [id]);
  return (result.rowCount ?? 0) > 0;
}
