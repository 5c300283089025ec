/**
 * Access tokens, WebSocket tickets and second-step (mfa) tokens: EdDSA (Ed25519) JWTs via jose.
 *
 * Verification is deliberately narrow (RFC 8725): a size cap before parsing, a header allowlist
 * (`alg` EdDSA, our exact `typ` per kind, our `kid` compared and never looked up, nothing else),
 * pinned algorithms, required iss/aud/exp/iat/sub/jti, a tight clock tolerance, time from the
 * injected Clock, and strict zod claims. Every failure is the same generic `unauthenticated`;
 * only `context.reason` says why, for logs.
 */
import { errors, decodeProtectedHeader, jwtVerify, SignJWT, type JWK, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { z } from 'zod';
import { randomIds, type Clock, type IdSource } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import { loadEd25519SigningKey } from './signing-key.ts';
import {
  ACCESS_TOKEN_TYP,
  AccessClaimsSchema,
  AccessTokenInputSchema,
  MFA_TOKEN_TYP,
  MfaClaimsSchema,
  MfaTokenInputSchema,
  WS_TICKET_TYP,
  WsTicketClaimsSchema,
  WsTicketInputSchema,
  type MfaPurpose,
  type Role,
} from './token-claims.ts';

export { ACCESS_TOKEN_TYP, MFA_TOKEN_TYP, ROLES, WS_TICKET_TYP, type MfaPurpose, type Role } from './token-claims.ts';

/** Longest token we will even look at; ours are well under 1 KiB. */
export const MAX_TOKEN_CHARS = 4096;

/** Seconds of clock skew tolerated on exp, nbf and iat. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Default lifetime of an mfa token: time to open the authenticator app and type a code. */
export const DEFAULT_MFA_TTL_SECONDS = 300;

/** Dependencies of the token service. */
export interface TokenServiceDeps {
  /** PKCS#8 PEM of the Ed25519 signing key. */
  readonly privateKeyPem: string;
  readonly issuer: string;
  readonly audience: string;
  readonly clock: Clock;
  readonly accessTtlSeconds: number;
  readonly ticketTtlSeconds: number;
  /** Lifetime of the second sign-in step's token; defaults to `DEFAULT_MFA_TTL_SECONDS`. */
  readonly mfaTtlSeconds?: number;
  /** Source of `jti` values (UUIDs); defaults to random UUIDs. */
  readonly ids?: IdSource;
}

/** Input for an access token. */
export type AccessTokenInput = z.input<typeof AccessTokenInputSchema>;

/** Input for a WebSocket ticket. */
export type WsTicketInput = z.input<typeof WsTicketInputSchema>;

/** Input for an mfa token. */
export type MfaTokenInput = z.input<typeof MfaTokenInputSchema>;

/** A verified access token. */
export interface AccessTokenClaims {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly jti: string;
  readonly sessionId?: string;
  readonly expiresAt: Date;
}

/** A verified WebSocket ticket; the caller must still consume `jti` once (single use). */
export interface WsTicketClaims {
  readonly userId: string;
  readonly tenantId: string;
  readonly jti: string;
  readonly sessionId?: string;
  readonly expiresAt: Date;
}

/** A verified mfa token; the caller must still consume `jti` once (single use). */
export interface MfaTokenClaims {
  readonly userId: string;
  readonly tenantId: string;
  readonly purpose: MfaPurpose;
  readonly jti: string;
  readonly expiresAt: Date;
}

/** Issues and verifies access tokens and WebSocket tickets with one Ed25519 key. */
export interface TokenService {
  /** Signs a short-lived access token. */
  issueAccessToken(input: AccessTokenInput): Promise<{ token: string; expiresAt: Date }>;
  /** Verifies an access token; throws `unauthenticated`. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
  /** Signs a WebSocket ticket (short TTL; its `jti` is for single-use tracking). */
  issueWsTicket(input: WsTicketInput): Promise<{ ticket: string; jti: string; expiresAt: Date }>;
  /** Verifies a WebSocket ticket; throws `unauthenticated`. */
  verifyWsTicket(ticket: string): Promise<WsTicketClaims>;
  /** Signs the second sign-in step's token (short TTL; its `jti` is for single-use tracking). */
  issueMfaToken(input: MfaTokenInput): Promise<{ token: string; jti: string; expiresAt: Date }>;
  /** Verifies an mfa token; throws `unauthenticated`. */
  verifyMfaToken(token: string): Promise<MfaTokenClaims>;
  /** Public JWK (with kid, alg, use) for a JWKS endpoint. */
  publicJwk(): Readonly<JWK>;
  /** The `kid` every token we issue carries. */
  readonly keyId: string;
}

/** Short, enum-like reasons for logs; never sent to clients. */
export type TokenRejectReason =
  | 'empty'
  | 'too_large'
  | 'malformed'
  | 'bad_header'
  | 'wrong_alg'
  | 'wrong_typ'
  | 'kid_mismatch'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'iat_invalid'
  | 'missing_claim'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'bad_claims';

// Compact JWS: three base64url segments. Checked before any decoding.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ALLOWED_HEADER_KEYS: ReadonlySet<string> = new Set(['alg', 'typ', 'kid']);

function reject(reason: TokenRejectReason, kind: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError('unauthenticated', 'Authentication failed', { context: { reason, kind } }, { cause });
}

function reasonForJoseError(error: unknown): TokenRejectReason {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'wrong_alg';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'missing_claim';
    switch (error.claim) {
      case 'nbf':
        return 'not_yet_valid';
      case 'iat':
        return 'iat_invalid';
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      case 'typ':
        return 'wrong_typ';
      default:
        return 'bad_claims';
    }
  }
  return 'malformed';
}

function positiveInt(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new SwitchboardError('config_invalid', `${name} must be an integer between 1 and ${max}`);
  }
  return value;
}

/** Builds the token service; async because the key thumbprint (`kid`) is computed with WebCrypto. */
export async function createTokenService(deps: TokenServiceDeps): Promise<TokenService> {
  const key = await loadEd25519SigningKey(deps.privateKeyPem);
  if (deps.issuer.length === 0 || deps.audience.length === 0) {
    throw new SwitchboardError('config_invalid', 'JWT issuer and audience must be non-empty');
  }
  const accessTtl = positiveInt('ACCESS_TOKEN_TTL_SECONDS', deps.accessTtlSeconds, 86_400);
  const ticketTtl = positiveInt('WS_TICKET_TTL_SECONDS', deps.ticketTtlSeconds, 3_600);
  const mfaTtl = positiveInt('MFA_TOKEN_TTL_SECONDS', deps.mfaTtlSeconds ?? DEFAULT_MFA_TTL_SECONDS, 3_600);
  const { clock, issuer, audience } = deps;
  const ids = deps.ids ?? randomIds;

  async function sign(typ: string, subject: string, claims: JWTPayload, ttl: number): Promise<{ token: string; jti: string; expiresAt: Date }> {
    const iat = Math.floor(clock.now() / 1000);
    const exp = iat + ttl;
    const jti = ids();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ, kid: key.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, jti, expiresAt: new Date(exp * 1000) };
  }

  /** The header allowlist, applied before verification (cheap reject) and again to the verified header. */
  function checkHeader(header: ProtectedHeaderParameters, typ: string, kind: string): void {
    if (header.alg !== 'EdDSA') throw reject('wrong_alg', kind);
    for (const name of Object.keys(header)) {
      // jku/x5u/jwk/x5c/crit/b64…: keys come only from our config (RFC 8725 §3.10, ASVS 9.1.3).
      if (!ALLOWED_HEADER_KEYS.has(name)) throw reject('bad_header', kind);
    }
    if (header.typ !== typ) throw reject('wrong_typ', kind);
    // Compared to our one kid, never used as a path, query or map key.
    if (header.kid !== key.kid) throw reject('kid_mismatch', kind);
  }

  async function verify(token: unknown, typ: string, ttl: number, kind: string): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length === 0) throw reject('empty', kind);
    if (token.length > MAX_TOKEN_CHARS) throw reject('too_large', kind);
    if (!COMPACT_JWS.test(token)) throw reject('malformed', kind);
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw reject('malformed', kind, cause);
    }
    checkHeader(header, typ, kind);
    try {
      const result = await jwtVerify(token, key.publicKey, {
        algorithms: ['EdDSA'],
        issuer,
        audience,
        typ,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        // maxTokenAge also rejects an iat in the future (jose only checks iat when it is set).
        maxTokenAge: ttl,
        currentDate: new Date(clock.now()),
      });
      checkHeader(result.protectedHeader, typ, kind);
      return result.payload;
    } catch (error) {
      if (error instanceof SwitchboardError) throw error;
      throw reject(reasonForJoseError(error), kind, error);
    }
  }

  return Object.freeze({
    keyId: key.kid,
    publicJwk: () => key.publicJwk,

    async issueAccessToken(input: AccessTokenInput) {
      const parsed = AccessTokenInputSchema.safeParse(input);
      if (!parsed.success) throw new SwitchboardError('internal', 'Refusing to issue an access token for invalid claims');
      const { userId, tenantId, role, sessionId } = parsed.data;
      const claims: JWTPayload = { tid: tenantId, role, ...(sessionId === undefined ? {} : { sid: sessionId }) };
      const { token, expiresAt } = await sign(ACCESS_TOKEN_TYP, userId, claims, accessTtl);
      return { token, expiresAt };
    },

    async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
      const payload = await verify(token, ACCESS_TOKEN_TYP, accessTtl, 'access');
      const claims = AccessClaimsSchema.safeParse(payload);
      if (!claims.success) throw reject('bad_claims', 'access');
      const { sub, tid, role, jti, sid, exp } = claims.data;
      return {
        userId: sub,
        tenantId: tid,
        role,
        jti,
        ...(sid === undefined ? {} : { sessionId: sid }),
        expiresAt: new Date(exp * 1000),
      };
    },

    async issueWsTicket(input: WsTicketInput) {
      const parsed = WsTicketInputSchema.safeParse(input);
      if (!parsed.success) throw new SwitchboardError('internal', 'Refusing to issue a WebSocket ticket for invalid claims');
      const { userId, tenantId, sessionId } = parsed.data;
      const claims: JWTPayload = { tid: tenantId, ...(sessionId === undefined ? {} : { sid: sessionId }) };
      const { token, jti, expiresAt } = await sign(WS_TICKET_TYP, userId, claims, ticketTtl);
      return { ticket: token, jti, expiresAt };
    },

    async verifyWsTicket(ticket: string): Promise<WsTicketClaims> {
      const payload = await verify(ticket, WS_TICKET_TYP, ticketTtl, 'ws_ticket');
      const claims = WsTicketClaimsSchema.safeParse(payload);
      if (!claims.success) throw reject('bad_claims', 'ws_ticket');
      const { sub, tid, jti, sid, exp } = claims.data;
      return { userId: sub, tenantId: tid, jti, ...(sid === undefined ? {} : { sessionId: sid }), expiresAt: new Date(exp * 1000) };
    },

    async issueMfaToken(input: MfaTokenInput) {
      const parsed = MfaTokenInputSchema.safeParse(input);
      if (!parsed.success) throw new SwitchboardError('internal', 'Refusing to issue an mfa token for invalid claims');
      const { userId, tenantId, purpose } = parsed.data;
      return sign(MFA_TOKEN_TYP, userId, { tid: tenantId, pur: purpose }, mfaTtl);
    },

    async verifyMfaToken(token: string): Promise<MfaTokenClaims> {
      const payload = await verify(token, MFA_TOKEN_TYP, mfaTtl, 'mfa');
      const claims = MfaClaimsSchema.safeParse(payload);
      if (!claims.success) throw reject('bad_claims', 'mfa');
      const { sub, tid, pur, jti, exp } = claims.data;
      return { userId: sub, tenantId: tid, purpose: pur, jti, expiresAt: new Date(exp * 1000) };
    },
  });
}
