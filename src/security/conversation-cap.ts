/**
 * The per-conversation queue cap: at most `max` pending (queued or processing, i.e. not yet
 * answered) inbound events per conversation. Postgres is the source of truth for "pending", so the
 * count cannot drift the way a Redis counter would after a crash; it is a bounded count (it stops
 * at `max`) over a partial index on pending events by conversation (migration 009).
 *
 * Two doors, one per kind of sender:
 * - first party (our web chat and REST API): over the cap → `rate_limited` (429 / socket error
 *   frame) with a Retry-After; the person's client retries;
 * - platforms (webhooks, gateways): a platform must never get 429/5xx for our own back-pressure
 *   (it retries non-2xx deliveries and turns back-pressure into a storm). Over the cap the message
 *   is dropped and the drop audited (each event once: it is data we did not keep); `accept` then
 *   rejects with `rate_limited`, `retryable: false` and `context.dropped: true`, which adapters
 *   acknowledge with 2xx and do not retry (the same path as other refused content).
 * The check and the insert are not one transaction, so concurrent senders can overshoot the cap
 * by the number of requests in flight for one conversation; the per-user token bucket keeps that
 * small. A redelivery of an event we already hold is never refused: it is a duplicate, not new work.
 */
import { InboundCandidateSchema, type InboundCandidate, type Platform } from '../core/envelope.ts';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';
import type { InboundSink } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { findInboundEventByKey } from '../store/inbound-events.ts';
import type { Ingest, IngestResult } from '../pipeline/ingest.ts';
import type { LimitMetrics } from './limit-metrics.ts';
import type { ViolationReporter } from './violations.ts';
import { digestKey } from './limiter-redis.ts';

/** How long a first-party sender is asked to wait when its conversation is full. */
export const CONVERSATION_FULL_RETRY_MS = 5_000;
// First-party refusals are audited at most once per conversation in this window.
const AUDIT_ONCE_MS = 60_000;
// A dropped platform event is audited once, however often its adapter hands it over again.
const DROP_AUDIT_ONCE_MS = 24 * 60 * 60 * 1000;

/** True when `err` is the platform door's "dropped by our back-pressure; acknowledge it" signal. */
export function isDroppedDelivery(err: unknown): boolean {
  return isSwitchboardError(err, 'rate_limited') && err.details.context?.['dropped'] === true;
}

/** What the cap needs. */
export interface ConversationCapDeps {
  readonly db: Db;
  readonly max: number;
  readonly reporter: ViolationReporter;
  readonly metrics: LimitMetrics;
}

/** The cap, and the two doors built on it. */
export interface ConversationCap {
  /** Pending inbound events of the conversation, counted up to `max`. */
  pending(tenantId: string, conversationKey: string): Promise<number>;
  /** Wraps ingest for first-party senders: over the cap → `rate_limited`. */
  firstParty(ingest: Ingest): Ingest;
  /** Wraps ingest for platform deliveries: over the cap → dropped, audited, `isDroppedDelivery` error. */
  platform(ingest: Ingest): InboundSink;
}

interface Full {
  readonly conversationId: string | undefined;
  readonly pending: number;
}

/** Creates the cap. */
export function createConversationCap(deps: ConversationCapDeps): ConversationCap {
  const { db, max } = deps;

  const countPending = async (tenantId: string, conversationKey: string): Promise<{ n: number; conversationId: string | undefined }> => {
    const result = await db.query<{ n: number; conversation_id: string | null }>(
      `SELECT c.id AS conversation_id,
              (SELECT count(*)::int FROM (
                 SELECT 1 FROM inbound_events e
                 WHERE e.conversation_id = c.id AND e.status IN ('queued', 'processing')
                 LIMIT $3) AS pending) AS n
       FROM conversations c WHERE c.tenant_id = $1 AND c.conversation_key = $2`,
      [tenantId, conversationKey, max],
    );
    const row = result.rows[0];
    return row ? { n: row.n, conversationId: row.conversation_id ?? undefined } : { n: 0, conversationId: undefined };
  };

  // Undefined when the candidate may go on to ingest: under the cap, a redelivery, or malformed
  // (ingest itself rejects those with the proper validation error).
  const fullFor = async (raw: unknown): Promise<(Full & { candidate: InboundCandidate }) | undefined> => {
    const parsed = InboundCandidateSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const candidate = parsed.data;
    const { n, conversationId } = await countPending(candidate.tenantId, candidate.conversation.key);
    if (n < max) return undefined;
    const existing = await findInboundEventByKey(db, candidate.platform, candidate.installationId, candidate.platformEventId);
    if (existing) return undefined;
    return { conversationId, pending: n, candidate };
  };

  const target = (full: Full, candidate: InboundCandidate) =>
    full.conversationId === undefined
      ? { targetType: 'conversation_key', targetId: candidate.conversation.key }
      : { targetType: 'conversation', targetId: full.conversationId };

  const details = (platform: Platform, full: Full) => ({ limit: 'conversation_queue', platform, pending: full.pending, max });

  return {
    pending: async (tenantId, conversationKey) => (await countPending(tenantId, conversationKey)).n,

    firstParty: (ingest) => ({
      accept: async (raw: unknown): Promise<IngestResult> => {
        const full = await fullFor(raw);
        if (full) {
          const { candidate } = full;
          await deps.reporter.report('conversation_queue', full.conversationId ?? candidate.conversation.key, AUDIT_ONCE_MS, {
            tenantId: candidate.tenantId,
            actorType: 'user',
            ...(candidate.author.userId === undefined ? {} : { actorId: candidate.author.userId }),
            action: 'rate_limit.exceeded',
            ...target(full, candidate),
            details: details(candidate.platform, full),
          });
          throw new SwitchboardError('rate_limited', 'This conversation has too many unanswered messages; try again shortly', {
            retryAfterMs: CONVERSATION_FULL_RETRY_MS,
            context: { limit: 'conversation_queue', max },
          });
        }
        return ingest.accept(raw);
      },
    }),

    platform: (ingest) => ({
      accept: async (candidate) => {
        const full = await fullFor(candidate);
        if (!full) return ingest.accept(candidate);
        deps.metrics.dropped.inc({ platform: candidate.platform, reason: 'conversation_queue_full' });
        // Once per event: an adapter that retries a refused delivery must not multiply the record.
        await deps.reporter.report(
          'conversation_queue',
          // Digested: some platforms' event ids embed addresses (email), and Redis holds ids only.
          digestKey(`${candidate.platform}:${candidate.installationId}:${candidate.platformEventId}`),
          DROP_AUDIT_ONCE_MS,
          {
            tenantId: candidate.tenantId,
            actorType: 'platform',
            actorId: candidate.author.platformUserId,
            action: 'rate_limit.inbound_dropped',
            ...target(full, candidate),
            details: { ...details(candidate.platform, full), installationId: candidate.installationId, platformEventId: candidate.platformEventId },
          },
        );
        throw new SwitchboardError('rate_limited', 'Conversation queue full; delivery acknowledged and dropped', {
          retryable: false,
          context: { limit: 'conversation_queue', dropped: true, max },
        });
      },
    }),
  };
}
