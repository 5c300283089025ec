/**
 * One verified Slack event, whichever way it came (HTTP or Socket Mode): find the workspace's
 * installation, handle uninstalls, normalize, link the author, and hand it to the sink. Resolves
 * once the message is committed (or deliberately dropped), so the caller may then ack Slack.
 * Throws only for outages (the caller then lets Slack retry).
 */
import type { Logger } from '../../src/core/logger.ts';
import type { InboundSink } from '../../src/core/ports.ts';
import type { AdapterAudit, InstallationPort, PlatformAdapterDeps } from '../../src/core/platform.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { lifecycleOf, normalizeSlackEvent, slackIgnoreReason, type SlackEnvelope } from './normalize.ts';

/** How an event ended. */
export type DispatchOutcome = 'accepted' | 'duplicate' | 'ignored' | 'unknown_team' | 'revoked' | 'dropped';

/** What dispatching needs. */
export interface DispatchDeps {
  readonly sink: InboundSink;
  readonly installations: InstallationPort;
  readonly linkedUser: PlatformAdapterDeps['linkedUser'];
  readonly audit: AdapterAudit;
  readonly log: Logger;
  readonly maxAttachmentBytes: number;
}

/** Handles one event envelope. */
export type SlackDispatcher = (envelope: SlackEnvelope & { kind: 'event' }, verifiedBy: string) => Promise<DispatchOutcome>;

// Errors that retrying the same delivery cannot fix (bad or refused content, our back-pressure):
// acknowledged and dropped, never answered with 4xx/5xx (Slack would retry and storm).
const DROP: ReadonlySet<string> = new Set([
  'validation_failed',
  'payload_too_large',
  'json_too_deep',
  'message_too_long',
  'invalid_encoding',
  'pii_blocked',
  'rate_limited',
  'forbidden',
  'conflict',
]);

/** Creates the dispatcher. */
export function createSlackDispatcher(deps: DispatchDeps): SlackDispatcher {
  return async (envelope, verifiedBy) => {
    const { teamId, eventId } = envelope;
    const installation = await deps.installations.find('slack', teamId);
    if (!installation?.active) {
      deps.log.info({ teamId, eventId, eventType: envelope.eventType }, 'Slack event for a workspace without an active installation; ignored');
      return 'unknown_team';
    }
    const lifecycle = lifecycleOf(envelope);
    if (lifecycle) {
      const ours = lifecycle.kind === 'app_uninstalled' || (installation.botUserId !== null && lifecycle.botUserIds.includes(installation.botUserId));
      if (!ours) return 'ignored';
      await deps.installations.revoke('slack', teamId);
      await deps.audit({ tenantId: installation.tenantId, action: 'slack.installation_revoked', targetType: 'installation', targetId: teamId, details: { reason: lifecycle.kind } });
      deps.log.info({ teamId, reason: lifecycle.kind }, 'Slack installation revoked');
      return 'revoked';
    }
    const ctx = {
      tenantId: installation.tenantId,
      botUserId: installation.botUserId ?? undefined,
      maxAttachmentBytes: deps.maxAttachmentBytes,
      verifiedBy,
    };
    const candidate = normalizeSlackEvent(envelope, ctx);
    if (!candidate) {
      deps.log.debug({ teamId, eventId, reason: slackIgnoreReason(envelope, ctx) }, 'Slack event ignored');
      return 'ignored';
    }
    const userId = await deps.linkedUser('slack', teamId, candidate.author.platformUserId);
    const linked = userId === undefined ? candidate : { ...candidate, author: { ...candidate.author, userId } };
    try {
      const receipt = await deps.sink.accept(linked);
      return receipt.duplicate ? 'duplicate' : 'accepted';
    } catch (err) {
      if (!isSwitchboardError(err) || !DROP.has(err.code)) throw err;
      await deps.audit({ tenantId: installation.tenantId, action: 'slack.event_dropped', targetType: 'installation', targetId: teamId, details: { eventId, code: err.code } });
      deps.log.info({ teamId, eventId, code: err.code }, 'Slack event refused by ingest; acknowledged and dropped');
      return 'dropped';
    }
  };
}
