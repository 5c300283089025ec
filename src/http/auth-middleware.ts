/**
 * Authentication and authorization for the REST API. Credentials are accepted only in the
 * `Authorization` header (never the query string); each authenticator recognises its own kind
 * (access JWT, API key) and the first that recognises the header decides.
 */
import type { Request, RequestHandler } from 'express';
import { SwitchboardError } from '../core/errors.ts';
import type { Authenticator, Principal } from '../auth/principal.ts';
import { roleAllows, type Permission } from '../auth/rbac.ts';

const principalByRequest = new WeakMap<Request, Principal>();

/** The caller set by `requireAuth`; throws if the route forgot the middleware. */
export function principalOf(req: Request): Principal {
  const principal = principalByRequest.get(req);
  if (!principal) throw new SwitchboardError('unauthenticated', 'Authentication required');
  return principal;
}

/** The caller, who must be a signed-in user (not an API key). */
export function userPrincipalOf(req: Request): Extract<Principal, { kind: 'user' }> {
  const principal = principalOf(req);
  if (principal.kind !== 'user') throw new SwitchboardError('forbidden', 'This endpoint needs a signed-in user');
  return principal;
}

/** True when the principal may do `permission` (API keys: their role and their scopes). */
export function principalAllows(principal: Principal, permission: Permission): boolean {
  if (!roleAllows(principal.role, permission)) return false;
  return principal.kind === 'user' || principal.scopes.has(permission);
}

/** Authenticates with the given authenticators, then checks `permission` when given. */
export function requireAuth(authenticators: readonly Authenticator[], permission?: Permission): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (header === undefined || header.length === 0 || header.length > 8192) {
      next(new SwitchboardError('unauthenticated', 'Authentication required'));
      return;
    }
    (async () => {
      for (const authenticate of authenticators) {
        const principal = await authenticate(header);
        if (principal) return principal;
      }
      throw new SwitchboardError('unauthenticated', 'Authentication required');
    })()
      .then((principal) => {
        if (permission !== undefined && !principalAllows(principal, permission)) {
          throw new SwitchboardError('forbidden', 'Not allowed', { context: { permission } });
        }
        principalByRequest.set(req, principal);
        next();
      })
      .catch(next);
  };
}
