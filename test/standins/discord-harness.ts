/**
 * Shared pieces of the Discord tests: the test bot's identity, the environment that points the
 * adapter at the stand-in, request signing with the RFC 8032 TEST 1 key pair (the "application
 * key"), and a scripted model whose replies exercise splitting and mention neutralization.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { LlmProvider } from '../../src/core/ports.ts';
import type { DiscordStandin } from './discord.ts';

/** The test bot. */
export const BOT = {
  token: 'test-bot-token.discord',
  applicationId: '100000000000000001',
  userId: '100000000000000002',
  guildId: '300000000000000001',
  channels: ['400000000000000001', '400000000000000002', '400000000000000003', '400000000000000004'] as const,
  dmChannel: '400000000000000099',
} as const;

/** RFC 8032 §7.1 TEST 1: secret key, public key, and the signature of the empty message. */
export const RFC8032_TEST1 = {
  secretKeyHex: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKeyHex: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  emptyMessageSignatureHex:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
} as const;

/** The RFC 8032 TEST 1 private key as a KeyObject. */
export function rfc8032PrivateKey(): KeyObject {
  return createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: Buffer.from(RFC8032_TEST1.secretKeyHex, 'hex').toString('base64url'),
      x: Buffer.from(RFC8032_TEST1.publicKeyHex, 'hex').toString('base64url'),
    },
    format: 'jwk',
  });
}

/** Headers Discord would send with `body` at `nowMs`, signed with the TEST 1 key. */
export function signInteraction(body: string, nowMs = Date.now(), key: KeyObject = rfc8032PrivateKey()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('hex');
  return { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
}

/** The environment that enables Discord against the stand-in (fast reconnects, no identify spacing). */
export function discordEnv(standin: DiscordStandin, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_BOT_TOKEN: BOT.token,
    DISCORD_APPLICATION_ID: BOT.applicationId,
    DISCORD_PUBLIC_KEY: RFC8032_TEST1.publicKeyHex,
    DISCORD_API_URL: standin.apiUrl,
    DISCORD_RECONNECT_BASE_MS: '50',
    DISCORD_RECONNECT_MAX_MS: '200',
    DISCORD_IDENTIFY_INTERVAL_MS: '0',
    DISCORD_GATEWAY_LEASE_MS: '1500',
    DISCORD_REST_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

/** The long reply: five paragraphs of 900 characters (4,500 in all: three Discord messages). */
export const LONG_REPLY = Array.from({ length: 5 }, (_, i) => `Paragraph ${i + 1}. ${'lorem ipsum '.repeat(73)}`.slice(0, 900).trimEnd()).join('\n\n');

/** The hostile reply: every kind of mention a model could write. */
export const MENTION_REPLY = 'Hello @everyone and @here, ping <@200000000000000001> <@!200000000000000001> <@&500> in <#400000000000000001>.';

/**
 * A model that answers by keyword in the last user message: LONG → LONG_REPLY, MENTIONS →
 * MENTION_REPLY, anything else → "You said: <text>". Records every request's last user text.
 */
export function scriptedModel(): LlmProvider & { readonly seen: string[] } {
  const seen: string[] = [];
  return {
    name: 'scripted',
    model: 'scripted-1',
    seen,
    complete: async (request) => {
      const last = [...request.messages].reverse().find((m) => m.role === 'user');
      const text = last?.content ?? '';
      seen.push(text);
      const reply = text.includes('LONG') ? LONG_REPLY : text.includes('MENTIONS') ? MENTION_REPLY : `You said: ${text}`;
      return { text: reply, toolCalls: [], finishReason: 'stop', model: 'scripted-1' };
    },
  };
}
