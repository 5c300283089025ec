/** What the sign-in flow needs from a provider: where to send the browser, and who came back. */
import type { FlowSecrets } from './flow-secrets.ts';
import type { OidcProviderId } from './providers.ts';

/** Who the provider says signed in. */
export interface ProviderIdentity {
  readonly provider: OidcProviderId;
  /** The provider's stable account id (Google `sub`, GitHub user id). */
  readonly subject: string;
  /** The address the provider vouches for (lower-cased); undefined when it vouches for none. */
  readonly verifiedEmail: string | undefined;
  /** A name for a provisioned account; never used to find anyone. */
  readonly displayName: string | undefined;
}

/** How a client reaches its provider. */
export interface ProviderTransport {
  readonly timeoutMs: number;
  /** Plain http allowed (outside production, for local stand-ins). */
  readonly allowInsecureHttp: boolean;
}

/** One provider. Failures are thrown as refusals (see refusals.ts). */
export interface ProviderClient {
  readonly id: OidcProviderId;
  /** The provider's authorization URL with state, PKCE challenge (S256) and, for OIDC, nonce. */
  authorizationUrl(secrets: FlowSecrets): Promise<URL>;
  /** Redeems the callback (its full URL: our redirect URI plus the provider's query) and identifies the person. */
  identify(callbackUrl: URL, secrets: FlowSecrets): Promise<ProviderIdentity>;
}

/** Lower-cases and trims an email; undefined unless it looks like one and fits the users table. */
export function normalizeEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return email.length >= 3 && email.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(email) ? email : undefined;
}
