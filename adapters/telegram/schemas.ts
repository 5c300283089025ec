/**
 * zod schemas for what Telegram sends us (updates, messages, users, chats, entities, files).
 * Payloads are untrusted: numbers are checked as safe integers, strings are bounded, unknown
 * fields are dropped. Parts we only read if present (entities, files, the replied-to message) are
 * parsed one by one, so a surprise in one of them never costs the whole message.
 */
import { z } from 'zod';
import { ENVELOPE_TEXT_HARD_MAX } from '../../src/core/envelope.ts';

const safeId = z.number().int().min(-(2 ** 53) + 1).max(2 ** 53 - 1);

/** An update as delivered: its id and whatever else (parsed further by type). */
export const UpdateSchema = z.object({
  update_id: z.number().int().nonnegative().max(2 ** 53 - 1),
  message: z.unknown().optional(),
});

/** A user or bot. */
export const UserSchema = z.object({
  id: safeId,
  is_bot: z.boolean(),
  first_name: z.string().max(1000),
  last_name: z.string().max(1000).optional(),
  username: z.string().max(100).optional(),
});
/** A user or bot. */
export type TelegramUser = z.infer<typeof UserSchema>;

/** A chat. */
export const ChatSchema = z.object({
  id: safeId,
  type: z.enum(['private', 'group', 'supergroup', 'channel']),
  is_forum: z.boolean().optional(),
});

/** A message entity (mention, command, link, …); offsets are UTF-16 units. */
export const EntitySchema = z.object({
  type: z.string().min(1).max(50),
  offset: z.number().int().nonnegative().max(ENVELOPE_TEXT_HARD_MAX),
  length: z.number().int().nonnegative().max(ENVELOPE_TEXT_HARD_MAX),
  user: z.object({ id: safeId }).optional(),
});
/** A message entity. */
export type TelegramEntity = z.infer<typeof EntitySchema>;

/** The message a reply answers (only who wrote it and its id matter here). */
export const RepliedSchema = z.object({
  message_id: z.number().int().nonnegative().max(2 ** 53 - 1),
  from: z.object({ id: safeId }).optional(),
});

/** A message, with the parts we read; unknown fields are dropped. */
export const MessageSchema = z.object({
  message_id: z.number().int().nonnegative().max(2 ** 53 - 1),
  message_thread_id: z.number().int().nonnegative().max(2 ** 53 - 1).optional(),
  is_topic_message: z.boolean().optional(),
  date: z.number().int().nonnegative().max(32_503_680_000),
  chat: ChatSchema,
  from: UserSchema.optional(),
  sender_chat: z.unknown().optional(),
  via_bot: z.object({ id: safeId }).optional(),
  text: z.string().max(ENVELOPE_TEXT_HARD_MAX).optional(),
  caption: z.string().max(ENVELOPE_TEXT_HARD_MAX).optional(),
  entities: z.array(z.unknown()).max(1000).optional(),
  caption_entities: z.array(z.unknown()).max(1000).optional(),
  reply_to_message: z.unknown().optional(),
  photo: z.unknown().optional(),
  document: z.unknown().optional(),
  voice: z.unknown().optional(),
  audio: z.unknown().optional(),
  video: z.unknown().optional(),
  video_note: z.unknown().optional(),
  animation: z.unknown().optional(),
  sticker: z.unknown().optional(),
});
/** A message. */
export type TelegramMessage = z.infer<typeof MessageSchema>;

const fileId = z.string().min(1).max(300);
const fileSize = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional();

/** One size of a photo. */
export const PhotoSizeSchema = z.object({ file_id: fileId, file_size: fileSize, width: z.number().int().nonnegative().max(100_000) });

/** A document, audio, video, animation, voice note or video note (the common fields). */
export const FileSchema = z.object({
  file_id: fileId,
  file_size: fileSize,
  file_name: z.string().max(1000).optional(),
  mime_type: z.string().max(255).optional(),
});

/** A sticker (its format decides the content type). */
export const StickerSchema = z.object({
  file_id: fileId,
  file_size: fileSize,
  is_animated: z.boolean().optional(),
  is_video: z.boolean().optional(),
});

/** What getMe answers (the fields we use). */
export const BotInfoSchema = z.object({
  id: safeId,
  is_bot: z.boolean(),
  username: z.string().min(1).max(100),
  first_name: z.string().max(1000).optional(),
  can_read_all_group_messages: z.boolean().optional(),
});

/** What sendMessage answers (the fields we use). */
export const SentMessageSchema = z.object({ message_id: z.number().int().nonnegative().max(2 ** 53 - 1) });
