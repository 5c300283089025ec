/**
 * The web chat's WebSocket protocol. Every frame in either direction is JSON validated by these
 * schemas; a frame that fails gets an `error` frame back and the socket stays open.
 */
import { z } from 'zod';
import { ChatMessageSchema, type ChatMessage } from '../../src/core/chat-message.ts';

/** Longest history page a client may ask for. */
export const HISTORY_PAGE_MAX = 100;

/** Client → server: send a message. `id` is the client's idempotency key (a UUID). */
export const SendFrameSchema = z.strictObject({
  type: z.literal('send'),
  id: z.uuid(),
  text: z.string().min(1).max(100_000),
});

/** Client → server: ask for earlier messages of the conversation. */
export const HistoryRequestFrameSchema = z.strictObject({
  type: z.literal('history'),
  before: z.iso.datetime().optional(),
  limit: z.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
});

/** Any frame a client may send. */
export const ClientFrameSchema = z.discriminatedUnion('type', [SendFrameSchema, HistoryRequestFrameSchema]);
/** Any frame a client may send. */
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export { ChatMessageSchema, type ChatMessage };

/** Every frame the server sends. */
export const ServerFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), userId: z.uuid(), conversationId: z.uuid() }),
  z.strictObject({
    type: z.literal('ack'),
    id: z.string(),
    messageId: z.uuid(),
    duplicate: z.boolean(),
    /** The text as stored (redacted), and the PII types found in it. */
    stored: z.strictObject({ text: z.string(), piiTypes: z.array(z.string()) }),
  }),
  z.strictObject({ type: z.literal('message'), message: ChatMessageSchema }),
  z.strictObject({ type: z.literal('typing'), conversationId: z.uuid(), state: z.enum(['start', 'stop']) }),
  z.strictObject({
    type: z.literal('history'),
    conversationId: z.uuid(),
    messages: z.array(ChatMessageSchema),
    hasMore: z.boolean(),
  }),
  z.strictObject({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    id: z.string().optional(),
    retryAfterMs: z.number().optional(),
  }),
]);
/** Every frame the server sends. */
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
