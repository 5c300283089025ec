/** The shared adapter contract, run against the Slack adapter's pure parts and its verifier. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { describeAdapterContract } from '../contract/adapter-contract.ts';
import { normalizeSlackEvent, parseSlackEnvelope, SLACK_VERIFIED_BY } from '../../adapters/slack/normalize.ts';
import { renderSlackParts, SLACK_MAX_MESSAGE_CHARS } from '../../adapters/slack/render.ts';
import { verifySlackRequest } from '../../adapters/slack/verify.ts';
import { dmEvent, eventCallback, mentionEvent, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_PERSON } from '../standins/slack-fixtures.ts';
import { slackSignedHeaders } from '../standins/slack.ts';

const SECRET = 'contract-signing-secret';
const ctx = { tenantId: randomUUID(), botUserId: SLACK_BOT_USER, maxAttachmentBytes: 1024, verifiedBy: SLACK_VERIFIED_BY.http };

/** Checks a rendered part: the only control sequences are safe links; & < > are escaped; no broadcasts. */
function assertSlackSafe(rendered: string): void {
  for (const control of rendered.match(/<[^>]*>?/g) ?? []) {
    expect(control).toMatch(/^<(https?:\/\/|mailto:)[^<>|\s]+(\|[^<>]*)?>$/);
  }
  expect(rendered).not.toMatch(/&(?!(amp|lt|gt);)/);
  expect(rendered).not.toMatch(/<[!@#]/);
  expect(rendered).not.toMatch(/@(channel|here|everyone)/i);
}

describeAdapterContract({
  platform: 'slack',
  messages: [
    { name: 'a direct message', payload: eventCallback(dmEvent()) },
    { name: 'a direct message in a thread', payload: eventCallback(dmEvent({ thread_ts: '1700000000.000100' })) },
    { name: 'a channel mention', payload: eventCallback(mentionEvent()) },
    { name: 'a mention in a private channel thread', payload: eventCallback(mentionEvent({ channel: 'G0PRIVATE1', thread_ts: '1700000000.000200' })) },
    {
      name: 'a DM with a file',
      payload: eventCallback(
        dmEvent({ subtype: 'file_share', text: '', files: [{ id: 'F0FILE0001', name: 'plan.pdf', mimetype: 'application/pdf', size: 2048, url_private: 'https://files.slack.com/x' }] }),
      ),
    },
  ],
  ignored: [
    { name: "the bot's own message", payload: eventCallback(dmEvent({ user: SLACK_BOT_USER, bot_id: SLACK_BOT_ID })) },
    { name: "the bot's own user id without bot_id", payload: eventCallback(dmEvent({ user: SLACK_BOT_USER })) },
    { name: "another bot's message", payload: eventCallback(dmEvent({ bot_id: 'B0OTHERBOT', user: 'U0OTHERBOT' })) },
    { name: 'a bot_message subtype', payload: eventCallback(dmEvent({ subtype: 'bot_message', user: undefined, bot_id: 'B0OTHERBOT' })) },
    { name: 'an edit', payload: eventCallback(dmEvent({ subtype: 'message_changed', user: undefined, message: { text: 'x', user: SLACK_PERSON } })) },
    { name: 'a delete', payload: eventCallback(dmEvent({ subtype: 'message_deleted', user: undefined, deleted_ts: '1700000000.000100' })) },
    { name: 'a channel message that does not mention the bot', payload: eventCallback(dmEvent({ channel_type: 'channel', channel: 'C0GENERAL1' })) },
    { name: 'an app_mention in a DM (the message event answers it)', payload: eventCallback(mentionEvent({ channel: 'D0DIRECT01' })) },
    { name: 'a url_verification', payload: { type: 'url_verification', challenge: 'abc', token: 'x' } },
    { name: 'an app_uninstalled event', payload: eventCallback({ type: 'app_uninstalled' }) },
    { name: 'a mention with no text left', payload: eventCallback(mentionEvent({ text: '<@U0BOT00001>' })) },
  ],
  normalize: (payload) => {
    const envelope = parseSlackEnvelope(payload);
    return envelope === undefined ? undefined : normalizeSlackEvent(envelope, ctx);
  },
  render: (text) => renderSlackParts(text),
  maxMessageChars: SLACK_MAX_MESSAGE_CHARS,
  assertRenderedSafe: (rendered) => assertSlackSafe(rendered),
  verification: {
    sign: (body, nowMs) => ({ headers: slackSignedHeaders(SECRET, body, Math.floor(nowMs / 1000)), body }),
    verify: (delivery, nowMs) =>
      verifySlackRequest({
        signingSecret: SECRET,
        headers: { timestamp: delivery.headers['x-slack-request-timestamp'], signature: delivery.headers['x-slack-signature'] },
        rawBody: Buffer.from(delivery.body),
        nowMs,
      }).ok,
    timestamped: true,
  },
});
