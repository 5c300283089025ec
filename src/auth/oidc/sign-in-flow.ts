/**
 * Sign-in with Google or GitHub, from the button to the usual sign-in answer:
 *
 *   start     → a binding secret for the browser's cookie, a flow row (SHA-256 of the state, TTL),
 *               and the provider's authorization URL (state, S256 PKCE challenge, nonce for OIDC);
 *   callback  → the state must be derived from the cookie the browser sent back (bound to the
 *               browser), then it is spent (single use, before it expires); the provider redeems
 *               the code with the PKCE verifier and identifies the person; the identity resolves
 *               to a user (identity-linking.ts); a one-time hand-off (60 s) is recorded for the page;
 *   complete  → the page, same-origin, trades the hand-off for exactly what a password sign-in
 *               answers: `signIn.afterFirstFactor(user, 'oidc')` gives a session or the 2FA step.
 *
 * The session is not created during the provider's redirect, so no session credential ever rides
 * in a URL, and the page that receives it is our own (same-origin POST with the CSRF header).
 * Every refusal is audited (`auth.oidc_login_failed` with its reason) and nothing is created by
 * one; a success is audited as `auth.oidc_login` (then `auth.login` when the session starts).
 */
import type { Clock } from '../../core/clock.ts';
import { SwitchboardError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Db } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import { getUser } from '../../store/users.ts';
import type { SignIn, SignInOutcome } from '../sign-in.ts';
import type { RequestContext } from '../two-factor.ts';
import { deriveFlowSecrets, isBindingShaped, isHandoffShaped, newBinding, newHandoff, sameSecret, sha256 } from './flow-secrets.ts';
import { attachHandoff, completeHandoff, insertFlow, pruneFlows, spendState } from './flow-store.ts';
import { resolveUser } from './identity-linking.ts';
import type { ProviderClient } from './provider-client.ts';
import type { OidcProviderId, OidcSettings } from './providers.ts';
import { describeProviderError, refusal, refusalOf, type RefusalFacts, type SignInRefusal } from './refusals.ts';

/** How long the page has to pick up a completed callback. */
export const HANDOFF_TTL_SECONDS = 60;

/** What the flow needs. */
export interface OidcSignInDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: OidcSettings;
  readonly clients: ReadonlyMap<OidcProviderId, ProviderClient>;
  readonly signIn: Pick<SignIn, 'afterFirstFactor'>;
  readonly log?: Pick<Logger, 'warn'>;
}

/** A started sign-in: where to send the browser and what its cookie holds. */
export interface StartedSignIn {
  readonly authorizationUrl: URL;
  readonly binding: string;
  readonly maxAgeSeconds: number;
}

/** How a callback ended. */
export type CallbackOutcome =
  | { readonly kind: 'proved'; readonly handoff: string; readonly maxAgeSeconds: number }
  | { readonly kind: 'refused'; readonly reason: SignInRefusal };

/** What the callback received. */
export interface CallbackInput {
  /** The provider's query parameters, as received. */
  readonly params: URLSearchParams;
  /** The binding cookie the browser sent back, if any. */
  readonly binding: string | undefined;
}

/** Builds the flow. */
export function createOidcSignIn(deps: OidcSignInDeps) {
  const { db, clock, settings, clients } = deps;
  const now = () => new Date(clock.now());

  function clientFor(provider: OidcProviderId): ProviderClient {
    const client = clients.get(provider);
    if (!client) throw new SwitchboardError('not_found', 'This sign-in provider is not configured');
    return client;
  }

  async function auditRefusal(
    provider: OidcProviderId,
    reason: SignInRefusal,
    ctx: RequestContext,
    who: { tenantId?: string; userId?: string } = {},
    facts: RefusalFacts = {},
  ): Promise<void> {
    await appendAudit(db, {
      ...(who.tenantId === undefined ? {} : { tenantId: who.tenantId }),
      ...(who.userId === undefined ? {} : { actorId: who.userId }),
      actorType: 'user',
      action: 'auth.oidc_login_failed',
      ...ctx,
      details: { provider, reason, ...facts },
    });
  }

  /** The callback's work; every refusal is thrown and audited by the caller. */
  async function prove(provider: OidcProviderId, input: CallbackInput, ctx: RequestContext): Promise<CallbackOutcome> {
    const client = clientFor(provider);
    if (!isBindingShaped(input.binding)) throw refusal('state_missing');
    const secrets = deriveFlowSecrets(input.binding);
    const state = input.params.get('state');
    if (state === null || !sameSecret(state, secrets.state)) throw refusal('state_mismatch');
    const spent = await spendState(db, secrets.stateHash, provider, now());
    if ('refused' in spent) throw refusal(spent.refused);
    const providerError = input.params.get('error');
    if (providerError !== null) throw refusal('provider_denied', describeProviderError({ error: providerError }));

    const redirectUri = settings[provider]?.redirectUri;
    if (redirectUri === undefined) throw new SwitchboardError('not_found', 'This sign-in provider is not configured');
    const callbackUrl = new URL(redirectUri);
    for (const [key, value] of input.params) callbackUrl.searchParams.append(key, value);
    const identity = await client.identify(callbackUrl, secrets);

    const linked = await resolveUser(db, identity, spent.tenantSlug, now(), ctx);
    if (linked.kind === 'refused') {
      await auditRefusal(provider, linked.reason, ctx, linked, { subject: identity.subject });
      return { kind: 'refused', reason: linked.reason };
    }
    const handoff = newHandoff();
    await attachHandoff(db, secrets.stateHash, linked.user.id, handoff.hash, new Date(clock.now() + HANDOFF_TTL_SECONDS * 1000));
    await appendAudit(db, {
      tenantId: linked.user.tenantId,
      actorType: 'user',
      actorId: linked.user.id,
      action: 'auth.oidc_login',
      targetType: 'oauth_identity',
      targetId: linked.identityId,
      ...ctx,
      details: { provider, subject: identity.subject, how: linked.how },
    });
    return { kind: 'proved', handoff: handoff.token, maxAgeSeconds: HANDOFF_TTL_SECONDS };
  }

  return {
    /** Starts a sign-in; `tenantSlug` narrows it to one tenant (for emails present in several). */
    async start(provider: OidcProviderId, tenantSlug: string | null): Promise<StartedSignIn> {
      const client = clientFor(provider);
      // Expired flows are deleted here, a bounded batch at a time, so the table stays small.
      await pruneFlows(db, now()).catch((err: unknown) => deps.log?.warn({ err }, 'pruning expired sign-in flows failed'));
      const binding = newBinding();
      const secrets = deriveFlowSecrets(binding);
      const authorizationUrl = await client.authorizationUrl(secrets);
      const started = now();
      await insertFlow(db, {
        stateHash: secrets.stateHash,
        provider,
        tenantSlug,
        now: started,
        expiresAt: new Date(started.getTime() + settings.flowTtlSeconds * 1000),
      });
      return { authorizationUrl, binding, maxAgeSeconds: settings.flowTtlSeconds };
    },

    /** Handles the provider's redirect back; refusals are audited and returned, never thrown. */
    async callback(provider: OidcProviderId, input: CallbackInput, ctx: RequestContext): Promise<CallbackOutcome> {
      clientFor(provider);
      try {
        return await prove(provider, input, ctx);
      } catch (err) {
        const known = refusalOf(err);
        if (!known) throw err;
        await auditRefusal(provider, known.reason, ctx, {}, known.facts);
        return { kind: 'refused', reason: known.reason };
      }
    },

    /** Trades the page's hand-off for the sign-in outcome (a session, or the 2FA step). */
    async complete(handoff: string | undefined, ctx: RequestContext): Promise<SignInOutcome> {
      const gone = () => new SwitchboardError('unauthenticated', 'This sign-in has expired or was already completed. Please sign in again.');
      if (!isHandoffShaped(handoff)) throw gone();
      const done = await completeHandoff(db, sha256(handoff), now());
      if (!done) throw gone();
      const user = await getUser(db, done.userId);
      // Disabled (or deleted) during the last seconds: refused like any other sign-in.
      if (!user || user.disabled) {
        await auditRefusal(done.provider, 'user_disabled', ctx, user ? { tenantId: user.tenantId, userId: user.id } : {});
        throw gone();
      }
      return deps.signIn.afterFirstFactor(user, 'oidc', ctx);
    },
  };
}

/** The Google/GitHub sign-in flow. */
export type OidcSignIn = ReturnType<typeof createOidcSignIn>;
