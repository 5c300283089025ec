/**
 * GitHub as a plain OAuth2 server (it is not an OpenID provider: no id_token, no nonce), through
 * `openid-client`: authorization code with PKCE (S256) and state, then the REST API for the
 * account id (`GET /user`) and its emails (`GET /user/emails`, scope `user:email`). Only the
 * primary email, and only when GitHub marks it verified, can link an account; the subject is the
 * numeric user id, which survives renames and email changes.
 */
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { FlowSecrets } from './flow-secrets.ts';
import { normalizeEmail, type ProviderClient, type ProviderIdentity, type ProviderTransport } from './provider-client.ts';
import type { GithubSettings } from './providers.ts';
import { classifyGrantError, describeProviderError, refusal } from './refusals.ts';

/** Largest API answer read (a user, or a list of up to 100 emails, is a few KiB). */
const MAX_API_BODY_BYTES = 256 * 1024;

// Provider answers are parsed with z.object, not strictObject: GitHub adds fields over time, and
// an unknown field there is no attack on us. Only the fields we use are kept.
const UserSchema = z.object({
  id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  login: z.string().min(1).max(100),
  name: z.string().max(255).nullable().optional(),
});
const EmailsSchema = z
  .array(z.object({ email: z.string().max(320), primary: z.boolean(), verified: z.boolean() }))
  .max(1000);

/** Reads a response body as JSON, refusing bodies over the cap. */
async function readJson(response: Response): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_API_BODY_BYTES) throw refusal('profile_unavailable', { error: 'body_too_large' });
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_API_BODY_BYTES) {
      await reader.cancel();
      throw refusal('profile_unavailable', { error: 'body_too_large' });
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw refusal('profile_unavailable', { error: 'not_json' });
  }
}

/** Builds the GitHub client. */
export function createGithubClient(settings: GithubSettings, transport: ProviderTransport): ProviderClient {
  const base = (url: URL) => (url.href.endsWith('/') ? url.href : `${url.href}/`);
  const oauthBase = base(settings.oauthUrl);
  const apiBase = base(settings.apiUrl);
  const config = new oidc.Configuration(
    {
      issuer: settings.oauthUrl.href,
      authorization_endpoint: new URL('login/oauth/authorize', oauthBase).href,
      token_endpoint: new URL('login/oauth/access_token', oauthBase).href,
    },
    settings.clientId,
    { client_secret: settings.clientSecret },
    oidc.ClientSecretPost(settings.clientSecret),
  );
  config.timeout = Math.ceil(transport.timeoutMs / 1000);
  if (transport.allowInsecureHttp && (settings.oauthUrl.protocol === 'http:' || settings.apiUrl.protocol === 'http:')) {
    oidc.allowInsecureRequests(config);
  }

  async function api<S extends z.ZodType>(accessToken: string, path: string, schema: S): Promise<z.infer<S>> {
    let response: Response;
    try {
      response = await oidc.fetchProtectedResource(
        config,
        accessToken,
        new URL(path, apiBase),
        'GET',
        undefined,
        new Headers({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' }),
      );
    } catch (err) {
      throw refusal('profile_unavailable', { ...describeProviderError(err), endpoint: path }, err);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw refusal('profile_unavailable', { error: `http_${response.status}`, endpoint: path });
    }
    const parsed = schema.safeParse(await readJson(response));
    if (!parsed.success) throw refusal('profile_unavailable', { error: 'unexpected_shape', endpoint: path });
    return parsed.data;
  }

  return {
    id: 'github',

    async authorizationUrl(secrets: FlowSecrets): Promise<URL> {
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        scope: 'read:user user:email',
        state: secrets.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
        code_challenge_method: 'S256',
        // Sign-in only: don't offer to create a GitHub account on the way.
        allow_signup: 'false',
      });
    },

    async identify(callbackUrl: URL, secrets: FlowSecrets): Promise<ProviderIdentity> {
      let accessToken: string;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: secrets.codeVerifier,
          expectedState: secrets.state,
        });
        accessToken = tokens.access_token;
      } catch (err) {
        const facts = describeProviderError(err);
        const reason = classifyGrantError(facts['error']);
        throw refusal(reason === 'id_token_invalid' ? 'token_rejected' : reason, facts, err);
      }
      const user = await api(accessToken, 'user', UserSchema);
      const emails = await api(accessToken, 'user/emails', EmailsSchema);
      const primary = emails.find((e) => e.primary);
      return {
        provider: 'github',
        subject: String(user.id),
        verifiedEmail: primary?.verified === true ? normalizeEmail(primary.email) : undefined,
        displayName: user.name ?? user.login,
      };
    },
  };
}
