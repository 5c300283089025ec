/** Who is making a request: a signed-in user (via an access token) or an API key acting in a tenant. */
import type { Role } from './token-claims.ts';
import type { Permission } from './rbac.ts';

/** An authenticated caller. Every query a route makes is scoped by `tenantId`. */
export type Principal =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly tenantId: string;
      readonly role: Role;
      readonly displayName: string;
      readonly email: string;
      /** The session the access token belongs to, when sessions are in use. */
      readonly sessionId?: string;
    }
  | {
      readonly kind: 'api_key';
      readonly apiKeyId: string;
      readonly tenantId: string;
      /** The user the key acts as, if any (agent keys act as their agent user). */
      readonly userId?: string;
      readonly role: Role;
      readonly scopes: ReadonlySet<Permission>;
      /** When set, the key may only touch these conversations. */
      readonly conversationIds?: ReadonlySet<string>;
    };

/**
 * Turns an `Authorization` header value into a principal. Returns undefined when the header is
 * not of this authenticator's kind; throws `unauthenticated` when it is, but is invalid.
 */
export type Authenticator = (authorization: string) => Promise<Principal | undefined>;
