/**
 * zod schemas for the Discord payloads we read (gateway MESSAGE_CREATE, HTTP interactions).
 * Payloads are untrusted: only the fields we use are parsed, each bounded; unknown fields are
 * dropped; anything else that does not fit makes the payload ignored, never a crash.
 */
import { z } from 'zod';

/** A Discord id: a 64-bit snowflake as decimal digits. */
export const SnowflakeSchema = z.string().regex(/^\d{1,22}$/);

/** A user as Discord sends it inside messages and interactions. */
export const DiscordUserSchema = z.object({
  id: SnowflakeSchema,
  username: z.string().max(100),
  global_name: z.string().max(100).nullish(),
  bot: z.boolean().optional(),
  system: z.boolean().optional(),
});
/** A Discord user. */
export type DiscordUser = z.infer<typeof DiscordUserSchema>;

/** An attachment's metadata (the bytes stay on Discord's CDN). */
export const DiscordAttachmentSchema = z.object({
  id: SnowflakeSchema,
  filename: z.string().min(1).max(1024),
  size: z.number().int().nonnegative().max(2 ** 40),
  content_type: z.string().max(255).optional(),
});

/** Message types we answer: DEFAULT (0) and REPLY (19); joins, pins, boosts… are ignored. */
export const ANSWERED_MESSAGE_TYPES: ReadonlySet<number> = new Set([0, 19]);

/** The `d` of a gateway MESSAGE_CREATE dispatch. */
export const MessageCreateSchema = z.object({
  id: SnowflakeSchema,
  channel_id: SnowflakeSchema,
  guild_id: SnowflakeSchema.optional(),
  author: DiscordUserSchema,
  member: z.object({ nick: z.string().max(100).nullish() }).optional(),
  content: z.string().max(20_000),
  timestamp: z.string().max(64).optional(),
  type: z.number().int().default(0),
  webhook_id: SnowflakeSchema.optional(),
  mentions: z.array(DiscordUserSchema).max(200).default([]),
  attachments: z.array(DiscordAttachmentSchema).max(20).default([]),
  message_reference: z.object({ message_id: SnowflakeSchema.optional() }).optional(),
});
/** A parsed MESSAGE_CREATE. */
export type MessageCreate = z.infer<typeof MessageCreateSchema>;

/** Interaction types (https://discord.com/developers/docs/interactions/receiving-and-responding). */
export const InteractionType = { Ping: 1, ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 } as const;

/** Interaction callback types we answer with. */
export const InteractionCallback = { Pong: 1, ChannelMessage: 4, DeferredChannelMessage: 5, AutocompleteResult: 8 } as const;

/** The part of every interaction we read first. */
export const InteractionEnvelopeSchema = z.object({
  id: SnowflakeSchema,
  application_id: SnowflakeSchema,
  type: z.number().int().min(1).max(100),
});

const CommandOptionSchema = z.object({
  name: z.string().max(32),
  type: z.number().int(),
  value: z.union([z.string().max(6000), z.number(), z.boolean()]).optional(),
});

/** An APPLICATION_COMMAND interaction (a slash command). */
export const CommandInteractionSchema = InteractionEnvelopeSchema.extend({
  type: z.literal(InteractionType.ApplicationCommand),
  token: z.string().min(1).max(1000).regex(/^[A-Za-z0-9._-]+$/),
  data: z.object({
    id: SnowflakeSchema,
    name: z.string().min(1).max(32),
    options: z.array(CommandOptionSchema).max(25).default([]),
  }),
  guild_id: SnowflakeSchema.optional(),
  channel_id: SnowflakeSchema.optional(),
  channel: z.object({ id: SnowflakeSchema }).optional(),
  member: z.object({ user: DiscordUserSchema, nick: z.string().max(100).nullish() }).optional(),
  user: DiscordUserSchema.optional(),
});
/** A parsed slash command interaction. */
export type CommandInteraction = z.infer<typeof CommandInteractionSchema>;

/** Mentions nobody, ever: not @everyone/@here, roles, users, nor the author of the replied message. */
export const NO_MENTIONS = { parse: [], replied_user: false } as const;

/** A message body as Discord's API takes it (every one we send carries NO_MENTIONS). */
export interface DiscordMessageBody {
  readonly content: string;
  readonly allowed_mentions: typeof NO_MENTIONS;
  readonly message_reference?: { readonly message_id: string; readonly fail_if_not_exists: false };
}
