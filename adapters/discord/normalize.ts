/**
 * Pure normalization: a Discord payload (gateway MESSAGE_CREATE, or a `/ask` interaction) →
 * an InboundCandidate, or undefined when it is not for us (the bot's own messages, other bots',
 * webhooks, system messages, guild messages that do not mention the bot, anything malformed).
 */
import type { ConversationRef, InboundCandidate } from '../../src/core/envelope.ts';
import { formatConversationKey } from '../../src/core/conversation-key.ts';
import {
  ANSWERED_MESSAGE_TYPES,
  MessageCreateSchema,
  type CommandInteraction,
  type DiscordUser,
  type MessageCreate,
} from './payloads.ts';

/** What normalization needs besides the payload. */
export interface NormalizeContext {
  readonly tenantId: string;
  /** The application id: the installation id of every Discord envelope. */
  readonly applicationId: string;
  /** The bot's user id (from READY); without it nothing can be told apart from our own messages. */
  readonly botUserId: string | undefined;
  readonly maxAttachmentBytes: number;
}

/** Message ids of interactions are prefixed so replies know to answer through the interaction. */
export const INTERACTION_MESSAGE_PREFIX = 'interaction:';

/** The message id we give a slash-command interaction. */
export function interactionMessageId(interactionId: string): string {
  return `${INTERACTION_MESSAGE_PREFIX}${interactionId}`;
}

/** The interaction id inside a message id made by `interactionMessageId`, else undefined. */
export function interactionIdOf(messageId: string | undefined): string | undefined {
  if (messageId === undefined || !messageId.startsWith(INTERACTION_MESSAGE_PREFIX)) return undefined;
  const id = messageId.slice(INTERACTION_MESSAGE_PREFIX.length);
  return /^\d{1,22}$/.test(id) ? id : undefined;
}

const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/** When a snowflake was made, as an ISO time (interactions carry no timestamp of their own). */
export function snowflakeTime(id: string): string | undefined {
  const ms = Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) && ms < 8.64e15 ? date.toISOString() : undefined;
}

/** The conversation of a channel (guild channel, thread or DM): one per channel. */
export function discordConversation(applicationId: string, channelId: string, isDm: boolean): ConversationRef {
  return {
    key: formatConversationKey({ platform: 'discord', installationId: applicationId, channelId }),
    channelId,
    kind: isDm ? 'dm' : 'channel',
  };
}

function displayNameOf(user: DiscordUser, nick: string | null | undefined): string {
  return (nick ?? user.global_name ?? user.username).slice(0, 200);
}

function isoTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** Removes the bot's own mention and writes other user mentions as @name, for the model. */
function readableContent(message: MessageCreate, botUserId: string): string {
  const names = new Map(message.mentions.map((u) => [u.id, displayNameOf(u, undefined)]));
  return message.content
    .replace(/<@!?(\d{1,22})>/g, (whole, id: string) => {
      if (id === botUserId) return '';
      const name = names.get(id);
      return name === undefined ? whole : `@${name}`;
    })
    .trim();
}

function attachmentsOf(message: MessageCreate, maxBytes: number): InboundCandidate['attachments'] {
  return message.attachments.map((a) => ({
    name: a.filename.slice(0, 255),
    contentType: a.content_type ?? 'application/octet-stream',
    sizeBytes: a.size,
    // A stable reference (CDN URLs are signed and expire): resolve it through REST when fetching.
    fetchRef: a.size <= maxBytes ? `discord://channels/${message.channel_id}/messages/${message.id}/attachments/${a.id}` : '',
  }));
}

/** A gateway MESSAGE_CREATE `d` → candidate, when it is a DM or mentions the bot. */
export function normalizeMessageCreate(raw: unknown, ctx: NormalizeContext): InboundCandidate | undefined {
  const parsed = MessageCreateSchema.safeParse(raw);
  if (!parsed.success || ctx.botUserId === undefined) return undefined;
  const message = parsed.data;
  const botUserId = ctx.botUserId;
  if (!ANSWERED_MESSAGE_TYPES.has(message.type)) return undefined;
  if (message.author.id === botUserId) return undefined;
  if (message.author.bot === true || message.author.system === true || message.webhook_id !== undefined) return undefined;
  const isDm = message.guild_id === undefined;
  const mentioned =
    message.mentions.some((u) => u.id === botUserId) || message.content.includes(`<@${botUserId}>`) || message.content.includes(`<@!${botUserId}>`);
  if (!isDm && !mentioned) return undefined;
  const sentAt = isoTime(message.timestamp);
  const replyTo = message.message_reference?.message_id;
  return {
    tenantId: ctx.tenantId,
    platform: 'discord',
    installationId: ctx.applicationId,
    platformEventId: message.id,
    conversation: discordConversation(ctx.applicationId, message.channel_id, isDm),
    messageId: message.id,
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(sentAt === undefined ? {} : { sentAt }),
    author: {
      platformUserId: message.author.id,
      displayName: displayNameOf(message.author, message.member?.nick),
      isBot: false,
      isSelf: false,
    },
    text: readableContent(message, botUserId),
    attachments: attachmentsOf(message, ctx.maxAttachmentBytes),
    mentionsAgent: true,
    verifiedBy: 'discord-gateway',
  };
}

/** The `/ask` command's question option. */
export function askQuestion(interaction: CommandInteraction): string {
  const option = interaction.data.options.find((o) => o.name === 'question');
  return typeof option?.value === 'string' ? option.value.trim() : '';
}

/** A verified `/ask` interaction → candidate; undefined when it has no user or channel, or a bot sent it. */
export function normalizeAskInteraction(interaction: CommandInteraction, ctx: NormalizeContext): InboundCandidate | undefined {
  const user = interaction.member?.user ?? interaction.user;
  const channelId = interaction.channel_id ?? interaction.channel?.id;
  if (user === undefined || channelId === undefined) return undefined;
  if (user.bot === true || user.system === true || user.id === ctx.botUserId) return undefined;
  const id = interactionMessageId(interaction.id);
  const sentAt = snowflakeTime(interaction.id);
  return {
    tenantId: ctx.tenantId,
    platform: 'discord',
    installationId: ctx.applicationId,
    platformEventId: id,
    conversation: discordConversation(ctx.applicationId, channelId, interaction.guild_id === undefined),
    messageId: id,
    ...(sentAt === undefined ? {} : { sentAt }),
    author: { platformUserId: user.id, displayName: displayNameOf(user, interaction.member?.nick), isBot: false, isSelf: false },
    text: askQuestion(interaction),
    attachments: [],
    mentionsAgent: true,
    verifiedBy: 'discord-ed25519',
  };
}
