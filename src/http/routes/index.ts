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
import { createMessageRoutes } from './messages.ts';

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
}

/** Builds the API routers in mount order. */
export async function createApiRouters(deps: ApiDeps): Promise<Router[]> {
  return [
    await createAuthRoutes({
      db: deps.db,
      tokens: deps.tokens,
      clock: deps.clock,
      accessTtlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
      authenticators: deps.authenticators,
    }),
    createMessageRoutes({ authenticators: deps.authenticators, webchat: deps.webchat }),
  ];
}
