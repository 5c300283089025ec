/**
 * Sign in with Google (OpenID Connect) and GitHub (OAuth2) through the whole product, against the
 * local stand-ins in test/standins/oidc.ts: the full redirect dance with a cookie jar that behaves
 * like a browser's (path-scoped cookies), the hand-off to the page, and the same session as a
 * password sign-in. Every forged, replayed or unverified case is refused, audited, and leaves
 * nothing behind (no session, no link, no user, no hand-off). The last block drives the real page
 * in Chromium: the page on http://localhost, the provider on http://127.0.0.1 (another site), so
 * the cookies' SameSite settings meet a real cross-site redirect.
 */
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, observePage } from '../e2e/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { startGithubStandin, startOidcStandin, type GithubStandin, type GithubUser, type IdTokenTweaks, type OidcStandin, type OidcUser } from '../standins/oidc.ts';
import { call, fromSession, login, type Answer } from './auth-http-helpers.ts';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { setRequired2faRoles } from '../../src/store/totp.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { insertUser } from '../../src/store/users.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { loadConfig } from '../../config/load.ts';
import { enabledProviders, resolveOidcSettings } from '../../src/auth/oidc/providers.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';

const PUBLIC_URL = 'https://switchboard.test';
const PASSWORD = 'correct horse battery staple 42';
const GOOGLE_CALLBACK = `${PUBLIC_URL}/api/v1/auth/oidc/google/callback`;
const GITHUB_CALLBACK = `${PUBLIC_URL}/api/v1/auth/oidc/github/callback`;

let stack: Stack;
let google: OidcStandin;
let github: GithubStandin;
let n = 0;

beforeAll(async () => {
  google = await startOidcStandin({ redirectUris: [GOOGLE_CALLBACK] });
  github = await startGithubStandin({ redirectUris: [GITHUB_CALLBACK] });
  stack = await startStack({
    env: {
      PUBLIC_URL,
      GOOGLE_CLIENT_ID: google.clientId,
      GOOGLE_CLIENT_SECRET: google.clientSecret,
      GOOGLE_OIDC_ISSUER: google.issuer,
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_OAUTH_URL: github.url,
      GITHUB_API_URL: github.url,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await google?.close();
  await github?.close();
});

const db = () => stack.switchboard.services.db;

// ── a browser, as far as cookies and redirects go ────────────────────────────────────────────

interface Cookie {
  readonly value: string;
  readonly path: string;
}

/** A cookie jar: name → value and path, as Set-Cookie left them (Max-Age=0 deletes). */
class Jar {
  readonly cookies = new Map<string, Cookie>();

  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const path = attributes.find((a) => a.startsWith('Path='))?.slice(5) ?? '/';
      if (attributes.includes('Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, { value: pair.slice(eq + 1), path });
    }
  }

  /** The Cookie header a browser sends to `path`. */
  header(path: string): string | undefined {
    const sent = [...this.cookies].filter(([, c]) => path === c.path || path.startsWith(`${c.path.replace(/\/$/, '')}/`));
    return sent.length === 0 ? undefined : sent.map(([name, c]) => `${name}=${c.value}`).join('; ');
  }
}

/** GET without following redirects; our own URLs (PUBLIC_URL) are sent to the stack. */
async function get(url: string, jar: Jar | undefined): Promise<{ status: number; location: string }> {
  const target = new URL(url.startsWith(PUBLIC_URL) ? `${stack.baseUrl}${url.slice(PUBLIC_URL.length)}` : url);
  const cookie = target.origin === stack.baseUrl ? jar?.header(target.pathname) : undefined;
  const response = await fetch(target, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
  jar?.take(response);
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') ?? '' };
}

/** POST /auth/oidc/complete as the page does (same origin, CSRF header, the jar's cookies). */
async function complete(jar: Jar, options: { csrf?: boolean } = {}): Promise<Answer> {
  const path = '/api/v1/auth/oidc/complete';
  const cookie = jar.header(path);
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.csrf === false ? {} : { 'x-switchboard-csrf': '1' }),
      ...(cookie === undefined ? {} : { cookie }),
    },
    body: '{}',
  });
  jar.take(response);
  const text = await response.text();
  const setCookie = response.headers.getSetCookie();
  const refresh = setCookie.find((c) => c.startsWith('__Secure-sb_refresh='));
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    setCookie,
    cookie: refresh === undefined ? undefined : (refresh.slice('__Secure-sb_refresh='.length).split(';')[0] ?? ''),
  };
}

/** One trip to the provider and back, up to (not including) the callback. */
interface Trip {
  readonly jar: Jar;
  readonly startStatus: number;
  readonly authorizeUrl: URL;
  /** Where the provider sends the browser back (PUBLIC_URL-based). */
  readonly callbackUrl: URL;
}

async function toProvider(provider: 'google' | 'github', query = ''): Promise<Trip> {
  const jar = new Jar();
  const start = await get(`${stack.baseUrl}/api/v1/auth/oidc/${provider}/start${query}`, jar);
  const authorizeUrl = new URL(start.location);
  const back = await get(start.location, jar);
  expect(back.status, `provider answered ${back.status}`).toBe(302);
  return { jar, startStatus: start.status, authorizeUrl, callbackUrl: new URL(back.location) };
}

/** The callback; returns the page fragment it redirects to. */
async function callback(trip: Trip, options: { url?: URL; jar?: Jar } = {}): Promise<string> {
  const answer = await get((options.url ?? trip.callbackUrl).href, options.jar ?? trip.jar);
  expect(answer.status).toBe(303);
  expect(answer.location.startsWith('/#')).toBe(true);
  return answer.location.slice(2);
}

/** A whole sign-in: start, provider, callback, complete. */
async function signInWith(provider: 'google' | 'github', query = ''): Promise<{ fragment: string; answer: Answer | undefined; trip: Trip }> {
  const trip = await toProvider(provider, query);
  const fragment = await callback(trip);
  return { fragment, answer: fragment === 'oidc=signed-in' ? await complete(trip.jar) : undefined, trip };
}

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────

async function person(role: 'member' | 'admin' | 'owner' | 'agent' = 'member'): Promise<{ id: string; email: string }> {
  const email = `oidc-${++n}@example.test`;
  const { id } = await stack.createUser({ email, password: PASSWORD, role });
  return { id, email };
}

const googleUser = (email: string, extra: Partial<OidcUser> = {}): OidcUser => ({
  sub: `g-${++n}-${Math.random().toString(36).slice(2)}`,
  email,
  email_verified: true,
  name: 'Google Person',
  ...extra,
});

const githubUser = (emails: GithubUser['emails']): GithubUser => ({ id: 700_000 + ++n, login: `octo${n}`, name: null, emails });

/** Rows a sign-in may create; a refusal must leave every count as it was. */
async function footprint(): Promise<Record<string, number>> {
  const one = async (sql: string) => Number((await db().query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    sessions: await one('SELECT count(*) AS n FROM sessions'),
    identities: await one('SELECT count(*) AS n FROM oauth_identities'),
    users: await one('SELECT count(*) AS n FROM users'),
    handoffs: await one('SELECT count(*) AS n FROM oidc_flows WHERE handoff_hash IS NOT NULL'),
    mfaChallenges: await one('SELECT count(*) AS n FROM mfa_challenges'),
  };
}

/** The newest `auth.oidc_login_failed` row's details. */
async function lastRefusal(): Promise<Record<string, unknown>> {
  const rows = await db().query<{ details: Record<string, unknown> }>(
    "SELECT details FROM audit_log WHERE action = 'auth.oidc_login_failed' ORDER BY id DESC LIMIT 1",
  );
  return rows.rows[0]?.details ?? {};
}

/** Runs a Google sign-in forged by `tweaks` and expects a refusal that created nothing. */
async function refusedGoogle(user: OidcUser, tweaks: IdTokenTweaks): Promise<{ fragment: string; refusal: Record<string, unknown> }> {
  const before = await footprint();
  google.approve(user, tweaks);
  const { fragment, answer } = await signInWith('google');
  expect(answer).toBeUndefined();
  expect(await footprint()).toEqual(before);
  return { fragment, refusal: await lastRefusal() };
}

// ── the tests ────────────────────────────────────────────────────────────────────────────────

describe('configuration', () => {
  const settingsFor = (env: Record<string, string>) => resolveOidcSettings(loadConfig({ env, productionRefusals: false }));
  const problems = (env: Record<string, string>): string[] => {
    try {
      settingsFor(env);
      return [];
    } catch (err) {
      expect(isSwitchboardError(err, 'config_invalid')).toBe(true);
      return ((err as { details: { issues: Array<{ path: string }> } }).details.issues ?? []).map((i) => i.path);
    }
  };

  it('no credentials: no provider; both halves and PUBLIC_URL are required together', () => {
    expect(enabledProviders(settingsFor({}))).toEqual([]);
    expect(problems({ GOOGLE_CLIENT_ID: 'id', PUBLIC_URL: PUBLIC_URL })).toEqual(['GOOGLE_CLIENT_SECRET']);
    expect(problems({ GITHUB_CLIENT_SECRET: 'secret', PUBLIC_URL: PUBLIC_URL })).toEqual(['GITHUB_CLIENT_ID']);
    expect(problems({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret' })).toEqual(['PUBLIC_URL']);
  });

  it('redirect URIs come from PUBLIC_URL\'s origin; plain http providers are refused in production', () => {
    const env = { GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 's', PUBLIC_URL: 'https://chat.example.com/ignored/path' };
    const settings = settingsFor(env);
    expect(settings.google?.redirectUri).toBe('https://chat.example.com/api/v1/auth/oidc/google/callback');
    expect(settings.github?.redirectUri).toBe('https://chat.example.com/api/v1/auth/oidc/github/callback');
    expect(settings.google?.issuer.href).toBe('https://accounts.google.com/');
    expect(settings.google?.idTokenAlg).toBe('RS256');
    expect(settings.allowInsecureHttp).toBe(true);
    const production = { ...env, SWITCHBOARD_ENV: 'production', GOOGLE_OIDC_ISSUER: 'http://127.0.0.1:9', GITHUB_API_URL: 'http://127.0.0.1:9' };
    expect(problems(production)).toEqual(['GOOGLE_OIDC_ISSUER', 'GITHUB_API_URL']);
    expect(settingsFor({ ...env, SWITCHBOARD_ENV: 'production' }).allowInsecureHttp).toBe(false);
  });
});

describe('providers', () => {
  it('GET /auth/providers lists the configured providers with their start URLs', async () => {
    const answer = await call(stack.baseUrl, 'GET', '/auth/providers');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      providers: [
        { id: 'google', name: 'Google', startUrl: '/api/v1/auth/oidc/google/start' },
        { id: 'github', name: 'GitHub', startUrl: '/api/v1/auth/oidc/github/start' },
      ],
    });
    expect((await get(`${stack.baseUrl}/api/v1/auth/oidc/facebook/start`, undefined)).status).toBe(404);
  });

  it('start sends the browser to the provider with state, nonce and an S256 PKCE challenge, and binds the state with a Lax cookie', async () => {
    const jar = new Jar();
    const start = await fetch(`${stack.baseUrl}/api/v1/auth/oidc/google/start`, { redirect: 'manual' });
    jar.take(start);
    expect(start.status).toBe(303);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const url = new URL(start.headers.get('location') ?? '');
    expect(url.origin + url.pathname).toBe(`${google.issuer}/authorize`);
    const q = url.searchParams;
    expect(q.get('client_id')).toBe(google.clientId);
    expect(q.get('redirect_uri')).toBe(GOOGLE_CALLBACK);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('scope')).toBe('openid email profile');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).not.toBe(q.get('state'));
    const [setCookie] = start.headers.getSetCookie();
    expect(setCookie).toMatch(/^__Secure-sb_oidc_state=[A-Za-z0-9_-]{43}; Path=\/api\/v1\/auth\/oidc\/google\/callback; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/);
    // The cookie is not the state (nor the verifier): the state in the URL is derived from it.
    expect(jar.cookies.get('__Secure-sb_oidc_state')?.value).not.toBe(q.get('state'));
    const stored = await db().query('SELECT provider, callback_at, user_id FROM oidc_flows WHERE provider = $1 ORDER BY created_at DESC LIMIT 1', ['google']);
    expect(stored.rows[0]).toEqual({ provider: 'google', callback_at: null, user_id: null });
  });
});

describe('Google (OpenID Connect)', () => {
  it('a full flow signs an existing user in: the same session, cookie and answer as a password sign-in', async () => {
    const { id, email } = await person();
    const passwordAnswer = await call(stack.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(passwordAnswer.status).toBe(200);

    const sub = `g-full-${n}`;
    google.approve(googleUser(email.toUpperCase(), { sub }));
    const { fragment, answer } = await signInWith('google');
    expect(fragment).toBe('oidc=signed-in');
    expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);
    if (!answer) throw new Error('no answer');
    // Same shape as the password answer, field for field.
    expect(Object.keys(answer.body).sort()).toEqual(Object.keys(passwordAnswer.body).sort());
    expect(Object.keys(answer.body['session'] as object).sort()).toEqual(Object.keys(passwordAnswer.body['session'] as object).sort());
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', user: { id, email, role: 'member' }, session: { authMethod: 'oidc' } });
    const refreshCookie = (a: Answer) => a.setCookie.find((c) => c.startsWith('__Secure-sb_refresh='))?.replace(/=[^;]*/, '=…').replace(/Max-Age=\d+/, 'Max-Age=n');
    expect(refreshCookie(answer)).toBe(refreshCookie(passwordAnswer));
    const session = fromSession(answer);

    // A real session: the access token works, the refresh cookie rotates, the row says oidc.
    expect((await call(stack.baseUrl, 'GET', '/sessions', { token: session.accessToken })).status).toBe(200);
    const refreshed = await call(stack.baseUrl, 'POST', '/auth/refresh', { cookie: session.refresh, csrf: true, body: {} });
    expect(refreshed.status).toBe(200);
    const row = await db().query('SELECT user_id, auth_method FROM sessions WHERE id = $1', [session.sessionId]);
    expect(row.rows[0]).toEqual({ user_id: id, auth_method: 'oidc' });

    // Linked by the verified email, to the subject; audited.
    const identity = await db().query('SELECT user_id, provider, subject, email FROM oauth_identities WHERE subject = $1', [sub]);
    expect(identity.rows).toEqual([{ user_id: id, provider: 'google', subject: sub, email }]);
    const audits = await db().query<{ action: string; details: Record<string, unknown> }>(
      "SELECT action, details FROM audit_log WHERE actor_id = $1 AND action LIKE 'auth.%' ORDER BY id",
      [id],
    );
    expect(audits.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['auth.oidc_linked', 'auth.oidc_login', 'auth.login']));
    expect(audits.rows.find((r) => r.action === 'auth.login' && r.details['method'] === 'oidc')).toBeDefined();

    // The PKCE verifier was sent and matched the challenge the stand-in saw.
    const last = google.tokenRequests.at(-1);
    expect(last).toMatchObject({ pkceMatched: true, error: undefined });
    expect(last?.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('later sign-ins find the user by subject, not by email', async () => {
    const { id, email } = await person();
    const sub = `g-sub-${n}`;
    google.approve(googleUser(email, { sub }));
    expect((await signInWith('google')).answer?.status).toBe(200);

    // The Google account's email changes (and is no longer verified): the subject still signs in.
    google.approve({ sub, email: 'someone-else@elsewhere.test', email_verified: false });
    const again = await signInWith('google');
    expect(again.answer?.body['user']).toMatchObject({ id });

    // Another Google account claiming the same verified email: refused, the first link stays.
    const { fragment, refusal } = await refusedGoogle(googleUser(email), {});
    expect(fragment).toBe('oidc-error=not_allowed');
    expect(refusal).toMatchObject({ provider: 'google', reason: 'identity_conflict' });
    const links = await db().query('SELECT subject FROM oauth_identities WHERE user_id = $1', [id]);
    expect(links.rows).toEqual([{ subject: sub }]);
  });

  it('refuses an unverified, missing or string-typed email_verified, and links nothing', async () => {
    const { email } = await person();
    for (const verified of [false, undefined, 'true']) {
      const { fragment, refusal } = await refusedGoogle(googleUser(email, { email_verified: verified }), {});
      expect(fragment).toBe('oidc-error=unverified_email');
      expect(refusal).toMatchObject({ provider: 'google', reason: 'email_unverified' });
    }
  });

  it('refuses a wrong nonce, a missing nonce, another issuer, another audience, an expired token', async () => {
    const { email } = await person();
    const cases: Array<[IdTokenTweaks, string]> = [
      [{ nonce: 'not-the-nonce' }, 'nonce'],
      [{ nonce: null }, 'nonce'],
      [{ iss: 'https://accounts.evil.example' }, 'iss'],
      [{ aud: 'someone-elses-client-id' }, 'aud'],
      [{ expiresIn: -120 }, 'exp'],
    ];
    for (const [tweaks, claim] of cases) {
      const { fragment, refusal } = await refusedGoogle(googleUser(email), tweaks);
      expect(fragment).toBe('oidc-error=failed');
      expect({ tweaks, refusal }).toMatchObject({ tweaks, refusal: { reason: 'id_token_invalid', claim } });
    }
  });

  it('refuses an id_token signed by a key outside the JWKS, and one whose alg is not the pinned RS256', async () => {
    const { email } = await person();
    const foreign = await refusedGoogle(googleUser(email), { foreignKey: true });
    expect(foreign.refusal).toMatchObject({ reason: 'id_token_invalid', detail: 'JWT signature verification failed' });
    // Validly signed with the provider's own ES256 key, but the pinned algorithm is RS256.
    const es = await refusedGoogle(googleUser(email), { alg: 'ES256' });
    expect(es.refusal).toMatchObject({ reason: 'id_token_invalid', detail: 'unexpected JWT "alg" header parameter' });
  });

  it('the PKCE verifier is checked by the provider: a mismatch is refused at the token endpoint', async () => {
    const { email } = await person();
    const requestsBefore = google.tokenRequests.length;
    const { refusal } = await refusedGoogle(googleUser(email), { breakPkce: true });
    expect(refusal).toMatchObject({ reason: 'token_rejected', oauthError: 'invalid_grant' });
    expect(google.tokenRequests.slice(requestsBefore)).toEqual([expect.objectContaining({ pkceMatched: false, error: 'invalid_grant' })]);
  });

  it('a cancelled sign-in at the provider is refused as cancelled', async () => {
    const { email } = await person();
    const { fragment, refusal } = await refusedGoogle(googleUser(email), { deny: true });
    expect(fragment).toBe('oidc-error=cancelled');
    expect(refusal).toMatchObject({ reason: 'provider_denied', oauthError: 'access_denied' });
  });
});

describe('state', () => {
  it('a forged state, a missing state, a missing cookie or another browser’s cookie are refused, and nothing is created', async () => {
    const { email } = await person();
    const cases: Array<[string, (trip: Trip) => { url?: URL; jar?: Jar }, string]> = [
      ['forged state', (trip) => {
        const url = new URL(trip.callbackUrl);
        url.searchParams.set('state', 'A'.repeat(43));
        return { url };
      }, 'state_mismatch'],
      ['no state', (trip) => {
        const url = new URL(trip.callbackUrl);
        url.searchParams.delete('state');
        return { url };
      }, 'state_mismatch'],
      ['no cookie', () => ({ jar: new Jar() }), 'state_missing'],
      ['repeated state', (trip) => {
        const url = new URL(trip.callbackUrl);
        url.searchParams.append('state', url.searchParams.get('state') ?? '');
        return { url };
      }, 'state_mismatch'],
    ];
    for (const [name, tamper, reason] of cases) {
      google.approve(googleUser(email));
      const before = await footprint();
      const trip = await toProvider('google');
      expect({ name, fragment: await callback(trip, tamper(trip)) }).toEqual({ name, fragment: 'oidc-error=expired' });
      expect({ name, refusal: await lastRefusal() }).toMatchObject({ name, refusal: { reason } });
      expect(await footprint()).toEqual(before);
    }

    // The attacker's own (valid) callback, replayed in the victim's browser: the state is not bound to it.
    google.approve(googleUser(email));
    const attacker = await toProvider('google');
    const victim = await toProvider('google');
    const before = await footprint();
    expect(await callback(attacker, { jar: victim.jar })).toBe('oidc-error=expired');
    expect(await lastRefusal()).toMatchObject({ reason: 'state_mismatch' });
    expect(await footprint()).toEqual(before);
  });

  it('a state is single use: the same callback replayed (same cookie) is refused', async () => {
    const { email } = await person();
    google.approve(googleUser(email));
    const trip = await toProvider('google');
    // The browser drops the cookie after the callback; an attacker who kept a copy replays both.
    const kept = new Jar();
    for (const [name, cookie] of trip.jar.cookies) kept.cookies.set(name, cookie);
    expect(await callback(trip)).toBe('oidc=signed-in');
    expect(trip.jar.cookies.has('__Secure-sb_oidc_state')).toBe(false);
    const before = await footprint();
    expect(await callback(trip, { jar: kept })).toBe('oidc-error=expired');
    expect(await lastRefusal()).toMatchObject({ reason: 'state_reused' });
    expect(await footprint()).toEqual(before);
  });

  it('an expired state is refused', async () => {
    const { email } = await person();
    google.approve(googleUser(email));
    const trip = await toProvider('google');
    await db().query("UPDATE oidc_flows SET created_at = now() - interval '11 minutes', expires_at = now() - interval '1 minute' WHERE callback_at IS NULL");
    const before = await footprint();
    expect(await callback(trip)).toBe('oidc-error=expired');
    expect(await lastRefusal()).toMatchObject({ reason: 'state_expired' });
    expect(await footprint()).toEqual(before);
  });

  it('a state started for GitHub is not accepted by the Google callback', async () => {
    const { email } = await person();
    github.approve(githubUser([{ email, primary: true, verified: true }]));
    const trip = await toProvider('github');
    const url = new URL(GOOGLE_CALLBACK);
    for (const [k, v] of trip.callbackUrl.searchParams) url.searchParams.set(k, v);
    // The GitHub cookie is scoped to the GitHub callback: the Google callback gets no cookie.
    expect(await callback(trip, { url })).toBe('oidc-error=expired');
    expect(await lastRefusal()).toMatchObject({ provider: 'google', reason: 'state_missing' });
  });
});

describe('the hand-off to the page', () => {
  it('works once, only same-origin with the CSRF header, and only with its cookie', async () => {
    const { email } = await person();
    google.approve(googleUser(email));
    const trip = await toProvider('google');
    expect(await callback(trip)).toBe('oidc=signed-in');
    const handoff = trip.jar.cookies.get('__Secure-sb_oidc_handoff');
    expect(handoff?.path).toBe('/api/v1/auth/oidc/complete');

    expect((await complete(new Jar())).status).toBe(401);
    expect((await complete(trip.jar, { csrf: false })).status).toBe(403);
    const first = await complete(trip.jar);
    expect(first.status).toBe(200);
    // The cookie was cleared; sent again anyway, the hand-off is spent.
    expect(trip.jar.cookies.has('__Secure-sb_oidc_handoff')).toBe(false);
    if (handoff) trip.jar.cookies.set('__Secure-sb_oidc_handoff', handoff);
    const second = await complete(trip.jar);
    expect(second.status).toBe(401);
    expect(second.cookie).toBeUndefined();
  });
});

describe('accounts', () => {
  it('an unknown verified email is refused: no user is created unless the tenant auto-provisions its domain', async () => {
    const { fragment, refusal } = await refusedGoogle(googleUser('nobody@unknown-domain.test'), {});
    expect(fragment).toBe('oidc-error=no_account');
    expect(refusal).toMatchObject({ reason: 'no_account' });
  });

  it('disabled users and agent accounts are refused', async () => {
    const disabled = await person();
    await db().query('UPDATE users SET disabled_at = now() WHERE id = $1', [disabled.id]);
    expect((await refusedGoogle(googleUser(disabled.email), {})).refusal).toMatchObject({ reason: 'user_disabled' });
    const agent = await person('agent');
    expect((await refusedGoogle(googleUser(agent.email), {})).refusal).toMatchObject({ reason: 'role_not_allowed' });
  });

  it('an email present in two tenants needs ?tenant=, and then signs into that tenant', async () => {
    const email = `twice-${++n}@example.test`;
    const other = await ensureTenant(db(), 'oidc-other', 'Other', 'redact');
    const hash = await hashPassword(PASSWORD);
    await insertUser(db(), { tenantId: stack.tenantId, email, displayName: 'One', role: 'member', passwordHash: hash });
    const second = await insertUser(db(), { tenantId: other, email, displayName: 'Two', role: 'member', passwordHash: hash });
    expect((await refusedGoogle(googleUser(email), {})).refusal).toMatchObject({ reason: 'ambiguous_account' });
    google.approve(googleUser(email));
    const { answer } = await signInWith('google', '?tenant=oidc-other');
    expect(answer?.body['user']).toMatchObject({ id: second.id });
    expect((await get(`${stack.baseUrl}/api/v1/auth/oidc/google/start?tenant=Not_A_Slug`, undefined)).status).toBe(400);
    expect((await get(`${stack.baseUrl}/api/v1/auth/oidc/google/start?next=https://evil.example`, undefined)).status).toBe(400);
  });

  it('the tenant policy auto-provisions a member for its domains only (owner-only endpoint, audited)', async () => {
    const owner = await person('owner');
    const admin = await person('admin');
    const ownerToken = (await login(stack.baseUrl, owner.email, PASSWORD)).accessToken;
    const adminToken = (await login(stack.baseUrl, admin.email, PASSWORD)).accessToken;
    expect((await call(stack.baseUrl, 'GET', '/auth/oidc/policy')).status).toBe(401);
    expect((await call(stack.baseUrl, 'GET', '/auth/oidc/policy', { token: adminToken })).status).toBe(403);
    expect((await call(stack.baseUrl, 'GET', '/auth/oidc/policy', { token: ownerToken })).body).toEqual({ autoProvisionDomains: [] });
    for (const body of [{ autoProvisionDomains: ['gmail.com'] }, { autoProvisionDomains: ['not a domain'] }, { autoProvisionDomains: [], role: 'owner' }]) {
      expect((await call(stack.baseUrl, 'PUT', '/auth/oidc/policy', { token: ownerToken, body })).status).toBe(400);
    }
    const set = await call(stack.baseUrl, 'PUT', '/auth/oidc/policy', { token: ownerToken, body: { autoProvisionDomains: ['Provisioned.Example'] } });
    expect(set.body).toEqual({ autoProvisionDomains: ['provisioned.example'] });
    const audit = await db().query("SELECT details FROM audit_log WHERE action = 'auth.oidc_policy_changed' AND actor_id = $1", [owner.id]);
    expect(audit.rows[0]).toEqual({ details: { before: [], after: ['provisioned.example'] } });

    const newcomer = `new-${++n}@provisioned.example`;
    google.approve(googleUser(newcomer, { name: 'New Comer' }));
    const { answer } = await signInWith('google');
    expect(answer?.status).toBe(200);
    expect(answer?.body['user']).toMatchObject({ email: newcomer, role: 'member', displayName: 'New Comer' });
    const created = await db().query('SELECT role, password_hash, tenant_id FROM users WHERE email = $1', [newcomer]);
    expect(created.rows).toEqual([{ role: 'member', password_hash: null, tenant_id: stack.tenantId }]);
    expect((await db().query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.oidc_user_provisioned'")).rows[0]).toEqual({ n: 1 });
    // An unverified address in the domain provisions nobody.
    expect((await refusedGoogle(googleUser(`other-${++n}@provisioned.example`, { email_verified: false }), {})).refusal).toMatchObject({ reason: 'email_unverified' });
    await call(stack.baseUrl, 'PUT', '/auth/oidc/policy', { token: ownerToken, body: { autoProvisionDomains: [] } });
  });
});

describe('GitHub (OAuth2)', () => {
  it('a verified primary email signs in; PKCE verifier checked; later sign-ins use the numeric id', async () => {
    const { id, email } = await person();
    const account = githubUser([
      { email: `noise-${n}@elsewhere.test`, primary: false, verified: true },
      { email, primary: true, verified: true },
    ]);
    github.approve(account);
    const { trip, answer } = await signInWith('github');
    expect(trip.authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(trip.authorizeUrl.searchParams.get('scope')).toBe('read:user user:email');
    expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);
    expect(answer?.body).toMatchObject({ user: { id }, session: { authMethod: 'oidc' } });
    expect(github.tokenRequests.at(-1)).toMatchObject({ pkceMatched: true, error: undefined });
    const identity = await db().query('SELECT subject FROM oauth_identities WHERE user_id = $1 AND provider = $2', [id, 'github']);
    expect(identity.rows).toEqual([{ subject: String(account.id) }]);

    // Emails changed at GitHub, none verified any more: the id still signs the same person in.
    github.approve({ ...account, emails: [{ email: 'changed@elsewhere.test', primary: true, verified: false }] });
    expect((await signInWith('github')).answer?.body['user']).toMatchObject({ id });
  });

  it('an unverified primary email is refused, even when another verified email matches a user', async () => {
    const { email } = await person();
    for (const emails of [
      [{ email, primary: true, verified: false }],
      [{ email: `primary-${n}@elsewhere.test`, primary: true, verified: false }, { email, primary: false, verified: true }],
    ]) {
      github.approve(githubUser(emails));
      const before = await footprint();
      const { fragment, answer } = await signInWith('github');
      expect(answer).toBeUndefined();
      expect(fragment).toBe('oidc-error=unverified_email');
      expect(await lastRefusal()).toMatchObject({ provider: 'github', reason: 'email_unverified' });
      expect(await footprint()).toEqual(before);
    }
  });

  it('a PKCE mismatch at GitHub is refused', async () => {
    const { email } = await person();
    github.approve(githubUser([{ email, primary: true, verified: true }]), { breakPkce: true });
    const before = await footprint();
    expect((await signInWith('github')).fragment).toBe('oidc-error=failed');
    expect(await lastRefusal()).toMatchObject({ provider: 'github', reason: 'token_rejected' });
    expect(github.tokenRequests.at(-1)).toMatchObject({ pkceMatched: false, error: 'invalid_grant' });
    expect(await footprint()).toEqual(before);
  });
});

describe('two-factor after Google or GitHub', () => {
  it('a user with 2FA gets the 2FA step (no session) and then a session with oidc+totp', async () => {
    const { email } = await person();
    const s = await login(stack.baseUrl, email, PASSWORD);
    const started = await call(stack.baseUrl, 'POST', '/auth/2fa/enrol', { token: s.accessToken, body: {} });
    const secret = new URL(String(started.body['otpauthUri'])).searchParams.get('secret') ?? '';
    expect((await call(stack.baseUrl, 'POST', '/auth/2fa/confirm', { token: s.accessToken, body: { code: await totpCodeAt(secret, Date.now()) } })).status).toBe(200);

    const sessionsBefore = (await footprint()).sessions;
    google.approve(googleUser(email));
    const { answer } = await signInWith('google');
    expect(answer?.status).toBe(200);
    expect(answer?.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: expect.any(Number) });
    expect(answer?.cookie).toBeUndefined();
    expect((await footprint()).sessions).toBe(sessionsBefore);

    const verified = await call(stack.baseUrl, 'POST', '/auth/2fa/verify', {
      body: { mfaToken: answer?.body['mfaToken'], code: await totpCodeAt(secret, Date.now() + 30_000) },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body['session']).toMatchObject({ authMethod: 'oidc+totp' });
  });

  it('when the tenant requires 2FA for the role, a GitHub sign-in gets the enrolment step', async () => {
    const admin = await person('admin');
    await setRequired2faRoles(db(), stack.tenantId, ['admin']);
    try {
      github.approve(githubUser([{ email: admin.email, primary: true, verified: true }]));
      const { answer } = await signInWith('github');
      expect(answer?.body).toEqual({ mfaEnrolmentRequired: true, mfaToken: expect.any(String), expiresIn: expect.any(Number) });
      expect(answer?.cookie).toBeUndefined();
    } finally {
      await setRequired2faRoles(db(), stack.tenantId, []);
    }
  });
});

describe('in a real browser', () => {
  let browserStack: Stack;
  let browser: Browser;
  let provider: OidcStandin;
  let base: string;

  /** A port that was free a moment ago (PUBLIC_URL must be known before the stack starts). */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    provider = await startOidcStandin({ redirectUris: [`${base}/api/v1/auth/oidc/google/callback`] });
    [browserStack, browser] = await Promise.all([
      startStack({
        env: {
          HTTP_PORT: String(port),
          PUBLIC_URL: base,
          GOOGLE_CLIENT_ID: provider.clientId,
          GOOGLE_CLIENT_SECRET: provider.clientSecret,
          GOOGLE_OIDC_ISSUER: provider.issuer,
        },
      }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await browserStack?.stop();
    await provider?.close();
  });

  it('"Sign in with Google" goes to the provider and back into the chat; a refusal is explained on the form', async () => {
    const email = `browser-${++n}@example.test`;
    await browserStack.createUser({ email, password: PASSWORD, displayName: 'Browser Person' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const seen = observePage(page);
      await page.goto(`${base}/`);
      await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
      // Only the configured provider's button shows.
      await page.getByRole('link', { name: 'Sign in with Google' }).waitFor();
      expect(await page.getByRole('link', { name: 'Sign in with GitHub' }).isHidden()).toBe(true);

      provider.approve({ sub: `browser-${n}`, email, email_verified: true });
      await page.getByRole('link', { name: 'Sign in with Google' }).click();
      await page.locator('#connection-status[data-state="online"]').waitFor();
      expect(await page.locator('#user-name').textContent()).toContain('Browser Person');
      // The address bar no longer shows the fragment; no session credential ever was in a URL.
      expect(new URL(page.url()).hash).toBe('');
      // The state and hand-off cookies are gone; the refresh cookie stays, HttpOnly.
      const cookies = (await context.cookies()).filter((c) => c.domain === 'localhost');
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['__Secure-sb_refresh', true, 'Strict']]);
      expect(seen.pageErrors).toEqual([]);
      expect(seen.cspViolations).toEqual([]);

      // Signed out, then a Google account without a verified email: the form says why.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in with Google' }).waitFor();
      provider.approve({ sub: `browser-unverified-${n}`, email: `other-${n}@example.test`, email_verified: false });
      await page.getByRole('link', { name: 'Sign in with Google' }).click();
      await page.locator('#login-notice:not([hidden])').waitFor();
      expect(await page.locator('#login-notice').textContent()).toContain('not verified');
      expect(await page.locator('#chat-view').isHidden()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
