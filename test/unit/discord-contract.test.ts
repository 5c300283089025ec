/**
 * The shared adapter contract for Discord (normalizer, renderer, interaction signatures), plus
 * what is particular to Discord's normalization: mentions, DMs, replies, attachments, `/ask`.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { describeAdapterContract } from '../contract/adapter-contract.ts';
import { splitText } from '../../src/core/split-text.ts';
import { InboundCandidateSchema } from '../../src/core/envelope.ts';
import { normalizeAskInteraction, normalizeMessageCreate, interactionIdOf, snowflakeTime, type NormalizeContext } from '../../adapters/discord/normalize.ts';
import { renderDiscord } from '../../adapters/discord/render.ts';
import { ed25519PublicKeyFromHex, verifyInteraction } from '../../adapters/discord/verify.ts';
import { CommandInteractionSchema } from '../../adapters/discord/payloads.ts';
import { DISCORD_MAX_MESSAGE_CHARS } from '../../adapters/discord/config.ts';
import { BOT, RFC8032_TEST1, signInteraction } from '../standins/discord-harness.ts';
import { DISCORD_IGNORED, DISCORD_MESSAGES } from '../standins/discord-fixtures.ts';

const ctx: NormalizeContext = { tenantId: randomUUID(), applicationId: BOT.applicationId, botUserId: BOT.userId, maxAttachmentBytes: 50_000 };
const publicKey = ed25519PublicKeyFromHex(RFC8032_TEST1.publicKeyHex);

describeAdapterContract({
  platform: 'discord',
  messages: DISCORD_MESSAGES,
  ignored: DISCORD_IGNORED,
  normalize: (payload) => normalizeMessageCreate(payload, ctx),
  render: (text) => splitText(text, DISCORD_MAX_MESSAGE_CHARS).map(renderDiscord),
  maxMessageChars: DISCORD_MAX_MESSAGE_CHARS,
  assertRenderedSafe: (rendered) => {
    expect(rendered).not.toMatch(/@(everyone|here)/i);
    expect(rendered).not.toMatch(/<[@#]/);
    expect(rendered).not.toContain('\u0000');
  },
  verification: {
    sign: (body, nowMs) => ({ headers: signInteraction(body, nowMs), body }),
    verify: (delivery, nowMs) =>
      verifyInteraction(
        publicKey,
        { signature: delivery.headers['x-signature-ed25519'], timestamp: delivery.headers['x-signature-timestamp'], body: Buffer.from(delivery.body) },
        nowMs,
        300_000,
      ) === 'ok',
    timestamped: true,
  },
});

describe('Discord normalization', () => {
  const [mention, dm, reply] = DISCORD_MESSAGES;

  it('strips the bot mention, keeps the channel as the conversation, and the message id as the event id', () => {
    const candidate = normalizeMessageCreate(mention.payload, ctx);
    expect(candidate).toMatchObject({
      platformEventId: mention.payload.id,
      messageId: mention.payload.id,
      installationId: BOT.applicationId,
      text: "what's on today?",
      mentionsAgent: true,
      conversation: { channelId: BOT.channels[0], kind: 'channel' },
      author: { platformUserId: '200000000000000001', displayName: 'Alice' },
      sentAt: '2026-11-22T12:00:00.123Z',
    });
  });

  it('treats a message without a guild as a DM', () => {
    expect(normalizeMessageCreate(dm.payload, ctx)?.conversation.kind).toBe('dm');
  });

  it('names other mentioned users, keeps the replied-to id, and lists attachments with a stable reference under the cap', () => {
    const candidate = normalizeMessageCreate(reply.payload, ctx);
    expect(candidate?.text).toBe('see attached, cc @bob');
    expect(candidate?.replyTo).toBe('800000000000000000');
    expect(candidate?.attachments).toEqual([
      {
        name: 'report.pdf',
        contentType: 'application/pdf',
        sizeBytes: 52_000,
        fetchRef: '',
      },
    ]);
    const roomy = normalizeMessageCreate(reply.payload, { ...ctx, maxAttachmentBytes: 100_000 });
    expect(roomy?.attachments[0]?.fetchRef).toBe(`discord://channels/${BOT.channels[0]}/messages/800000000000000003/attachments/900000000000000001`);
    // Signed, expiring CDN URLs are never stored.
    expect(JSON.stringify(roomy)).not.toContain('cdn.example');
  });

  it('ignores everything until the bot knows its own id', () => {
    expect(normalizeMessageCreate(mention.payload, { ...ctx, botUserId: undefined })).toBeUndefined();
  });

  it('normalizes /ask with a prefixed id that replies recognize', () => {
    const interaction = CommandInteractionSchema.parse({
      id: '1300000000000000000',
      application_id: BOT.applicationId,
      type: 2,
      token: 'aW50ZXJhY3Rpb24.dG9rZW4',
      guild_id: BOT.guildId,
      channel_id: BOT.channels[1],
      member: { user: { id: '200000000000000001', username: 'alice' }, nick: 'Al' },
      data: { id: '7', name: 'ask', options: [{ name: 'question', type: 3, value: '  when is lunch? ' }] },
    });
    const candidate = normalizeAskInteraction(interaction, ctx);
    expect(InboundCandidateSchema.safeParse(candidate).success).toBe(true);
    expect(candidate).toMatchObject({
      platformEventId: 'interaction:1300000000000000000',
      messageId: 'interaction:1300000000000000000',
      text: 'when is lunch?',
      author: { displayName: 'Al' },
      conversation: { channelId: BOT.channels[1], kind: 'channel' },
      sentAt: snowflakeTime('1300000000000000000'),
    });
    expect(interactionIdOf(candidate?.messageId)).toBe('1300000000000000000');
    expect(interactionIdOf('800000000000000001')).toBeUndefined();
    expect(interactionIdOf('interaction:../x')).toBeUndefined();
    // 1300000000000000000 >> 22 is ~310 billion ms after the Discord epoch: late 2024.
    expect(snowflakeTime('1300000000000000000')?.startsWith('2024-')).toBe(true);
  });
});
