/**
 * The one shape every inbound message takes after its adapter normalized it, and the shape of
 * every reply. Types come from these schemas (`z.infer`), never from hand-written twins.
 */
import { z } from 'zod';

/** Platforms Switchboard speaks to. */
export const PLATFORMS = ['webchat', 'slack', 'discord', 'telegram', 'email', 'whatsapp'] as const;
/** A platform Switchboard speaks to. */
export const PlatformSchema = z.enum(PLATFORMS);
/** A platform Switchboard speaks to. */
export type Platform = z.infer<typeof PlatformSchema>;

const id = z.string().min(1).max(200);

/** PII entity types, named as in Microsoft Presidio. */
export const PII_ENTITY_TYPES = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'US_SSN',
  'CREDIT_CARD',
  'IBAN_CODE',
  'IP_ADDRESS',
] as const;
/** Data classification levels, lowest first. */
export const PII_LEVELS = ['public', 'internal', 'sensitive', 'restricted'] as const;
/** What a tenant does with a message that carries PII. */
export const PII_ACTIONS = ['log', 'redact', 'block'] as const;

/** Where a message lives: the conversation key is the stable identity across platforms. */
export const ConversationRefSchema = z.strictObject({
  key: z.string().min(1).max(500),
  channelId: id,
  threadId: id.optional(),
  kind: z.enum(['dm', 'group', 'channel', 'email-thread']),
});
/** Where a message lives. */
export type ConversationRef = z.infer<typeof ConversationRefSchema>;

/** Who wrote a message, as the platform knows them (and our user id when linked). */
export const AuthorSchema = z.strictObject({
  platformUserId: id,
  displayName: z.string().max(200),
  isBot: z.boolean(),
  isSelf: z.boolean(),
  userId: z.uuid().optional(),
});
/** Who wrote a message. */
export type Author = z.infer<typeof AuthorSchema>;

/** Attachment metadata and a reference to fetch it later; never the bytes. */
export const AttachmentSchema = z.strictObject({
  name: z.string().max(255),
  contentType: z.string().max(255),
  sizeBytes: z.number().int().nonnegative(),
  fetchRef: z.string().max(2000),
});

/** A PII finding: type and UTF-16 offsets into the sanitized text. */
export const PiiFindingSchema = z.strictObject({
  type: z.enum(PII_ENTITY_TYPES),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});

/** What happened to a message on its way in. */
export const SecuritySchema = z.strictObject({
  verifiedBy: z.string().min(1).max(100),
  sanitizerChanges: z.array(z.strictObject({ kind: z.string().max(50), count: z.number().int().nonnegative() })).max(20),
  pii: z.strictObject({
    findings: z.array(PiiFindingSchema).max(10_000),
    level: z.enum(PII_LEVELS),
    action: z.enum(PII_ACTIONS),
  }),
});

/** Email-only threading facts. */
export const EmailFieldsSchema = z.strictObject({
  messageIdHeader: z.string().max(998),
  inReplyTo: z.string().max(998).optional(),
  references: z.array(z.string().max(998)).max(100),
  subject: z.string().max(998),
  autoSubmitted: z.boolean(),
});

/** Hard cap on envelope text before sanitization; the configured limit is applied by the sanitizer. */
export const ENVELOPE_TEXT_HARD_MAX = 100_000;

/** An inbound message, normalized and validated. `text` is sanitized once ingest has run. */
export const InboundEnvelopeSchema = z.strictObject({
  schemaVersion: z.literal(1),
  envelopeId: z.uuid(),
  tenantId: z.uuid(),
  platform: PlatformSchema,
  installationId: id,
  platformEventId: id,
  idempotencyKey: z.string().min(1).max(700),
  receivedAt: z.iso.datetime(),
  sentAt: z.iso.datetime().optional(),
  conversation: ConversationRefSchema,
  messageId: id,
  replyTo: id.optional(),
  author: AuthorSchema,
  text: z.string().max(ENVELOPE_TEXT_HARD_MAX),
  attachments: z.array(AttachmentSchema).max(20),
  mentionsAgent: z.boolean(),
  security: SecuritySchema,
  email: EmailFieldsSchema.optional(),
});
/** An inbound message, normalized and validated. */
export type InboundEnvelope = z.infer<typeof InboundEnvelopeSchema>;

/**
 * What an adapter hands to ingest: everything but the fields ingest itself computes
 * (ids, times, idempotency key and the security verdict).
 */
export const InboundCandidateSchema = InboundEnvelopeSchema.omit({
  schemaVersion: true,
  envelopeId: true,
  idempotencyKey: true,
  receivedAt: true,
  security: true,
}).extend({ verifiedBy: z.string().min(1).max(100) });
/** What an adapter hands to ingest. */
export type InboundCandidate = z.infer<typeof InboundCandidateSchema>;

/** The idempotency key of a platform event: `platform:installation:eventId`. */
export function idempotencyKeyOf(platform: Platform, installationId: string, platformEventId: string): string {
  return `${platform}:${installationId}:${platformEventId}`;
}

/** A reply on its way out, as an adapter's `send` receives it. Text is raw; the adapter renders it. */
export const OutboundMessageSchema = z.strictObject({
  outboxId: z.uuid(),
  messageId: z.uuid(),
  tenantId: z.uuid(),
  platform: PlatformSchema,
  installationId: id,
  conversationId: z.uuid(),
  conversation: ConversationRefSchema,
  replyToPlatformMessageId: id.optional(),
  text: z.string().max(ENVELOPE_TEXT_HARD_MAX),
  /** When a long reply is split to the platform's limit: which part this is (0-based) of how many. */
  part: z.strictObject({ index: z.number().int().nonnegative(), count: z.number().int().positive() }).optional(),
});
/** A reply on its way out. */
export type OutboundMessage = z.infer<typeof OutboundMessageSchema>;
