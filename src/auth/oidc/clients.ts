/** Builds a client for every enabled provider. */
import { createGithubClient } from './github.ts';
import { createGoogleClient } from './google.ts';
import type { ProviderClient } from './provider-client.ts';
import type { OidcProviderId, OidcSettings } from './providers.ts';

/** The enabled providers' clients, by id. */
export function createProviderClients(settings: OidcSettings): Map<OidcProviderId, ProviderClient> {
  const transport = { timeoutMs: settings.httpTimeoutMs, allowInsecureHttp: settings.allowInsecureHttp };
  const clients = new Map<OidcProviderId, ProviderClient>();
  if (settings.google) clients.set('google', createGoogleClient(settings.google, transport));
  if (settings.github) clients.set('github', createGithubClient(settings.github, transport));
  return clients;
}
