/** Slack payload normalization: triggers, threads, text, attachments, lifecycle events. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lifecycleOf, normalizeSlackEvent, parseSlackEnvelope, slackIgnoreReason } from '../../adapters/slack/normalize.ts';
import { slackTextToPlain } from '../../adapters/slack/inbound-text.ts';
import { dmEvent, eventCallback, mentionEvent, SLACK_BOT_USER, SLACK_PERSON, SLACK_TEAM } from '../standins/slack-fixtures.ts';

const ctx = { tenantId: randomUUID(), botUserId: SLACK_BOT_USER, maxAttachmentBytes: 1000, verifiedBy: 'test' };
const normalize = (payload: unknown) => {
  const envelope = parseSlackEnvelope(payload);
  return envelope === undefined ? undefined : normalizeSlackEvent(envelope, ctx);
};

describe('Slack normalization', () => {
  it('turns a DM into a dm conversation threaded on the message, keyed by team, channel and thread', () => {
    const event = dmEvent({ user_profile: { display_name: 'Ada', real_name: 'Ada L.' } });
    const payload = eventCallback(event, { eventId: 'Ev0ABCDEF12' });
    const candidate = normalize(payload);
    expect(candidate).toMatchObject({
      platform: 'slack',
      installationId: SLACK_TEAM,
      platformEventId: 'Ev0ABCDEF12',
      messageId: event['ts'],
      conversation: { channelId: event['channel'], threadId: event['ts'], kind: 'dm' },
      author: { platformUserId: SLACK_PERSON, displayName: 'Ada', isBot: false, isSelf: false },
      text: 'Hello, what is *on* my plate & when?',
      mentionsAgent: true,
    });
    expect(candidate?.replyTo).toBeUndefined();
    expect(candidate?.conversation.key).toBe(`slack:${SLACK_TEAM}:${String(event['channel'])}:${encodeURIComponent(String(event['ts']))}`);
    expect(Date.parse(candidate?.sentAt ?? '')).toBe(Math.floor(Number(event['ts']) * 1000));
  });

  it('keeps a thread reply in its thread and points replyTo at the thread root', () => {
    const candidate = normalize(eventCallback(mentionEvent({ thread_ts: '1700000000.000100' })));
    expect(candidate?.conversation).toMatchObject({ threadId: '1700000000.000100', kind: 'channel' });
    expect(candidate?.replyTo).toBe('1700000000.000100');
    expect(candidate?.text).toBe('summarize #general for @here please');
  });

  it('lists files as metadata with a fetch reference, none past the size cap, at most 20', () => {
    const files = [
      { id: 'F0SMALL001', name: 'a.txt', mimetype: 'text/plain', size: 10, url_private: 'https://files.slack.com/a' },
      { id: 'F0LARGE001', name: 'b.bin', size: 5000 },
      { id: 'F0GONE0001', mode: 'tombstone' },
      { id: 'not-a-file-id', name: 'x' },
      ...Array.from({ length: 30 }, (_, i) => ({ id: `F0MANY${String(i).padStart(4, '0')}`, size: 1 })),
    ];
    const candidate = normalize(eventCallback(dmEvent({ subtype: 'file_share', files })));
    expect(candidate?.attachments).toHaveLength(20);
    expect(candidate?.attachments[0]).toEqual({ name: 'a.txt', contentType: 'text/plain', sizeBytes: 10, fetchRef: `slack-file:${SLACK_TEAM}:F0SMALL001` });
    expect(candidate?.attachments[1]).toEqual({ name: 'b.bin', contentType: 'application/octet-stream', sizeBytes: 5000, fetchRef: '' });
  });

  it('says why events are ignored', () => {
    const reason = (event: Record<string, unknown>) => {
      const envelope = parseSlackEnvelope(eventCallback(event));
      return envelope === undefined ? 'unparsed' : slackIgnoreReason(envelope, ctx);
    };
    expect(reason(dmEvent({ user: SLACK_BOT_USER }))).toBe('self');
    expect(reason(dmEvent({ bot_id: 'B0X' }))).toBe('bot');
    expect(reason(dmEvent({ subtype: 'message_changed' }))).toBe('subtype');
    expect(reason(dmEvent({ channel_type: 'channel' }))).toBe('not_a_dm');
    expect(reason(mentionEvent({ channel: 'D0ABCDEF1' }))).toBe('mention_in_dm');
    expect(reason(dmEvent())).toBeUndefined();
  });

  it('refuses ids that do not look like Slack ids', () => {
    expect(normalize(eventCallback(dmEvent(), { teamId: 'team-1' }))).toBeUndefined();
    expect(normalize(eventCallback(dmEvent(), { eventId: 'Ev!bad' }))).toBeUndefined();
    expect(normalize(eventCallback(dmEvent({ channel: 'X123' })))).toBeUndefined();
    expect(normalize(eventCallback(dmEvent({ ts: '99999999999999.1' })))).toBeUndefined();
  });

  it('recognizes uninstall and revoked bot tokens', () => {
    const uninstall = parseSlackEnvelope(eventCallback({ type: 'app_uninstalled' }));
    expect(uninstall && lifecycleOf(uninstall)).toEqual({ kind: 'app_uninstalled' });
    const revoked = parseSlackEnvelope(eventCallback({ type: 'tokens_revoked', tokens: { oauth: ['U1'], bot: [SLACK_BOT_USER] } }));
    expect(revoked && lifecycleOf(revoked)).toEqual({ kind: 'tokens_revoked', botUserIds: [SLACK_BOT_USER] });
    const message = parseSlackEnvelope(eventCallback(dmEvent()));
    expect(message && lifecycleOf(message)).toBeUndefined();
  });

  it('parses url_verification and tolerates unknown envelope types', () => {
    expect(parseSlackEnvelope({ type: 'url_verification', challenge: 'c1', token: 't' })).toEqual({ kind: 'url_verification', challenge: 'c1' });
    expect(parseSlackEnvelope({ type: 'app_rate_limited', minute_rate_limited: 1 })).toEqual({ kind: 'other' });
    expect(parseSlackEnvelope({ type: 'block_actions' })).toBeUndefined();
    expect(parseSlackEnvelope([])).toBeUndefined();
  });
});

describe('Slack text to plain text', () => {
  it('drops the bot mention, reads other control sequences and unescapes', () => {
    expect(slackTextToPlain('<@U0BOT00001> hi <@U0ADA0001|ada> in <#C0GEN0001|general> <!channel> <!subteam^S0TEAM|@devs>', 'U0BOT00001')).toBe(
      'hi @ada in #general @channel @devs',
    );
    expect(slackTextToPlain('see <https://example.com/a?b=1&amp;c=2|the docs> and <mailto:a@b.c>', undefined)).toBe(
      'see the docs (https://example.com/a?b=1&c=2) and mailto:a@b.c',
    );
    expect(slackTextToPlain('a &lt;b&gt; &amp;amp; <!date^1392734382^{date}|Feb 18>', undefined)).toBe('a <b> &amp; Feb 18');
  });
});
