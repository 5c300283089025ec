/**
 * What happens after the first factor (password, or later OIDC) was accepted: a session at once,
 * or a short-lived single-use mfa token for the second step: `verify` (the user has 2FA) or
 * `enrol` (the tenant requires 2FA for the role and the user has none yet; the token can only
 * enrol, and confirming the enrolment completes the sign-in).
 */
import type { Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Db } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { getUser, type UserRecord } from '../store/users.ts';
import { consumeMfaChallenge, openMfaChallenge, recordMfaChallenge, type PrimaryMethod } from '../store/mfa-challenges.ts';
import type { AuthMethod } from '../store/sessions.ts';
import type { IssuedSession, SessionService } from './sessions.ts';
import type { MfaPurpose, TokenService } from './tokens.ts';
import type { RequestContext, SecondFactorProof, TwoFactorService } from './two-factor.ts';

/** The outcome of a first factor. */
export type SignInOutcome =
  | { readonly kind: 'session'; readonly issued: IssuedSession }
  | { readonly kind: 'mfa'; readonly purpose: MfaPurpose; readonly mfaToken: string; readonly expiresAt: Date };

/** What sign-in needs. */
export interface SignInDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly sessions: SessionService;
  readonly twoFactor: TwoFactorService;
}

function expired(): SwitchboardError {
  return new SwitchboardError('unauthenticated', 'This sign-in step has expired or was already used. Please sign in again.');
}

/** Builds the sign-in flow. */
export function createSignIn(deps: SignInDeps) {
  const { db, tokens, clock, sessions, twoFactor } = deps;

  async function finish(user: UserRecord, method: AuthMethod, ctx: RequestContext): Promise<IssuedSession> {
    const issued = await sessions.start(user, method, ctx);
    await appendAudit(db, {
      tenantId: user.tenantId,
      actorType: 'user',
      actorId: user.id,
      action: 'auth.login',
      targetType: 'session',
      targetId: issued.session.id,
      ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
      ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
      details: { method },
    });
    return issued;
  }

  /** Loads the user an mfa token names and checks the token is still open (not consumed). */
  async function open(mfaToken: string, purpose: MfaPurpose): Promise<{ user: UserRecord; jti: string; primary: PrimaryMethod }> {
    const claims = await tokens.verifyMfaToken(mfaToken);
    if (claims.purpose !== purpose) throw new SwitchboardError('unauthenticated', 'Wrong sign-in step', { context: { reason: 'mfa_purpose' } });
    const primary = await openMfaChallenge(db, claims.jti, claims.userId, new Date(clock.now()));
    if (primary === undefined) throw expired();
    const user = await getUser(db, claims.userId);
    if (!user || user.disabled || user.tenantId !== claims.tenantId) throw expired();
    return { user, jti: claims.jti, primary };
  }

  async function consume(jti: string, userId: string): Promise<void> {
    if (!(await consumeMfaChallenge(db, jti, userId, new Date(clock.now())))) throw expired();
  }

  return {
    /** Decides the next step once the first factor is proved. */
    async afterFirstFactor(user: UserRecord, primary: PrimaryMethod, ctx: RequestContext): Promise<SignInOutcome> {
      let purpose: MfaPurpose | undefined;
      if (await twoFactor.isEnabled(user.id)) purpose = 'verify';
      else if (await twoFactor.isRequired(user.tenantId, user.role)) purpose = 'enrol';
      if (purpose === undefined) return { kind: 'session', issued: await finish(user, primary, ctx) };
      const { token, jti, expiresAt } = await tokens.issueMfaToken({ userId: user.id, tenantId: user.tenantId, purpose });
      await recordMfaChallenge(db, jti, user.id, primary, expiresAt);
      return { kind: 'mfa', purpose, mfaToken: token, expiresAt };
    },

    /** The second step: a code from the app or a recovery code; the mfa token is used up on success. */
    async verifySecondFactor(mfaToken: string, proof: SecondFactorProof, ctx: RequestContext): Promise<IssuedSession> {
      const { user, jti, primary } = await open(mfaToken, 'verify');
      const method = await twoFactor.verify(user, proof, ctx);
      await consume(jti, user.id);
      return finish(user, `${primary}+${method}`, ctx);
    },

    /** Enrolment required by policy, during sign-in: starts it with the enrol token. */
    async beginRequiredEnrolment(mfaToken: string, ctx: RequestContext): Promise<{ user: UserRecord; secret: string; otpauthUri: string }> {
      const { user } = await open(mfaToken, 'enrol');
      return { user, ...(await twoFactor.beginEnrolment(user, ctx)) };
    },

    /** Confirms the required enrolment; 2FA is on and the sign-in completes (the code was the second factor). */
    async confirmRequiredEnrolment(mfaToken: string, code: string, ctx: RequestContext): Promise<{ issued: IssuedSession; recoveryCodes: string[] }> {
      const { user, jti, primary } = await open(mfaToken, 'enrol');
      const { recoveryCodes } = await twoFactor.confirmEnrolment(user, code, ctx);
      await consume(jti, user.id);
      return { issued: await finish(user, `${primary}+totp`, ctx), recoveryCodes };
    },
  };
}

/** The sign-in flow. */
export type SignIn = ReturnType<typeof createSignIn>;
