/**
 * TOTP two-factor: enrolment (secret sealed by the vault), confirmation with recovery codes,
 * verification at sign-in (a code works once: the last accepted step is stored and any step <= it
 * is refused), single-use recovery codes, and a per-user lockout after too many failures in a
 * sliding window. Every decision is taken under a row lock, so concurrent attempts serialize.
 */
import type { Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Vault } from '../crypto/vault.ts';
import { withTransaction, type Db, type Queryable } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import {
  getRequired2faRoles,
  getTotp,
  recordTotpFailures,
  recordTotpSuccess,
  clearTotpFailures,
  deleteTotp,
  totpSecretAad,
  upsertPendingTotp,
  type TotpRecord,
} from '../store/totp.ts';
import { countUnusedRecoveryCodes, deleteRecoveryCodes, replaceRecoveryCodes, useRecoveryCode } from '../store/recovery-codes.ts';
import type { UserRole } from '../store/users.ts';
import { matchTotpStep, newTotpSecret, totpUri } from './totp.ts';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.ts';

/** Who is asking and from where; written to the audit log (never a code or a secret). */
export interface RequestContext {
  readonly ip?: string;
  readonly userAgent?: string;
}

/** The user a 2FA operation is about. */
export interface TwoFactorUser {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: UserRole;
}

/** A second factor as typed: a code from the app or a recovery code. */
export type SecondFactorProof = { readonly code: string } | { readonly recoveryCode: string };

/** Lockout settings. */
export interface LockoutSettings {
  readonly maxFailures: number;
  readonly windowSeconds: number;
  readonly lockoutSeconds: number;
}

/** What the service needs. */
export interface TwoFactorDeps {
  readonly db: Db;
  readonly vault: Pick<Vault, 'seal' | 'openText'>;
  readonly clock: Clock;
  /** Shown in the authenticator app ("Switchboard"). */
  readonly issuer: string;
  readonly lockout: LockoutSettings;
}

/** A user's 2FA state, as the page shows it. */
export interface TwoFactorStatus {
  readonly enabled: boolean;
  readonly pendingEnrolment: boolean;
  readonly enabledAt: Date | null;
  readonly recoveryCodesRemaining: number;
  /** The tenant requires 2FA for this user's role (it cannot be turned off). */
  readonly required: boolean;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: SwitchboardError };

function unauthenticated(message = 'Invalid authentication code'): SwitchboardError {
  return new SwitchboardError('unauthenticated', message);
}

/** Builds the two-factor service. */
export function createTwoFactorService(deps: TwoFactorDeps) {
  const { db, vault, clock, lockout } = deps;
  if (lockout.maxFailures < 1 || lockout.windowSeconds < 1 || lockout.lockoutSeconds < 1) {
    throw new SwitchboardError('config_invalid', 'TOTP lockout settings must be positive');
  }
  const now = (): Date => new Date(clock.now());

  const audit = (q: Queryable, user: TwoFactorUser, action: string, ctx: RequestContext, details?: Record<string, string | number | boolean>) =>
    appendAudit(q, {
      tenantId: user.tenantId,
      actorType: 'user',
      actorId: user.id,
      action,
      targetType: 'user',
      targetId: user.id,
      ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
      ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
      ...(details ? { details } : {}),
    });

  const lockedError = (until: Date, at: Date) =>
    new SwitchboardError('rate_limited', 'Too many wrong codes. Two-factor sign-in is locked for a while.', {
      retryAfterMs: Math.max(1000, until.getTime() - at.getTime()),
      context: { reason: 'totp_locked' },
    });

  /** Counts a failure in the sliding window; starts a lockout at the limit. Returns the error to throw. */
  async function recordFailure(q: Queryable, user: TwoFactorUser, row: TotpRecord, at: Date, reason: string, ctx: RequestContext) {
    const windowStart = at.getTime() - lockout.windowSeconds * 1000;
    const recent = [...row.recentFailures.filter((t) => t.getTime() > windowStart), at];
    if (recent.length >= lockout.maxFailures) {
      const until = new Date(at.getTime() + lockout.lockoutSeconds * 1000);
      await recordTotpFailures(q, user.id, [], until);
      await audit(q, user, 'auth.2fa_failed', ctx, { reason });
      await audit(q, user, 'auth.2fa_lockout', ctx, { failures: recent.length, lockedForSeconds: lockout.lockoutSeconds });
      return lockedError(until, at);
    }
    await recordTotpFailures(q, user.id, recent, null);
    await audit(q, user, 'auth.2fa_failed', ctx, { reason, failuresInWindow: recent.length });
    return unauthenticated();
  }

  /**
   * Checks a proof against a (locked) TOTP row. Commits failures even though the caller will
   * throw: the failure count must survive the refusal.
   */
  async function check(
    q: Queryable,
    user: TwoFactorUser,
    row: TotpRecord,
    proof: SecondFactorProof,
    ctx: RequestContext,
    allowRecovery: boolean,
  ): Promise<Outcome<{ method: 'totp' | 'recovery_code'; step?: number }>> {
    const at = now();
    if (row.lockedUntil !== null && row.lockedUntil.getTime() > at.getTime()) {
      await audit(q, user, 'auth.2fa_failed', ctx, { reason: 'locked' });
      return { ok: false, error: lockedError(row.lockedUntil, at) };
    }
    if ('recoveryCode' in proof) {
      const canonical = allowRecovery ? normalizeRecoveryCode(proof.recoveryCode) : undefined;
      if (canonical !== undefined && (await useRecoveryCode(q, user.id, hashRecoveryCode(canonical), at))) {
        await clearTotpFailures(q, user.id);
        const remaining = await countUnusedRecoveryCodes(q, user.id);
        await audit(q, user, 'auth.2fa_recovery_code_used', ctx, { remaining });
        return { ok: true, value: { method: 'recovery_code' } };
      }
      return { ok: false, error: await recordFailure(q, user, row, at, 'bad_recovery_code', ctx) };
    }
    const secret = vault.openText(row.secretSealed, totpSecretAad(user.id));
    const step = await matchTotpStep(secret, proof.code, at.getTime());
    if (step === undefined) return { ok: false, error: await recordFailure(q, user, row, at, 'invalid', ctx) };
    // RFC 6238 §5.2: the verifier must not accept a second use of an OTP; any step <= the last is refused.
    if (row.lastUsedStep !== null && step <= row.lastUsedStep) {
      return { ok: false, error: await recordFailure(q, user, row, at, 'replayed', ctx) };
    }
    return { ok: true, value: { method: 'totp', step } };
  }

  async function transact<T>(work: (q: Queryable) => Promise<Outcome<T>>): Promise<T> {
    const outcome = await withTransaction(db, work);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  async function isRequired(tenantId: string, role: UserRole, q: Queryable = db): Promise<boolean> {
    return (await getRequired2faRoles(q, tenantId)).includes(role);
  }

  return {
    isRequired,

    /** True when the user has confirmed 2FA. */
    async isEnabled(userId: string, q: Queryable = db): Promise<boolean> {
      const row = await getTotp(q, userId);
      return row?.enabledAt != null;
    },

    async status(user: TwoFactorUser): Promise<TwoFactorStatus> {
      const row = await getTotp(db, user.id);
      return {
        enabled: row?.enabledAt != null,
        pendingEnrolment: row !== undefined && row.enabledAt === null,
        enabledAt: row?.enabledAt ?? null,
        recoveryCodesRemaining: row?.enabledAt != null ? await countUnusedRecoveryCodes(db, user.id) : 0,
        required: await isRequired(user.tenantId, user.role),
      };
    },

    /** Starts (or restarts) enrolment: a new secret, sealed; returns the URI to show once. */
    async beginEnrolment(user: TwoFactorUser, ctx: RequestContext): Promise<{ secret: string; otpauthUri: string }> {
      const secret = newTotpSecret();
      const sealed = vault.seal(secret, totpSecretAad(user.id));
      return transact(async (q) => {
        if (!(await upsertPendingTotp(q, user.id, user.tenantId, sealed, now()))) {
          return { ok: false, error: new SwitchboardError('conflict', 'Two-factor authentication is already on; turn it off first') };
        }
        await audit(q, user, 'auth.2fa_enrol_started', ctx);
        return { ok: true, value: { secret, otpauthUri: totpUri(deps.issuer, user.email, secret) } };
      });
    },

    /** Confirms enrolment with a code from the app: 2FA is on; returns the recovery codes (shown once). */
    async confirmEnrolment(user: TwoFactorUser, code: string, ctx: RequestContext): Promise<{ recoveryCodes: string[] }> {
      return transact(async (q) => {
        const row = await getTotp(q, user.id, true);
        if (!row) return { ok: false, error: new SwitchboardError('conflict', 'Start two-factor enrolment first') };
        if (row.enabledAt !== null) return { ok: false, error: new SwitchboardError('conflict', 'Two-factor authentication is already on') };
        const checked = await check(q, user, row, { code }, ctx, false);
        if (!checked.ok) return checked;
        const at = now();
        await recordTotpSuccess(q, user.id, checked.value.step ?? 0, at);
        const { codes, hashes } = generateRecoveryCodes();
        await replaceRecoveryCodes(q, user.id, hashes, at);
        await audit(q, user, 'auth.2fa_enabled', ctx, { recoveryCodes: codes.length });
        return { ok: true, value: { recoveryCodes: codes } };
      });
    },

    /** Verifies a second factor at sign-in; throws `unauthenticated` or `rate_limited` (locked). */
    async verify(user: TwoFactorUser, proof: SecondFactorProof, ctx: RequestContext): Promise<'totp' | 'recovery_code'> {
      return transact(async (q) => {
        const row = await getTotp(q, user.id, true);
        if (!row || row.enabledAt === null) return { ok: false, error: unauthenticated('Two-factor authentication is not set up') };
        const checked = await check(q, user, row, proof, ctx, true);
        if (!checked.ok) return checked;
        if (checked.value.step !== undefined) await recordTotpSuccess(q, user.id, checked.value.step);
        return { ok: true, value: checked.value.method };
      });
    },

    /** Turns 2FA off after a fresh code (or recovery code); refused when the tenant requires it. */
    async disable(user: TwoFactorUser, proof: SecondFactorProof, ctx: RequestContext): Promise<void> {
      if (await isRequired(user.tenantId, user.role)) {
        throw new SwitchboardError('forbidden', 'Your workspace requires two-factor authentication for your role');
      }
      await transact<undefined>(async (q) => {
        const row = await getTotp(q, user.id, true);
        if (!row || row.enabledAt === null) return { ok: false, error: new SwitchboardError('conflict', 'Two-factor authentication is not on') };
        const checked = await check(q, user, row, proof, ctx, true);
        if (!checked.ok) return checked;
        await deleteTotp(q, user.id);
        await deleteRecoveryCodes(q, user.id);
        await audit(q, user, 'auth.2fa_disabled', ctx, { proof: checked.value.method });
        return { ok: true, value: undefined };
      });
    },

    /** New recovery codes (the old ones stop working) after a fresh code from the app. */
    async regenerateRecoveryCodes(user: TwoFactorUser, code: string, ctx: RequestContext): Promise<{ recoveryCodes: string[] }> {
      return transact(async (q) => {
        const row = await getTotp(q, user.id, true);
        if (!row || row.enabledAt === null) return { ok: false, error: new SwitchboardError('conflict', 'Two-factor authentication is not on') };
        const checked = await check(q, user, row, { code }, ctx, false);
        if (!checked.ok) return checked;
        await recordTotpSuccess(q, user.id, checked.value.step ?? 0);
        const { codes, hashes } = generateRecoveryCodes();
        await replaceRecoveryCodes(q, user.id, hashes, now());
        await audit(q, user, 'auth.2fa_recovery_codes_regenerated', ctx, { recoveryCodes: codes.length });
        return { ok: true, value: { recoveryCodes: codes } };
      });
    },

    /** An administrator's reset (lost phone): removes the enrolment and the recovery codes. */
    async reset(user: TwoFactorUser, by: { actorType: 'user' | 'system'; actorId?: string }, ctx: RequestContext): Promise<boolean> {
      return withTransaction(db, async (q) => {
        const removed = await deleteTotp(q, user.id);
        await deleteRecoveryCodes(q, user.id);
        await appendAudit(q, {
          tenantId: user.tenantId,
          actorType: by.actorType,
          ...(by.actorId === undefined ? {} : { actorId: by.actorId }),
          action: 'auth.2fa_reset',
          targetType: 'user',
          targetId: user.id,
          ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
          ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
          details: { hadTwoFactor: removed },
        });
        return removed;
      });
    },
  };
}

/** The two-factor service. */
export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
