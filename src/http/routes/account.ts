/**
 * The account's data rights: export everything held about me (portability, streamed JSON) and
 * delete my account and data (erasure, after re-authentication, with a receipt).
 */
import { randomUUID } from 'node:crypto';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { SwitchboardError, isSwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { Db } from '../../store/db.ts';
import type { Authenticator } from '../../auth/principal.ts';
import type { Bus } from '../../queue/bus.ts';
import type { TextSealer } from '../../pipeline/protect-text.ts';
import { verifyPassword } from '../../auth/passwords.ts';
import { normalizeTotpCode } from '../../auth/totp.ts';
import { createTwoFactorService, type TwoFactorService, type TwoFactorUser } from '../../auth/two-factor.ts';
import type { LoginThrottle } from '../../security/login-throttle.ts';
import { appendAudit } from '../../store/audit.ts';
import { openUserExport } from '../../store/export.ts';
import { eraseUser, passwordHashOf } from '../../store/erasure.ts';
import { originFields, type RequestOrigin } from '../../store/redaction.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody } from '../validate.ts';
import { toMessageView } from '../webchat-service.ts';
import { requestOrigin } from './conversations.ts';
import { parseQuery } from '../validate.ts';
import type { ApiDeps } from './index.ts';

/**
 * Verifies the second factor of a re-authentication. `not_enrolled`: the user has no 2FA (the
 * password is enough); `ok`: the code is valid (and now used up); `missing`: 2FA is on but no code
 * was given; `invalid`: wrong or reused code; `locked`: too many failures, try later.
 */
export type SecondFactorCheck = (input: {
  readonly user: TwoFactorUser;
  readonly code: string | undefined;
  readonly origin: RequestOrigin;
}) => Promise<{ readonly result: 'not_enrolled' | 'ok' | 'missing' | 'invalid' | 'locked'; readonly retryAfterMs?: number }>;

/**
 * The re-authentication check on top of the two-factor service: the same single-use steps,
 * recovery codes, failure counting and lockout as sign-in (a code used here cannot be used again).
 */
export function twoFactorReauthentication(twoFactor: Pick<TwoFactorService, 'isEnabled' | 'verify'>): SecondFactorCheck {
  return async ({ user, code, origin }) => {
    if (!(await twoFactor.isEnabled(user.id))) return { result: 'not_enrolled' };
    if (code === undefined) return { result: 'missing' };
    const proof = normalizeTotpCode(code) === undefined ? { recoveryCode: code } : { code };
    try {
      await twoFactor.verify(user, proof, origin);
      return { result: 'ok' };
    } catch (err) {
      if (isSwitchboardError(err, 'rate_limited')) {
        return { result: 'locked', ...(err.details.retryAfterMs === undefined ? {} : { retryAfterMs: err.details.retryAfterMs }) };
      }
      if (isSwitchboardError(err, 'unauthenticated')) return { result: 'invalid' };
      throw err;
    }
  };
}

const DeleteAccountBodySchema = z.strictObject({
  password: z.string().min(1).max(256),
  /** A TOTP code or a recovery code, required when the account has two-factor sign-in. */
  code: z.string().min(1).max(64).optional(),
});

/** What the routes need. */
export interface AccountRouteDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly authenticators: readonly Authenticator[];
  readonly clock: Clock;
  readonly bus: Bus;
  readonly log: Logger;
  readonly secondFactor: SecondFactorCheck;
  /**
   * The sign-in throttle: a wrong password here counts against the account exactly like a failed
   * sign-in, so a stolen access token cannot be used to guess the password without limit.
   */
  readonly passwordThrottle: Pick<LoginThrottle, 'begin'>;
  /** Exports running at once in this process; each holds a database connection while it streams. */
  readonly maxConcurrentExports: number;
}

/** The account routes' dependencies from the API's (the two-factor service is stateless over Postgres). */
export function accountRouteDeps(api: ApiDeps): AccountRouteDeps {
  const twoFactor = createTwoFactorService({
    db: api.db,
    vault: api.vault,
    clock: api.clock,
    issuer: api.config.TOTP_ISSUER,
    lockout: {
      maxFailures: api.config.TOTP_MAX_FAILURES,
      windowSeconds: api.config.TOTP_FAILURE_WINDOW_SECONDS,
      lockoutSeconds: api.config.TOTP_LOCKOUT_SECONDS,
    },
  });
  return {
    db: api.db,
    sealer: api.vault,
    authenticators: api.authenticators,
    clock: api.clock,
    bus: api.bus,
    log: api.log,
    secondFactor: twoFactorReauthentication(twoFactor),
    passwordThrottle: api.limits.login,
    maxConcurrentExports: api.config.DATA_EXPORT_MAX_CONCURRENT,
  };
}

/** Writes one chunk, waiting for the socket to drain; fails when the client has gone away. */
function chunkWriter(res: Response): (chunk: string) => Promise<void> {
  return (chunk) => {
    if (res.destroyed || res.writableEnded) return Promise.reject(new Error('client went away'));
    if (res.write(chunk)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error('client went away'));
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  };
}

/** `GET /account/export` and `DELETE /account`. */
export function createAccountRoutes(deps: AccountRouteDeps): Router {
  const router = Router();
  const { db } = deps;
  let exportsRunning = 0;

  router.get('/account/export', requireAuth(deps.authenticators, 'account:export'), async (req, res) => {
    const user = userPrincipalOf(req);
    parseQuery(z.strictObject({}), req.query);
    if (exportsRunning >= deps.maxConcurrentExports) {
      throw new SwitchboardError('rate_limited', 'Too many exports running; try again shortly', { retryAfterMs: 5_000 });
    }
    exportsRunning += 1;
    try {
      const now = new Date(deps.clock.now());
      const session = await openUserExport(db, {
        tenantId: user.tenantId,
        userId: user.userId,
        now,
        messageView: (message) => toMessageView(deps.sealer, message),
      });
      try {
        // Audited before the first byte leaves: once any of it is sent, the export has happened.
        await appendAudit(db, {
          tenantId: user.tenantId,
          actorType: 'user',
          actorId: user.userId,
          action: 'privacy.export',
          targetType: 'user',
          targetId: user.userId,
          ...originFields(requestOrigin(req)),
          details: { counts: session.counts },
        });
        res.status(200);
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="switchboard-export-${now.toISOString().slice(0, 10)}.json"`);
        try {
          await session.stream(chunkWriter(res));
          res.end();
        } catch (err) {
          // Headers are gone: the only honest signal left is a cut connection (the JSON is incomplete).
          deps.log.warn({ err, userId: user.userId }, 'account export interrupted');
          res.destroy();
        }
      } finally {
        await session.close();
      }
    } finally {
      exportsRunning -= 1;
    }
  });

  router.delete('/account', requireAuth(deps.authenticators, 'account:delete'), async (req, res) => {
    const user = userPrincipalOf(req);
    const body = parseBody(DeleteAccountBodySchema, req.body ?? {});
    const origin = requestOrigin(req);
    const denied = async (reason: string, error: SwitchboardError): Promise<never> => {
      await appendAudit(db, {
        tenantId: user.tenantId,
        actorType: 'user',
        actorId: user.userId,
        action: 'privacy.erasure_denied',
        targetType: 'user',
        targetId: user.userId,
        ...originFields(origin),
        details: { reason },
      });
      throw error;
    };

    // Re-authentication: a stolen access token alone must not be enough to erase an account.
    const hash = await passwordHashOf(db, user.tenantId, user.userId);
    if (hash === undefined) throw new SwitchboardError('unauthenticated', 'Authentication required');
    if (hash === null) {
      return denied('no_password', new SwitchboardError('forbidden', 'This account has no password to confirm with; ask an administrator'));
    }
    const admission = await deps.passwordThrottle.begin({ ip: req.ip ?? 'unknown', account: user.email });
    if ('refused' in admission) {
      return denied(
        'throttled',
        new SwitchboardError('rate_limited', 'Too many attempts; try again later', { retryAfterMs: admission.refused.retryAfterMs }),
      );
    }
    if (!(await verifyPassword(hash, body.password))) {
      await admission.attempt.failed();
      return denied('password', new SwitchboardError('forbidden', 'Re-authentication failed'));
    }
    await admission.attempt.succeeded();
    const second = await deps.secondFactor({
      user: { id: user.userId, tenantId: user.tenantId, email: user.email, role: user.role },
      code: body.code,
      origin,
    });
    if (second.result === 'missing') {
      return denied(
        'second_factor_missing',
        new SwitchboardError('forbidden', 'A two-factor code is required', { issues: [{ path: 'code', message: 'required for this account' }] }),
      );
    }
    if (second.result === 'invalid') {
      return denied('second_factor', new SwitchboardError('forbidden', 'Re-authentication failed'));
    }
    if (second.result === 'locked') {
      return denied(
        'second_factor_locked',
        new SwitchboardError('rate_limited', 'Too many failed codes; try again later', { retryAfterMs: second.retryAfterMs ?? 60_000 }),
      );
    }

    const outcome = await eraseUser(db, {
      tenantId: user.tenantId,
      userId: user.userId,
      receiptId: randomUUID(),
      at: new Date(deps.clock.now()),
      origin,
    });
    if (outcome.kind === 'not_found') throw new SwitchboardError('unauthenticated', 'Authentication required');
    if (outcome.kind === 'last_owner') {
      throw new SwitchboardError('conflict', 'The last owner of a workspace cannot delete their account; make someone else owner first');
    }
    // Every process closes this person's sockets (4001); their tokens already fail (no user, no sessions).
    await deps.bus.publish({ kind: 'user_revoked', userId: user.userId }).catch((err: unknown) => {
      deps.log.warn({ err }, 'could not publish user_revoked after erasure; sockets close at their next check');
    });
    res.status(200).json(outcome.receipt);
  });

  return router;
}
