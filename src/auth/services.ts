/**
 * Builds the authentication services (sessions, two-factor, sign-in) from the process's config and
 * collaborators. Stateless over Postgres, so any part of the product may build its own.
 */
import type { Config } from '../../config/load.ts';
import type { Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Vault } from '../crypto/vault.ts';
import type { BusEvent } from '../queue/bus.ts';
import type { Db } from '../store/db.ts';
import { createSessionService, type SessionService } from './sessions.ts';
import { createSignIn, type SignIn } from './sign-in.ts';
import type { TokenService } from './tokens.ts';
import { createTwoFactorService, type TwoFactorService } from './two-factor.ts';

/** The settings authentication reads. */
export type AuthSettings = Pick<
  Config,
  | 'SESSION_IDLE_TTL_SECONDS'
  | 'SESSION_ABSOLUTE_TTL_SECONDS'
  | 'TOTP_ISSUER'
  | 'TOTP_MAX_FAILURES'
  | 'TOTP_FAILURE_WINDOW_SECONDS'
  | 'TOTP_LOCKOUT_SECONDS'
  | 'ACCESS_TOKEN_TTL_SECONDS'
>;

/** What the services need. */
export interface AuthServiceDeps {
  readonly config: AuthSettings;
  readonly db: Db;
  readonly vault: Pick<Vault, 'seal' | 'openText'>;
  readonly tokens: TokenService;
  readonly bus: { publish(event: BusEvent): Promise<number> };
  readonly clock: Clock;
  readonly log?: Pick<Logger, 'warn'>;
}

/** The authentication services. */
export interface AuthServices {
  readonly sessions: SessionService;
  readonly twoFactor: TwoFactorService;
  readonly signIn: SignIn;
}

/** Builds them; throws `config_invalid` for lifetimes that contradict each other. */
export function createAuthServices(deps: AuthServiceDeps): AuthServices {
  const { config, db, tokens, clock } = deps;
  if (config.SESSION_IDLE_TTL_SECONDS < config.ACCESS_TOKEN_TTL_SECONDS) {
    // An access token would outlive the idle limit of the session it belongs to.
    throw new SwitchboardError('config_invalid', 'SESSION_IDLE_TTL_SECONDS must be at least ACCESS_TOKEN_TTL_SECONDS');
  }
  const sessions = createSessionService({
    db,
    tokens,
    clock,
    bus: deps.bus,
    settings: { idleTtlSeconds: config.SESSION_IDLE_TTL_SECONDS, absoluteTtlSeconds: config.SESSION_ABSOLUTE_TTL_SECONDS },
    ...(deps.log ? { log: deps.log } : {}),
  });
  const twoFactor = createTwoFactorService({
    db,
    vault: deps.vault,
    clock,
    issuer: config.TOTP_ISSUER,
    lockout: {
      maxFailures: config.TOTP_MAX_FAILURES,
      windowSeconds: config.TOTP_FAILURE_WINDOW_SECONDS,
      lockoutSeconds: config.TOTP_LOCKOUT_SECONDS,
    },
  });
  const signIn = createSignIn({ db, tokens, clock, sessions, twoFactor });
  return { sessions, twoFactor, signIn };
}
