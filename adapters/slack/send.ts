/**
 * Outbound: one reply part → chat.postMessage in the conversation's thread, rendered as mrkdwn,
 * with link unfurling off (a link in a reply must not make Slack fetch anything) and broadcast
 * parsing off. A 429 becomes `send_rate_limited` with Slack's Retry-After; an expired rotating
 * token is refreshed once and the call retried.
 */
import type { WebClient } from '@slack/web-api';
import type { OutboundMessage } from '../../src/core/envelope.ts';
import type { SendResult } from '../../src/core/ports.ts';
import { SwitchboardError } from '../../src/core/errors.ts';
import { renderSlackParts } from './render.ts';
import type { SlackTokenSource } from './tokens.ts';
import { createWebClient, slackPlatformError, toSendError, type SlackApiOptions } from './web-client.ts';

/** Sends replies. */
export type SlackSend = (message: OutboundMessage, signal: AbortSignal) => Promise<SendResult>;

/** Creates the sender; WebClients are kept per team and replaced when the token changes. */
export function createSlackSend(deps: { readonly tokens: SlackTokenSource; readonly api: SlackApiOptions }): SlackSend {
  const clients = new Map<string, { token: string; client: WebClient }>();
  const clientFor = (teamId: string, token: string): WebClient => {
    const cached = clients.get(teamId);
    if (cached?.token === token) return cached.client;
    const client = createWebClient(token, deps.api);
    clients.set(teamId, { token, client });
    return client;
  };

  const post = async (teamId: string, token: string, message: OutboundMessage, text: string): Promise<string | undefined> => {
    const answer = await clientFor(teamId, token).chat.postMessage({
      channel: message.conversation.channelId,
      text,
      ...(message.conversation.threadId === undefined ? {} : { thread_ts: message.conversation.threadId }),
      mrkdwn: true,
      parse: 'none',
      link_names: false,
      unfurl_links: false,
      unfurl_media: false,
    });
    return typeof answer.ts === 'string' ? answer.ts : undefined;
  };

  return async (message, signal) => {
    const teamId = message.installationId;
    let token = await deps.tokens.botToken(teamId);
    if (token === undefined) {
      throw new SwitchboardError('send_failed', 'No active Slack installation for this workspace', { retryable: false, context: { teamId } });
    }
    let ts: string | undefined;
    for (const part of renderSlackParts(message.text)) {
      if (signal.aborted) throw new SwitchboardError('shutting_down', 'Send cancelled');
      const text = part.trim() === '' ? '…' : part;
      try {
        ts = await post(teamId, token, message, text);
      } catch (err) {
        if (slackPlatformError(err) !== 'token_expired') throw toSendError(err, 'chat.postMessage');
        token = await deps.tokens.botToken(teamId, { forceRefresh: true });
        if (token === undefined) throw toSendError(err, 'chat.postMessage');
        try {
          ts = await post(teamId, token, message, text);
        } catch (again) {
          throw toSendError(again, 'chat.postMessage');
        }
      }
    }
    return ts === undefined ? {} : { platformMessageId: ts };
  };
}
