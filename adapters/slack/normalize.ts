/**
 * Slack payloads → Switchboard shapes (pure, no I/O). An Events API body becomes an envelope
 * (url_verification, event, other); a `message` (DM) or `app_mention` (channel) event becomes an
 * InboundCandidate; everything else, including the bot's own and other bots' messages, edits and
 * deletes, is ignored (undefined).
 */
import { formatConversationKey } from '../../src/core/conversation-key.ts';
import type { ConversationRef, InboundCandidate } from '../../src/core/envelope.ts';
import { EnvelopeSchema, FileSchema, MessageEventSchema, TokensRevokedSchema, type MessageEvent } from './schemas.ts';
import { slackTextToPlain } from './inbound-text.ts';

/** What `verifiedBy` says for Slack deliveries. */
export const SLACK_VERIFIED_BY = { http: 'slack-signature-v0', socket: 'slack-socket-mode' } as const;

/** A parsed Events API body. */
export type SlackEnvelope =
  | { readonly kind: 'url_verification'; readonly challenge: string }
  | {
      readonly kind: 'event';
      readonly teamId: string;
      readonly eventId: string;
      readonly eventType: string;
      readonly event: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'other' };

/** What normalizing needs to know about the installation that received the event. */
export interface SlackEventContext {
  readonly tenantId: string;
  /** The bot's user id (U…): its messages are its own, its mention addresses it. */
  readonly botUserId: string | undefined;
  readonly maxAttachmentBytes: number;
  readonly verifiedBy: string;
}

/** A lifecycle event that ends an installation. */
export type SlackLifecycle = { readonly kind: 'app_uninstalled' } | { readonly kind: 'tokens_revoked'; readonly botUserIds: readonly string[] };

/** Parses the outer body; undefined when it is not a Slack envelope we understand. */
export function parseSlackEnvelope(raw: unknown): SlackEnvelope | undefined {
  const parsed = EnvelopeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const body = parsed.data;
  if (body.type === 'url_verification') return { kind: 'url_verification', challenge: body.challenge };
  if (body.type === 'app_rate_limited') return { kind: 'other' };
  return { kind: 'event', teamId: body.team_id, eventId: body.event_id, eventType: body.event.type, event: body.event };
}

/** The lifecycle meaning of an event, if it has one. */
export function lifecycleOf(envelope: SlackEnvelope): SlackLifecycle | undefined {
  if (envelope.kind !== 'event') return undefined;
  if (envelope.eventType === 'app_uninstalled') return { kind: 'app_uninstalled' };
  if (envelope.eventType === 'tokens_revoked') {
    const parsed = TokensRevokedSchema.safeParse(envelope.event);
    if (parsed.success) return { kind: 'tokens_revoked', botUserIds: parsed.data.tokens.bot ?? [] };
  }
  return undefined;
}

// Message subtypes that still carry a person's new message; every other subtype (edits, deletes,
// joins, bot_message, …) is ignored.
const PERSON_SUBTYPES: ReadonlySet<string> = new Set(['file_share', 'thread_broadcast']);

/** Why an event is not a trigger, or undefined when it is one. */
function ignoreReason(event: MessageEvent, ctx: SlackEventContext): string | undefined {
  if (event.bot_id !== undefined || event.subtype === 'bot_message') return 'bot';
  if (event.user === undefined) return 'no_user';
  if (event.user === ctx.botUserId) return 'self';
  if (event.hidden === true) return 'hidden';
  if (event.subtype !== undefined && !PERSON_SUBTYPES.has(event.subtype)) return 'subtype';
  // DMs arrive as `message` (message.im); channels only through `app_mention` (never both for one message).
  if (event.type === 'message' && event.channel_type !== 'im') return 'not_a_dm';
  if (event.type === 'app_mention' && event.channel.startsWith('D')) return 'mention_in_dm';
  return undefined;
}

function conversationOf(teamId: string, event: MessageEvent): ConversationRef {
  const threadId = event.thread_ts ?? event.ts;
  const kind = event.channel_type === 'im' ? 'dm' : event.channel_type === 'mpim' ? 'group' : 'channel';
  return {
    key: formatConversationKey({ platform: 'slack', installationId: teamId, channelId: event.channel, threadId }),
    channelId: event.channel,
    threadId,
    kind,
  };
}

function attachmentsOf(teamId: string, event: MessageEvent, maxBytes: number): InboundCandidate['attachments'] {
  const attachments: InboundCandidate['attachments'] = [];
  for (const raw of event.files ?? []) {
    if (attachments.length >= 20) break;
    const file = FileSchema.safeParse(raw);
    if (!file.success || file.data.mode === 'tombstone' || file.data.mode === 'hidden_by_limit') continue;
    const size = file.data.size ?? 0;
    attachments.push({
      name: (file.data.name ?? file.data.title ?? file.data.id).slice(0, 255),
      contentType: file.data.mimetype ?? 'application/octet-stream',
      sizeBytes: size,
      // Fetched later with the installation's token (files.info / url_private); over the cap: no reference.
      fetchRef: size <= maxBytes ? `slack-file:${teamId}:${file.data.id}` : '',
    });
  }
  return attachments;
}

function sentAtOf(ts: string): string {
  const [seconds = '0', fraction = '0'] = ts.split('.');
  return new Date(Number(seconds) * 1000 + Math.floor(Number(fraction.padEnd(6, '0')) / 1000)).toISOString();
}

function displayNameOf(event: MessageEvent, userId: string): string {
  const profile = event.user_profile;
  const name = profile?.display_name || profile?.real_name || profile?.name || userId;
  return name.slice(0, 200);
}

/** A trigger event → candidate; undefined for everything that must not be answered. */
export function normalizeSlackEvent(envelope: SlackEnvelope, ctx: SlackEventContext): InboundCandidate | undefined {
  if (envelope.kind !== 'event') return undefined;
  const parsed = MessageEventSchema.safeParse(envelope.event);
  if (!parsed.success) return undefined;
  const event = parsed.data;
  if (ignoreReason(event, ctx) !== undefined || event.user === undefined) return undefined;
  const text = slackTextToPlain(event.text ?? '', ctx.botUserId);
  const attachments = attachmentsOf(envelope.teamId, event, ctx.maxAttachmentBytes);
  if (text === '' && attachments.length === 0) return undefined;
  const replyTo = event.thread_ts !== undefined && event.thread_ts !== event.ts ? event.thread_ts : undefined;
  return {
    tenantId: ctx.tenantId,
    platform: 'slack',
    installationId: envelope.teamId,
    platformEventId: envelope.eventId,
    sentAt: sentAtOf(event.ts),
    conversation: conversationOf(envelope.teamId, event),
    messageId: event.ts,
    ...(replyTo === undefined ? {} : { replyTo }),
    author: { platformUserId: event.user, displayName: displayNameOf(event, event.user), isBot: false, isSelf: false },
    text,
    attachments,
    mentionsAgent: true,
    verifiedBy: ctx.verifiedBy,
  };
}

/** Why a message event is ignored (for logs and metrics), or undefined when it is a trigger. */
export function slackIgnoreReason(envelope: SlackEnvelope, ctx: SlackEventContext): string | undefined {
  if (envelope.kind !== 'event') return envelope.kind;
  const parsed = MessageEventSchema.safeParse(envelope.event);
  if (!parsed.success) return `event:${envelope.eventType.slice(0, 40)}`;
  return ignoreReason(parsed.data, ctx);
}
