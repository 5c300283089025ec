/**
 * The exact shapes of our three JWT kinds (access, WebSocket ticket, second sign-in step). Schemas
 * are strict so one kind's claims never parse as another's, and anything we did not issue (extra
 * claims, arrays for `aud`) is refused. Refresh tokens are opaque (`sbr_…`), never JWTs.
 */
import { z } from 'zod';

/** Roles a user or agent can hold inside a tenant. */
export const ROLES = ['owner', 'admin', 'member', 'agent', 'auditor'] as const;

/** A role inside a tenant. */
export type Role = (typeof ROLES)[number];

/** zod schema for a role. */
export const RoleSchema = z.enum(ROLES);

/** `typ` header of API access tokens (RFC 8725 §3.11 explicit typing). */
export const ACCESS_TOKEN_TYP = 'sb-access+jwt';

/** `typ` header of WebSocket tickets; distinct so a ticket never passes as an access token. */
export const WS_TICKET_TYP = 'sb-ws+jwt';

/** `typ` header of the second sign-in step's token (password accepted, code still owed). */
export const MFA_TOKEN_TYP = 'sb-mfa+jwt';

/** What an mfa token lets its holder do: prove a code, or (policy requires 2FA) enrol first. */
export const MFA_PURPOSES = ['verify', 'enrol'] as const;

/** The purpose of an mfa token. */
export type MfaPurpose = (typeof MFA_PURPOSES)[number];

const numericDate = z.int().nonnegative();

const base = {
  iss: z.string().min(1),
  aud: z.string().min(1),
  sub: z.uuid(),
  tid: z.uuid(),
  jti: z.uuid(),
  iat: numericDate,
  exp: numericDate,
};

const expAfterIat = (claims: { iat: number; exp: number }): boolean => claims.exp > claims.iat;

/** Claims inside an access token. */
export const AccessClaimsSchema = z
  .strictObject({ ...base, role: RoleSchema, sid: z.uuid().optional() })
  .refine(expAfterIat, { message: 'exp must be after iat' });

/** Claims inside a WebSocket ticket; `sid` names the sign-in session the socket belongs to. */
export const WsTicketClaimsSchema = z
  .strictObject({ ...base, sid: z.uuid().optional() })
  .refine(expAfterIat, { message: 'exp must be after iat' });

/** Claims inside an mfa token; `pur` is required, so no other kind's claims parse as these. */
export const MfaClaimsSchema = z
  .strictObject({ ...base, pur: z.enum(MFA_PURPOSES) })
  .refine(expAfterIat, { message: 'exp must be after iat' });

/** What callers pass to issue an access token; validated so we never sign something we would refuse. */
export const AccessTokenInputSchema = z.strictObject({
  userId: z.uuid(),
  tenantId: z.uuid(),
  role: RoleSchema,
  sessionId: z.uuid().optional(),
});

/** What callers pass to issue a WebSocket ticket. */
export const WsTicketInputSchema = z.strictObject({ userId: z.uuid(), tenantId: z.uuid(), sessionId: z.uuid().optional() });

/** What callers pass to issue an mfa token. */
export const MfaTokenInputSchema = z.strictObject({ userId: z.uuid(), tenantId: z.uuid(), purpose: z.enum(MFA_PURPOSES) });
