/**
 * Real-shaped Discord payloads for the contract suite and unit tests: gateway MESSAGE_CREATE `d`
 * objects the adapter must answer, and ones it must ignore.
 */
import { BOT } from './discord-harness.ts';

const alice = { id: '200000000000000001', username: 'alice', discriminator: '0', global_name: 'Alice', avatar: null };
const base = {
  id: '800000000000000001',
  channel_id: BOT.channels[0],
  guild_id: BOT.guildId,
  member: { nick: null, roles: [], joined_at: '2026-11-22T12:00:00.000000+00:00', deaf: false, mute: false },
  author: alice,
  timestamp: '2026-11-22T12:00:00.123000+00:00',
  edited_timestamp: null,
  tts: false,
  mention_everyone: false,
  mention_roles: [],
  attachments: [],
  embeds: [],
  pinned: false,
  type: 0,
};
const botUser = { id: BOT.userId, username: 'switchboard', discriminator: '0', bot: true };

/** Messages that must become candidates. */
export const DISCORD_MESSAGES = [
  {
    name: 'a guild message mentioning the bot',
    payload: { ...base, content: `<@${BOT.userId}> what's on today?`, mentions: [botUser] },
  },
  {
    name: 'a direct message',
    payload: { ...base, id: '800000000000000002', channel_id: BOT.dmChannel, guild_id: undefined, member: undefined, content: 'hello in private', mentions: [] },
  },
  {
    name: 'a reply with an attachment, mentioning the bot the legacy way (<@!id>)',
    payload: {
      ...base,
      id: '800000000000000003',
      type: 19,
      content: `<@!${BOT.userId}> see attached, cc <@200000000000000009>`,
      mentions: [botUser, { id: '200000000000000009', username: 'bob', discriminator: '0' }],
      message_reference: { message_id: '800000000000000000', channel_id: BOT.channels[0] },
      attachments: [{ id: '900000000000000001', filename: 'report.pdf', size: 52_000, content_type: 'application/pdf', url: 'https://cdn.example/x?ex=1&hm=2' }],
    },
  },
] as const;

/** Messages that must be ignored. */
export const DISCORD_IGNORED = [
  { name: "the bot's own message", payload: { ...base, author: botUser, content: `<@${BOT.userId}> loop?`, mentions: [botUser] } },
  {
    name: "another bot's message",
    payload: { ...base, author: { ...alice, id: '200000000000000077', bot: true }, content: `<@${BOT.userId}> hi`, mentions: [botUser] },
  },
  { name: 'a webhook message', payload: { ...base, webhook_id: '600000000000000001', content: `<@${BOT.userId}> hi`, mentions: [botUser] } },
  { name: 'a system message', payload: { ...base, author: { ...alice, system: true }, content: `<@${BOT.userId}>`, mentions: [botUser] } },
  { name: 'guild chatter without a mention', payload: { ...base, content: 'lunch?', mentions: [] } },
  { name: 'a member-join notice (type 7)', payload: { ...base, type: 7, content: '', mentions: [botUser] } },
] as const;
