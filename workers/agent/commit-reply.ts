/**
 * Writes a reply and its outbox row in one transaction, and closes the inbound event. The
 * UNIQUE reply-per-event index makes a second writer (a stalled job run twice) a no-op.
 */
import type { IdSource } from '../../src/core/clock.ts';
import type { Platform } from '../../src/core/envelope.ts';
import { isUniqueViolation, withTransaction, type Db } from '../../src/store/db.ts';
import { insertMessage } from '../../src/store/messages.ts';
import { insertOutbox } from '../../src/store/outbox.ts';
import { setInboundEventStatus } from '../../src/store/inbound-events.ts';
import type { PiiAction } from '../../src/store/tenants.ts';
import { sanitizeText } from '../../src/pipeline/sanitize.ts';
import { scanPii } from '../../src/pipeline/pii/index.ts';
import { protectText, type TextSealer } from '../../src/pipeline/protect-text.ts';

/** The platform identity replies are written under. */
export const AGENT_AUTHOR = { platformUserId: 'switchboard-agent', displayName: 'Switchboard' } as const;

/** Longest reply stored; adapters split it to their platform's limits when sending. */
export const REPLY_MAX_CHARS = 100_000;

/** What committing a reply needs. */
export interface CommitReplyInput {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly ids: IdSource;
  readonly eventId: string;
  readonly tenantId: string;
  readonly conversationId: string;
  readonly platform: Platform;
  readonly piiAction: PiiAction;
  readonly text: string;
  /** 'answered' for a model reply, 'failed' for the apology written after giving up. */
  readonly eventStatus: 'answered' | 'failed';
  readonly errorCode?: string;
}

/** The committed reply, or `undefined` when another run already answered this event. */
export async function commitReply(
  input: CommitReplyInput,
): Promise<{ messageId: string; outboxId: string; piiTypes: string[] } | undefined> {
  // Model output is untrusted text like any other: sanitize it and keep its PII out of plain columns.
  const cleaned = sanitizeText(input.text.length > 0 ? input.text : '(empty reply)', { maxChars: REPLY_MAX_CHARS });
  const scan = scanPii(cleaned.text);
  const messageId = input.ids();
  const outboxId = input.ids();
  // Replies are never blocked: 'block' applies to what people send; the reply is stored redacted.
  const stored = protectText(input.sealer, messageId, cleaned.text, scan, input.piiAction === 'log' ? 'log' : 'redact');
  try {
    await withTransaction(input.db, async (tx) => {
      await insertMessage(tx, {
        id: messageId,
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        direction: 'out',
        replyToEventId: input.eventId,
        authorPlatformId: AGENT_AUTHOR.platformUserId,
        authorDisplayName: AGENT_AUTHOR.displayName,
        textRedacted: stored.textRedacted,
        ...(stored.originalSealed === undefined ? {} : { originalSealed: stored.originalSealed }),
        piiFindings: scan.findings.map(({ type, start, end }) => ({ type, start, end })),
        piiLevel: scan.level,
        piiAction: input.piiAction,
        sanitizerChanges: cleaned.changes,
        verifiedBy: 'agent',
      });
      await insertOutbox(tx, {
        id: outboxId,
        tenantId: input.tenantId,
        messageId,
        conversationId: input.conversationId,
        platform: input.platform,
      });
      await setInboundEventStatus(tx, input.eventId, input.eventStatus, input.errorCode);
    });
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
  return { messageId, outboxId, piiTypes: scan.findings.map((f) => f.type) };
}
