/**
 * Slack end to end over the Events API: the real product (Postgres, Redis, workers) with the
 * Slack adapter, and the real @slack/web-api WebClient talking to a local Slack stand-in.
 * One workspace from SLACK_BOT_TOKEN (registered through auth.test at start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { linkPlatformIdentity } from '../../src/store/installations.ts';
import { slackAdapterFactory } from '../../adapters/slack/index.ts';
import { slackSignedHeaders, startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { dmEvent, eventCallback, mentionEvent, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_TEAM } from '../standins/slack-fixtures.ts';

const SECRET = 'events-test-signing-secret';
const BOT_TOKEN = 'xoxb-events-test-token';

let standin: SlackStandin;
let stack: Stack;
let url: string;

beforeAll(async () => {
  standin = await startSlackStandin();
  standin.addBot({ token: BOT_TOKEN, teamId: SLACK_TEAM, teamName: 'Switch Team', botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID });
  stack = await startStack({
    adapterFactories: [slackAdapterFactory],
    env: { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: standin.apiUrl, SLACK_API_RETRIES: '0', SLACK_API_TIMEOUT_MS: '3000' },
  });
  url = `${stack.baseUrl}/webhooks/slack/events`;
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

const inboundCount = () => countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'slack'`);

async function deliver(payload: unknown, options: { nowSeconds?: number; headers?: Record<string, string>; unsigned?: boolean } = {}): Promise<Response> {
  const body = JSON.stringify(payload);
  const signed = options.unsigned ? { 'content-type': 'application/json' } : slackSignedHeaders(SECRET, body, options.nowSeconds);
  return fetch(url, { method: 'POST', headers: { ...signed, ...options.headers }, body });
}

const postsTo = (channel: string) => standin.posts().filter((p) => p.channel === channel);

describe('Slack Events API', () => {
  it('registered the configured workspace at start (auth.test), with its bot user', async () => {
    const row = await stack.switchboard.services.db.query<{ bot_user_id: string; status: string; sealed: boolean }>(
      `SELECT bot_user_id, status, credentials_sealed IS NOT NULL AS sealed FROM installations WHERE platform = 'slack' AND external_id = $1`,
      [SLACK_TEAM],
    );
    expect(row.rows[0]).toEqual({ bot_user_id: SLACK_BOT_USER, status: 'active', sealed: true });
    const raw = await stack.switchboard.services.db.query<{ c: Buffer }>(`SELECT credentials_sealed AS c FROM installations WHERE external_id = $1`, [SLACK_TEAM]);
    expect(raw.rows[0]?.c.toString('latin1')).not.toContain(BOT_TOKEN);
  });

  it('answers url_verification with the challenge', async () => {
    const response = await deliver({ token: 'x', challenge: 'challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: 'challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('answers a direct message once, in its thread, with rendered mrkdwn', async () => {
    const event = dmEvent();
    const started = Date.now();
    const response = await deliver(eventCallback(event));
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    const channel = String(event['channel']);
    await waitUntil(async () => postsTo(channel).length, (n) => n >= 1, { what: 'the reply' });
    const [post] = postsTo(channel);
    expect(post?.threadTs).toBe(event['ts']);
    expect(post?.token).toBe(BOT_TOKEN);
    expect(post?.fields['unfurl_links']).toBe('false');
    expect(post?.text.length).toBeGreaterThan(0);
    // The offline responder echoes what the model saw (the bot mention dropped, Slack's escapes undone),
    // and the reply comes back as mrkdwn with Slack's escapes (its <<< quote markers included).
    expect(post?.text).toContain('&lt;&lt;&lt;\nHello, what is _on_ my plate &amp; when?\n&gt;&gt;&gt;');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(postsTo(channel)).toHaveLength(1);
  });

  it('answers a channel mention in the thread of the mention (or of its thread)', async () => {
    const root = mentionEvent();
    const inThread = mentionEvent({ channel: root['channel'], thread_ts: '1700000000.000300' });
    expect((await deliver(eventCallback(root))).status).toBe(200);
    expect((await deliver(eventCallback(inThread))).status).toBe(200);
    const channel = String(root['channel']);
    await waitUntil(async () => postsTo(channel).length, (n) => n >= 2, { what: 'two replies' });
    expect(postsTo(channel).map((p) => p.threadTs).sort()).toEqual([String(root['ts']), '1700000000.000300'].sort());
  });

  it('stores and answers the same delivery sent four times (retries and a replay) once', async () => {
    const payload = eventCallback(dmEvent());
    const channel = String((payload['event'] as Record<string, unknown>)['channel']);
    const before = await inboundCount();
    const statuses = [
      (await deliver(payload)).status,
      (await deliver(payload, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })).status,
      (await deliver(payload, { headers: { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' } })).status,
      // A replay of the captured request inside the window, re-signed a little later.
      (await deliver(payload, { nowSeconds: Math.floor(Date.now() / 1000) + 5 })).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await inboundCount()).toBe(before + 1);
    await waitUntil(async () => postsTo(channel).length, (n) => n >= 1, { what: 'the reply' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(postsTo(channel)).toHaveLength(1);
  });

  it('refuses forged and missing signatures with 401 and stores nothing', async () => {
    const payload = eventCallback(dmEvent());
    const body = JSON.stringify(payload);
    const before = await inboundCount();
    const good = slackSignedHeaders(SECRET, body);
    const forged = slackSignedHeaders('not-the-secret', body);
    const responses = await Promise.all([
      fetch(url, { method: 'POST', headers: forged, body }),
      fetch(url, { method: 'POST', headers: { ...good, 'x-slack-signature': `v0=${'0'.repeat(64)}` }, body }),
      fetch(url, { method: 'POST', headers: { ...good, 'x-slack-signature': 'v0=abc' }, body }),
      fetch(url, { method: 'POST', headers: good, body: body.replace('Hello', 'Hullo') }),
      deliver(payload, { unsigned: true }),
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-signature': good['x-slack-signature'] ?? '' }, body }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await inboundCount()).toBe(before);
  });

  it('refuses a replay outside the 300 s window, in the past and in the future', async () => {
    const payload = eventCallback(dmEvent());
    const before = await inboundCount();
    const now = Math.floor(Date.now() / 1000);
    expect((await deliver(payload, { nowSeconds: now - 301 })).status).toBe(401);
    expect((await deliver(payload, { nowSeconds: now + 302 })).status).toBe(401);
    expect((await deliver(payload, { nowSeconds: now - 3600 })).status).toBe(401);
    expect(await inboundCount()).toBe(before);
    // Inside the window the same payload is accepted.
    expect((await deliver(payload, { nowSeconds: now - 290 })).status).toBe(200);
    expect(await inboundCount()).toBe(before + 1);
  });

  it("stores nothing and answers nothing for the bot's own, other bots', edited and deleted messages", async () => {
    const channel = 'D0QUIET001';
    const before = await inboundCount();
    const events = [
      dmEvent({ channel, user: SLACK_BOT_USER, bot_id: SLACK_BOT_ID, text: 'my own reply' }),
      dmEvent({ channel, user: SLACK_BOT_USER, text: 'my own reply without bot_id' }),
      dmEvent({ channel, user: 'U0OTHERBOT', bot_id: 'B0OTHERBOT', text: 'another bot' }),
      dmEvent({ channel, subtype: 'bot_message', user: undefined, bot_id: 'B0OTHERBOT', username: 'webhook' }),
      dmEvent({ channel, subtype: 'message_changed', user: undefined, message: { user: 'U0PERSON01', text: 'edited' } }),
      dmEvent({ channel, subtype: 'message_deleted', user: undefined, deleted_ts: '1700000000.000100' }),
      mentionEvent({ channel: 'C0QUIET001', user: 'U0OTHERBOT', bot_id: 'B0OTHERBOT' }),
    ];
    for (const event of events) expect((await deliver(eventCallback(event))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await inboundCount()).toBe(before);
    expect(postsTo(channel)).toHaveLength(0);
    expect(postsTo('C0QUIET001')).toHaveLength(0);
  });

  it('waits out a 429 with Retry-After and delivers the reply exactly once after the delay', async () => {
    const event = dmEvent();
    const channel = String(event['channel']);
    standin.rateLimitNextPost(2);
    expect((await deliver(eventCallback(event))).status).toBe(200);
    await waitUntil(async () => postsTo(channel).length, (n) => n >= 1, { timeoutMs: 15_000, what: 'the reply after the 429' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const attempts = standin.postAttempts().filter((a) => a.channel === channel);
    expect(attempts.map((a) => a.outcome)).toEqual(['429', 'ok']);
    const waited = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(1950);
    expect(waited).toBeLessThan(6000);
    expect(postsTo(channel)).toHaveLength(1);
  }, 30_000);

  it('acknowledges deliveries well within Slack\'s 3 s, each after its commit', async () => {
    const before = await inboundCount();
    const timings: number[] = [];
    for (let batch = 0; batch < 6; batch += 1) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const started = performance.now();
          const response = await deliver(eventCallback(dmEvent()));
          timings.push(performance.now() - started);
          expect(response.status).toBe(200);
        }),
      );
    }
    // Every 200 came after the commit: all 60 are stored the moment the last answer arrived.
    expect(await inboundCount()).toBe(before + 60);
    timings.sort((a, b) => a - b);
    const p50 = timings[Math.floor(timings.length * 0.5)] ?? 0;
    const p99 = timings[Math.ceil(timings.length * 0.99) - 1] ?? 0;
    console.log(`slack ack latency over 60 deliveries (10 at a time): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(3000);
  });

  it('links the author to a tenant user when the Slack identity is linked', async () => {
    const user = await stack.createUser({ email: 'linked@example.test', password: 'correct horse battery staple' });
    await linkPlatformIdentity(stack.switchboard.services.db, { platform: 'slack', installationId: SLACK_TEAM, platformUserId: 'U0LINKED01', userId: user.id });
    const linked = eventCallback(dmEvent({ user: 'U0LINKED01' }));
    const stranger = eventCallback(dmEvent({ user: 'U0STRANGE1' }));
    expect((await deliver(linked)).status).toBe(200);
    expect((await deliver(stranger)).status).toBe(200);
    const rows = await stack.switchboard.services.db.query<{ author_platform_id: string; author_user_id: string | null }>(
      `SELECT author_platform_id, author_user_id FROM messages WHERE author_platform_id IN ('U0LINKED01', 'U0STRANGE1') ORDER BY author_platform_id`,
    );
    expect(rows.rows).toEqual([
      { author_platform_id: 'U0LINKED01', author_user_id: user.id },
      { author_platform_id: 'U0STRANGE1', author_user_id: null },
    ]);
  });

  it('revokes the installation on app_uninstalled and then ignores its events', async () => {
    // Last: the workspace is gone afterwards.
    expect((await deliver(eventCallback({ type: 'app_uninstalled' }))).status).toBe(200);
    const row = await stack.switchboard.services.db.query<{ status: string; sealed: boolean }>(
      `SELECT status, credentials_sealed IS NOT NULL AS sealed FROM installations WHERE platform = 'slack' AND external_id = $1`,
      [SLACK_TEAM],
    );
    expect(row.rows[0]).toEqual({ status: 'revoked', sealed: false });
    const before = await inboundCount();
    expect((await deliver(eventCallback(dmEvent()))).status).toBe(200);
    expect(await inboundCount()).toBe(before);
    const audit = await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM audit_log WHERE action = 'slack.installation_revoked'`);
    expect(audit).toBe(1);
  });
});
