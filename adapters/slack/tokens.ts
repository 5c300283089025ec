/**
 * Bot tokens per workspace, with Slack token rotation: a token that expires within the margin is
 * refreshed first (oauth.v2.access, grant_type=refresh_token) under a lease so only one process
 * refreshes a team at a time; the others wait for the new token to be stored.
 */
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { AdapterAudit, InstallationPort, LockPort } from '../../src/core/platform.ts';
import { SwitchboardError } from '../../src/core/errors.ts';
import { loadSlackCredentials, saveSlackInstallation, type SlackCredentials } from './credentials.ts';
import { createWebClient, toSendError, type SlackApiOptions } from './web-client.ts';

/** Refresh this long before the access token expires (Slack issues 12-hour tokens). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
const REFRESH_LEASE_MS = 15_000;
const WAIT_STEP_MS = 100;

const RefreshResponseSchema = z.object({
  access_token: z.string().min(10).max(500),
  refresh_token: z.string().min(10).max(500),
  expires_in: z.number().int().positive().max(10 * 365 * 86_400),
});

/** What the token source needs. */
export interface TokenSourceDeps {
  readonly installations: InstallationPort;
  readonly locks: LockPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly audit: AdapterAudit;
  readonly api: SlackApiOptions;
  /** The app's OAuth client, needed to refresh rotating tokens; undefined when rotation cannot be used. */
  readonly client: { readonly id: string; readonly secret: string } | undefined;
}

/** Hands out usable bot tokens. */
export interface SlackTokenSource {
  /** A bot token for `teamId` that is not about to expire; undefined when the team has no active install. */
  botToken(teamId: string, options?: { forceRefresh?: boolean }): Promise<string | undefined>;
}

function expiring(credentials: SlackCredentials, now: number): boolean {
  return credentials.expiresAt !== undefined && Number(credentials.expiresAt) - now <= REFRESH_MARGIN_MS;
}

/** Creates the token source. */
export function createTokenSource(deps: TokenSourceDeps): SlackTokenSource {
  const refresh = async (teamId: string, credentials: SlackCredentials): Promise<SlackCredentials> => {
    if (deps.client === undefined || credentials.refreshToken === undefined) {
      throw new SwitchboardError('send_failed', 'Slack token expired and cannot be refreshed (no OAuth client or refresh token)', {
        retryable: false,
        context: { teamId },
      });
    }
    const info = await deps.installations.find('slack', teamId);
    if (!info?.active) return credentials;
    let answer: unknown;
    try {
      answer = await createWebClient(undefined, deps.api).oauth.v2.access({
        client_id: deps.client.id,
        client_secret: deps.client.secret,
        grant_type: 'refresh_token',
        refresh_token: credentials.refreshToken,
      });
    } catch (err) {
      throw toSendError(err, 'oauth.v2.access');
    }
    const parsed = RefreshResponseSchema.safeParse(answer);
    if (!parsed.success) throw new SwitchboardError('send_failed', 'Slack token refresh answered an unexpected shape', { context: { teamId } });
    const next: SlackCredentials = {
      ...credentials,
      botToken: parsed.data.access_token,
      refreshToken: parsed.data.refresh_token,
      expiresAt: String(deps.clock.now() + parsed.data.expires_in * 1000),
    };
    await saveSlackInstallation(deps.installations, {
      teamId,
      teamName: info.name,
      tenantId: info.tenantId,
      botUserId: info.botUserId ?? undefined,
      credentials: next,
    });
    await deps.audit({ tenantId: info.tenantId, action: 'slack.token_refreshed', targetType: 'installation', targetId: teamId });
    return next;
  };

  return {
    botToken: async (teamId, options = {}) => {
      const current = await loadSlackCredentials(deps.installations, teamId);
      if (!current) return undefined;
      if (!options.forceRefresh && !expiring(current, deps.clock.now())) return current.botToken;
      if (current.refreshToken === undefined) return current.botToken;
      const lease = await deps.locks.acquire(`slack:refresh:${teamId}`, REFRESH_LEASE_MS);
      if (!lease) {
        // Another process is refreshing: wait for the new token to land.
        for (let waited = 0; waited < REFRESH_LEASE_MS; waited += WAIT_STEP_MS) {
          await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
          const latest = await loadSlackCredentials(deps.installations, teamId);
          if (!latest) return undefined;
          if (latest.botToken !== current.botToken) return latest.botToken;
        }
        throw new SwitchboardError('send_failed', 'Timed out waiting for a Slack token refresh', { retryable: true, context: { teamId } });
      }
      try {
        // Re-read under the lease: another process may have refreshed meanwhile.
        const latest = await loadSlackCredentials(deps.installations, teamId);
        if (!latest) return undefined;
        if (latest.botToken !== current.botToken && !expiring(latest, deps.clock.now())) return latest.botToken;
        deps.log.info({ teamId }, 'refreshing Slack bot token');
        return (await refresh(teamId, latest)).botToken;
      } finally {
        await lease.release();
      }
    },
  };
}
