/**
 * Real-shaped Telegram updates for tests (as the Bot API delivers them): private messages, group
 * mentions, replies to the bot, forum topic messages, bots' messages, files. Update and message
 * ids come from counters, so every call yields a new update unless one is given.
 */

/** The test bot. */
export const TG_BOT_ID = 7_000_000_001;
/** Its username (without @). */
export const TG_BOT_USERNAME = 'switchboard_test_bot';
/** Its token (the digits before the colon are the bot id). */
export const TG_BOT_TOKEN = `${TG_BOT_ID}:AAH3k9dZr2ExampleTokenForTests_0123456`;
/** A person. */
export const TG_PERSON = { id: 424_242_001, is_bot: false, first_name: 'Ada', last_name: 'Lovelace', username: 'ada', language_code: 'en' };
/** Another bot. */
export const TG_OTHER_BOT = { id: 7_000_000_999, is_bot: true, first_name: 'Other', username: 'other_bot' };
/** A supergroup. */
export const TG_GROUP = { id: -1_001_234_567_890, type: 'supergroup', title: 'Team room' };
/** A forum supergroup (topics on). */
export const TG_FORUM = { id: -1_009_876_543_210, type: 'supergroup', title: 'Team forum', is_forum: true };

let updateSeq = 500_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
let messageSeq = 10_000;

/** A fresh update id. */
export function nextUpdateId(): number {
  updateSeq += 1;
  return updateSeq;
}

type Json = Record<string, unknown>;

/** An update carrying `message` (update_id fresh unless given). */
export function update(message: Json, updateId: number = nextUpdateId()): { update_id: number; message: Json } {
  return { update_id: updateId, message };
}

/** A message in a private chat with TG_PERSON (or `from`). */
export function privateMessage(overrides: Json = {}): Json {
  messageSeq += 1;
  const from = (overrides['from'] as Json | undefined) ?? TG_PERSON;
  return {
    message_id: messageSeq,
    from,
    chat: { id: from['id'], first_name: from['first_name'], username: from['username'], type: 'private' },
    date: 1_763_812_800,
    text: 'Hello, what is on my plate & when?',
    ...overrides,
  };
}

/** A group message mentioning the bot at the start ("@bot …"). */
export function groupMention(overrides: Json = {}, text = 'what is next for the team?'): Json {
  messageSeq += 1;
  const handle = `@${TG_BOT_USERNAME}`;
  return {
    message_id: messageSeq,
    from: TG_PERSON,
    chat: TG_GROUP,
    date: 1_763_812_800,
    text: `${handle} ${text}`,
    entities: [{ type: 'mention', offset: 0, length: handle.length }],
    ...overrides,
  };
}

/** A group message that addresses nobody. */
export function groupPlain(overrides: Json = {}): Json {
  messageSeq += 1;
  return { message_id: messageSeq, from: TG_PERSON, chat: TG_GROUP, date: 1_763_812_800, text: 'lunch at noon?', ...overrides };
}

/** A group message replying to one of the bot's messages (no mention). */
export function groupReplyToBot(overrides: Json = {}): Json {
  messageSeq += 1;
  return {
    message_id: messageSeq,
    from: TG_PERSON,
    chat: TG_GROUP,
    date: 1_763_812_800,
    text: 'and after that?',
    reply_to_message: { message_id: 77, from: { id: TG_BOT_ID, is_bot: true, first_name: 'Switchboard', username: TG_BOT_USERNAME }, chat: TG_GROUP, date: 1_763_812_700, text: 'earlier answer' },
    ...overrides,
  };
}

/** A message in forum topic `topicId`, mentioning the bot (its implicit reply is the topic's root). */
export function forumTopicMention(topicId: number, overrides: Json = {}): Json {
  messageSeq += 1;
  const handle = `@${TG_BOT_USERNAME}`;
  return {
    message_id: messageSeq,
    message_thread_id: topicId,
    is_topic_message: true,
    from: TG_PERSON,
    chat: TG_FORUM,
    date: 1_763_812_800,
    text: `${handle} status of the release?`,
    entities: [{ type: 'mention', offset: 0, length: handle.length }],
    reply_to_message: {
      message_id: topicId,
      from: { id: TG_BOT_ID, is_bot: true, first_name: 'Switchboard' },
      chat: TG_FORUM,
      date: 1_763_812_000,
      forum_topic_created: { name: 'Release', icon_color: 7322096 },
      message_thread_id: topicId,
      is_topic_message: true,
    },
    ...overrides,
  };
}

/** A photo with a caption in a private chat. */
export function privatePhoto(overrides: Json = {}): Json {
  return privateMessage({
    text: undefined,
    caption: 'what does this chart say?',
    photo: [
      { file_id: 'AgACAgQAAxkBAAIBsmall', file_unique_id: 'AQADs', file_size: 1_200, width: 90, height: 60 },
      { file_id: 'AgACAgQAAxkBAAIBlarge', file_unique_id: 'AQADl', file_size: 98_000, width: 1280, height: 853 },
    ],
    ...overrides,
  });
}
