/**
 * Who a bot token belongs to (auth.test): team, bot user and bot id. Used when an OAuth install
 * completes and, in single-workspace mode, to register the configured token's workspace.
 */
import { z } from 'zod';
import { SwitchboardError } from '../../src/core/errors.ts';
import type { InstallationPort } from '../../src/core/platform.ts';
import { TeamIdSchema, UserIdSchema } from './schemas.ts';
import { createWebClient, toSendError, type SlackApiOptions } from './web-client.ts';
import { saveSlackInstallation } from './credentials.ts';

const AuthTestSchema = z.object({
  team_id: TeamIdSchema,
  team: z.string().max(200).optional(),
  user_id: UserIdSchema,
  bot_id: z.string().max(50).optional(),
});

/** The bot behind a token. */
export interface BotIdentity {
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string | undefined;
}

/** Calls auth.test with `token`; throws send_failed (retryable or not) on failure. */
export async function identifyBot(token: string, api: SlackApiOptions): Promise<BotIdentity> {
  let answer: unknown;
  try {
    answer = await createWebClient(token, api).auth.test();
  } catch (err) {
    throw toSendError(err, 'auth.test');
  }
  const parsed = AuthTestSchema.safeParse(answer);
  if (!parsed.success) throw new SwitchboardError('send_failed', 'auth.test answered an unexpected shape', { retryable: false });
  return {
    teamId: parsed.data.team_id,
    teamName: (parsed.data.team ?? parsed.data.team_id).slice(0, 200),
    botUserId: parsed.data.user_id,
    botId: parsed.data.bot_id,
  };
}

/** Single-workspace mode: registers the configured bot token's workspace as an installation. */
export async function registerConfiguredToken(input: {
  readonly token: string;
  readonly api: SlackApiOptions;
  readonly installations: InstallationPort;
  readonly tenantId: string;
}): Promise<BotIdentity> {
  const bot = await identifyBot(input.token, input.api);
  await saveSlackInstallation(input.installations, {
    teamId: bot.teamId,
    teamName: bot.teamName,
    tenantId: input.tenantId,
    botUserId: bot.botUserId,
    credentials: { botToken: input.token, ...(bot.botId === undefined ? {} : { botId: bot.botId }) },
  });
  return bot;
}
