/**
 * The Discord interactions endpoint through the whole product: Ed25519 signatures (RFC 8032
 * TEST 1 key as the application key) and our 300 s window, PING → PONG, `/ask` → deferred
 * response and the agent's reply as a follow-up through the interaction webhook (its sealed token
 * revoked afterwards), the channel fallback when Discord refuses the follow-up, and 1,000
 * malformed deliveries that produce no 5xx and store nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { fuzzWebhook } from '../contract/webhook-fuzz.ts';
import { startDiscordStandin, snowflake, type DiscordStandin } from '../standins/discord.ts';
import { BOT, discordEnv, scriptedModel, signInteraction } from '../standins/discord-harness.ts';
import { discordAdapterFactory } from '../../adapters/discord/index.ts';

let standin: DiscordStandin;
let stack: Stack;
let url: string;
const [C1, C2] = BOT.channels;
const alice = { id: '200000000000000001', username: 'alice', discriminator: '0', global_name: 'Alice', avatar: null };

beforeAll(async () => {
  standin = await startDiscordStandin({
    botToken: BOT.token,
    applicationId: BOT.applicationId,
    botUserId: BOT.userId,
    guildId: BOT.guildId,
    channelIds: [...BOT.channels],
  });
  // Interactions only: no gateway in this file.
  stack = await startStack({
    env: discordEnv(standin, { DISCORD_GATEWAY_ENABLED: 'false', DISCORD_REGISTER_COMMANDS: 'true' }),
    adapterFactories: [discordAdapterFactory],
    llm: scriptedModel(),
  });
  url = `${stack.baseUrl}/webhooks/discord/interactions`;
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

const stored = (): Promise<number> => countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'discord'`);

function askInteraction(fields: { id?: string; token?: string; channelId?: string; question?: string; name?: string; user?: object } = {}) {
  return {
    id: fields.id ?? snowflake(),
    application_id: BOT.applicationId,
    type: 2,
    token: fields.token ?? `tok_${snowflake()}`,
    version: 1,
    guild_id: BOT.guildId,
    channel_id: fields.channelId ?? C1,
    channel: { id: fields.channelId ?? C1, type: 0 },
    member: { user: fields.user ?? alice, nick: null, roles: [], permissions: '0' },
    locale: 'en-US',
    data: {
      id: '700000000000000001',
      name: fields.name ?? 'ask',
      type: 1,
      options: [{ name: 'question', type: 3, value: fields.question ?? 'what time is it?' }],
    },
  };
}

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

describe('Discord interactions endpoint', () => {
  it('registered /ask on start (DISCORD_REGISTER_COMMANDS) and opened no gateway', () => {
    const registrations = standin.http.requestsTo(`PUT /api/v10/applications/${BOT.applicationId}/commands`);
    expect(registrations).toHaveLength(1);
    expect(registrations[0]?.body).toEqual([
      expect.objectContaining({ name: 'ask', type: 1, options: [expect.objectContaining({ name: 'question', type: 3, required: true })] }),
    ]);
    expect(standin.connections()).toBe(0);
  });

  it('answers a signed PING with PONG', async () => {
    const body = JSON.stringify({ id: snowflake(), application_id: BOT.applicationId, type: 1, token: 'x', version: 1 });
    expect(await post(body, signInteraction(body))).toEqual({ status: 200, json: { type: 1 } });
  });

  it('refuses a missing, forged, foreign-key or stale signature with 401, storing nothing', async () => {
    const before = await stored();
    const body = JSON.stringify(askInteraction());
    const signed = signInteraction(body);
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    const cases: Array<Record<string, string>> = [
      {},
      { 'x-signature-timestamp': signed['x-signature-timestamp']! },
      { ...signed, 'x-signature-ed25519': `${signed['x-signature-ed25519']!.slice(0, -4)}0000` },
      { ...signed, 'x-signature-ed25519': 'zz' },
      signInteraction(body, Date.now(), otherKey),
      // Clear of the boundary (timestamps are whole seconds; the exact edge is a unit test).
      signInteraction(body, Date.now() - 305_000),
      signInteraction(body, Date.now() + 305_000),
    ];
    for (const headers of cases) expect((await post(body, headers)).status).toBe(401);
    // The body changed after signing.
    expect((await post(body.replace('what time', 'what tune'), signed)).status).toBe(401);
    expect(await stored()).toBe(before);
  });

  it('answers /ask with a deferred response, then the agent follows up through the interaction webhook', async () => {
    const interaction = askInteraction({ question: 'is the build green?' });
    standin.allowInteraction(interaction.token);
    const body = JSON.stringify(interaction);
    const answer = await post(body, signInteraction(body));
    expect(answer).toEqual({ status: 200, json: { type: 5 } });
    await standin.waitFor(() => standin.followups(interaction.token).length === 1, 'the follow-up');
    const followup = standin.followups(interaction.token)[0];
    expect(followup?.body).toEqual({ content: 'You said: is the build green?', allowed_mentions: { parse: [], replied_user: false } });
    // Interaction webhooks are authorized by their token, not the bot token.
    expect(followup?.headers.authorization).toBeUndefined();
    expect(standin.messagesIn(C1)).toHaveLength(0);
    // The token was sealed, never stored in clear, and is revoked once the reply is out.
    const { db } = stack.switchboard.services;
    await waitUntil(
      () => countRows(db, `SELECT count(*) AS n FROM installations WHERE external_id = $1 AND status = 'revoked' AND credentials_sealed IS NULL`, [`interaction:${interaction.id}`]),
      (n) => n === 1,
      { what: 'the token to be revoked' },
    );
    const leaks = await countRows(db, `SELECT count(*) AS n FROM installations WHERE position($1 in name) > 0 OR position($1 in external_id) > 0`, [interaction.token]);
    expect(leaks).toBe(0);
    // The same interaction delivered again is answered (deferred) but not stored twice.
    expect(await post(body, signInteraction(body))).toEqual({ status: 200, json: { type: 5 } });
    expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE platform_event_id = $1`, [`interaction:${interaction.id}`])).toBe(1);
    // …and does not bring the revoked token back.
    expect(
      await countRows(db, `SELECT count(*) AS n FROM installations WHERE external_id = $1 AND status = 'revoked' AND credentials_sealed IS NULL`, [
        `interaction:${interaction.id}`,
      ]),
    ).toBe(1);
  });

  it('replies in the channel when Discord refuses the follow-up (expired or unknown token)', async () => {
    // No follow-up route for this token: the stand-in answers 404, as Discord does for an unknown webhook.
    const interaction = askInteraction({ channelId: C2, question: 'late answer?' });
    const body = JSON.stringify(interaction);
    expect(await post(body, signInteraction(body))).toEqual({ status: 200, json: { type: 5 } });
    await standin.waitFor(() => standin.messagesIn(C2).length === 1, 'the channel fallback');
    const message = standin.messagesIn(C2)[0]?.body as Record<string, unknown>;
    expect(message['content']).toBe('You said: late answer?');
    expect(message['allowed_mentions']).toEqual({ parse: [], replied_user: false });
    expect(message['message_reference']).toBeUndefined();
  });

  it('answers unknown commands and empty questions with an ephemeral notice, storing nothing', async () => {
    const before = await stored();
    for (const interaction of [askInteraction({ name: 'settings' }), askInteraction({ question: '   ' }), askInteraction({ user: { ...alice, bot: true } })]) {
      const body = JSON.stringify(interaction);
      const answer = await post(body, signInteraction(body));
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ type: 4, data: { flags: 64, allowed_mentions: { parse: [] } } });
    }
    expect(await stored()).toBe(before);
  });

  it('refuses well-signed payloads with wrong types or hostile values in any field, storing nothing', async () => {
    // The shared fuzzer mutates raw bytes; this replaces one field at a time with arbitrary JSON.
    const base = askInteraction({ name: 'settings' });
    const paths: string[][] = [];
    const walk = (value: unknown, path: string[]): void => {
      paths.push(path);
      if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(base, []);
    const before = await stored();
    const samples = fc.sample(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })), { numRuns: 200, seed: 42 });
    const statuses = new Set<number>();
    for (const [pick, replacement] of samples) {
      const path = paths[pick % paths.length] ?? [];
      const mutated = structuredClone(base) as Record<string, unknown>;
      let target: Record<string, unknown> = mutated;
      for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
      const last = path.at(-1);
      if (last !== undefined) target[last] = replacement;
      const body = JSON.stringify(last === undefined ? replacement : mutated);
      const answer = await post(body, signInteraction(body));
      statuses.add(answer.status);
      expect([200, 400]).toContain(answer.status);
    }
    expect(statuses).toContain(400);
    expect(await stored()).toBe(before);
  }, 30_000);

  it('survives 1,000 malformed deliveries: no 5xx, nothing stored', async () => {
    const fixtures = [
      JSON.stringify({ id: snowflake(), application_id: BOT.applicationId, type: 1, token: 'x', version: 1 }),
      JSON.stringify(askInteraction({ name: 'settings' })),
      JSON.stringify(askInteraction({ question: '' })),
      JSON.stringify(askInteraction({ user: { ...alice, bot: true } })),
      JSON.stringify({ id: snowflake(), application_id: BOT.applicationId, type: 3, token: 'x', data: { custom_id: 'b', component_type: 2 } }),
    ];
    const { statuses } = await fuzzWebhook({ url, fixtures, sign: (body) => signInteraction(body), storedCount: stored });
    // Unsigned ones are refused; signed garbage is a 400 (or a notice for well-formed non-/ask ones).
    expect(statuses['401']).toBeGreaterThanOrEqual(250);
    expect(statuses['400']).toBeGreaterThan(0);
  }, 40_000);
});
