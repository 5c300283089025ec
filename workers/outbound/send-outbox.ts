/**
 * Sends one outbox row through its platform's adapter. The row's state machine makes this
 * idempotent: only a pending/failed row (or a `sending` row whose lease ran out) is sent. Long
 * replies go out in parts; each part spends the platform's pacing budgets, and the row records
 * delivered parts and the slot booked for the next one, so a retry neither resends nor double-books.
 */
import type { Logger } from '../../src/core/logger.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Metrics } from '../../src/core/metrics.ts';
import type { OutboundAdapter } from '../../src/core/ports.ts';
import type { OutboundMessage, Platform } from '../../src/core/envelope.ts';
import { SwitchboardError, toSwitchboardError } from '../../src/core/errors.ts';
import { splitText } from '../../src/core/split-text.ts';
import type { Db } from '../../src/store/db.ts';
import { claimOutbox, deferOutbox, markOutboxFailed, markOutboxPartSent, markOutboxSent } from '../../src/store/outbox.ts';
import { getMessage, getMessageByInboundEvent } from '../../src/store/messages.ts';
import { getConversation } from '../../src/store/conversations.ts';
import { appendAudit } from '../../src/store/audit.ts';
import { readableText, type TextSealer } from '../../src/pipeline/protect-text.ts';
import type { Pacer } from '../../src/queue/pacer.ts';

/** What sending needs. */
export interface SendDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly adapters: ReadonlyMap<Platform, OutboundAdapter>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly leaseMs: number;
  readonly clock: Clock;
  /** Books pacing slots; absent means no pacing (tests of other parts). */
  readonly pacer?: Pacer;
}

/** How an attempt ended; `deferred` carries how long to wait for the next part's slot. */
export type SendOutcome = { kind: 'sent' } | { kind: 'skipped' } | { kind: 'dead' } | { kind: 'deferred'; waitMs: number };

// A slot this close is taken now rather than bouncing the job through the delayed set.
const SLOT_TOLERANCE_MS = 5;

/**
 * One attempt. A retryable failure marks the row `failed` and rethrows (the job retries, or the
 * caller delays it by `retryAfterMs`); a final or permanent failure marks it `dead`.
 */
export async function sendOutbox(deps: SendDeps, outboxId: string, finalAttempt: boolean, signal: AbortSignal): Promise<SendOutcome> {
  const row = await claimOutbox(deps.db, outboxId, deps.leaseMs);
  if (!row) return { kind: 'skipped' };
  const started = performance.now();
  try {
    const [message, conversation] = await Promise.all([
      getMessage(deps.db, row.messageId),
      getConversation(deps.db, row.conversationId),
    ]);
    if (!message || !conversation) {
      throw new SwitchboardError('not_found', 'Outbox row points at a missing message', { retryable: false });
    }
    const adapter = deps.adapters.get(row.platform);
    if (!adapter) {
      throw new SwitchboardError('adapter_unavailable', 'No adapter for platform', { context: { platform: row.platform } });
    }
    // The platform's id of the message this answers, so adapters can reference it (Discord
    // message_reference, Telegram reply_to_message_id, Slack thread_ts).
    const answered = message.replyToEventId === null ? undefined : await getMessageByInboundEvent(deps.db, message.replyToEventId);
    const replyToPlatformMessageId = answered?.platformMessageId ?? undefined;
    // The person gets the reply as written; redaction protects storage and the model, not the recipient.
    const text = readableText(deps.sealer, message, 'original');
    const parts = adapter.maxMessageChars === undefined ? [text] : splitText(text, adapter.maxMessageChars);
    let nextSlotAt = row.nextSlotAt;
    let lastResult: { platformMessageId?: string } = {};
    for (let index = row.partsSent; index < parts.length; index += 1) {
      const outbound: OutboundMessage = {
        outboxId: row.id,
        messageId: message.id,
        tenantId: row.tenantId,
        platform: row.platform,
        installationId: conversation.installationId,
        conversationId: conversation.id,
        conversation: conversation.ref,
        ...(replyToPlatformMessageId === undefined ? {} : { replyToPlatformMessageId }),
        text: parts[index] ?? '',
        ...(parts.length > 1 ? { part: { index, count: parts.length } } : {}),
      };
      const now = deps.clock.now();
      const rules = adapter.paceRules?.(outbound) ?? [];
      if (nextSlotAt === null && deps.pacer) {
        const wait = await deps.pacer.reserve(rules, now);
        nextSlotAt = new Date(now + wait);
      }
      if (nextSlotAt !== null && nextSlotAt.getTime() - now > SLOT_TOLERANCE_MS) {
        await deferOutbox(deps.db, row.id, nextSlotAt);
        return { kind: 'deferred', waitMs: nextSlotAt.getTime() - now };
      }
      if (deps.pacer) {
        const gateWait = await deps.pacer.gate(rules, now);
        if (gateWait > SLOT_TOLERANCE_MS) {
          // The booked slot came, but a late earlier send (or a shared budget) says not yet.
          await deferOutbox(deps.db, row.id, new Date(now + gateWait));
          return { kind: 'deferred', waitMs: gateWait };
        }
      }
      lastResult = await adapter.send(outbound, signal);
      await deps.pacer?.settle(rules, deps.clock.now());
      await markOutboxPartSent(deps.db, row.id, index + 1);
      nextSlotAt = null;
    }
    await markOutboxSent(deps.db, row.id, lastResult.platformMessageId);
    deps.metrics.sendTotal.inc({ platform: row.platform, outcome: 'sent' });
    deps.metrics.sendSeconds.observe({ platform: row.platform }, (performance.now() - started) / 1000);
    return { kind: 'sent' };
  } catch (err) {
    const error = toSwitchboardError(err, 'send_failed');
    deps.metrics.sendTotal.inc({ platform: row.platform, outcome: error.code });
    if (signal.aborted || (error.retryable && !finalAttempt)) {
      await markOutboxFailed(deps.db, row.id, 'failed', error.code);
      throw error;
    }
    await markOutboxFailed(deps.db, row.id, 'dead', error.code);
    await appendAudit(deps.db, {
      tenantId: row.tenantId,
      actorType: 'system',
      action: 'outbox.dead',
      targetType: 'outbox',
      targetId: row.id,
      details: { platform: row.platform, code: error.code, attempts: row.attempts },
    });
    deps.log.error({ outboxId: row.id, code: error.code }, 'reply could not be delivered; marked dead');
    return { kind: 'dead' };
  }
}
