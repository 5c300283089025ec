/**
 * zod schemas for what Slack sends us (Events API envelopes, message events, files, lifecycle
 * events). Payloads are untrusted: ids are checked against Slack's formats, strings are bounded,
 * unknown fields are ignored, and anything else fails the parse (the event is then ignored).
 */
import { z } from 'zod';
import { ENVELOPE_TEXT_HARD_MAX } from '../../src/core/envelope.ts';

/** A workspace (T…) or Enterprise Grid org (E…) id. */
export const TeamIdSchema = z.string().regex(/^[TE][A-Z0-9]{2,30}$/);
/** An Events API event id (Ev…). */
export const EventIdSchema = z.string().regex(/^Ev[A-Za-z0-9]{4,40}$/);
/** A channel, private channel or DM id. */
export const ChannelIdSchema = z.string().regex(/^[CDG][A-Z0-9]{2,30}$/);
/** A user id (U… or W… for Enterprise Grid). */
export const UserIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,30}$/);
/** A message timestamp, Slack's message id within a channel ("1700000000.000100"). */
export const TsSchema = z.string().regex(/^\d{1,10}\.\d{1,6}$/);

/** The outer envelope of an Events API delivery. */
export const EnvelopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(500) }),
  z.object({
    type: z.literal('event_callback'),
    team_id: TeamIdSchema,
    api_app_id: z.string().max(50).optional(),
    event_id: EventIdSchema,
    event_time: z.number().int().nonnegative().optional(),
    event: z.looseObject({ type: z.string().min(1).max(100) }),
  }),
  z.object({ type: z.literal('app_rate_limited') }),
]);
/** The outer envelope of an Events API delivery. */
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** A file shared with a message: metadata only (bytes are fetched later with the bot token). */
export const FileSchema = z.object({
  id: z.string().regex(/^F[A-Z0-9]{2,30}$/),
  name: z.string().max(1000).optional(),
  title: z.string().max(1000).optional(),
  mimetype: z.string().max(255).optional(),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  mode: z.string().max(50).optional(),
});

/** A `message` or `app_mention` event. */
export const MessageEventSchema = z.object({
  type: z.enum(['message', 'app_mention']),
  subtype: z.string().max(100).optional(),
  hidden: z.boolean().optional(),
  channel: ChannelIdSchema,
  channel_type: z.string().max(20).optional(),
  user: UserIdSchema.optional(),
  bot_id: z.string().max(50).optional(),
  app_id: z.string().max(50).optional(),
  text: z.string().max(ENVELOPE_TEXT_HARD_MAX).optional(),
  ts: TsSchema,
  thread_ts: TsSchema.optional(),
  user_profile: z
    .object({
      display_name: z.string().max(500).optional(),
      real_name: z.string().max(500).optional(),
      name: z.string().max(500).optional(),
    })
    .optional(),
  files: z.array(z.unknown()).max(100).optional(),
});
/** A `message` or `app_mention` event. */
export type MessageEvent = z.infer<typeof MessageEventSchema>;

/** `tokens_revoked`: which tokens of this team were revoked (user ids of bot users under `bot`). */
export const TokensRevokedSchema = z.object({
  type: z.literal('tokens_revoked'),
  tokens: z.object({
    oauth: z.array(z.string().max(50)).max(1000).optional(),
    bot: z.array(z.string().max(50)).max(1000).optional(),
  }),
});
