/**
 * Who a provider identity signs in as:
 * 1. an identity already linked (provider, subject) signs in its user: the email is not looked at;
 * 2. otherwise a VERIFIED email links the identity to the one existing user with that email
 *    (then rule 1 applies next time); an unverified or missing email links nobody;
 * 3. otherwise, only if a tenant lists the email's domain in its auto-provisioning policy, a new
 *    member account is created and linked; by default no tenant does, and the sign-in is refused.
 * Disabled users, agent accounts (they sign in with API keys only: an agent's email is often a
 * placeholder someone else could register at a provider), and users already linked to a
 * different account at the same provider are refused. Every link and provisioning is audited.
 */
import type { Db } from '../../store/db.ts';
import { isUniqueViolation, withTransaction } from '../../store/db.ts';
import { appendAudit } from '../../store/audit.ts';
import { findUsersForLogin, insertTenantUser, type UserRecord } from '../../store/users.ts';
import { findIdentityOfUser, findLinkedUsers, findProvisioningTenants, insertIdentity, touchIdentity } from '../../store/oauth-identities.ts';
import type { RequestContext } from '../two-factor.ts';
import type { ProviderIdentity } from './provider-client.ts';
import type { SignInRefusal } from './refusals.ts';

/** How the user was found. */
export type LinkKind = 'subject' | 'email' | 'provisioned';

/** The user to sign in, or why there is none (with whom it was about, when known). */
export type LinkOutcome =
  | { readonly kind: 'user'; readonly user: UserRecord; readonly identityId: string; readonly how: LinkKind }
  | { readonly kind: 'refused'; readonly reason: SignInRefusal; readonly tenantId?: string; readonly userId?: string };

function usable(user: UserRecord): SignInRefusal | undefined {
  if (user.disabled) return 'user_disabled';
  if (user.role === 'agent') return 'role_not_allowed';
  return undefined;
}

function refused(reason: SignInRefusal, user?: UserRecord): LinkOutcome {
  return { kind: 'refused', reason, ...(user ? { tenantId: user.tenantId, userId: user.id } : {}) };
}

/** Resolves the identity to a user (linking or provisioning as the rules allow). */
export async function resolveUser(
  db: Db,
  identity: ProviderIdentity,
  tenantSlug: string | null,
  now: Date,
  ctx: RequestContext,
): Promise<LinkOutcome> {
  const audit = (user: UserRecord, action: string, identityId: string, how: LinkKind) =>
    appendAudit(db, {
      tenantId: user.tenantId,
      actorType: 'user',
      actorId: user.id,
      action,
      targetType: 'oauth_identity',
      targetId: identityId,
      ...ctx,
      details: { provider: identity.provider, subject: identity.subject, how },
    });

  const linked = await findLinkedUsers(db, identity.provider, identity.subject, tenantSlug);
  if (linked.length > 1) return refused('ambiguous_account');
  const link = linked[0];
  if (link) {
    const problem = usable(link.user);
    if (problem) return refused(problem, link.user);
    await touchIdentity(db, link.identity.id, now);
    return { kind: 'user', user: link.user, identityId: link.identity.id, how: 'subject' };
  }

  const email = identity.verifiedEmail;
  if (email === undefined) return refused('email_unverified');

  const candidates = await findUsersForLogin(db, email, tenantSlug ?? undefined);
  if (candidates.length > 1) return refused('ambiguous_account');
  const found = candidates[0];
  if (found) {
    const { passwordHash: _unused, ...user } = found;
    const problem = usable(user);
    if (problem) return refused(problem, user);
    // Same subject would have been found above: this is a different account at the provider.
    if (await findIdentityOfUser(db, user.id, identity.provider)) return refused('identity_conflict', user);
    try {
      const created = await insertIdentity(db, { tenantId: user.tenantId, userId: user.id, provider: identity.provider, subject: identity.subject, email, now });
      await audit(user, 'auth.oidc_linked', created.id, 'email');
      return { kind: 'user', user, identityId: created.id, how: 'email' };
    } catch (err) {
      if (isUniqueViolation(err)) return refused('identity_conflict', user);
      throw err;
    }
  }

  const domain = email.slice(email.lastIndexOf('@') + 1);
  const tenants = await findProvisioningTenants(db, domain, tenantSlug);
  if (tenants.length > 1) return refused('ambiguous_account');
  const tenant = tenants[0];
  if (!tenant) return refused('no_account');
  try {
    const { user, identityId } = await withTransaction(db, async (tx) => {
      const created = await insertTenantUser(tx, {
        tenantId: tenant.id,
        email,
        displayName: (identity.displayName?.trim() || email.slice(0, email.indexOf('@'))).slice(0, 200),
        role: 'member',
        // No password: this person signs in through the provider (an admin may set one later).
        passwordHash: null,
      });
      const { createdAt: _c, hasPassword: _h, ...record } = created;
      const linkRow = await insertIdentity(tx, { tenantId: tenant.id, userId: record.id, provider: identity.provider, subject: identity.subject, email, now });
      return { user: record, identityId: linkRow.id };
    });
    await audit(user, 'auth.oidc_user_provisioned', identityId, 'provisioned');
    return { kind: 'user', user, identityId, how: 'provisioned' };
  } catch (err) {
    // A concurrent first sign-in created the same user or link: the person simply tries again.
    if (isUniqueViolation(err)) return refused('identity_conflict');
    throw err;
  }
}
