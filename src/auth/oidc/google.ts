/**
 * Google as an OpenID Connect provider, through `openid-client`: discovery from the issuer (the
 * metadata's issuer must equal it), authorization code with PKCE (S256), state and nonce, and an
 * id_token validated in full: signature against the provider's JWKS (non-repudiation checks on,
 * so the signature is verified even though the token came over TLS), `alg` pinned to
 * GOOGLE_ID_TOKEN_ALG, `iss`, `aud` (and `azp`), `exp`, `iat` and `nonce`. Only `email_verified:
 * true` makes the email usable for linking.
 *
 * Discovery runs on the first sign-in (not at start, so Switchboard starts while Google is out of
 * reach) and is cached; a failed discovery is retried by the next sign-in.
 */
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { FlowSecrets } from './flow-secrets.ts';
import { normalizeEmail, type ProviderClient, type ProviderIdentity, type ProviderTransport } from './provider-client.ts';
import type { GoogleSettings } from './providers.ts';
import { classifyGrantError, describeProviderError, refusal } from './refusals.ts';

// Only the claims we use; the library has already checked the registered ones (iss, aud, exp, …).
const ClaimsSchema = z.object({
  sub: z.string().min(1).max(255),
  email: z.string().max(320).optional(),
  email_verified: z.unknown().optional(),
  name: z.string().max(200).optional(),
});

/** Builds the Google client. */
export function createGoogleClient(settings: GoogleSettings, transport: ProviderTransport): ProviderClient {
  const insecure = transport.allowInsecureHttp && settings.issuer.protocol === 'http:';
  let configuration: Promise<oidc.Configuration> | undefined;

  function configure(): Promise<oidc.Configuration> {
    configuration ??= oidc
      .discovery(
        settings.issuer,
        settings.clientId,
        { client_secret: settings.clientSecret, id_token_signed_response_alg: settings.idTokenAlg },
        oidc.ClientSecretPost(settings.clientSecret),
        {
          // Verify id_token signatures against the JWKS, not only trust the TLS channel.
          execute: insecure ? [oidc.enableNonRepudiationChecks, oidc.allowInsecureRequests] : [oidc.enableNonRepudiationChecks],
          timeout: Math.ceil(transport.timeoutMs / 1000),
        },
      )
      .catch((err: unknown) => {
        configuration = undefined;
        throw refusal('provider_unavailable', describeProviderError(err), err);
      });
    return configuration;
  }

  return {
    id: 'google',

    async authorizationUrl(secrets: FlowSecrets): Promise<URL> {
      const config = await configure();
      return oidc.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        scope: 'openid email profile',
        state: secrets.state,
        nonce: secrets.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
        code_challenge_method: 'S256',
        prompt: 'select_account',
      });
    },

    async identify(callbackUrl: URL, secrets: FlowSecrets): Promise<ProviderIdentity> {
      const config = await configure();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: secrets.codeVerifier,
          expectedState: secrets.state,
          expectedNonce: secrets.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        const facts = describeProviderError(err);
        throw refusal(classifyGrantError(facts['error']), facts, err);
      }
      const parsed = ClaimsSchema.safeParse(tokens.claims());
      if (!parsed.success) throw refusal('id_token_invalid', { error: 'claims_shape' });
      const claims = parsed.data;
      const email = normalizeEmail(claims.email);
      return {
        provider: 'google',
        subject: claims.sub,
        // Strictly the boolean true: a missing, false or string value links nobody.
        verifiedEmail: claims.email_verified === true ? email : undefined,
        displayName: claims.name,
      };
    },
  };
}
