/**
 * Handing Discord messages to ingest. The author is linked to a tenant user when an identity link
 * exists (so participant rules apply). Gateway events are not redelivered by Discord once we have
 * them (only replayed on resume), so a transient ingest failure is retried here a few times before
 * the message is given up, with a log line naming its id. Duplicates (resume replays, repeated
 * dispatches) are absorbed by ingest's unique key on the message id.
 */
import type { InboundCandidate } from '../../src/core/envelope.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { PlatformAdapterDeps } from '../../src/core/platform.ts';
import type { IngestReceipt } from '../../src/core/ports.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import { normalizeMessageCreate, type NormalizeContext } from './normalize.ts';

const RETRY_DELAYS_MS = [200, 1000, 3000];

/** Links the author and commits the candidate (one attempt). */
export function createAccept(deps: Pick<PlatformAdapterDeps, 'sink' | 'linkedUser'>): (candidate: InboundCandidate) => Promise<IngestReceipt> {
  return async (candidate) => {
    const userId = await deps.linkedUser('discord', candidate.installationId, candidate.author.platformUserId);
    return deps.sink.accept(userId === undefined ? candidate : { ...candidate, author: { ...candidate.author, userId } });
  };
}

/** Handles one raw MESSAGE_CREATE from the gateway. */
export function createGatewayMessageHandler(
  accept: (candidate: InboundCandidate) => Promise<IngestReceipt>,
  context: () => NormalizeContext,
  log: Logger,
): (raw: unknown) => Promise<void> {
  return async (raw) => {
    const candidate = normalizeMessageCreate(raw, context());
    if (!candidate) return;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const receipt = await accept(candidate);
        log.debug({ messageId: candidate.messageId, eventId: receipt.eventId, duplicate: receipt.duplicate }, 'discord message accepted');
        return;
      } catch (err) {
        const error = toSwitchboardError(err);
        const delay = RETRY_DELAYS_MS[attempt];
        if (!error.retryable || delay === undefined) {
          log.warn({ messageId: candidate.messageId, code: error.code }, 'discord message not accepted');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}
