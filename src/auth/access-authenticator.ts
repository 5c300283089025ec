/** Authenticates `Authorization: Bearer <access JWT>` and loads the (enabled) user. */
import { SwitchboardError } from '../core/errors.ts';
import type { Db } from '../store/db.ts';
import { getUser } from '../store/users.ts';
import type { TokenService } from './tokens.ts';
import type { Authenticator } from './principal.ts';

const BEARER_JWT = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** An authenticator for access tokens. Headers that are not a Bearer JWT are left to others. */
export function createAccessTokenAuthenticator(tokens: TokenService, db: Db): Authenticator {
  return async (authorization) => {
    const match = BEARER_JWT.exec(authorization);
    if (!match?.[1]) return undefined;
    const claims = await tokens.verifyAccessToken(match[1]);
    const user = await getUser(db, claims.userId);
    if (!user || user.disabled || user.tenantId !== claims.tenantId) {
      throw new SwitchboardError('unauthenticated', 'Authentication required');
    }
    return {
      kind: 'user',
      userId: user.id,
      tenantId: user.tenantId,
      role: user.role,
      displayName: user.displayName,
      email: user.email,
      ...(claims.sessionId === undefined ? {} : { sessionId: claims.sessionId }),
    };
  };
}
