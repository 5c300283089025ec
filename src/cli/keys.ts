/**
 * `switchboard keys status | rotate | retire <id>`: the vault key lifecycle. Run with the same
 * VAULT_KEYS as the application (the new key first). Rotation works while the application runs.
 */
import { z } from 'zod';
import { loadConfig, type Config } from '../../config/load.ts';
import { systemClock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import { createDb, type Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { resolveSecrets } from '../crypto/dev-secrets.ts';
import { createVault, parseVaultKeys, type Vault } from '../crypto/vault.ts';
import { VAULT_KEY_ID_PATTERN } from '../crypto/key-ring.ts';
import { describeKeyRing, type KeyStatus } from '../crypto/key-status.ts';
import { registerRing } from '../crypto/key-usage.ts';
import { retireVaultKey, rotateSealedValues, type RotationProgress } from '../crypto/rotation.ts';

function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

interface KeysContext {
  readonly config: Config;
  readonly db: Db;
  readonly vault: Vault;
  readonly keyIds: readonly string[];
}

async function withKeys<T>(work: (context: KeysContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const secrets = resolveSecrets(config, (message) => process.stderr.write(`${message}\n`));
  const ring = parseVaultKeys(secrets.vaultKeys);
  const vault = createVault(ring);
  await migrate(config.DATABASE_URL);
  const db = createDb({ connectionString: config.DATABASE_URL, max: 3, applicationName: 'switchboard-keys' }, () => undefined);
  try {
    return await work({ config, db, vault, keyIds: [...ring.keys.keys()] });
  } finally {
    await db.end();
  }
}

/** A key's state as `keys status` names it. */
function stateOf(key: KeyStatus): 'active' | 'decrypt-only' | 'retired' | 'not-configured' {
  if (key.active) return 'active';
  if (key.recordedState === 'retired') return 'retired';
  return key.configured ? 'decrypt-only' : 'not-configured';
}

const StatusOptions = z.strictObject({ json: z.boolean().optional() });

/** Prints every key's state, seal count against the budget, and the stored values naming it. */
export async function runKeysStatus(raw: unknown): Promise<void> {
  const options = parseOptions(StatusOptions, raw);
  await withKeys(async ({ config, db, vault, keyIds }) => {
    const status = await describeKeyRing(db, { activeKeyId: vault.activeKeyId, keyIds });
    const budget = config.VAULT_KEY_SEAL_BUDGET;
    const keys = status.keys.map((key) => ({
      keyId: key.keyId,
      state: stateOf(key),
      configured: key.configured,
      recordedState: key.recordedState ?? null,
      sealCount: key.sealCount,
      budgetUsed: key.sealCount / budget,
      references: key.references,
      retirable: !key.active && key.references === 0 && key.recordedState !== 'retired' && key.recordedState !== 'active',
    }));
    const columns = status.columns.map((c) => ({ column: c.name, present: c.present, sealed: c.total, byKey: Object.fromEntries(c.byKey) }));
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ activeKeyId: status.activeKeyId, budget, keys, columns, malformed: status.malformed })}\n`);
      return;
    }
    const lines = [`Vault keys (active: ${status.activeKeyId}; seal budget per key: ${budget})`];
    lines.push(`${'KEY'.padEnd(34)}${'STATE'.padEnd(16)}${'SEALS'.padStart(12)}${'BUDGET'.padStart(9)}${'REFERENCES'.padStart(12)}`);
    for (const key of keys) {
      const note =
        key.state === 'not-configured' && key.references > 0
          ? '  values under this key cannot be opened: add it back to VAULT_KEYS'
          : key.retirable
            ? `  nothing references it: switchboard keys retire ${key.keyId}`
            : key.state === 'retired' && key.configured
              ? '  retired: remove it from VAULT_KEYS'
              : '';
      lines.push(
        `${key.keyId.padEnd(34)}${key.state.padEnd(16)}${String(key.sealCount).padStart(12)}${`${(key.budgetUsed * 100).toFixed(2)}%`.padStart(9)}${String(key.references).padStart(12)}${note}`,
      );
    }
    lines.push('Sealed columns:');
    for (const column of columns) {
      const byKey = Object.entries(column.byKey).map(([id, n]) => `${id} ${n}`).join(', ');
      lines.push(`  ${column.column}: ${column.present ? `${column.sealed} sealed${byKey ? ` (${byKey})` : ''}` : 'not in this database'}`);
    }
    if (status.malformed > 0) lines.push(`WARNING: ${status.malformed} stored value(s) are malformed (name no key)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}

const RotateOptions = z.strictObject({
  batchSize: z.coerce.number().int().min(1).max(10_000).default(500),
  pauseMs: z.coerce.number().int().min(0).max(60_000).default(0),
  json: z.boolean().optional(),
});

/** Re-seals every value not under the active key, in batches; resumable; exit 1 unless all done. */
export async function runKeysRotate(raw: unknown): Promise<void> {
  const options = parseOptions(RotateOptions, raw);
  await withKeys(async ({ db, vault, keyIds }) => {
    // Rotating declares the ring's first key active (and refuses a retired one), as a start would.
    await registerRing(db, { activeKeyId: vault.activeKeyId, keyIds }, new Date(systemClock.now()));
    const abort = new AbortController();
    const onSignal = (): void => {
      process.stderr.write('Stopping after the current batch (run `switchboard keys rotate` again to resume)…\n');
      abort.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let lastPrinted = 0;
    let pending: RotationProgress | undefined;
    const print = (p: RotationProgress): void => {
      process.stdout.write(`${p.column} (pass ${p.pass}): ${p.reencrypted} re-encrypted, ${p.skipped} changed meanwhile, ${p.failed} failed\n`);
    };
    process.stdout.write(`Rotating sealed values to key ${vault.activeKeyId}…\n`);
    try {
      const report = await rotateSealedValues({
        db,
        vault,
        clock: systemClock,
        batchSize: options.batchSize,
        pauseMs: options.pauseMs,
        signal: abort.signal,
        actorId: 'cli',
        onProgress: (p) => {
          pending = p;
          if (Date.now() - lastPrinted >= 1_000) {
            lastPrinted = Date.now();
            print(p);
            pending = undefined;
          }
        },
      });
      if (pending) print(pending);
      const remaining = Object.fromEntries(report.remaining);
      const remainingTotal = [...report.remaining.values()].reduce((a, b) => a + b, 0);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...report, remaining })}\n`);
      } else {
        process.stdout.write(
          `Done in ${report.durationMs} ms over ${report.passes} pass(es): ${report.reencrypted} re-encrypted to ${report.activeKeyId}, ` +
            `${report.skipped} changed meanwhile, ${report.failed} failed; ${remainingTotal} still under other keys` +
            `${remainingTotal > 0 ? ` (${Object.entries(remaining).map(([id, n]) => `${id}: ${n}`).join(', ')})` : ''}.\n`,
        );
        for (const failure of report.failures) process.stdout.write(`  FAILED ${failure.column} row ${failure.rowId}: ${failure.reason}\n`);
      }
      if (report.aborted || report.failed > 0 || remainingTotal > 0) process.exitCode = 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

/** Marks a key retired once nothing references it; it may then be removed from VAULT_KEYS. */
export async function runKeysRetire(keyId: unknown): Promise<void> {
  const id = parseOptions(z.string().regex(VAULT_KEY_ID_PATTERN, 'key id: expected 1-32 of A-Z a-z 0-9 _ -'), keyId);
  await withKeys(async ({ db, vault }) => {
    const result = await retireVaultKey({ db, keyId: id, activeKeyId: vault.activeKeyId, clock: systemClock, actorId: 'cli' });
    process.stdout.write(
      result.alreadyRetired
        ? `Key ${id} was already retired; nothing references it.\n`
        : `Key ${id} retired: nothing references it. Remove it from VAULT_KEYS on every process.\n`,
    );
  });
}
