/**
 * Files on a Telegram message → attachment metadata (pure). Nothing is downloaded: each keeps a
 * fetch reference `telegram-file:<bot id>:<file_id>` (resolved later with getFile and the bot's
 * token), and a file known to be larger than the cap gets no reference at all.
 */
import type { InboundCandidate } from '../../src/core/envelope.ts';
import { FileSchema, PhotoSizeSchema, StickerSchema, type TelegramMessage } from './schemas.ts';

type Attachment = InboundCandidate['attachments'][number];

/** The fetch reference of a file, as stored in the envelope. */
export function telegramFileRef(botId: string, fileId: string): string {
  return `telegram-file:${botId}:${fileId}`;
}

function attachment(botId: string, maxBytes: number, file: { file_id: string; file_size?: number | undefined }, name: string, contentType: string): Attachment {
  const size = file.file_size ?? 0;
  return {
    name: name.slice(0, 255),
    contentType: contentType.slice(0, 255),
    sizeBytes: size,
    fetchRef: size <= maxBytes ? telegramFileRef(botId, file.file_id) : '',
  };
}

function largestPhoto(raw: unknown): { file_id: string; file_size?: number | undefined } | undefined {
  if (!Array.isArray(raw)) return undefined;
  let best: { file_id: string; file_size?: number | undefined; width: number } | undefined;
  for (const item of raw.slice(0, 20)) {
    const size = PhotoSizeSchema.safeParse(item);
    if (size.success && (best === undefined || size.data.width >= best.width)) best = size.data;
  }
  return best;
}

// Message fields holding one file, with the name and type used when Telegram gives none.
const FILE_FIELDS = [
  ['document', 'document', 'application/octet-stream'],
  ['audio', 'audio', 'audio/mpeg'],
  ['voice', 'voice.ogg', 'audio/ogg'],
  ['video', 'video.mp4', 'video/mp4'],
  ['video_note', 'video-note.mp4', 'video/mp4'],
  ['animation', 'animation.mp4', 'video/mp4'],
] as const;

/** The attachments of one message (at most 20, as the envelope allows). */
export function attachmentsOf(message: TelegramMessage, botId: string, maxBytes: number): Attachment[] {
  const out: Attachment[] = [];
  const photo = largestPhoto(message.photo);
  if (photo) out.push(attachment(botId, maxBytes, photo, `photo-${message.message_id}.jpg`, 'image/jpeg'));
  for (const [field, defaultName, defaultType] of FILE_FIELDS) {
    const file = FileSchema.safeParse(message[field]);
    if (!file.success) continue;
    out.push(attachment(botId, maxBytes, file.data, file.data.file_name ?? defaultName, file.data.mime_type ?? defaultType));
  }
  const sticker = StickerSchema.safeParse(message.sticker);
  if (sticker.success) {
    const type = sticker.data.is_animated === true ? 'application/x-tgsticker' : sticker.data.is_video === true ? 'video/webm' : 'image/webp';
    out.push(attachment(botId, maxBytes, sticker.data, 'sticker', type));
  }
  return out.slice(0, 20);
}
