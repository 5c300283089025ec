/**
 * What the adapter keeps per Slack installation (sealed by the vault through the
 * InstallationPort): the bot token, the bot's ids, and — when the app has token rotation on — the
 * refresh token and the access token's expiry.
 */
import { z } from 'zod';
import type { InstallationCredentials, InstallationPort } from '../../src/core/platform.ts';

/** Stored credentials of one workspace install. */
export const SlackCredentialsSchema = z.object({
  botToken: z.string().min(10).max(500),
  botId: z.string().max(50).optional(),
  appId: z.string().max(50).optional(),
  scope: z.string().max(2000).optional(),
  /** Present when token rotation is on (then botToken expires at `expiresAt`, ms since the epoch). */
  refreshToken: z.string().min(10).max(500).optional(),
  expiresAt: z.string().regex(/^\d{1,16}$/).optional(),
});
/** Stored credentials of one workspace install. */
export type SlackCredentials = z.infer<typeof SlackCredentialsSchema>;

/** The installation facts saved with the credentials. */
export interface SlackInstallation {
  readonly teamId: string;
  readonly teamName: string;
  readonly tenantId: string;
  readonly botUserId: string | undefined;
  readonly credentials: SlackCredentials;
}

/** Drops undefined fields: the port stores strings only. */
function toStored(credentials: SlackCredentials): InstallationCredentials {
  return Object.fromEntries(Object.entries(credentials).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Saves (or re-activates) an installation with its sealed credentials. */
export async function saveSlackInstallation(installations: InstallationPort, install: SlackInstallation): Promise<void> {
  await installations.save({
    platform: 'slack',
    externalId: install.teamId,
    tenantId: install.tenantId,
    name: install.teamName,
    ...(install.botUserId === undefined ? {} : { botUserId: install.botUserId }),
    credentials: toStored(install.credentials),
  });
}

/** The stored credentials of a team, or undefined when unknown, revoked or unreadable. */
export async function loadSlackCredentials(installations: InstallationPort, teamId: string): Promise<SlackCredentials | undefined> {
  const stored = await installations.credentials('slack', teamId);
  if (!stored) return undefined;
  const parsed = SlackCredentialsSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}
