/**
 * Ingest: the one door every inbound message passes. validate → sanitize → PII scan → one
 * Postgres transaction (dedupe row + message) → enqueue. Once `accept` resolves the message is
 * committed; if enqueueing fails the sweeper picks the event up later, so nothing accepted is lost.
 */
import type { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import type { Clock, IdSource } from '../core/clock.ts';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';
import { InboundCandidateSchema, InboundEnvelopeSchema, idempotencyKeyOf, type InboundEnvelope } from '../core/envelope.ts';
import type { InboundSink, IngestReceipt } from '../core/ports.ts';
import type { Metrics } from '../core/metrics.ts';
import { withTransaction, type Db } from '../store/db.ts';
import { touchConversation, upsertConversation, upsertParticipant } from '../store/conversations.ts';
import { findInboundEventByKey, insertInboundEvent } from '../store/inbound-events.ts';
import { getMessageByInboundEvent, insertMessage } from '../store/messages.ts';
import { getTenantPiiAction } from '../store/tenants.ts';
import { appendAudit } from '../store/audit.ts';
import { sanitizeText } from './sanitize.ts';
import { scanPii } from './pii/index.ts';
import { protectText, type TextSealer } from './protect-text.ts';

/** How long a tenant's PII policy is cached by ingest. */
export const POLICY_CACHE_MS = 5_000;

/** What ingest needs. */
export interface IngestDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly enqueueAgent: (eventId: string) => Promise<void>;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly maxChars: number;
}

/** Ingest's receipt, with what the sender may be shown about storage. */
export interface IngestResult extends IngestReceipt {
  /** The text as stored (redacted). */
  readonly storedText: string;
  /** PII types found, in order of appearance. */
  readonly piiTypes: readonly string[];
}

/** The inbound sink, with a richer result for first-party channels. */
export interface Ingest extends InboundSink {
  accept(candidate: unknown): Promise<IngestResult>;
}

function issuesOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Creates the ingest pipeline. */
export function createIngest(deps: IngestDeps): Ingest {
  const { db, sealer, metrics, log } = deps;
  // A tenant's PII policy changes rarely; a few seconds of staleness saves a round trip per message.
  const policyCache = new Map<string, { action: Awaited<ReturnType<typeof getTenantPiiAction>>; until: number }>();
  const piiActionOf = async (tenantId: string): Promise<Awaited<ReturnType<typeof getTenantPiiAction>>> => {
    const now = deps.clock.now();
    const cached = policyCache.get(tenantId);
    if (cached && cached.until > now) return cached.action;
    const action = await getTenantPiiAction(db, tenantId);
    if (policyCache.size > 10_000) policyCache.clear();
    policyCache.set(tenantId, { action, until: now + POLICY_CACHE_MS });
    return action;
  };

  async function accept(raw: unknown): Promise<IngestResult> {
    const started = performance.now();
    const parsed = InboundCandidateSchema.safeParse(raw);
    if (!parsed.success) {
      metrics.ingestTotal.inc({ platform: 'unknown', outcome: 'rejected' });
      throw new SwitchboardError('validation_failed', 'Message failed validation', { issues: issuesOf(parsed.error) });
    }
    const candidate = parsed.data;
    const platform = candidate.platform;
    try {
      const sanitized = sanitizeText(candidate.text, { maxChars: deps.maxChars });
      const scan = scanPii(sanitized.text);
      const piiAction = await piiActionOf(candidate.tenantId);
      if (piiAction === undefined) throw new SwitchboardError('not_found', 'Unknown tenant');
      const piiTypes = scan.findings.map((f) => f.type);

      const envelope: InboundEnvelope = InboundEnvelopeSchema.parse({
        schemaVersion: 1,
        envelopeId: deps.ids(),
        tenantId: candidate.tenantId,
        platform,
        installationId: candidate.installationId,
        platformEventId: candidate.platformEventId,
        idempotencyKey: idempotencyKeyOf(platform, candidate.installationId, candidate.platformEventId),
        receivedAt: new Date(deps.clock.now()).toISOString(),
        ...(candidate.sentAt === undefined ? {} : { sentAt: candidate.sentAt }),
        conversation: candidate.conversation,
        messageId: candidate.messageId,
        ...(candidate.replyTo === undefined ? {} : { replyTo: candidate.replyTo }),
        author: candidate.author,
        text: sanitized.text,
        attachments: candidate.attachments,
        mentionsAgent: candidate.mentionsAgent,
        security: {
          verifiedBy: candidate.verifiedBy,
          sanitizerChanges: sanitized.changes,
          pii: {
            findings: scan.findings.map(({ type, start, end }) => ({ type, start, end })),
            level: scan.level,
            action: piiAction,
          },
        },
        ...(candidate.email === undefined ? {} : { email: candidate.email }),
      });

      const eventId = deps.ids();
      const messageId = deps.ids();
      const stored = protectText(sealer, messageId, envelope.text, scan, piiAction);
      if (stored.blocked) {
        await appendAudit(db, {
          tenantId: envelope.tenantId,
          actorType: 'platform',
          actorId: envelope.author.platformUserId,
          action: 'pii.blocked',
          targetType: 'conversation',
          targetId: envelope.conversation.key,
          details: { platform, types: piiTypes, level: scan.level },
        });
        metrics.ingestTotal.inc({ platform, outcome: 'blocked' });
        throw new SwitchboardError('pii_blocked', 'Message not accepted: it contains personal data this workspace does not allow', {
          context: { types: [...new Set(piiTypes)].join(',') },
        });
      }

      const outcome = await withTransaction(db, async (tx) => {
        const conversationId = await upsertConversation(tx, {
          tenantId: envelope.tenantId,
          platform,
          installationId: envelope.installationId,
          ref: envelope.conversation,
        });
        const inserted = await insertInboundEvent(tx, {
          id: eventId,
          tenantId: envelope.tenantId,
          platform,
          installationId: envelope.installationId,
          platformEventId: envelope.platformEventId,
          conversationId,
        });
        if (inserted === undefined) return { duplicate: true as const, conversationId };
        await upsertParticipant(tx, {
          conversationId,
          platformUserId: envelope.author.platformUserId,
          ...(envelope.author.userId === undefined ? {} : { userId: envelope.author.userId }),
          displayName: envelope.author.displayName,
          isAgent: false,
        });
        await insertMessage(tx, {
          id: messageId,
          tenantId: envelope.tenantId,
          conversationId,
          direction: 'in',
          inboundEventId: eventId,
          clientMessageId: envelope.messageId,
          platformMessageId: envelope.messageId,
          authorPlatformId: envelope.author.platformUserId,
          ...(envelope.author.userId === undefined ? {} : { authorUserId: envelope.author.userId }),
          authorDisplayName: envelope.author.displayName,
          textRedacted: stored.textRedacted,
          ...(stored.originalSealed === undefined ? {} : { originalSealed: stored.originalSealed }),
          piiFindings: envelope.security.pii.findings,
          piiLevel: scan.level,
          piiAction,
          sanitizerChanges: sanitized.changes,
          verifiedBy: envelope.security.verifiedBy,
        });
        if (scan.findings.length > 0) {
          const counts: Record<string, number> = {};
          for (const type of piiTypes) counts[type] = (counts[type] ?? 0) + 1;
          await appendAudit(tx, {
            tenantId: envelope.tenantId,
            actorType: 'system',
            action: piiAction === 'log' ? 'pii.detected' : 'pii.redacted',
            targetType: 'message',
            targetId: messageId,
            details: { platform, level: scan.level, counts },
          });
        }
        return { duplicate: false as const, conversationId };
      });

      if (outcome.duplicate) {
        const existing = await findInboundEventByKey(db, platform, envelope.installationId, envelope.platformEventId);
        const existingMessage = existing ? await getMessageByInboundEvent(db, existing.id) : undefined;
        if (!existing || !existingMessage) throw new SwitchboardError('conflict', 'Duplicate event without a message');
        metrics.ingestTotal.inc({ platform, outcome: 'duplicate' });
        return {
          eventId: existing.id,
          messageId: existingMessage.id,
          conversationId: existing.conversationId,
          duplicate: true,
          storedText: existingMessage.textRedacted,
          piiTypes: existingMessage.piiFindings.map((f) => f.type),
        };
      }

      await touchConversation(db, outcome.conversationId).catch((err: unknown) => log.debug({ err }, 'touch failed'));
      for (const type of piiTypes) metrics.piiFindingsTotal.inc({ type });
      metrics.ingestTotal.inc({ platform, outcome: 'accepted' });
      metrics.ingestSeconds.observe({ platform }, (performance.now() - started) / 1000);
      try {
        await deps.enqueueAgent(eventId);
      } catch (err) {
        // Committed already: the sweeper re-enqueues it once Redis is back.
        metrics.enqueueFailuresTotal.inc({ queue: 'agent' });
        log.warn({ eventId, code: isSwitchboardError(err) ? err.code : 'internal' }, 'enqueue failed; sweeper will retry');
      }
      return {
        eventId,
        messageId,
        conversationId: outcome.conversationId,
        duplicate: false,
        storedText: stored.textRedacted,
        piiTypes,
      };
    } catch (err) {
      if (isSwitchboardError(err) && err.code !== 'pii_blocked') {
        metrics.ingestTotal.inc({ platform, outcome: 'rejected' });
      }
      throw err;
    }
  }

  return { accept };
}
