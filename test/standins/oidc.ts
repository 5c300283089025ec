/**
 * Local stand-ins for the sign-in providers, built on the recording HTTP stand-in:
 *
 * - an OpenID Connect provider (Google-like): discovery, JWKS (an RS256 and an ES256 key),
 *   `/authorize` that auto-approves the scripted user and redirects back with a code, and
 *   `/token` that checks the client, the redirect URI, the single-use code and the PKCE verifier
 *   (S256) before issuing an id_token with the request's nonce. Tweaks forge what a test needs:
 *   another issuer or audience, an expired token, a wrong nonce, another alg, a foreign key.
 * - a GitHub-like OAuth2 server: `/login/oauth/authorize`, `/login/oauth/access_token` (PKCE
 *   checked the same way), and the REST API's `/user` and `/user/emails` for the scripted user.
 *
 * Both record every token request with the verifier they received and whether it matched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { reply, startHttpStandin, type HttpStandin, type RecordedRequest, type StandinReply } from './http-standin.ts';

/** What a token endpoint saw. */
export interface TokenRequestRecord {
  readonly codeVerifier: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly pkceMatched: boolean;
  /** The OAuth error answered, or undefined when tokens were issued. */
  readonly error: string | undefined;
}

/** A code handed out by an authorize endpoint. */
interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly nonce: string | undefined;
  used: boolean;
}

const redirect = (location: string): StandinReply => reply.json(undefined, { status: 302, headers: { location } });
const oauthError = (error: string, status = 400): StandinReply => reply.json({ error, error_description: `stand-in: ${error}` }, { status });
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const form = (request: RecordedRequest) => new URLSearchParams(request.rawBody);

/** Client credentials from client_secret_post or client_secret_basic. */
function clientOf(request: RecordedRequest): { id: string | undefined; secret: string | undefined } {
  const body = form(request);
  const basic = /^Basic (.+)$/i.exec(String(request.headers['authorization'] ?? ''));
  if (basic?.[1]) {
    const [id = '', secret = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':').map(decodeURIComponent);
    return { id, secret };
  }
  return { id: body.get('client_id') ?? undefined, secret: body.get('client_secret') ?? undefined };
}

/** Checks an authorize request common to both stand-ins; returns an error reply or the parts. */
function checkAuthorize(
  request: RecordedRequest,
  clientId: string,
  redirectUris: readonly string[],
): { error: StandinReply } | { redirectUri: string; state: string; challenge: string } {
  const q = request.query;
  const redirectUri = q.get('redirect_uri') ?? '';
  // Like real providers: an unknown client or redirect URI gets an error page, never a redirect.
  if (q.get('client_id') !== clientId) return { error: reply.json({ error: 'unknown client' }, { status: 400 }) };
  if (!redirectUris.includes(redirectUri)) return { error: reply.json({ error: 'redirect_uri not registered' }, { status: 400 }) };
  const challenge = q.get('code_challenge') ?? '';
  if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    return { error: reply.json({ error: 'PKCE with S256 is required' }, { status: 400 }) };
  }
  return { redirectUri, state: q.get('state') ?? '', challenge };
}

function backTo(redirectUri: string, params: Record<string, string>): StandinReply {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return redirect(url.href);
}

/** Checks a token request's client, code, redirect URI and PKCE verifier. */
function redeem(
  request: RecordedRequest,
  client: { id: string; secret: string },
  codes: Map<string, IssuedCode>,
  records: TokenRequestRecord[],
  breakPkce: boolean,
): { error: StandinReply } | { code: IssuedCode } {
  const body = form(request);
  const verifier = body.get('code_verifier') ?? undefined;
  const code = codes.get(body.get('code') ?? '');
  const challenge = code === undefined ? undefined : breakPkce ? s256('not the verifier') : code.challenge;
  const pkceMatched = verifier !== undefined && challenge !== undefined && s256(verifier) === challenge;
  const fail = (error: string, status = 400) => {
    records.push({ codeVerifier: verifier, codeChallenge: challenge, pkceMatched, error });
    return { error: oauthError(error, status) };
  };
  const presented = clientOf(request);
  if (presented.id !== client.id || presented.secret !== client.secret) return fail('invalid_client', 401);
  if (body.get('grant_type') !== 'authorization_code') return fail('unsupported_grant_type');
  if (!code || code.used || code.clientId !== client.id) return fail('invalid_grant');
  code.used = true;
  if (body.get('redirect_uri') !== code.redirectUri) return fail('invalid_grant');
  if (!pkceMatched) return fail('invalid_grant');
  records.push({ codeVerifier: verifier, codeChallenge: challenge, pkceMatched, error: undefined });
  return { code };
}

// ── OpenID Connect (Google-like) ─────────────────────────────────────────────────────────────

/** The person the OIDC stand-in approves. */
export interface OidcUser {
  readonly sub: string;
  readonly email?: string;
  /** Sent as given (a boolean normally; tests may send a string or leave it out). */
  readonly email_verified?: unknown;
  readonly name?: string;
}

/** How the next id_token is forged. */
export interface IdTokenTweaks {
  readonly iss?: string;
  readonly aud?: string | string[];
  /** Seconds from now until `exp` (negative: already expired). Default 300. */
  readonly expiresIn?: number;
  /** Replaces the request's nonce; null leaves the claim out. */
  readonly nonce?: string | null;
  readonly alg?: 'RS256' | 'ES256';
  /** Signs with a key the JWKS does not hold (same kid as the real one). */
  readonly foreignKey?: boolean;
  /** Answer the authorize request with error=access_denied (the person cancelled). */
  readonly deny?: boolean;
  /** The token endpoint compares the verifier with a different challenge (PKCE fails). */
  readonly breakPkce?: boolean;
}

/** A running OIDC stand-in. */
export interface OidcStandin {
  /** The issuer identifier (http://127.0.0.1:<port>). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly http: HttpStandin;
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** The user every following authorize approves, and how their next id_token is forged (once). */
  approve(user: OidcUser, tweaks?: IdTokenTweaks): void;
  close(): Promise<void>;
}

/** Starts the OIDC stand-in; `redirectUris` are the registered redirect URIs. */
export async function startOidcStandin(options: { redirectUris: readonly string[] }): Promise<OidcStandin> {
  const clientId = `client-${randomBytes(4).toString('hex')}.apps.example`;
  const clientSecret = randomBytes(16).toString('hex');
  const rs = await generateKeyPair('RS256', { extractable: true });
  const es = await generateKeyPair('ES256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' });
  const jwks = { keys: [await jwk(rs.publicKey, 'rs-1', 'RS256'), await jwk(es.publicKey, 'es-1', 'ES256')] };
  const codes = new Map<string, IssuedCode>();
  const tokenRequests: TokenRequestRecord[] = [];
  let user: OidcUser | undefined;
  let tweaks: IdTokenTweaks = {};
  const claimsOf = new Map<string, { user: OidcUser; tweaks: IdTokenTweaks }>();
  let issuer = '';

  const http = await startHttpStandin({
    routes: {
      'GET /.well-known/openid-configuration': () =>
        reply.json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          scopes_supported: ['openid', 'email', 'profile'],
        }),
      'GET /jwks': () => reply.json(jwks),
      'GET /authorize': (request) => {
        const checked = checkAuthorize(request, clientId, options.redirectUris);
        if ('error' in checked) return checked.error;
        const q = request.query;
        if (q.get('response_type') !== 'code' || !(q.get('scope') ?? '').split(' ').includes('openid')) {
          return reply.json({ error: 'response_type=code and scope openid required' }, { status: 400 });
        }
        const current = tweaks;
        tweaks = {};
        if (current.deny || !user) return backTo(checked.redirectUri, { error: 'access_denied', state: checked.state });
        const code = randomBytes(16).toString('base64url');
        codes.set(code, {
          clientId,
          redirectUri: checked.redirectUri,
          challenge: checked.challenge,
          nonce: q.get('nonce') ?? undefined,
          used: false,
        });
        claimsOf.set(code, { user, tweaks: current });
        return backTo(checked.redirectUri, { code, state: checked.state });
      },
      'POST /token': async (request) => {
        const scripted = claimsOf.get(form(request).get('code') ?? '');
        const redeemed = redeem(request, { id: clientId, secret: clientSecret }, codes, tokenRequests, scripted?.tweaks.breakPkce === true);
        if ('error' in redeemed || !scripted) return 'error' in redeemed ? redeemed.error : oauthError('invalid_grant');
        const t = scripted.tweaks;
        const alg = t.alg ?? 'RS256';
        const now = Math.floor(Date.now() / 1000);
        const nonce = t.nonce === undefined ? redeemed.code.nonce : t.nonce;
        const claims: Record<string, unknown> = {
          email: scripted.user.email,
          email_verified: scripted.user.email_verified,
          name: scripted.user.name,
          ...(nonce === null || nonce === undefined ? {} : { nonce }),
        };
        const signingKey = t.foreignKey ? foreign.privateKey : alg === 'ES256' ? es.privateKey : rs.privateKey;
        const idToken = await new SignJWT(claims)
          .setProtectedHeader({ alg, kid: alg === 'ES256' ? 'es-1' : 'rs-1', typ: 'JWT' })
          .setIssuer(t.iss ?? issuer)
          .setAudience(t.aud ?? clientId)
          .setSubject(scripted.user.sub)
          .setIssuedAt(now)
          .setExpirationTime(now + (t.expiresIn ?? 300))
          .sign(signingKey);
        return reply.json({
          access_token: randomBytes(16).toString('base64url'),
          token_type: 'Bearer',
          expires_in: 3599,
          scope: 'openid email profile',
          id_token: idToken,
        });
      },
    },
  });
  issuer = http.url;
  return {
    issuer,
    clientId,
    clientSecret,
    http,
    tokenRequests,
    approve(next, nextTweaks = {}) {
      user = next;
      tweaks = nextTweaks;
    },
    close: () => http.close(),
  };
}

// ── GitHub-like OAuth2 ───────────────────────────────────────────────────────────────────────

/** The GitHub account the stand-in approves. */
export interface GithubUser {
  readonly id: number;
  readonly login: string;
  readonly name?: string | null;
  readonly emails: ReadonlyArray<{ readonly email: string; readonly primary: boolean; readonly verified: boolean }>;
}

/** A running GitHub stand-in (OAuth pages and REST API on one origin). */
export interface GithubStandin {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly http: HttpStandin;
  readonly tokenRequests: readonly TokenRequestRecord[];
  /** The account every following authorize approves; `breakPkce` spoils the next redemption. */
  approve(user: GithubUser, options?: { breakPkce?: boolean }): void;
  close(): Promise<void>;
}

/** Starts the GitHub stand-in. */
export async function startGithubStandin(options: { redirectUris: readonly string[] }): Promise<GithubStandin> {
  const clientId = `Ov23li${randomBytes(7).toString('hex')}`;
  const clientSecret = randomBytes(20).toString('hex');
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, GithubUser>();
  const tokenRequests: TokenRequestRecord[] = [];
  let user: GithubUser | undefined;
  let breakNext = false;
  const users = new Map<string, GithubUser>();

  const bearer = (request: RecordedRequest): GithubUser | undefined => {
    const match = /^(?:Bearer|token) (\S+)$/i.exec(String(request.headers['authorization'] ?? ''));
    return match?.[1] === undefined ? undefined : tokens.get(match[1]);
  };

  const http = await startHttpStandin({
    routes: {
      'GET /login/oauth/authorize': (request) => {
        const checked = checkAuthorize(request, clientId, options.redirectUris);
        if ('error' in checked) return checked.error;
        if (!user) return backTo(checked.redirectUri, { error: 'access_denied', state: checked.state });
        const code = randomBytes(10).toString('hex');
        codes.set(code, { clientId, redirectUri: checked.redirectUri, challenge: checked.challenge, nonce: undefined, used: false });
        users.set(code, user);
        return backTo(checked.redirectUri, { code, state: checked.state });
      },
      'POST /login/oauth/access_token': (request) => {
        const codeValue = form(request).get('code') ?? '';
        const spoil = breakNext;
        breakNext = false;
        const redeemed = redeem(request, { id: clientId, secret: clientSecret }, codes, tokenRequests, spoil);
        const account = users.get(codeValue);
        if ('error' in redeemed || !account) return 'error' in redeemed ? redeemed.error : oauthError('bad_verification_code');
        const token = `gho_${randomBytes(18).toString('base64url')}`;
        tokens.set(token, account);
        // GitHub answers JSON only when asked to (Accept: application/json); the client must ask.
        if (!String(request.headers['accept'] ?? '').includes('application/json')) return oauthError('json_not_requested', 406);
        return reply.json({ access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      },
      'GET /user': (request) => {
        const account = bearer(request);
        if (!account) return reply.json({ message: 'Requires authentication' }, { status: 401 });
        return reply.json({ id: account.id, login: account.login, name: account.name ?? null, type: 'User', site_admin: false });
      },
      'GET /user/emails': (request) => {
        const account = bearer(request);
        if (!account) return reply.json({ message: 'Requires authentication' }, { status: 401 });
        return reply.json(account.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })));
      },
    },
  });
  return {
    url: http.url,
    clientId,
    clientSecret,
    http,
    tokenRequests,
    approve(next, approveOptions = {}) {
      user = next;
      breakNext = approveOptions.breakPkce === true;
    },
    close: () => http.close(),
  };
}
