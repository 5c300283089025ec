/**
 * Every router mounted under /api/v1, in one list. A new route module adds one line here; the
 * composition root passes the services (nothing here reads config or creates connections).
 */
import type { Router } from 'express';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { Config } from '../../../config/load.ts';
import type { Db } from '../../store/db.ts';
import type { Vault } from '../../crypto/vault.ts';
import type { TokenService } from '../../auth/tokens.ts';
import type { Authenticator } from '../../auth/principal.ts';
import type { Bus } from '../../queue/bus.ts';
import type { WebchatService } from '../webchat-service.ts';
import { createAuthRoutes } from './auth.ts';
import { createSessionRoutes } from './sessions.ts';
import { createAuthServices } from '../../auth/services.ts';
import { createMessageRoutes } from './messages.ts';
import { createLoginThrottleRoutes } from '../rate-limit-middleware.ts';
import type { RateLimits } from '../../security/rate-limits.ts';
import type { ApiKeyAuth } from '../../auth/api-key-authenticator.ts';
import { createAdminApiKeyRoutes } from './admin-api-keys.ts';
import { createAdminUserRoutes } from './admin-users.ts';
import { createAdminPlatformIdentityRoutes } from './admin-platform-identities.ts';
import { createAuditRoutes } from './audit.ts';
import { createConversationRoutes } from './conversations.ts';
import { accountRouteDeps, createAccountRoutes } from './account.ts';
import { createOidcSignInRoutes } from './oauth-sign-in.ts';

/** What the API routes may use. */
export interface ApiDeps {
  readonly config: Config;
  readonly db: Db;
  readonly vault: Vault;
  readonly tokens: TokenService;
  readonly authenticators: readonly Authenticator[];
  readonly webchat: WebchatService;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Rate limits and caps (the login throttle is mounted before the auth routes). */
  readonly limits: RateLimits;
  /** API keys: the guard (mounted first: keys only in the Authorization header) and hashing. */
  readonly apiKeys: ApiKeyAuth;
}

/** Builds the API routers in mount order. */
export async function createApiRouters(deps: ApiDeps): Promise<Router[]> {
  const auth = createAuthServices(deps);
  return [
    deps.apiKeys.guard,
    createLoginThrottleRoutes({ limits: deps.limits, db: deps.db }),
    await createAuthRoutes({ ...deps, auth, ...(deps.config.PUBLIC_URL === undefined ? {} : { publicOrigin: new URL(deps.config.PUBLIC_URL).origin }) }),
    createSessionRoutes({ ...deps, auth }),
    createOidcSignInRoutes({ ...deps, signIn: auth.signIn, ...(deps.config.PUBLIC_URL === undefined ? {} : { publicOrigin: new URL(deps.config.PUBLIC_URL).origin }) }),
    createMessageRoutes({ authenticators: deps.authenticators, webchat: deps.webchat }),
    createAdminUserRoutes({ db: deps.db, clock: deps.clock, bus: deps.bus, log: deps.log, authenticators: deps.authenticators }),
    createAdminPlatformIdentityRoutes({ db: deps.db, authenticators: deps.authenticators }),
    createAdminApiKeyRoutes({
      db: deps.db,
      clock: deps.clock,
      authenticators: deps.authenticators,
      apiKeys: deps.apiKeys,
      maxTtlDays: deps.config.API_KEY_MAX_TTL_DAYS,
      maxOverlapSeconds: deps.config.API_KEY_MAX_OVERLAP_SECONDS,
    }),
    createAuditRoutes({ db: deps.db, authenticators: deps.authenticators }),
    createConversationRoutes({ db: deps.db, sealer: deps.vault, authenticators: deps.authenticators, clock: deps.clock }),
    createAccountRoutes(accountRouteDeps(deps)),
  ];
}
