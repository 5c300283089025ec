/**
 * Sign-in throttling in front of the auth routes. Mounted before them, it reserves an attempt on
 * the per-IP and per-account counters, lets the sign-in route run, and settles the attempt from
 * the response: 2xx → success (the account's failures reset), 401 → a failure (counted), anything
 * else (bad body, server error) → not an attempt (refunded). A client that disconnects before the
 * answer counts as a failure, so aborting requests is no way around the limit.
 *
 * Refusals answer 429 with Retry-After (via the error handler) and are audited once per counter
 * and window. Redis unreachable → 503 `limiter_unavailable` (fail closed).
 */
import { Router, type Request } from 'express';
import { SwitchboardError } from '../core/errors.ts';
import type { Db } from '../store/db.ts';
import { findUsersForLogin } from '../store/users.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { LoginRefusal } from '../security/login-throttle.ts';

/** Sign-in endpoints that check a password (paths relative to /api/v1). */
export const THROTTLED_LOGIN_PATHS: readonly string[] = ['/auth/login'];

/** The account a sign-in body names: its normalized email, when it has a plausible one. */
function accountOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const email = (body as { email?: unknown }).email;
  if (typeof email !== 'string') return undefined;
  const normalized = email.trim().toLowerCase();
  return normalized.length >= 3 && normalized.length <= 320 ? normalized : undefined;
}

/** What the throttle router needs. */
export interface LoginThrottleRouteDeps {
  readonly limits: Pick<RateLimits, 'login' | 'reporter' | 'loginWindowMs'>;
  readonly db: Db;
}

/** The router that throttles sign-in; mount it before the auth routes. */
export function createLoginThrottleRoutes(deps: LoginThrottleRouteDeps): Router {
  const router = Router();

  const auditRefusal = async (req: Request, refusal: LoginRefusal, account: string | undefined): Promise<void> => {
    // Attach the account's tenant and id when the email names exactly one user (looked up only
    // for the audited refusal, once per window, not for every refused request).
    let who: { tenantId?: string; actorId?: string } = {};
    if (refusal.scope === 'account' && account !== undefined) {
      const users = await findUsersForLogin(deps.db, account, undefined).catch(() => []);
      const user = users.length === 1 ? users[0] : undefined;
      if (user) who = { tenantId: user.tenantId, actorId: user.id };
    }
    await deps.limits.reporter.report(refusal.scope === 'ip' ? 'login_ip' : 'login_account', refusal.subject, deps.limits.loginWindowMs, {
      ...who,
      actorType: 'user',
      action: 'rate_limit.exceeded',
      targetType: refusal.scope === 'ip' ? 'ip' : 'account',
      targetId: refusal.subject,
      ip: req.ip ?? '',
      userAgent: req.get('user-agent') ?? '',
      details: { limit: `login_${refusal.scope}` },
    });
  };

  for (const path of THROTTLED_LOGIN_PATHS) {
    router.post(path, async (req, res, next) => {
      const account = accountOf(req.body);
      const admission = await deps.limits.login.begin({ ip: req.ip ?? 'unknown', ...(account === undefined ? {} : { account }) });
      if ('refused' in admission) {
        await auditRefusal(req, admission.refused, account);
        throw new SwitchboardError('rate_limited', 'Too many sign-in attempts; try again later', {
          retryAfterMs: admission.refused.retryAfterMs,
        });
      }
      const { attempt } = admission;
      let answered = false;
      res.once('finish', () => {
        answered = true;
        const settle =
          res.statusCode >= 200 && res.statusCode < 300
            ? attempt.succeeded()
            : res.statusCode === 401
              ? attempt.failed()
              : attempt.abandoned();
        void settle.catch(() => undefined);
      });
      res.once('close', () => {
        if (!answered) void attempt.failed();
      });
      next();
    });
  }
  return router;
}
