/**
 * The shared adapter contract, run against the Telegram adapter's pure parts. Telegram signs
 * nothing: its secret token is a static header (`signsBody: false`), so the contract checks the
 * forged and missing secret but not a changed body; replays are caught by dedupe on update_id.
 * More of the secret check (lengths, constant time over digests) is in telegram-verify.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { describeAdapterContract } from '../contract/adapter-contract.ts';
import { normalizeTelegramUpdate, TELEGRAM_VERIFIED_BY } from '../../adapters/telegram/normalize.ts';
import { renderTelegramParts, TELEGRAM_MAX_MESSAGE_CHARS } from '../../adapters/telegram/render.ts';
import { parseTelegramHtml } from '../standins/telegram.ts';
import { TELEGRAM_SECRET_HEADER, verifyTelegramSecret } from '../../adapters/telegram/verify.ts';
import {
  forumTopicMention,
  groupMention,
  groupPlain,
  groupReplyToBot,
  privateMessage,
  privatePhoto,
  TG_BOT_ID,
  TG_BOT_USERNAME,
  TG_OTHER_BOT,
  TG_PERSON,
  update,
} from '../standins/telegram-fixtures.ts';

const CONTRACT_SECRET = 'contract-secret-token-0123456789abcdef';
const ctx = { tenantId: randomUUID(), botId: String(TG_BOT_ID), botUsername: TG_BOT_USERNAME, maxAttachmentBytes: 1024 * 1024, verifiedBy: TELEGRAM_VERIFIED_BY.webhook };
const self = { id: TG_BOT_ID, is_bot: true, first_name: 'Switchboard', username: TG_BOT_USERNAME };

/** Only b, i, code (with a language class inside pre), pre and a with a safe href; & < > escaped; parseable as Telegram parses. */
function assertTelegramSafe(rendered: string): void {
  for (const tag of rendered.match(/<[^>]*>?/g) ?? []) {
    expect(tag).toMatch(/^<\/?(b|i|pre)>$|^<code( class="language-[A-Za-z0-9+#-]{1,20}")?>$|^<\/code>$|^<a href="(https?:\/\/|mailto:)[^"<>]*">$|^<\/a>$/);
  }
  expect(rendered).not.toMatch(/&(?!(amp|lt|gt|quot);)/);
  expect(rendered).not.toMatch(/<(script|tg-|span|blockquote)/i);
  expect(parseTelegramHtml(rendered)).not.toHaveProperty('error');
}

describeAdapterContract({
  platform: 'telegram',
  messages: [
    { name: 'a private message', payload: update(privateMessage()) },
    { name: 'a group mention', payload: update(groupMention()) },
    { name: 'a group reply to the bot', payload: update(groupReplyToBot()) },
    { name: 'a forum topic mention', payload: update(forumTopicMention(42)) },
    { name: 'a command addressed to the bot', payload: update(groupPlain({ text: `/ask@${TG_BOT_USERNAME} plans?`, entities: [{ type: 'bot_command', offset: 0, length: 4 + 1 + TG_BOT_USERNAME.length }] })) },
    { name: 'a photo with a caption', payload: update(privatePhoto()) },
  ],
  ignored: [
    { name: "the bot's own message", payload: update(privateMessage({ from: self })) },
    { name: "another bot's message", payload: update(privateMessage({ from: TG_OTHER_BOT })) },
    { name: "another bot's group mention", payload: update(groupMention({ from: TG_OTHER_BOT })) },
    { name: 'a group message that addresses nobody', payload: update(groupPlain()) },
    { name: 'a group mention of someone else', payload: update(groupPlain({ text: '@someone_else hi', entities: [{ type: 'mention', offset: 0, length: 13 }] })) },
    { name: 'an edited message', payload: { update_id: 1, edited_message: privateMessage() } },
    { name: 'a channel post', payload: { update_id: 2, channel_post: { message_id: 1, chat: { id: -100, type: 'channel' }, date: 1, text: 'x' } } },
    { name: 'a service message (member joined)', payload: update(groupPlain({ text: undefined, new_chat_members: [TG_PERSON] })) },
    { name: 'a mention with no text left', payload: update(groupMention({}, '')) },
  ],
  normalize: (payload) => normalizeTelegramUpdate(payload, ctx),
  render: (text) => renderTelegramParts(text),
  maxMessageChars: TELEGRAM_MAX_MESSAGE_CHARS,
  assertRenderedSafe: (rendered) => assertTelegramSafe(rendered),
  verification: {
    sign: () => ({ headers: { [TELEGRAM_SECRET_HEADER]: CONTRACT_SECRET }, body: '' }),
    verify: (delivery) => verifyTelegramSecret(CONTRACT_SECRET, delivery.headers[TELEGRAM_SECRET_HEADER]).ok,
    timestamped: false,
    signsBody: false,
  },
});
