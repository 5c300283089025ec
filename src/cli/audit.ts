/** `switchboard audit verify`: recomputes every audit chain; exit 0 when intact, 1 with the first broken row per chain. */
import { z } from 'zod';
import { loadConfig } from '../../config/load.ts';
import { SwitchboardError } from '../core/errors.ts';
import { createDb, type Db } from '../store/db.ts';
import { verifyAuditLog, type AuditVerifyResult } from '../security/audit-chain.ts';

const OptionsSchema = z.strictObject({
  tenant: z
    .string()
    .max(100)
    .regex(/^(?:[0-9a-fA-F-]{36}|[a-z0-9][a-z0-9-]{0,62})$/, 'a tenant id or slug')
    .optional(),
  json: z.boolean().optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tenant id as given, or the id of the tenant with that slug. Ids of deleted tenants still work. */
async function resolveTenant(db: Db, tenant: string): Promise<string> {
  if (UUID.test(tenant)) return tenant.toLowerCase();
  const found = await db.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [tenant]);
  const id = found.rows[0]?.id;
  if (id === undefined) throw new SwitchboardError('not_found', `No tenant with slug ${tenant}`);
  return id;
}

/** Human-readable report: one line per chain, then a verdict. */
function render(result: AuditVerifyResult): string {
  const lines = result.chains.map((c) => {
    if (c.broken !== null) {
      const at = c.broken.rowId === null ? '' : ` at row ${c.broken.rowId}${c.broken.seq === null ? '' : ` (seq ${c.broken.seq})`}`;
      return `BROKEN  ${c.chain}${at}: ${c.broken.reason}: ${c.broken.detail}`;
    }
    const anchor = c.anchorSeq === null ? '' : `, pruned through seq ${c.anchorSeq}`;
    return `OK      ${c.chain}: ${c.rows} row(s)${anchor}, head seq ${c.headSeq ?? '0'} ${c.headHash ?? ''}`.trimEnd();
  });
  const broken = result.breaks.length;
  lines.push(
    broken === 0
      ? `Audit log intact: ${result.chains.length} chain(s), ${result.rows} row(s) verified.`
      : `Audit log BROKEN: ${broken} of ${result.chains.length} chain(s); first broken row ${result.breaks[0]?.rowId ?? '?'}.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Runs the verification and sets the exit code (0 intact, 1 broken). */
export async function runAuditVerify(raw: unknown): Promise<void> {
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const config = loadConfig();
  const db = createDb({ connectionString: config.DATABASE_URL, max: 2, applicationName: 'switchboard-audit-verify' }, () => undefined);
  try {
    const migrated = await db.query<{ ok: boolean }>(`SELECT to_regclass('audit_chain_head') IS NOT NULL AS ok`);
    if (migrated.rows[0]?.ok !== true) {
      throw new SwitchboardError('conflict', 'The database is not migrated to the hash-chained audit log (run: switchboard migrate)');
    }
    const tenantId = parsed.data.tenant === undefined ? undefined : await resolveTenant(db, parsed.data.tenant);
    const result = await verifyAuditLog(db, tenantId === undefined ? {} : { tenantId });
    process.stdout.write(parsed.data.json === true ? `${JSON.stringify(result)}\n` : render(result));
    if (!result.ok) process.exitCode = 1;
  } finally {
    await db.end();
  }
}
