/**
 * Sign-ins in flight (table `oidc_flows`): started, state spent once at the callback, then a
 * one-time hand-off the page exchanges for the usual sign-in answer. Every state change is one
 * conditional UPDATE, so two concurrent uses of the same state or hand-off cannot both succeed.
 * Digests only: no state, verifier, nonce or hand-off secret is stored.
 */
import type { Queryable } from '../../store/db.ts';
import type { OidcProviderId } from './providers.ts';

/** A new flow. */
export interface NewFlow {
  readonly stateHash: Buffer;
  readonly provider: OidcProviderId;
  readonly tenantSlug: string | null;
  readonly now: Date;
  readonly expiresAt: Date;
}

/** Records a started flow. */
export async function insertFlow(q: Queryable, flow: NewFlow): Promise<void> {
  await q.query(
    'INSERT INTO oidc_flows (state_hash, provider, tenant_slug, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [flow.stateHash, flow.provider, flow.tenantSlug, flow.now, flow.expiresAt],
  );
}

/** Why a state could not be spent. */
export type StateRefusal = 'state_unknown' | 'state_reused' | 'state_expired';

/**
 * Spends a flow's state: succeeds once, for the provider it was started with, before it expires.
 * Returns the tenant the sign-in named (null: any), or why it was refused.
 */
export async function spendState(
  q: Queryable,
  stateHash: Buffer,
  provider: OidcProviderId,
  now: Date,
): Promise<{ readonly tenantSlug: string | null } | { readonly refused: StateRefusal }> {
  const spent = await q.query<{ tenant_slug: string | null }>(
    `UPDATE oidc_flows SET callback_at = $3
     WHERE state_hash = $1 AND provider = $2 AND callback_at IS NULL AND expires_at > $3
     RETURNING tenant_slug`,
    [stateHash, provider, now],
  );
  const row = spent.rows[0];
  if (row) return { tenantSlug: row.tenant_slug };
  // Only to say why, for the audit log; the answer to the browser is the same.
  const found = await q.query<{ provider: string; callback_at: Date | null; expires_at: Date }>(
    'SELECT provider, callback_at, expires_at FROM oidc_flows WHERE state_hash = $1',
    [stateHash],
  );
  const existing = found.rows[0];
  if (!existing || existing.provider !== provider) return { refused: 'state_unknown' };
  return { refused: existing.callback_at !== null ? 'state_reused' : 'state_expired' };
}

/** After a successful callback: who was proved, and the digest of the page's one-time hand-off. */
export async function attachHandoff(q: Queryable, stateHash: Buffer, userId: string, handoffHash: Buffer, expiresAt: Date): Promise<void> {
  await q.query(
    'UPDATE oidc_flows SET user_id = $2, handoff_hash = $3, handoff_expires_at = $4 WHERE state_hash = $1 AND callback_at IS NOT NULL',
    [stateHash, userId, handoffHash, expiresAt],
  );
}

/** Uses a hand-off: once, before it expires. Returns the user and provider, or undefined. */
export async function completeHandoff(
  q: Queryable,
  handoffHash: Buffer,
  now: Date,
): Promise<{ readonly userId: string; readonly provider: OidcProviderId } | undefined> {
  const result = await q.query<{ user_id: string; provider: OidcProviderId }>(
    `UPDATE oidc_flows SET completed_at = $2
     WHERE handoff_hash = $1 AND completed_at IS NULL AND handoff_expires_at > $2
     RETURNING user_id, provider`,
    [handoffHash, now],
  );
  const row = result.rows[0];
  return row ? { userId: row.user_id, provider: row.provider } : undefined;
}

/** Deletes flows whose state and hand-off have both expired (bounded per call); returns how many. */
export async function pruneFlows(q: Queryable, now: Date, limit = 500): Promise<number> {
  const result = await q.query(
    `DELETE FROM oidc_flows WHERE state_hash IN (
       SELECT state_hash FROM oidc_flows
       WHERE expires_at <= $1 AND (handoff_expires_at IS NULL OR handoff_expires_at <= $1)
       LIMIT $2)`,
    [now, limit],
  );
  return result.rowCount ?? 0;
}
