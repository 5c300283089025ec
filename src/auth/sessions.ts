/**
 * Sign-in sessions: creation, refresh-token rotation with reuse detection, revocation, and the
 * liveness rule every request and socket applies.
 *
 * A session is one sign-in on one device. Its refresh token is opaque (`sbr_…`, stored as SHA-256)
 * and replaced on every refresh; the old one is kept as "rotated". Presenting a rotated token again
 * means two parties hold the same token (one of them stole it), so the whole family is revoked,
 * the event is audited, and every socket of those sessions is closed through the bus.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, IdSource } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { BusEvent } from '../queue/bus.ts';
import { withTransaction, type Db, type Queryable } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { getUser, type UserRecord } from '../store/users.ts';
import { getRequired2faRoles } from '../store/totp.ts';
import {
  getSession,
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  markRefreshTokenRotated,
  revokeFamilyRows,
  revokeSessionRow,
  revokeUserRows,
  touchSession,
  type AuthMethod,
  type RevokedSession,
  type RevokeReason,
  type SessionRecord,
} from '../store/sessions.ts';
import { generateRefreshToken, hashRefreshToken, isRefreshTokenShaped } from './refresh-tokens.ts';
import type { TokenService } from './tokens.ts';
import type { RequestContext } from './two-factor.ts';

/** Session lifetimes. */
export interface SessionSettings {
  /** A session unused (not refreshed) for this long ends. */
  readonly idleTtlSeconds: number;
  /** A session ends this long after sign-in, however active. */
  readonly absoluteTtlSeconds: number;
}

/** What the service needs. */
export interface SessionServiceDeps {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly clock: Clock;
  /** Tells every process's socket server which sessions ended (ids only). */
  readonly bus: { publish(event: BusEvent): Promise<number> };
  readonly settings: SessionSettings;
  readonly log?: Pick<Logger, 'warn'>;
  readonly ids?: IdSource;
}

/** A session that was just started or refreshed, with the credentials to hand to the client. */
export interface IssuedSession {
  readonly accessToken: string;
  readonly accessExpiresAt: Date;
  /** The new refresh token; shown to the client once, stored only as a hash. */
  readonly refreshToken: string;
  readonly session: SessionRecord;
  readonly user: UserRecord;
}

/** Who revoked a session, for the audit log. */
export interface RevokedBy {
  readonly actorType: 'user' | 'system';
  readonly actorId?: string;
}

/** True when a session may be used at `nowMs`: not revoked, not idle too long, not too old. */
export function isSessionLive(session: SessionRecord, nowMs: number): boolean {
  return session.revokedAt === null && session.idleExpiresAt.getTime() > nowMs && session.absoluteExpiresAt.getTime() > nowMs;
}

const AUDIT_ACTION: Readonly<Record<RevokeReason, string>> = {
  logout: 'auth.logout',
  logout_all: 'auth.logout_all',
  refresh_reuse: 'auth.refresh_reuse',
  admin: 'session.revoked_by_admin',
  user_disabled: 'session.revoked',
  two_factor_reset: 'session.revoked',
  policy: 'session.revoked',
  account_deleted: 'session.revoked',
};

function refused(reason: string): SwitchboardError {
  return new SwitchboardError('unauthenticated', 'Your session has ended. Please sign in again.', { context: { reason } });
}

type RefreshOutcome =
  | { kind: 'ok'; issued: IssuedSession }
  | { kind: 'refused'; reason: string; revoked: RevokedSession[] };

/** Builds the session service. */
export function createSessionService(deps: SessionServiceDeps) {
  const { db, tokens, clock, settings } = deps;
  const ids = deps.ids ?? randomUUID;
  if (!Number.isInteger(settings.idleTtlSeconds) || !Number.isInteger(settings.absoluteTtlSeconds) || settings.idleTtlSeconds < 60) {
    throw new SwitchboardError('config_invalid', 'Session lifetimes must be whole seconds, at least 60');
  }
  if (settings.absoluteTtlSeconds < settings.idleTtlSeconds) {
    throw new SwitchboardError('config_invalid', 'SESSION_ABSOLUTE_TTL_SECONDS must be at least SESSION_IDLE_TTL_SECONDS');
  }

  const idleExpiry = (nowMs: number, absolute: Date): Date =>
    new Date(Math.min(nowMs + settings.idleTtlSeconds * 1000, absolute.getTime()));

  async function issueAccess(user: UserRecord, sessionId: string) {
    const { token, expiresAt } = await tokens.issueAccessToken({ userId: user.id, tenantId: user.tenantId, role: user.role, sessionId });
    return { accessToken: token, accessExpiresAt: expiresAt };
  }

  /** Publishes after commit; a lost publish leaves sockets open until their session's end, so it is logged. */
  async function announce(events: BusEvent[]): Promise<void> {
    for (const event of events) {
      await deps.bus.publish(event).catch((err: unknown) => deps.log?.warn({ err, kind: event.kind }, 'could not publish a session revocation'));
    }
  }

  async function auditRevocation(q: Queryable, revoked: RevokedSession, reason: RevokeReason, by: RevokedBy, ctx: RequestContext, details: Record<string, string | number> = {}) {
    await appendAudit(q, {
      tenantId: revoked.tenantId,
      actorType: by.actorType,
      ...(by.actorId === undefined ? {} : { actorId: by.actorId }),
      action: AUDIT_ACTION[reason],
      targetType: 'session',
      targetId: revoked.id,
      ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
      ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
      details: { reason, userId: revoked.userId, ...details },
    });
  }

  return {
    /** Starts a session for a user who completed sign-in. */
    async start(user: UserRecord, authMethod: AuthMethod, ctx: RequestContext): Promise<IssuedSession> {
      const nowMs = clock.now();
      const id = ids();
      const absolute = new Date(nowMs + settings.absoluteTtlSeconds * 1000);
      const { token, hash } = generateRefreshToken();
      return withTransaction(db, async (q) => {
        await insertSession(q, {
          id,
          tenantId: user.tenantId,
          userId: user.id,
          familyId: id,
          authMethod,
          now: new Date(nowMs),
          idleExpiresAt: idleExpiry(nowMs, absolute),
          absoluteExpiresAt: absolute,
          ip: ctx.ip ?? null,
          userAgent: ctx.userAgent ?? null,
        });
        await insertRefreshToken(q, { hash, sessionId: id, familyId: id, generation: 0, now: new Date(nowMs) });
        const session = await getSession(q, id);
        if (!session) throw new SwitchboardError('internal', 'Session vanished after insert');
        return { ...(await issueAccess(user, id)), refreshToken: token, session, user };
      });
    },

    /**
     * Rotates a refresh token: a new access token and a new refresh token. An unknown, expired or
     * revoked token is refused; an already-rotated one revokes its whole family first.
     */
    async refresh(refreshToken: string, ctx: RequestContext): Promise<IssuedSession> {
      if (!isRefreshTokenShaped(refreshToken)) throw refused('malformed');
      const hash = hashRefreshToken(refreshToken);
      const outcome = await withTransaction(db, async (q): Promise<RefreshOutcome> => {
        const nowMs = clock.now();
        const now = new Date(nowMs);
        const found = await lockRefreshToken(q, hash);
        if (!found) return { kind: 'refused', reason: 'unknown', revoked: [] };
        const { session } = found;
        if (found.rotatedAt !== null) {
          const revoked = await revokeFamilyRows(q, session.familyId, 'refresh_reuse', now);
          // Audited even when the family was already dead: a replayed token is worth knowing about.
          await appendAudit(q, {
            tenantId: session.tenantId,
            actorType: 'user',
            actorId: session.userId,
            action: 'auth.refresh_reuse',
            targetType: 'session_family',
            targetId: session.familyId,
            ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
            ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
            details: { generation: found.generation, sessionsRevoked: revoked.length, sessionIds: revoked.map((r) => r.id) },
          });
          return { kind: 'refused', reason: 'reuse', revoked };
        }
        if (!isSessionLive(session, nowMs)) return { kind: 'refused', reason: session.revokedAt ? 'revoked' : 'expired', revoked: [] };
        const user = await getUser(q, session.userId);
        if (!user || user.disabled || user.tenantId !== session.tenantId) {
          const revoked = await revokeSessionRow(q, session.id, 'user_disabled', now);
          return { kind: 'refused', reason: 'user_disabled', revoked };
        }
        // The tenant turned 2FA on for this role after this password-only sign-in: sign in again (and enrol).
        const secondFactor = session.authMethod.includes('+');
        if (!secondFactor && (await getRequired2faRoles(q, user.tenantId)).includes(user.role)) {
          const revoked = await revokeSessionRow(q, session.id, 'policy', now);
          for (const r of revoked) await auditRevocation(q, r, 'policy', { actorType: 'system' }, ctx, { rule: 'require_2fa' });
          return { kind: 'refused', reason: 'policy', revoked };
        }
        if (!(await markRefreshTokenRotated(q, hash, now))) return { kind: 'refused', reason: 'race', revoked: [] };
        const next = generateRefreshToken();
        await insertRefreshToken(q, { hash: next.hash, sessionId: session.id, familyId: session.familyId, generation: found.generation + 1, now });
        await touchSession(q, session.id, now, idleExpiry(nowMs, session.absoluteExpiresAt));
        const touched = await getSession(q, session.id);
        if (!touched) throw new SwitchboardError('internal', 'Session vanished during refresh');
        return { kind: 'ok', issued: { ...(await issueAccess(user, session.id)), refreshToken: next.token, session: touched, user } };
      });
      if (outcome.kind === 'ok') return outcome.issued;
      await announce(outcome.revoked.map((r) => ({ kind: 'session_revoked', sessionId: r.id })));
      throw refused(outcome.reason);
    },

    /** The live session a refresh token belongs to (for sign-out by cookie); never rotates it. */
    async sessionOfRefreshToken(refreshToken: string): Promise<SessionRecord | undefined> {
      if (!isRefreshTokenShaped(refreshToken)) return undefined;
      const result = await db.query<{ session_id: string }>(
        'SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NULL',
        [hashRefreshToken(refreshToken)],
      );
      const sessionId = result.rows[0]?.session_id;
      const session = sessionId === undefined ? undefined : await getSession(db, sessionId);
      return session && isSessionLive(session, clock.now()) ? session : undefined;
    },

    /** One session (when it belongs to `tenantId`); false when it was not live. Audited, sockets closed. */
    async revoke(sessionId: string, tenantId: string, reason: RevokeReason, by: RevokedBy, ctx: RequestContext): Promise<boolean> {
      const revoked = await withTransaction(db, async (q) => {
        const session = await getSession(q, sessionId);
        if (!session || session.tenantId !== tenantId) return [];
        const rows = await revokeSessionRow(q, sessionId, reason, new Date(clock.now()));
        for (const r of rows) await auditRevocation(q, r, reason, by, ctx);
        return rows;
      });
      await announce(revoked.map((r) => ({ kind: 'session_revoked', sessionId: r.id })));
      return revoked.length > 0;
    },

    /** Every session of a user ("sign out everywhere", disabled, 2FA reset). Returns how many ended. */
    async revokeAllForUser(user: Pick<UserRecord, 'id' | 'tenantId'>, reason: RevokeReason, by: RevokedBy, ctx: RequestContext): Promise<number> {
      const revoked = await withTransaction(db, async (q) => {
        const rows = await revokeUserRows(q, user.id, reason, new Date(clock.now()));
        await appendAudit(q, {
          tenantId: user.tenantId,
          actorType: by.actorType,
          ...(by.actorId === undefined ? {} : { actorId: by.actorId }),
          action: AUDIT_ACTION[reason],
          targetType: 'user',
          targetId: user.id,
          ...(ctx.ip === undefined ? {} : { ip: ctx.ip }),
          ...(ctx.userAgent === undefined ? {} : { userAgent: ctx.userAgent }),
          details: { reason, sessionsRevoked: rows.length, scope: 'all_sessions' },
        });
        return rows;
      });
      // One event closes every socket of the user, on every process, including ones whose session row was already gone.
      await announce([{ kind: 'user_revoked', userId: user.id }]);
      return revoked.length;
    },
  };
}

/** The session service. */
export type SessionService = ReturnType<typeof createSessionService>;
