/**
 * Telegram updates → Switchboard candidates (pure, no I/O). Private chats are always answered;
 * in groups only a message that mentions the bot (@username or a text mention), runs a command
 * addressed to it (/cmd@username) or replies to one of its messages. Forum topics keep their
 * topic as the conversation's thread. The bot's own messages, other bots' messages, channel
 * posts, edits and service messages are ignored.
 */
import { formatConversationKey } from '../../src/core/conversation-key.ts';
import type { ConversationRef, InboundCandidate } from '../../src/core/envelope.ts';
import { EntitySchema, MessageSchema, RepliedSchema, UpdateSchema, type TelegramEntity, type TelegramMessage } from './schemas.ts';
import { attachmentsOf } from './attachments.ts';

/** What `verifiedBy` says for Telegram deliveries. */
export const TELEGRAM_VERIFIED_BY = { webhook: 'telegram-secret-token', polling: 'telegram-getupdates' } as const;

/** What normalizing needs to know about the bot that received the update. */
export interface TelegramContext {
  readonly tenantId: string;
  /** The bot's user id (digits). */
  readonly botId: string;
  /** The bot's @username without the @, once getMe told us; mentions are matched against it. */
  readonly botUsername: string | undefined;
  readonly maxAttachmentBytes: number;
  readonly verifiedBy: string;
}

/** What an update turned into. `identity_unknown`: it may address the bot, but getMe has not answered yet. */
export type TelegramClassification =
  | { readonly kind: 'message'; readonly candidate: InboundCandidate }
  | { readonly kind: 'ignored'; readonly reason: string };

/** The update id of a raw update, or undefined when it is not an update at all. */
export function updateIdOf(raw: unknown): number | undefined {
  const parsed = UpdateSchema.safeParse(raw);
  return parsed.success ? parsed.data.update_id : undefined;
}

function entitiesOf(raw: readonly unknown[] | undefined, text: string): TelegramEntity[] {
  const entities: TelegramEntity[] = [];
  for (const item of raw ?? []) {
    const parsed = EntitySchema.safeParse(item);
    if (parsed.success && parsed.data.offset + parsed.data.length <= text.length) entities.push(parsed.data);
  }
  return entities;
}

interface Addressing {
  readonly text: string;
  readonly addressed: boolean;
  /** Mentions or commands that may name the bot although we cannot tell yet (username unknown). */
  readonly unsure: boolean;
}

/** Finds the entities that address the bot and removes them from the text (commands keep their name). */
function addressing(text: string, entities: readonly TelegramEntity[], ctx: TelegramContext): Addressing {
  const handle = ctx.botUsername === undefined ? undefined : `@${ctx.botUsername.toLowerCase()}`;
  const edits: Array<{ start: number; end: number; insert: string }> = [];
  let unsure = false;
  for (const entity of entities) {
    const start = entity.offset;
    const end = entity.offset + entity.length;
    const slice = text.slice(start, end);
    if (entity.type === 'text_mention' && entity.user !== undefined && String(entity.user.id) === ctx.botId) {
      edits.push({ start, end, insert: '' });
    } else if (entity.type === 'mention') {
      if (handle === undefined) unsure = true;
      else if (slice.toLowerCase() === handle) edits.push({ start, end, insert: '' });
    } else if (entity.type === 'bot_command' && slice.includes('@')) {
      if (handle === undefined) unsure = true;
      else if (slice.toLowerCase().endsWith(handle)) edits.push({ start, end, insert: slice.slice(0, slice.length - handle.length) });
    }
  }
  // Apply from the end so earlier offsets stay valid; overlapping entities are skipped.
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  let removedAtStart = false;
  for (const edit of edits) {
    if (edit.end > limit) continue;
    let start = edit.start;
    // "Hey @bot, …" reads "Hey, …": a removed mention takes the space before it along when punctuation follows.
    if (edit.insert === '' && /^[,.!?:;]/.test(out.slice(edit.end)) && out[start - 1] === ' ') start -= 1;
    out = out.slice(0, start) + edit.insert + out.slice(edit.end);
    limit = start;
    if (edit.insert === '' && out.slice(0, start).trim() === '') removedAtStart = true;
  }
  let cleaned = out.replace(/[ \t]{2,}/g, ' ').trim();
  if (removedAtStart) cleaned = cleaned.replace(/^[,:;][ \t]*/, '');
  return { text: cleaned, addressed: edits.length > 0, unsure };
}

/** The replied-to message id when this is a real reply (not the implicit reply to a forum topic's root). */
function replyOf(message: TelegramMessage): { id: number; fromId: number | undefined } | undefined {
  const parsed = RepliedSchema.safeParse(message.reply_to_message);
  if (!parsed.success) return undefined;
  if (message.is_topic_message === true && parsed.data.message_id === message.message_thread_id) return undefined;
  return { id: parsed.data.message_id, fromId: parsed.data.from?.id };
}

function conversationOf(message: TelegramMessage, botId: string): ConversationRef {
  const channelId = String(message.chat.id);
  const topic = message.chat.is_forum === true && message.is_topic_message === true ? message.message_thread_id : undefined;
  const threadId = topic === undefined ? undefined : String(topic);
  return {
    key: formatConversationKey({ platform: 'telegram', installationId: botId, channelId, ...(threadId === undefined ? {} : { threadId }) }),
    channelId,
    ...(threadId === undefined ? {} : { threadId }),
    kind: message.chat.type === 'private' ? 'dm' : 'group',
  };
}

function displayNameOf(message: TelegramMessage): string {
  const from = message.from;
  if (!from) return '';
  const name = [from.first_name, from.last_name ?? ''].join(' ').trim();
  return (name || from.username || String(from.id)).slice(0, 200);
}

/** Classifies one raw update: a candidate for ingest, or why it is ignored. */
export function classifyTelegramUpdate(raw: unknown, ctx: TelegramContext): TelegramClassification {
  const ignored = (reason: string): TelegramClassification => ({ kind: 'ignored', reason });
  const update = UpdateSchema.safeParse(raw);
  if (!update.success) return ignored('not_an_update');
  if (update.data.message === undefined) return ignored('not_a_message');
  const parsed = MessageSchema.safeParse(update.data.message);
  if (!parsed.success) return ignored('malformed_message');
  const message = parsed.data;
  if (message.chat.type === 'channel') return ignored('channel');
  const from = message.from;
  if (!from) return ignored('no_sender');
  if (String(from.id) === ctx.botId) return ignored('self');
  if (from.is_bot) return ignored('bot');
  if (message.via_bot !== undefined && String(message.via_bot.id) === ctx.botId) return ignored('via_self');

  const rawText = message.text ?? message.caption ?? '';
  const entities = entitiesOf(message.text === undefined ? message.caption_entities : message.entities, rawText);
  const addressed = addressing(rawText, entities, ctx);
  const reply = replyOf(message);
  if (message.chat.type !== 'private') {
    const repliesToBot = reply?.fromId !== undefined && String(reply.fromId) === ctx.botId;
    if (!addressed.addressed && !repliesToBot) return ignored(addressed.unsure ? 'identity_unknown' : 'not_addressed');
  }
  const attachments = attachmentsOf(message, ctx.botId, ctx.maxAttachmentBytes);
  if (addressed.text === '' && attachments.length === 0) return ignored('empty');
  return {
    kind: 'message',
    candidate: {
      tenantId: ctx.tenantId,
      platform: 'telegram',
      installationId: ctx.botId,
      platformEventId: String(update.data.update_id),
      sentAt: new Date(message.date * 1000).toISOString(),
      conversation: conversationOf(message, ctx.botId),
      messageId: String(message.message_id),
      ...(reply === undefined ? {} : { replyTo: String(reply.id) }),
      author: { platformUserId: String(from.id), displayName: displayNameOf(message), isBot: false, isSelf: false },
      text: addressed.text,
      attachments,
      mentionsAgent: true,
      verifiedBy: ctx.verifiedBy,
    },
  };
}

/** A trigger update → candidate; undefined for everything that must not be answered. */
export function normalizeTelegramUpdate(raw: unknown, ctx: TelegramContext): InboundCandidate | undefined {
  const result = classifyTelegramUpdate(raw, ctx);
  return result.kind === 'message' ? result.candidate : undefined;
}
