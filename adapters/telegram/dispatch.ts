/**
 * One authenticated Telegram update, whichever way it came (webhook or getUpdates): check the
 * bot's installation, classify, link the author, and hand the candidate to the sink. Resolves once
 * the message is committed (or deliberately dropped or ignored), so the caller may then
 * acknowledge Telegram (answer 200, or confirm the update with the next offset). Throws only when
 * trying again later can help (an outage, or the bot's username not known yet).
 */
import type { Logger } from '../../src/core/logger.ts';
import type { InboundSink } from '../../src/core/ports.ts';
import type { AdapterAudit, InstallationPort, PlatformAdapterDeps } from '../../src/core/platform.ts';
import { SwitchboardError, isSwitchboardError } from '../../src/core/errors.ts';
import { classifyTelegramUpdate, updateIdOf } from './normalize.ts';

/** How an update ended. */
export type DispatchOutcome = 'accepted' | 'duplicate' | 'ignored' | 'revoked' | 'dropped';

/** What dispatching needs. */
export interface DispatchDeps {
  readonly botId: string;
  /** The bot's username once getMe answered (mentions are matched against it). */
  readonly username: () => string | undefined;
  readonly defaultTenantId: string;
  readonly sink: InboundSink;
  readonly installations: InstallationPort;
  readonly linkedUser: PlatformAdapterDeps['linkedUser'];
  readonly audit: AdapterAudit;
  readonly log: Logger;
  readonly maxAttachmentBytes: number;
}

/** Handles one raw update. */
export type TelegramDispatcher = (update: unknown, verifiedBy: string) => Promise<DispatchOutcome>;

/** Creates the dispatcher. */
export function createTelegramDispatcher(deps: DispatchDeps): TelegramDispatcher {
  return async (update, verifiedBy) => {
    const updateId = updateIdOf(update);
    // The row exists once getMe answered; until then the bot still works for the default tenant.
    const installation = await deps.installations.find('telegram', deps.botId);
    if (installation !== undefined && !installation.active) {
      deps.log.info({ updateId }, 'Telegram update for a revoked bot installation; ignored');
      return 'revoked';
    }
    const tenantId = installation?.tenantId ?? deps.defaultTenantId;
    const result = classifyTelegramUpdate(update, {
      tenantId,
      botId: deps.botId,
      botUsername: deps.username(),
      maxAttachmentBytes: deps.maxAttachmentBytes,
      verifiedBy,
    });
    if (result.kind === 'ignored') {
      if (result.reason === 'identity_unknown') {
        // It may mention the bot, but getMe has not told us its username yet: let Telegram re-deliver.
        throw new SwitchboardError('adapter_unavailable', 'Telegram bot identity not known yet', { context: { updateId: updateId ?? null } });
      }
      deps.log.debug({ updateId, reason: result.reason }, 'Telegram update ignored');
      return 'ignored';
    }
    const candidate = result.candidate;
    const userId = await deps.linkedUser('telegram', deps.botId, candidate.author.platformUserId);
    const linked = userId === undefined ? candidate : { ...candidate, author: { ...candidate.author, userId } };
    try {
      const receipt = await deps.sink.accept(linked);
      return receipt.duplicate ? 'duplicate' : 'accepted';
    } catch (err) {
      // Refused content or our own back-pressure: acknowledged and dropped (a retry cannot fix it).
      if (!isSwitchboardError(err) || err.retryable) throw err;
      await deps.audit({ tenantId, action: 'telegram.update_dropped', targetType: 'installation', targetId: deps.botId, details: { updateId: updateId ?? null, code: err.code } });
      deps.log.info({ updateId, code: err.code }, 'Telegram update refused by ingest; acknowledged and dropped');
      return 'dropped';
    }
  };
}
