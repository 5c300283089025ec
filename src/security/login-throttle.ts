/**
 * Sign-in throttling per client IP and per account, with rate-limiter-flexible's RateLimiterRedis
 * (atomic counters with a fixed window that starts at the first failure: "N failures per window").
 *
 * Each attempt reserves one point on both counters *before* the password is checked, so parallel
 * attempts across processes cannot slip past the limit; the caller then settles it: a success
 * deletes the account's counter and gives the IP its point back, a failure keeps both points, and
 * a request that never got to the credential check (bad body, server error) gets both back.
 *
 * Redis unreachable → sign-in fails closed (`limiter_unavailable`, 503): a brute-force window that
 * opens whenever Redis blips is worse than a short sign-in outage.
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { SwitchboardError } from '../core/errors.ts';
import { digestKey, type LimiterRedis } from './limiter-redis.ts';

/** Which counter refused an attempt. */
export type LoginScope = 'ip' | 'account';

/** A reserved attempt; settle it exactly once. */
export interface LoginAttempt {
  /** The credentials were right: reset the account's failures, return the IP's point. */
  succeeded(): Promise<void>;
  /** The credentials were wrong: both points stay spent. */
  failed(): Promise<void>;
  /** The attempt never reached the credential check: return both points. */
  abandoned(): Promise<void>;
}

/** Why an attempt was refused (for the audit event). */
export interface LoginRefusal {
  readonly scope: LoginScope;
  /** Digest of the refused key (never the email or IP itself). */
  readonly subject: string;
  readonly retryAfterMs: number;
}

/** The outcome of `begin`: a reserved attempt, or the counter that refused it. */
export type LoginAdmission = { readonly attempt: LoginAttempt } | { readonly refused: LoginRefusal };

/** Throttles sign-in attempts. */
export interface LoginThrottle {
  /**
   * Reserves an attempt for `ip` and `account` (the normalized email, when the body has one).
   * Throws `limiter_unavailable` when Redis cannot be asked.
   */
  begin(input: { ip: string; account?: string }): Promise<LoginAdmission>;
}

/** Throttle settings. */
export interface LoginThrottleOptions {
  readonly limiter: LimiterRedis;
  readonly accountFailures: number;
  readonly ipFailures: number;
  readonly windowSeconds: number;
  /** Told about each attempt refused because Redis was unreachable. */
  readonly onUnavailable: (err: unknown) => void;
}

/** How long a client is asked to wait when the limiter's Redis is down. */
export const LOGIN_UNAVAILABLE_RETRY_MS = 5_000;

/** Creates the throttle. */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { limiter } = options;
  const counter = (name: string, points: number): RateLimiterRedis =>
    new RateLimiterRedis({
      storeClient: limiter.redis,
      keyPrefix: `${limiter.keyPrefix}${name}`,
      points,
      duration: options.windowSeconds,
    });
  const byIp = counter('login-ip', options.ipFailures);
  const byAccount = counter('login-account', options.accountFailures);

  const unavailable = (err: unknown): SwitchboardError => {
    options.onUnavailable(err);
    return new SwitchboardError(
      'limiter_unavailable',
      'Sign-in is briefly unavailable; try again shortly',
      { retryAfterMs: LOGIN_UNAVAILABLE_RETRY_MS },
      { cause: err },
    );
  };
  const refused = (scope: LoginScope, subject: string, res: RateLimiterRes): LoginAdmission => ({
    refused: { scope, subject, retryAfterMs: Math.max(1, res.msBeforeNext) },
  });
  // Returning a point is best effort: a lost refund only makes the limit slightly stricter.
  const refund = (rl: RateLimiterRedis, key: string): Promise<void> => rl.reward(key, 1).then(() => undefined, () => undefined);

  return {
    begin: async ({ ip, account }) => {
      if (!limiter.usable()) throw unavailable(new Error('limiter Redis unreachable'));
      const ipKey = digestKey(ip);
      const accountKey = account === undefined ? undefined : digestKey(account);
      try {
        await byIp.consume(ipKey, 1);
      } catch (err) {
        if (err instanceof RateLimiterRes) return refused('ip', ipKey, err);
        throw unavailable(err);
      }
      if (accountKey !== undefined) {
        try {
          await byAccount.consume(accountKey, 1);
        } catch (err) {
          // The attempt was not made: the IP keeps its point only for attempts that were.
          await refund(byIp, ipKey);
          if (err instanceof RateLimiterRes) return refused('account', accountKey, err);
          throw unavailable(err);
        }
      }
      let settled = false;
      const once = async (work: () => Promise<void>): Promise<void> => {
        if (settled) return;
        settled = true;
        await work();
      };
      const attempt: LoginAttempt = {
        // Both commands are sent at once, before any later request of the same client can be
        // read, so the next attempt always sees the settled counters.
        succeeded: () =>
          once(async () => {
            await Promise.all([
              refund(byIp, ipKey),
              accountKey === undefined ? undefined : byAccount.delete(accountKey).catch(() => undefined),
            ]);
          }),
        failed: () => once(async () => undefined),
        abandoned: () =>
          once(async () => {
            await Promise.all([refund(byIp, ipKey), accountKey === undefined ? undefined : refund(byAccount, accountKey)]);
          }),
      };
      return { attempt };
    },
  };
}
