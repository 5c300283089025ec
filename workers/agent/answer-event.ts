/**
 * Answers one inbound event: claim it, build the model's context, run the agent loop, commit the
 * reply with its outbox row, enqueue the send. Safe to run twice for the same event.
 */
import type { Logger } from '../../src/core/logger.ts';
import type { Clock, IdSource } from '../../src/core/clock.ts';
import type { Metrics } from '../../src/core/metrics.ts';
import type { LlmProvider, OutboundAdapter } from '../../src/core/ports.ts';
import type { Platform } from '../../src/core/envelope.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import type { Db } from '../../src/store/db.ts';
import { claimInboundEvent, setInboundEventStatus } from '../../src/store/inbound-events.ts';
import { getMessageByInboundEvent, getReplyToEvent, recentMessages } from '../../src/store/messages.ts';
import { getTenantPiiAction } from '../../src/store/tenants.ts';
import { getConversation } from '../../src/store/conversations.ts';
import type { TextSealer } from '../../src/pipeline/protect-text.ts';
import { buildModelContext } from '../../src/agent/context.ts';
import { runAgent } from '../../src/agent/loop.ts';
import type { ToolRegistry } from '../../src/agent/tools.ts';
import { commitReply } from './commit-reply.ts';

/** What answering needs. */
export interface AnswerDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly provider: LlmProvider;
  readonly tools: ToolRegistry;
  readonly ids: IdSource;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly adapters: ReadonlyMap<Platform, OutboundAdapter>;
  readonly enqueueOutbound: (platform: Platform, outboxId: string) => Promise<void>;
  readonly settings: {
    readonly systemPrompt: string;
    readonly contextMessages: number;
    readonly maxSteps: number;
    readonly maxOutputTokens: number;
  };
}

/** How an attempt ended, for the worker to steer the job. */
export type AnswerOutcome = 'answered' | 'skipped' | 'gave-up';

/** The reply written when the agent could not answer, so the person is never left waiting. */
export function apologyText(code: string): string {
  return `Sorry — I could not answer this message (${code}). Please try again later.`;
}

/**
 * One attempt. Throws a retryable SwitchboardError to ask for a retry; when `finalAttempt` is
 * true (or the error is not retryable) it writes an apology reply and closes the event instead.
 */
export async function answerEvent(deps: AnswerDeps, eventId: string, finalAttempt: boolean, signal: AbortSignal): Promise<AnswerOutcome> {
  const event = await claimInboundEvent(deps.db, eventId);
  if (!event) return 'skipped';
  const existingReply = await getReplyToEvent(deps.db, eventId);
  if (existingReply) {
    // Answered before a crash closed the event: make sure the send is queued and finish.
    await setInboundEventStatus(deps.db, eventId, 'answered');
    return 'skipped';
  }
  const [inbound, conversation, piiAction] = await Promise.all([
    getMessageByInboundEvent(deps.db, eventId),
    getConversation(deps.db, event.conversationId),
    getTenantPiiAction(deps.db, event.tenantId),
  ]);
  if (!inbound || !conversation || !piiAction) {
    await setInboundEventStatus(deps.db, eventId, 'ignored', 'not_found');
    return 'skipped';
  }
  const adapter = deps.adapters.get(event.platform);
  const commitAndSend = async (text: string, status: 'answered' | 'failed', errorCode?: string): Promise<void> => {
    const committed = await commitReply({
      db: deps.db,
      sealer: deps.sealer,
      ids: deps.ids,
      eventId,
      tenantId: event.tenantId,
      conversationId: event.conversationId,
      platform: event.platform,
      piiAction,
      text,
      eventStatus: status,
      ...(errorCode === undefined ? {} : { errorCode }),
    });
    if (!committed) return;
    for (const type of committed.piiTypes) deps.metrics.piiFindingsTotal.inc({ type });
    try {
      await deps.enqueueOutbound(event.platform, committed.outboxId);
    } catch {
      deps.metrics.enqueueFailuresTotal.inc({ queue: `outbound-${event.platform}` });
      deps.log.warn({ outboxId: committed.outboxId }, 'outbound enqueue failed; sweeper will retry');
    }
  };

  await adapter?.typing?.(event.conversationId, 'start', conversation.ref).catch(() => undefined);
  try {
    const history = await recentMessages(deps.db, event.conversationId, deps.settings.contextMessages, inbound.id);
    const result = await runAgent({
      provider: deps.provider,
      tools: deps.tools,
      messages: buildModelContext(deps.sealer, deps.settings.systemPrompt, history, piiAction),
      maxSteps: deps.settings.maxSteps,
      maxOutputTokens: deps.settings.maxOutputTokens,
      context: { tenantId: event.tenantId, conversationId: event.conversationId, signal },
      onModelCall: (outcome, seconds) => {
        deps.metrics.llmRequestsTotal.inc({ provider: deps.provider.name, outcome });
        deps.metrics.llmSeconds.observe({ provider: deps.provider.name }, seconds);
      },
    });
    await commitAndSend(result.text, 'answered');
    return 'answered';
  } catch (err) {
    const error = toSwitchboardError(err);
    // Cancelled by shutdown: not the event's fault; leave it for the retry (or the sweeper).
    if (signal.aborted || (error.retryable && !finalAttempt)) {
      await setInboundEventStatus(deps.db, eventId, 'processing', error.code);
      throw error;
    }
    deps.log.error({ eventId, code: error.code }, 'agent gave up on event');
    await commitAndSend(apologyText(error.code), 'failed', error.code);
    return 'gave-up';
  } finally {
    await adapter?.typing?.(event.conversationId, 'stop', conversation.ref).catch(() => undefined);
  }
}
