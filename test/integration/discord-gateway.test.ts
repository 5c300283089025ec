/**
 * Discord over the gateway, end to end: the real discord.js client connects to the stand-in's
 * gateway (HELLO, IDENTIFY, READY, GUILD_CREATE), messages flow through ingest, the agent and the
 * outbox, and replies reach the stand-in's REST API. Covers: one reply referencing the message in
 * its channel; allowed_mentions empty on every send; the same message delivered four times
 * (duplicate dispatch, resume replays) answered once; a dropped connection resumed (not
 * re-identified) with missed events replayed; own, other bots' and webhook messages ignored;
 * long replies split at 2,000 characters; typing; a 429 waited out and delivered once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { startDiscordStandin, type DiscordStandin } from '../standins/discord.ts';
import { BOT, LONG_REPLY, MENTION_REPLY, discordEnv, scriptedModel } from '../standins/discord-harness.ts';
import { discordAdapterFactory } from '../../adapters/discord/index.ts';
import type { RecordedRequest } from '../standins/http-standin.ts';

let standin: DiscordStandin;
let stack: Stack;
const model = scriptedModel();
const [C1, C2, C3, C4] = BOT.channels;
const botMention = { id: BOT.userId, username: 'switchboard', bot: true };
const alice = { id: '200000000000000001', username: 'alice' };

beforeAll(async () => {
  standin = await startDiscordStandin({
    botToken: BOT.token,
    applicationId: BOT.applicationId,
    botUserId: BOT.userId,
    guildId: BOT.guildId,
    channelIds: [...BOT.channels, BOT.dmChannel],
  });
  stack = await startStack({ env: discordEnv(standin), adapterFactories: [discordAdapterFactory], llm: model });
  await standin.waitFor(() => standin.live(), 'the gateway to be ready');
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

const bodyOf = (request: RecordedRequest | undefined): Record<string, unknown> => (request?.body ?? {}) as Record<string, unknown>;
const inboundEvents = (messageId: string): Promise<number> =>
  countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'discord' AND platform_event_id = $1`, [messageId]);
const sentOutbox = (messageId: string): Promise<number> =>
  countRows(
    stack.switchboard.services.db,
    `SELECT count(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id JOIN inbound_events e ON e.id = m.reply_to_event_id
     WHERE e.platform_event_id = $1 AND o.status = 'sent'`,
    [messageId],
  );
const repliesTo = (channelId: string, messageId: string): RecordedRequest[] =>
  standin.messagesIn(channelId).filter((r) => (bodyOf(r)['message_reference'] as { message_id?: string } | undefined)?.message_id === messageId);

describe('Discord gateway', () => {
  it('answers a mention once, in its channel, referencing it, without pinging anyone', async () => {
    const message = standin.message({ channelId: C1, author: alice, content: `<@${BOT.userId}> what is 2+2?`, mentions: [botMention] });
    standin.dispatch('MESSAGE_CREATE', message);
    const id = String(message['id']);
    await standin.waitFor(() => standin.messagesIn(C1).length >= 1, 'the reply');
    await waitUntil(() => sentOutbox(id), (n) => n === 1, { what: 'the outbox row to be sent' });
    const replies = standin.messagesIn(C1);
    expect(replies).toHaveLength(1);
    const body = bodyOf(replies[0]);
    expect(body['content']).toBe('You said: what is 2+2?');
    expect(body['message_reference']).toEqual({ message_id: id, fail_if_not_exists: false });
    expect(body['allowed_mentions']).toEqual({ parse: [], replied_user: false });
    expect(replies[0]?.headers.authorization).toBe(`Bot ${BOT.token}`);
    // The model saw the question without the bot's mention.
    expect(model.seen).toContain('what is 2+2?');
    // Typing was shown while the agent worked.
    expect(standin.typingIn(C1).length).toBeGreaterThanOrEqual(1);
  });

  it('answers a direct message (no mention needed)', async () => {
    const message = standin.message({ channelId: BOT.dmChannel, guildId: null, author: alice, content: 'hi in private' });
    standin.dispatch('MESSAGE_CREATE', message);
    await standin.waitFor(() => repliesTo(BOT.dmChannel, String(message['id'])).length === 1, 'the DM reply');
    expect(bodyOf(standin.messagesIn(BOT.dmChannel)[0])['content']).toBe('You said: hi in private');
    const kind = await stack.switchboard.services.db.query<{ kind: string }>(
      `SELECT c.kind FROM conversations c JOIN inbound_events e ON e.conversation_id = c.id WHERE e.platform_event_id = $1`,
      [String(message['id'])],
    );
    expect(kind.rows[0]?.kind).toBe('dm');
  });

  it('ignores its own messages, other bots, webhooks and unmentioned guild chatter', async () => {
    const ignored = [
      standin.message({ channelId: C2, author: { id: BOT.userId, username: 'switchboard', bot: true }, content: `<@${BOT.userId}> echo`, mentions: [botMention] }),
      standin.message({ channelId: C2, author: { id: '200000000000000077', username: 'otherbot', bot: true }, content: `<@${BOT.userId}> hi`, mentions: [botMention] }),
      { ...standin.message({ channelId: C2, author: alice, content: `<@${BOT.userId}> via webhook`, mentions: [botMention] }), webhook_id: '600000000000000001' },
      standin.message({ channelId: C2, author: alice, content: 'just chatting, no mention' }),
    ];
    for (const message of ignored) standin.dispatch('MESSAGE_CREATE', message);
    // A sentinel after them: once it is answered, the ones before it were handled too.
    const sentinel = standin.message({ channelId: C2, author: alice, content: `<@${BOT.userId}> sentinel`, mentions: [botMention] });
    standin.dispatch('MESSAGE_CREATE', sentinel);
    await standin.waitFor(() => repliesTo(C2, String(sentinel['id'])).length === 1, 'the sentinel reply');
    for (const message of ignored) expect(await inboundEvents(String(message['id']))).toBe(0);
    expect(standin.messagesIn(C2)).toHaveLength(1);
  });

  it('answers once when a message arrives four times: duplicate dispatch and replays after a resume', async () => {
    const identifiesBefore = standin.identifies().length;
    const message = standin.message({ channelId: C3, author: alice, content: `<@${BOT.userId}> once please`, mentions: [botMention] });
    const id = String(message['id']);
    standin.dispatch('MESSAGE_CREATE', message);
    const duplicateSeq = standin.dispatch('MESSAGE_CREATE', message);
    await waitUntil(() => inboundEvents(id), (n) => n === 1, { what: 'the first delivery to be stored' });
    // A heartbeat carrying the duplicate's sequence proves the client received both.
    await standin.waitFor(() => standin.frames.some((f) => f.op === 1 && typeof f.d === 'number' && f.d >= duplicateSeq), 'a heartbeat past the duplicate');
    // Resume replays the last two events the client already had (the message twice)…
    standin.setResume('replay', 2);
    standin.drop();
    // …and one it missed while disconnected.
    const missed = standin.message({ channelId: C3, author: alice, content: `<@${BOT.userId}> sent while you were away`, mentions: [botMention] });
    standin.dispatch('MESSAGE_CREATE', missed);
    await standin.waitFor(() => standin.live() && standin.resumes().length >= 1, 'the resume');
    await standin.waitFor(() => repliesTo(C3, String(missed['id'])).length === 1, 'the missed message to be answered');
    await waitUntil(() => sentOutbox(id), (n) => n === 1, { what: 'the reply to be sent' });

    const resume = standin.resumes().at(-1);
    expect(resume?.d).toMatchObject({ token: BOT.token, session_id: expect.any(String), seq: expect.any(Number) });
    // The replay started two events before the client's sequence: both copies came again.
    expect((resume?.d as { seq: number }).seq).toBeGreaterThanOrEqual(duplicateSeq);
    // Resumed, not re-identified.
    expect(standin.identifies()).toHaveLength(identifiesBefore);
    // Four deliveries of the same message id: one stored event, one reply.
    expect(standin.frames.filter((f) => f.op === 6)).toHaveLength(1);
    expect(await inboundEvents(id)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(repliesTo(C3, id)).toHaveLength(1);
    expect(repliesTo(C3, String(missed['id']))).toHaveLength(1);
    standin.setResume('replay', 0);
  });

  it('neutralizes every mention the model writes, on top of allowed_mentions', async () => {
    const message = standin.message({ channelId: C2, author: alice, content: `<@${BOT.userId}> MENTIONS please`, mentions: [botMention] });
    standin.dispatch('MESSAGE_CREATE', message);
    await standin.waitFor(() => repliesTo(C2, String(message['id'])).length === 1, 'the reply');
    const body = bodyOf(repliesTo(C2, String(message['id']))[0]);
    const content = String(body['content']);
    expect(content).toContain('everyone');
    expect(content).not.toMatch(/@(everyone|here)/);
    expect(content).not.toMatch(/<[@#]/);
    expect(content.length).toBe(MENTION_REPLY.length);
    expect(body['allowed_mentions']).toEqual({ parse: [], replied_user: false });
  });

  it('splits a long reply at 2,000 characters; only the first part references the message', async () => {
    const message = standin.message({ channelId: C4, author: alice, content: `<@${BOT.userId}> LONG answer please`, mentions: [botMention] });
    standin.dispatch('MESSAGE_CREATE', message);
    await standin.waitFor(() => standin.messagesIn(C4).length >= 3, 'three parts', 20_000);
    const parts = standin.messagesIn(C4).map(bodyOf);
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(String(part['content']).length).toBeLessThanOrEqual(2000);
      expect(part['allowed_mentions']).toEqual({ parse: [], replied_user: false });
    }
    expect(parts[0]?.['message_reference']).toEqual({ message_id: String(message['id']), fail_if_not_exists: false });
    expect(parts[1]?.['message_reference']).toBeUndefined();
    expect(parts[2]?.['message_reference']).toBeUndefined();
    expect(parts.map((p) => String(p['content'])).join('\n\n')).toBe(LONG_REPLY);
    // Paced by the channel budget (one message per 1.1 s).
    const times = standin.messagesIn(C4).map((r) => standin.arrivedAt(r));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1050);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1050);
  }, 30_000);

  it('waits out a 429 and delivers the reply exactly once after retry_after', async () => {
    standin.rateLimitNext(C1, 1);
    const before = standin.messagesIn(C1).length;
    const message = standin.message({ channelId: C1, author: alice, content: `<@${BOT.userId}> rate limited`, mentions: [botMention] });
    const id = String(message['id']);
    standin.dispatch('MESSAGE_CREATE', message);
    await waitUntil(() => sentOutbox(id), (n) => n === 1, { what: 'the reply after the 429', timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const attempts = standin.messagesIn(C1).slice(before);
    expect(attempts).toHaveLength(2);
    expect(repliesTo(C1, id)).toHaveLength(2); // the refused one and the delivered one
    // The second attempt came after Discord's retry_after (1 s).
    expect(standin.arrivedAt(attempts[1]) - standin.arrivedAt(attempts[0])).toBeGreaterThanOrEqual(1000);
  }, 30_000);
});
