/**
 * Discord REST through discord.js's REST client: message create, interaction follow-ups, typing,
 * command registration, and the mapping of its errors to SwitchboardErrors. The client never
 * retries (the outbound worker does, once per outbox row) and never waits out a rate limit
 * itself: a 429 (or a bucket it knows is empty) surfaces as `send_rate_limited` with the wait.
 */
import { DiscordAPIError, HTTPError, REST, RateLimitError, Routes } from 'discord.js';
import { SwitchboardError } from '../../src/core/errors.ts';
import type { DiscordSettings } from './config.ts';
import type { DiscordMessageBody } from './payloads.ts';

/** A REST client for the bot: our base URL, no retries, rate limits surfaced to us. */
export function createDiscordRest(settings: Pick<DiscordSettings, 'apiUrl' | 'botToken' | 'restTimeoutMs'>): REST {
  return new REST({
    api: settings.apiUrl,
    version: '10',
    retries: 0,
    timeout: settings.restTimeoutMs,
    rejectOnRateLimit: () => true,
  }).setToken(settings.botToken);
}

function idOf(result: unknown): string | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const id = (result as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
}

/** Posts a message to a channel; resolves to its id. */
export async function postChannelMessage(rest: REST, channelId: string, body: DiscordMessageBody, signal: AbortSignal): Promise<string | undefined> {
  return idOf(await rest.post(Routes.channelMessages(channelId), { body, signal }));
}

/** Posts an interaction follow-up (the first one replaces the deferred "thinking…" state). */
export async function postFollowup(
  rest: REST,
  applicationId: string,
  interactionToken: string,
  body: DiscordMessageBody,
  signal: AbortSignal,
): Promise<string | undefined> {
  // Interaction webhooks are authorized by their token, not the bot's.
  return idOf(await rest.post(Routes.webhook(applicationId, interactionToken), { body, signal, auth: false }));
}

/** Shows "<bot> is typing…" in a channel for about ten seconds. */
export async function postTyping(rest: REST, channelId: string): Promise<void> {
  await rest.post(Routes.channelTyping(channelId));
}

/** The `/ask` slash command as registered with Discord. */
export const ASK_COMMAND = {
  name: 'ask',
  description: 'Ask the agent a question',
  type: 1,
  options: [{ type: 3, name: 'question', description: 'What you want to ask', required: true, max_length: 4000 }],
} as const;

/** Registers (overwrites) the application's global commands with `/ask`. */
export async function registerAskCommand(rest: REST, applicationId: string): Promise<void> {
  await rest.put(Routes.applicationCommands(applicationId), { body: [ASK_COMMAND] });
}

/**
 * Maps a REST failure to a SwitchboardError: 429 → `send_rate_limited` with `retryAfterMs`;
 * 5xx, timeouts and network errors → retryable `send_failed`; other 4xx (missing access, unknown
 * channel, bad token) → permanent `send_failed`. Only status and Discord's error code are kept:
 * the SDK's error objects carry the request body, which must not reach logs.
 */
export function toSendError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  if (err instanceof RateLimitError) {
    const retryAfterMs = Math.max(0, Math.ceil(err.retryAfter > 0 ? err.retryAfter : err.timeToReset));
    return new SwitchboardError('send_rate_limited', 'Discord rate limit', {
      retryAfterMs,
      context: { global: err.global, route: err.route.slice(0, 100) },
    });
  }
  if (err instanceof DiscordAPIError || err instanceof HTTPError) {
    const retryable = err.status >= 500 || err.status === 408;
    const code = err instanceof DiscordAPIError ? String(err.code).slice(0, 20) : null;
    return new SwitchboardError('send_failed', `Discord answered ${err.status}`, { retryable, context: { status: err.status, discordCode: code } });
  }
  const name = err instanceof Error ? err.name.slice(0, 50) : typeof err;
  return new SwitchboardError('send_failed', 'Discord could not be reached', { retryable: true, context: { error: name } });
}
