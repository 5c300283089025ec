/** Telegram updates → candidates: who triggers the bot, what text and thread the agent sees, files. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InboundCandidateSchema } from '../../src/core/envelope.ts';
import { classifyTelegramUpdate, normalizeTelegramUpdate, TELEGRAM_VERIFIED_BY, type TelegramContext } from '../../adapters/telegram/normalize.ts';
import {
  forumTopicMention,
  groupMention,
  groupPlain,
  groupReplyToBot,
  privateMessage,
  privatePhoto,
  TG_BOT_ID,
  TG_BOT_USERNAME,
  TG_FORUM,
  TG_GROUP,
  TG_PERSON,
  update,
} from '../standins/telegram-fixtures.ts';

const ctx: TelegramContext = { tenantId: randomUUID(), botId: String(TG_BOT_ID), botUsername: TG_BOT_USERNAME, maxAttachmentBytes: 50_000, verifiedBy: TELEGRAM_VERIFIED_BY.webhook };
const handle = `@${TG_BOT_USERNAME}`;

describe('Telegram normalize', () => {
  it('dedupes on (bot, update_id): installation = bot id, event id = update id', () => {
    const candidate = normalizeTelegramUpdate(update(privateMessage(), 123_456), ctx);
    expect(candidate?.installationId).toBe(String(TG_BOT_ID));
    expect(candidate?.platformEventId).toBe('123456');
    expect(candidate?.conversation).toEqual({ key: `telegram:${TG_BOT_ID}:${TG_PERSON.id}`, channelId: String(TG_PERSON.id), kind: 'dm' });
    expect(candidate?.author).toEqual({ platformUserId: String(TG_PERSON.id), displayName: 'Ada Lovelace', isBot: false, isSelf: false });
    expect(candidate?.text).toBe('Hello, what is on my plate & when?');
  });

  it('takes the mention out of the text, with its punctuation gap', () => {
    const text = `Hey ${handle}, what is next?`;
    const candidate = normalizeTelegramUpdate(update(groupMention({ text, entities: [{ type: 'mention', offset: 4, length: handle.length }] })), ctx);
    expect(candidate?.text).toBe('Hey, what is next?');
    expect(candidate?.conversation.kind).toBe('group');
    const leading = normalizeTelegramUpdate(update(groupMention({ text: `${handle}: status?`, entities: [{ type: 'mention', offset: 0, length: handle.length }] })), ctx);
    expect(leading?.text).toBe('status?');
  });

  it('matches the username case-insensitively, and only its own', () => {
    const upper = `@${TG_BOT_USERNAME.toUpperCase()}`;
    expect(normalizeTelegramUpdate(update(groupMention({ text: `${upper} hi`, entities: [{ type: 'mention', offset: 0, length: upper.length }] })), ctx)?.text).toBe('hi');
    const other = '@switchboard_test_bot2';
    expect(classifyTelegramUpdate(update(groupPlain({ text: `${other} hi`, entities: [{ type: 'mention', offset: 0, length: other.length }] })), ctx)).toEqual({ kind: 'ignored', reason: 'not_addressed' });
  });

  it('accepts a text mention of the bot (by id) and a command addressed to it', () => {
    const textMention = update(groupPlain({ text: 'Switchboard, plans?', entities: [{ type: 'text_mention', offset: 0, length: 11, user: { id: TG_BOT_ID, is_bot: true, first_name: 'Switchboard' } }] }));
    expect(normalizeTelegramUpdate(textMention, ctx)?.text).toBe('plans?');
    const command = `/ask${handle}`;
    const addressed = update(groupPlain({ text: `${command} the roadmap`, entities: [{ type: 'bot_command', offset: 0, length: command.length }] }));
    expect(normalizeTelegramUpdate(addressed, ctx)?.text).toBe('/ask the roadmap');
    // A bare command in a group names no bot: not addressed.
    expect(normalizeTelegramUpdate(update(groupPlain({ text: '/ask x', entities: [{ type: 'bot_command', offset: 0, length: 4 }] })), ctx)).toBeUndefined();
  });

  it('answers a reply to the bot and records what it replies to', () => {
    const candidate = normalizeTelegramUpdate(update(groupReplyToBot()), ctx);
    expect(candidate?.replyTo).toBe('77');
    expect(candidate?.text).toBe('and after that?');
    // A reply to someone else is not addressed to the bot.
    const elsewhere = groupReplyToBot({ reply_to_message: { message_id: 5, from: TG_PERSON, chat: TG_GROUP, date: 1, text: 'x' } });
    expect(classifyTelegramUpdate(update(elsewhere), ctx)).toEqual({ kind: 'ignored', reason: 'not_addressed' });
  });

  it('keeps forum topics as threads; the topic root the bot created is not a reply to it', () => {
    const candidate = normalizeTelegramUpdate(update(forumTopicMention(42)), ctx);
    expect(candidate?.conversation.threadId).toBe('42');
    expect(candidate?.conversation.key).toBe(`telegram:${TG_BOT_ID}:${TG_FORUM.id}:42`);
    expect(candidate?.replyTo).toBeUndefined();
    // Without a mention, a message in a topic the bot created is still not addressed to it.
    const unaddressed = forumTopicMention(42, { text: 'just chatting', entities: [] });
    expect(classifyTelegramUpdate(update(unaddressed), ctx)).toEqual({ kind: 'ignored', reason: 'not_addressed' });
    // A reply thread in a group without topics is not a topic.
    const plainGroup = groupMention({ message_thread_id: 9, chat: TG_GROUP });
    expect(normalizeTelegramUpdate(update(plainGroup), ctx)?.conversation.threadId).toBeUndefined();
  });

  it('ignores own, bot, anonymous, channel and edited messages', () => {
    const reasons = [
      update(privateMessage({ from: { id: TG_BOT_ID, is_bot: true, first_name: 'Me' } })),
      update(privateMessage({ from: { id: 99, is_bot: true, first_name: 'Bot' } })),
      update(groupMention({ from: { id: 1_087_968_824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' }, sender_chat: TG_GROUP })),
      update(privateMessage({ via_bot: { id: TG_BOT_ID, is_bot: true, first_name: 'Me' } })),
      { update_id: 9, channel_post: privateMessage() },
      update(privateMessage({ chat: { id: -100_5, type: 'channel', title: 'News' } })),
    ].map((u) => classifyTelegramUpdate(u, ctx));
    expect(reasons).toEqual([
      { kind: 'ignored', reason: 'self' },
      { kind: 'ignored', reason: 'bot' },
      { kind: 'ignored', reason: 'bot' },
      { kind: 'ignored', reason: 'via_self' },
      { kind: 'ignored', reason: 'not_a_message' },
      { kind: 'ignored', reason: 'channel' },
    ]);
  });

  it('says identity_unknown for a possible mention while the username is not known yet', () => {
    const unknown = { ...ctx, botUsername: undefined };
    expect(classifyTelegramUpdate(update(groupMention()), unknown)).toEqual({ kind: 'ignored', reason: 'identity_unknown' });
    // Private chats and replies to the bot need no username.
    expect(normalizeTelegramUpdate(update(privateMessage()), unknown)).toBeDefined();
    expect(normalizeTelegramUpdate(update(groupReplyToBot()), unknown)).toBeDefined();
  });

  it('lists files as metadata with a fetch reference, none over the cap', () => {
    const photo = normalizeTelegramUpdate(update(privatePhoto()), ctx);
    expect(photo?.text).toBe('what does this chart say?');
    expect(photo?.attachments).toEqual([{ name: expect.stringMatching(/^photo-\d+\.jpg$/), contentType: 'image/jpeg', sizeBytes: 98_000, fetchRef: '' }]);
    const small = normalizeTelegramUpdate(update(privatePhoto()), { ...ctx, maxAttachmentBytes: 100_000 });
    expect(small?.attachments[0]?.fetchRef).toBe(`telegram-file:${TG_BOT_ID}:AgACAgQAAxkBAAIBlarge`);
    const files = privateMessage({
      text: undefined,
      document: { file_id: 'BQACdoc', file_unique_id: 'u1', file_name: 'plan.pdf', mime_type: 'application/pdf', file_size: 2048 },
      voice: { file_id: 'AwACvoice', file_unique_id: 'u2', duration: 3, mime_type: 'audio/ogg', file_size: 5000 },
      sticker: { file_id: 'CAACsticker', file_unique_id: 'u3', width: 512, height: 512, is_animated: true, is_video: false, type: 'regular' },
    });
    const candidate = normalizeTelegramUpdate(update(files), ctx);
    expect(candidate?.text).toBe('');
    expect(candidate?.attachments.map((a) => [a.name, a.contentType, a.sizeBytes, a.fetchRef])).toEqual([
      ['plan.pdf', 'application/pdf', 2048, `telegram-file:${TG_BOT_ID}:BQACdoc`],
      ['voice.ogg', 'audio/ogg', 5000, `telegram-file:${TG_BOT_ID}:AwACvoice`],
      ['sticker', 'application/x-tgsticker', 0, `telegram-file:${TG_BOT_ID}:CAACsticker`],
    ]);
    // A malformed file is skipped, the message kept.
    expect(normalizeTelegramUpdate(update(privateMessage({ document: { file_id: 7 } })), ctx)?.attachments).toEqual([]);
  });

  it('survives entities that point outside the text and surprises in optional parts', () => {
    const weird = groupMention({ entities: [{ type: 'mention', offset: 500, length: 30 }, { type: 'mention', offset: 0, length: handle.length }, 'x', null], photo: 'not a list' });
    expect(normalizeTelegramUpdate(update(weird), ctx)?.text).toBe('what is next for the team?');
  });

  it('never throws and only produces valid candidates for arbitrary message shapes', () => {
    const entity = fc.record({ type: fc.constantFrom('mention', 'bot_command', 'text_mention', 'url'), offset: fc.integer({ min: -2, max: 60 }), length: fc.integer({ min: -1, max: 60 }) });
    const message = fc.record(
      {
        message_id: fc.oneof(fc.nat(), fc.string()),
        date: fc.nat(),
        chat: fc.record({ id: fc.integer(), type: fc.constantFrom('private', 'group', 'supergroup', 'channel', 'x'), is_forum: fc.boolean() }),
        from: fc.record({ id: fc.oneof(fc.integer(), fc.constant(TG_BOT_ID)), is_bot: fc.boolean(), first_name: fc.string() }),
        text: fc.oneof(fc.string({ maxLength: 60 }), fc.constant(`${handle} hi`)),
        entities: fc.array(entity, { maxLength: 4 }),
        message_thread_id: fc.integer(),
        is_topic_message: fc.boolean(),
        reply_to_message: fc.record({ message_id: fc.integer(), from: fc.record({ id: fc.constantFrom(TG_BOT_ID, 5) }) }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.nat(), message, (updateId, msg) => {
        const candidate = normalizeTelegramUpdate({ update_id: updateId, message: msg }, ctx);
        if (candidate !== undefined) expect(InboundCandidateSchema.safeParse(candidate).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
