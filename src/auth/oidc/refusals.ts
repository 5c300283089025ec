/**
 * Why a Google/GitHub sign-in was refused: a precise reason for the audit log, and a coarse code
 * for the page (which never learns more than it needs to tell the person what to do).
 */
import { SwitchboardError, isSwitchboardError } from '../../core/errors.ts';

/** Every refusal reason (audit `details.reason` of `auth.oidc_login_failed`). */
export const SIGN_IN_REFUSALS = [
  'state_missing', // no binding cookie came back with the callback (other browser, expired cookie)
  'state_mismatch', // the state in the URL was not derived from this browser's cookie
  'state_unknown', // no such flow (never started here, or pruned)
  'state_reused', // the state was already spent by an earlier callback
  'state_expired', // the flow outlived OIDC_FLOW_TTL_SECONDS
  'provider_denied', // the provider answered with an error (e.g. the person cancelled)
  'provider_unavailable', // discovery or the provider's keys could not be fetched
  'token_rejected', // the token endpoint refused the code (wrong PKCE verifier, reused code, …)
  'id_token_invalid', // signature, alg, iss, aud, exp, iat or nonce check failed
  'profile_unavailable', // GitHub's user API failed or answered something unexpected
  'email_unverified', // no verified email to link by (Google email_verified false, GitHub primary unverified)
  'no_account', // verified, but nobody has that email and no tenant auto-provisions its domain
  'ambiguous_account', // several tenants match; the sign-in must name one (?tenant=)
  'user_disabled',
  'role_not_allowed', // agent accounts sign in with API keys only
  'identity_conflict', // the user is already linked to a different account at this provider
] as const;

/** One of `SIGN_IN_REFUSALS`. */
export type SignInRefusal = (typeof SIGN_IN_REFUSALS)[number];

/** What the page is told after `#oidc-error=`. */
export type PageErrorCode = 'expired' | 'cancelled' | 'failed' | 'unverified_email' | 'no_account' | 'ambiguous' | 'not_allowed';

/** The page code for each reason. */
export const PAGE_ERROR_CODE: Readonly<Record<SignInRefusal, PageErrorCode>> = {
  state_missing: 'expired',
  state_mismatch: 'expired',
  state_unknown: 'expired',
  state_reused: 'expired',
  state_expired: 'expired',
  provider_denied: 'cancelled',
  provider_unavailable: 'failed',
  token_rejected: 'failed',
  id_token_invalid: 'failed',
  profile_unavailable: 'failed',
  email_unverified: 'unverified_email',
  no_account: 'no_account',
  ambiguous_account: 'ambiguous',
  user_disabled: 'not_allowed',
  role_not_allowed: 'not_allowed',
  identity_conflict: 'not_allowed',
};

/** Payload-free facts about a refusal, for the audit log. */
export type RefusalFacts = Readonly<Record<string, string>>;

/** A refusal as an error a provider client throws. */
export function refusal(reason: SignInRefusal, facts: RefusalFacts = {}, cause?: unknown): SwitchboardError {
  return new SwitchboardError('unauthenticated', 'Sign-in with the provider was refused', { context: { reason, ...facts } }, { cause });
}

/** The reason and facts of a refusal error; undefined for any other error. */
export function refusalOf(err: unknown): { reason: SignInRefusal; facts: RefusalFacts } | undefined {
  if (!isSwitchboardError(err, 'unauthenticated')) return undefined;
  const { reason, ...rest } = err.details.context ?? {};
  if (typeof reason !== 'string' || !(SIGN_IN_REFUSALS as readonly string[]).includes(reason)) return undefined;
  const facts: Record<string, string> = {};
  for (const [key, value] of Object.entries(rest)) if (typeof value === 'string') facts[key] = value;
  return { reason: reason as SignInRefusal, facts };
}

const SAFE_TOKEN = /^[A-Za-z0-9_.:-]{1,80}$/;
const SAFE_MESSAGE = /^[A-Za-z0-9 "'()._,:-]{1,160}$/;

/**
 * What a provider library error says, reduced to safe tokens: its code (e.g.
 * OAUTH_JWT_CLAIM_COMPARISON_FAILED), the claim it was about (nonce, iss, aud, exp), and the
 * OAuth `error` the server sent. Never messages, bodies or tokens.
 */
export function describeProviderError(err: unknown): RefusalFacts {
  const facts: Record<string, string> = {};
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const record = current as { code?: unknown; claim?: unknown; error?: unknown; message?: unknown; cause?: unknown };
    if (facts['error'] === undefined && typeof record.code === 'string' && SAFE_TOKEN.test(record.code)) facts['error'] = record.code;
    if (facts['claim'] === undefined && typeof record.claim === 'string' && SAFE_TOKEN.test(record.claim)) facts['claim'] = record.claim;
    if (facts['oauthError'] === undefined && typeof record.error === 'string' && SAFE_TOKEN.test(record.error)) facts['oauthError'] = record.error;
    // The library's messages are fixed texts naming the check ('JWT "nonce" (nonce) claim missing');
    // the deepest one is the most precise. Anything not shaped like such a text is left out.
    if (typeof record.message === 'string' && SAFE_MESSAGE.test(record.message)) facts['detail'] = record.message;
    current = record.cause;
  }
  const named = facts['claim'] === undefined ? /JWT "([a-z_]{2,20})"/.exec(facts['detail'] ?? '')?.[1] : undefined;
  if (named !== undefined) facts['claim'] = named;
  return facts;
}

/**
 * Which refusal a failed code redemption is: the token endpoint said no (its own error body, or
 * an unexpected status), the library's checks failed (any other OAUTH_* code: signature, alg,
 * claims, key selection), or the provider could not be reached (network errors, timeouts).
 */
export function classifyGrantError(code: string | undefined): 'token_rejected' | 'id_token_invalid' | 'provider_unavailable' {
  if (code === 'OAUTH_RESPONSE_BODY_ERROR' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') return 'token_rejected';
  return code?.startsWith('OAUTH_') === true ? 'id_token_invalid' : 'provider_unavailable';
}
