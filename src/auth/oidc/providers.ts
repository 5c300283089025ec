/**
 * Which sign-in providers are enabled and how they are reached, read once from the config. A
 * provider is on when its client id and secret are both set; redirect URIs are built from
 * PUBLIC_URL (the URI registered at the provider must match it exactly), so PUBLIC_URL is then
 * required. Plain-http provider URLs exist only for local stand-ins and are refused in production.
 */
import type { Config } from '../../../config/load.ts';
import { SwitchboardError } from '../../core/errors.ts';

/** The providers Switchboard can sign people in with. */
export const OIDC_PROVIDERS = ['google', 'github'] as const;

/** One of `OIDC_PROVIDERS`. */
export type OidcProviderId = (typeof OIDC_PROVIDERS)[number];

/** How the page names each provider on its buttons. */
export const PROVIDER_NAMES: Readonly<Record<OidcProviderId, string>> = { google: 'Google', github: 'GitHub' };

/** The id_token signature algorithms an operator may pin for Google. */
export type IdTokenAlg = Config['GOOGLE_ID_TOKEN_ALG'];

/** Google, spoken to as an OpenID Connect provider (discovery, JWKS, id_token). */
export interface GoogleSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly issuer: URL;
  /** The only `alg` an id_token may carry. */
  readonly idTokenAlg: IdTokenAlg;
  readonly redirectUri: string;
}

/** GitHub, spoken to as a plain OAuth2 server plus its REST API. */
export interface GithubSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly oauthUrl: URL;
  readonly apiUrl: URL;
  readonly redirectUri: string;
}

/** Everything the sign-in flow needs to know about its providers. */
export interface OidcSettings {
  readonly google?: GoogleSettings;
  readonly github?: GithubSettings;
  readonly flowTtlSeconds: number;
  readonly httpTimeoutMs: number;
  /** Only outside production: lets the client speak plain http to a local stand-in. */
  readonly allowInsecureHttp: boolean;
}

/** The settings this module reads. */
export type OidcConfig = Pick<
  Config,
  | 'SWITCHBOARD_ENV'
  | 'PUBLIC_URL'
  | 'GOOGLE_CLIENT_ID'
  | 'GOOGLE_CLIENT_SECRET'
  | 'GOOGLE_OIDC_ISSUER'
  | 'GOOGLE_ID_TOKEN_ALG'
  | 'GITHUB_CLIENT_ID'
  | 'GITHUB_CLIENT_SECRET'
  | 'GITHUB_OAUTH_URL'
  | 'GITHUB_API_URL'
  | 'OIDC_FLOW_TTL_SECONDS'
  | 'OIDC_HTTP_TIMEOUT_MS'
>;

/** The path a provider sends the browser back to (under the API, so responses are no-store). */
export function callbackPath(provider: OidcProviderId): string {
  return `/api/v1/auth/oidc/${provider}/callback`;
}

/** Reads the provider settings; throws `config_invalid` listing every problem at once. */
export function resolveOidcSettings(config: OidcConfig): OidcSettings {
  const problems: string[] = [];
  const production = config.SWITCHBOARD_ENV === 'production';
  const credentials = (idName: string, id: string | undefined, secretName: string, secret: string | undefined) => {
    if (id === undefined && secret === undefined) return undefined;
    if (id === undefined || secret === undefined) {
      problems.push(`${id === undefined ? idName : secretName}: set ${idName} and ${secretName} together`);
      return undefined;
    }
    return { clientId: id, clientSecret: secret };
  };
  const endpoint = (name: string, raw: string): URL => {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'https:' && production) problems.push(`${name}: must be https in production`);
    if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
      problems.push(`${name}: must be a plain URL (no credentials, query or fragment)`);
    }
    return parsed;
  };

  const google = credentials('GOOGLE_CLIENT_ID', config.GOOGLE_CLIENT_ID, 'GOOGLE_CLIENT_SECRET', config.GOOGLE_CLIENT_SECRET);
  const github = credentials('GITHUB_CLIENT_ID', config.GITHUB_CLIENT_ID, 'GITHUB_CLIENT_SECRET', config.GITHUB_CLIENT_SECRET);
  let origin: string | undefined;
  if ((google || github) && config.PUBLIC_URL === undefined) {
    problems.push('PUBLIC_URL: required when Google or GitHub sign-in is enabled (redirect URIs are built from it)');
  } else if (config.PUBLIC_URL !== undefined) {
    origin = new URL(config.PUBLIC_URL).origin;
  }
  const issuer = google ? endpoint('GOOGLE_OIDC_ISSUER', config.GOOGLE_OIDC_ISSUER) : undefined;
  const oauthUrl = github ? endpoint('GITHUB_OAUTH_URL', config.GITHUB_OAUTH_URL) : undefined;
  const apiUrl = github ? endpoint('GITHUB_API_URL', config.GITHUB_API_URL) : undefined;
  if (problems.length > 0) {
    throw new SwitchboardError('config_invalid', `Invalid sign-in provider configuration:\n  - ${problems.join('\n  - ')}`, {
      issues: problems.map((p) => {
        const [path = '', ...rest] = p.split(': ');
        return { path, message: rest.join(': ') };
      }),
    });
  }
  return {
    ...(google && issuer && origin !== undefined
      ? { google: { ...google, issuer, idTokenAlg: config.GOOGLE_ID_TOKEN_ALG, redirectUri: `${origin}${callbackPath('google')}` } }
      : {}),
    ...(github && oauthUrl && apiUrl && origin !== undefined
      ? { github: { ...github, oauthUrl, apiUrl, redirectUri: `${origin}${callbackPath('github')}` } }
      : {}),
    flowTtlSeconds: config.OIDC_FLOW_TTL_SECONDS,
    httpTimeoutMs: config.OIDC_HTTP_TIMEOUT_MS,
    allowInsecureHttp: !production,
  };
}

/** The enabled providers, in display order. */
export function enabledProviders(settings: OidcSettings): OidcProviderId[] {
  return OIDC_PROVIDERS.filter((p) => settings[p] !== undefined);
}

/** Narrows a route parameter to a provider id. */
export function isProviderId(value: unknown): value is OidcProviderId {
  return typeof value === 'string' && (OIDC_PROVIDERS as readonly string[]).includes(value);
}
