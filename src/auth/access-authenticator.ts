/**
 * Authenticates `Authorization: Bearer <access JWT>`: the token must verify, name a session
 * (`sid`), and that session must be live (not revoked, not idle or absolutely expired) and belong
 * to the token's user, who must be enabled and in the token's tenant. The session and the user
 * come back in one round trip of two primary-key lookups, so the check stays cheap per request.
 */
import { systemClock, type Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Db } from '../store/db.ts';
import { getSessionWithUser } from '../store/sessions.ts';
import type { TokenService } from './tokens.ts';
import type { Authenticator } from './principal.ts';
import { isSessionLive } from './sessions.ts';

const BEARER_JWT = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function refuse(reason: string): SwitchboardError {
  return new SwitchboardError('unauthenticated', 'Authentication required', { context: { reason } });
}

/** An authenticator for access tokens. Headers that are not a Bearer JWT are left to others. */
export function createAccessTokenAuthenticator(tokens: TokenService, db: Db, clock: Clock = systemClock): Authenticator {
  return async (authorization) => {
    const match = BEARER_JWT.exec(authorization);
    if (!match?.[1]) return undefined;
    const claims = await tokens.verifyAccessToken(match[1]);
    // Every access token we issue names its session; one without is not ours to accept (it could not be revoked).
    if (claims.sessionId === undefined) throw refuse('no_session');
    const found = await getSessionWithUser(db, claims.sessionId);
    if (!found) throw refuse('unknown_session');
    const { session, user } = found;
    if (session.userId !== claims.userId || session.tenantId !== claims.tenantId) throw refuse('session_mismatch');
    if (!isSessionLive(session, clock.now())) throw refuse(session.revokedAt ? 'session_revoked' : 'session_expired');
    if (user.disabled || user.tenantId !== claims.tenantId) throw refuse('user_disabled');
    return {
      kind: 'user',
      userId: user.id,
      tenantId: user.tenantId,
      role: user.role,
      displayName: user.displayName,
      email: user.email,
      sessionId: session.id,
    };
  };
}
