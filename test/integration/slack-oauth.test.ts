/**
 * Multi-workspace installs over OAuth v2 against the Slack stand-in: the install redirect, the
 * state checks (signed, same browser, single use), the code exchange with the real WebClient,
 * sealed per-team tokens, token rotation (refresh before expiry), allow-listed teams, and
 * tokens_revoked ending an installation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { slackAdapterFactory } from '../../adapters/slack/index.ts';
import { slackSignedHeaders, startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { dmEvent, eventCallback } from '../standins/slack-fixtures.ts';

const SECRET = 'oauth-test-signing-secret';
const REDIRECT = 'https://switchboard.example.test/oauth/slack/callback';
const TEAM_A = { teamId: 'T0ALPHA001', teamName: 'Alpha', botUserId: 'U0ALPHABOT', botId: 'B0ALPHABOT' };
const TEAM_R = { teamId: 'T0ROTATE01', teamName: 'Rotating', botUserId: 'U0ROTATBOT', botId: 'B0ROTATBOT', rotateEverySeconds: 200 };
const TEAM_X = { teamId: 'T0NOTALLOW', teamName: 'Outsider', botUserId: 'U0OUTSIDE1', botId: 'B0OUTSIDE1' };

let standin: SlackStandin;
let stack: Stack;

beforeAll(async () => {
  standin = await startSlackStandin();
  stack = await startStack({
    adapterFactories: [slackAdapterFactory],
    env: {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_CLIENT_ID: standin.client.id,
      SLACK_CLIENT_SECRET: standin.client.secret,
      SLACK_OAUTH_REDIRECT_URL: REDIRECT,
      SLACK_OAUTH_AUTHORIZE_URL: `${standin.http.url}/oauth/v2/authorize`,
      SLACK_ALLOWED_TEAM_IDS: `${TEAM_A.teamId},${TEAM_R.teamId}`,
      SLACK_API_URL: standin.apiUrl,
      SLACK_API_RETRIES: '0',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

/** Starts an install like a browser: returns the state Slack would get and the cookie we set. */
async function beginInstall(): Promise<{ state: string; cookie: string; location: URL }> {
  const response = await fetch(`${stack.baseUrl}/oauth/slack/install`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { state: location.searchParams.get('state') ?? '', cookie, location };
}

const callback = (query: Record<string, string>, cookie?: string) =>
  fetch(`${stack.baseUrl}/oauth/slack/callback?${new URLSearchParams(query).toString()}`, { headers: cookie ? { cookie } : {} });

const installation = async (teamId: string) =>
  (
    await stack.switchboard.services.db.query<{ status: string; bot_user_id: string; name: string; sealed: Buffer | null }>(
      `SELECT status, bot_user_id, name, credentials_sealed AS sealed FROM installations WHERE platform = 'slack' AND external_id = $1`,
      [teamId],
    )
  ).rows[0];

async function deliver(payload: unknown): Promise<number> {
  const body = JSON.stringify(payload);
  return (await fetch(`${stack.baseUrl}/webhooks/slack/events`, { method: 'POST', headers: slackSignedHeaders(SECRET, body), body })).status;
}

describe('Slack OAuth installs', () => {
  it('redirects to the authorize page with client id, scopes, redirect URL, a state and a browser-bound cookie', async () => {
    const { location, state, cookie } = await beginInstall();
    expect(`${location.origin}${location.pathname}`).toBe(`${standin.http.url}/oauth/v2/authorize`);
    expect(location.searchParams.get('client_id')).toBe(standin.client.id);
    expect(location.searchParams.get('scope')).toBe('app_mentions:read,chat:write,im:history');
    expect(location.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(state).toMatch(/^[\w-]+\.[\w-]{43}$/);
    expect(cookie).toMatch(/^sb_slack_oauth=[\w-]{22}$/);
  });

  it('installs a workspace: code exchanged, bot identified, token sealed; the state works once', async () => {
    standin.addCode('code-alpha', TEAM_A);
    const { state, cookie } = await beginInstall();
    const response = await callback({ code: 'code-alpha', state }, cookie);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(TEAM_A.teamId);
    const row = await installation(TEAM_A.teamId);
    expect(row).toMatchObject({ status: 'active', bot_user_id: TEAM_A.botUserId, name: 'Alpha' });
    expect(row?.sealed?.toString('latin1')).not.toMatch(/xoxb-/);
    // Replaying the callback (same state) is refused, even with a fresh code.
    standin.addCode('code-alpha-2', TEAM_A);
    expect((await callback({ code: 'code-alpha-2', state }, cookie)).status).toBe(400);
    const audit = await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM audit_log WHERE action = 'slack.installed'`);
    expect(audit).toBe(1);
  });

  it('refuses a state from another browser, a forged state, a cancelled install and a bad code', async () => {
    standin.addCode('code-unused', TEAM_A);
    const first = await beginInstall();
    const second = await beginInstall();
    expect((await callback({ code: 'code-unused', state: first.state }, second.cookie)).status).toBe(400);
    expect((await callback({ code: 'code-unused', state: first.state })).status).toBe(400);
    const [payload = ''] = first.state.split('.');
    expect((await callback({ code: 'code-unused', state: `${payload}.${'A'.repeat(43)}` }, first.cookie)).status).toBe(400);
    expect((await callback({ error: 'access_denied', state: first.state }, first.cookie)).status).toBe(400);
    const fresh = await beginInstall();
    expect((await callback({ code: 'no-such-code', state: fresh.state }, fresh.cookie)).status).toBe(400);
    // None of these exchanged the registered code.
    expect(standin.http.requestsTo('POST /api/oauth.v2.access').filter((r) => r.rawBody.includes('code-unused'))).toHaveLength(0);
  });

  it('refuses workspaces outside SLACK_ALLOWED_TEAM_IDS', async () => {
    standin.addCode('code-outsider', TEAM_X);
    const { state, cookie } = await beginInstall();
    expect((await callback({ code: 'code-outsider', state }, cookie)).status).toBe(403);
    expect(await installation(TEAM_X.teamId)).toBeUndefined();
  });

  it('answers an installed workspace with its own token', async () => {
    const event = dmEvent({ team: TEAM_A.teamId });
    expect(await deliver(eventCallback(event, { teamId: TEAM_A.teamId }))).toBe(200);
    const channel = String(event['channel']);
    await waitUntil(async () => standin.posts().filter((p) => p.channel === channel).length, (n) => n === 1, { what: 'the reply' });
    const post = standin.posts().find((p) => p.channel === channel);
    expect(post?.token).toMatch(/^xoxb-/);
    expect(post?.threadTs).toBe(event['ts']);
  });

  it('refreshes a rotating token before it expires and sends with the new one', async () => {
    // The stand-in's token lives 200 s: inside the 5-minute margin, so the first send refreshes it.
    standin.addCode('code-rotate', TEAM_R);
    const { state, cookie } = await beginInstall();
    expect((await callback({ code: 'code-rotate', state }, cookie)).status).toBe(200);
    const installToken = standin.http
      .requestsTo('POST /api/auth.test')
      .map((r) => String(r.headers.authorization ?? ''))
      .filter((h) => h.includes('xoxe-'))
      .at(-1)
      ?.slice('Bearer '.length);
    expect(installToken).toBeDefined();
    const refreshesBefore = standin.refreshes();
    const event = dmEvent();
    expect(await deliver(eventCallback(event, { teamId: TEAM_R.teamId }))).toBe(200);
    const channel = String(event['channel']);
    await waitUntil(async () => standin.posts().filter((p) => p.channel === channel).length, (n) => n === 1, { what: 'the reply' });
    expect(standin.refreshes()).toBe(refreshesBefore + 1);
    const post = standin.posts().find((p) => p.channel === channel);
    expect(post?.token).toMatch(/^xoxb-xoxe-/);
    expect(post?.token).not.toBe(installToken);
    const audit = await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM audit_log WHERE action = 'slack.token_refreshed'`);
    expect(audit).toBe(1);
  });

  it('ends an installation when its bot token is revoked, and ignores its events afterwards', async () => {
    // Someone else's token revoked: nothing changes.
    expect(await deliver(eventCallback({ type: 'tokens_revoked', tokens: { oauth: ['U0SOMEONE1'] } }, { teamId: TEAM_A.teamId }))).toBe(200);
    expect((await installation(TEAM_A.teamId))?.status).toBe('active');
    expect(await deliver(eventCallback({ type: 'tokens_revoked', tokens: { bot: [TEAM_A.botUserId] } }, { teamId: TEAM_A.teamId }))).toBe(200);
    const row = await installation(TEAM_A.teamId);
    expect(row?.status).toBe('revoked');
    expect(row?.sealed).toBeNull();
    const before = await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events`);
    expect(await deliver(eventCallback(dmEvent(), { teamId: TEAM_A.teamId }))).toBe(200);
    expect(await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events`)).toBe(before);
  });
});
