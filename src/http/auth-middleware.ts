/** Bearer access-token authentication for the REST API. Tokens are accepted only in the header. */
import type { Request, RequestHandler } from 'express';
import { SwitchboardError } from '../core/errors.ts';
import type { TokenService, AccessTokenClaims } from '../auth/tokens.ts';
import type { Db } from '../store/db.ts';
import { getUser, type UserRecord } from '../store/users.ts';

/** The authenticated caller of a request. */
export interface RequestAuth {
  readonly claims: AccessTokenClaims;
  readonly user: UserRecord;
}

const authByRequest = new WeakMap<Request, RequestAuth>();

/** The caller set by `requireAccessToken`; throws if the route forgot the middleware. */
export function authOf(req: Request): RequestAuth {
  const auth = authByRequest.get(req);
  if (!auth) throw new SwitchboardError('unauthenticated', 'Authentication required');
  return auth;
}

/** Verifies `Authorization: Bearer <access token>` and loads the (enabled) user. */
export function requireAccessToken(tokens: TokenService, db: Db): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(header);
    if (!match?.[1]) {
      next(new SwitchboardError('unauthenticated', 'Authentication required'));
      return;
    }
    tokens
      .verifyAccessToken(match[1])
      .then(async (claims) => {
        const user = await getUser(db, claims.userId);
        if (!user || user.disabled || user.tenantId !== claims.tenantId) {
          throw new SwitchboardError('unauthenticated', 'Authentication required');
        }
        authByRequest.set(req, { claims, user });
        next();
      })
      .catch(next);
  };
}
