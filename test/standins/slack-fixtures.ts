/**
 * Real-shaped Slack Events API payloads (as documented and as captured from Slack's event
 * examples), built with fresh ids so every test delivers events of its own.
 */
import { randomBytes } from 'node:crypto';

/** The workspace and bot the fixtures default to. */
export const SLACK_TEAM = 'T0SWITCH1';
export const SLACK_BOT_USER = 'U0BOT00001';
export const SLACK_BOT_ID = 'B0BOT00001';
export const SLACK_PERSON = 'U0PERSON01';

let tsCounter = 0;

/** A fresh event id (Ev…). */
export function eventId(): string {
  return `Ev${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** A fresh message timestamp. */
export function messageTs(): string {
  tsCounter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(100_000 + (tsCounter % 900_000)).padStart(6, '0')}`;
}

/** A fresh channel id with a given prefix (C channel, D DM, G private). */
export function channelId(prefix: 'C' | 'D' | 'G' = 'C'): string {
  return `${prefix}0${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** Wraps an inner event in an event_callback envelope. */
export function eventCallback(event: Record<string, unknown>, options: { teamId?: string; eventId?: string } = {}): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: options.teamId ?? SLACK_TEAM,
    context_team_id: options.teamId ?? SLACK_TEAM,
    api_app_id: 'A0STANDIN',
    event,
    type: 'event_callback',
    event_id: options.eventId ?? eventId(),
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: options.teamId ?? SLACK_TEAM, user_id: SLACK_BOT_USER, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: '4-eyJldCI6Im1lc3NhZ2UifQ',
  };
}

/** A direct message to the bot (message.im). */
export function dmEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = messageTs();
  return {
    client_msg_id: '5e4e5c1f-3ad5-4d47-a0f4-1c0b4a5c2f11',
    type: 'message',
    text: 'Hello <@U0BOT00001>, what is *on* my plate &amp; when?',
    user: SLACK_PERSON,
    ts,
    blocks: [{ type: 'rich_text', block_id: 'b1', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'Hello' }] }] }],
    team: SLACK_TEAM,
    channel: channelId('D'),
    event_ts: ts,
    channel_type: 'im',
    ...overrides,
  };
}

/** A mention of the bot in a channel (app_mention). */
export function mentionEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = messageTs();
  return {
    client_msg_id: '9c0c2a0e-8f7b-4a57-9d45-5d4f7e0b2a10',
    type: 'app_mention',
    text: '<@U0BOT00001> summarize <#C0GENERAL|general> for <!here> please',
    user: SLACK_PERSON,
    ts,
    team: SLACK_TEAM,
    channel: channelId('C'),
    event_ts: ts,
    ...overrides,
  };
}
