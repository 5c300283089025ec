/** Tenants: who owns the data, and each tenant's PII policy. */
import type { Queryable } from './db.ts';
import type { PII_ACTIONS } from '../core/envelope.ts';

/** A tenant's PII action. */
export type PiiAction = (typeof PII_ACTIONS)[number];

/** The slug of the tenant created on first start. */
export const DEFAULT_TENANT_SLUG = 'default';

/** Returns the id of the tenant with `slug`, creating it with `piiAction` when missing. */
export async function ensureTenant(q: Queryable, slug: string, name: string, piiAction: PiiAction): Promise<string> {
  const result = await q.query<{ id: string }>(
    `INSERT INTO tenants (slug, name, pii_action) VALUES ($1, $2, $3)
     ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
     RETURNING id`,
    [slug, name, piiAction],
  );
  const row = result.rows[0];
  if (!row) throw new Error('tenant upsert returned no row');
  return row.id;
}

/** The tenant's PII action; `undefined` when the tenant does not exist. */
export async function getTenantPiiAction(q: Queryable, tenantId: string): Promise<PiiAction | undefined> {
  const result = await q.query<{ pii_action: PiiAction }>('SELECT pii_action FROM tenants WHERE id = $1', [tenantId]);
  return result.rows[0]?.pii_action;
}

/** Sets the tenant's PII action. */
export async function setTenantPiiAction(q: Queryable, tenantId: string, action: PiiAction): Promise<void> {
  await q.query('UPDATE tenants SET pii_action = $2 WHERE id = $1', [tenantId, action]);
}
