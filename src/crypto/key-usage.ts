/**
 * Counts seals per vault key and keeps `vault_keys` current. AES-GCM with random 96-bit IVs is
 * safe for 2^32 seals per key (NIST SP 800-38D §8.3); we warn at a configurable, much lower
 * budget so a key is rotated long before that. Counting happens in memory on the hot path (no
 * query per seal) and is flushed every few seconds and at shutdown; a crash loses at most the
 * unflushed seconds of counts, which the budget's margin absorbs.
 */
import type { Logger } from '../core/logger.ts';
import type { Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { Db, Queryable } from '../store/db.ts';
import { addSealCounts, registerKeyRing, type VaultKeyRecord } from '../store/vault-keys.ts';
import type { Vault, VaultAad } from './vault.ts';

/** NIST's ceiling for random-IV AES-GCM invocations under one key. */
export const GCM_RANDOM_IV_SEAL_LIMIT = 2 ** 32;

/** A vault that remembers how many values each key sealed since the counts were last taken. */
export interface CountingVault extends Vault {
  /** Seals per key id since the last call; resets them. */
  takeSealCounts(): Map<string, number>;
  /** Gives back counts that could not be stored, so they are flushed next time. */
  returnSealCounts(counts: ReadonlyMap<string, number>): void;
}

/** Wraps a vault so each seal is counted against the key that made it. */
export function countSeals(vault: Vault): CountingVault {
  let pending = new Map<string, number>();
  const add = (counts: ReadonlyMap<string, number>): void => {
    for (const [id, n] of counts) pending.set(id, (pending.get(id) ?? 0) + n);
  };
  return Object.freeze({
    activeKeyId: vault.activeKeyId,
    seal(plaintext: string | Uint8Array, aad: VaultAad): Buffer {
      const sealed = vault.seal(plaintext, aad);
      pending.set(vault.activeKeyId, (pending.get(vault.activeKeyId) ?? 0) + 1);
      return sealed;
    },
    open: (sealed: Uint8Array, aad: VaultAad) => vault.open(sealed, aad),
    openText: (sealed: Uint8Array, aad: VaultAad) => vault.openText(sealed, aad),
    keyIdOf: (sealed: Uint8Array) => vault.keyIdOf(sealed),
    takeSealCounts(): Map<string, number> {
      const taken = pending;
      pending = new Map();
      return taken;
    },
    returnSealCounts: add,
  });
}

/** What the key-usage recorder needs. */
export interface KeyUsageDeps {
  readonly db: Db;
  readonly vault: CountingVault;
  /** Every key id in VAULT_KEYS (the active one included). */
  readonly keyIds: readonly string[];
  /** Seals per key after which operators are told to rotate. */
  readonly sealBudget: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly flushIntervalMs?: number;
}

/** Registers the key ring at start and flushes seal counts until stopped. */
export interface KeyUsage {
  /** Registers the ring; refuses a retired active key; starts periodic flushing. */
  start(): Promise<void>;
  /** Stores pending counts now. */
  flush(): Promise<void>;
  /** Stops flushing after a last flush. */
  stop(): Promise<void>;
}

/**
 * Records a ring in `vault_keys` (its first key active) and refuses a retired active key: a
 * process still configured with it would otherwise start sealing under a key declared gone.
 */
export async function registerRing(db: Queryable, ring: { activeKeyId: string; keyIds: readonly string[] }, at: Date): Promise<VaultKeyRecord[]> {
  const keys = await registerKeyRing(db, ring, at);
  const active = keys.find((k) => k.keyId === ring.activeKeyId);
  if (active?.state === 'retired') {
    throw new SwitchboardError(
      'config_invalid',
      `VAULT_KEYS: the active key "${active.keyId}" was retired; put a newer key first in VAULT_KEYS`,
      { issues: [{ path: 'VAULT_KEYS', message: `active key ${active.keyId} is retired` }] },
    );
  }
  return keys;
}

/** Creates the recorder; nothing happens until `start()`. */
export function createKeyUsage(deps: KeyUsageDeps): KeyUsage {
  const { db, vault, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let warnedBudget = false;
  let flushing: Promise<void> = Promise.resolve();

  const checkBudget = (keyId: string, count: number): void => {
    if (keyId !== vault.activeKeyId || count < deps.sealBudget || warnedBudget) return;
    warnedBudget = true;
    log.warn(
      { keyId, sealCount: count, budget: deps.sealBudget },
      'the active vault key is past its seal budget: add a new key first in VAULT_KEYS and run `switchboard keys rotate`',
    );
  };

  const flushOnce = async (): Promise<void> => {
    const counts = vault.takeSealCounts();
    if (counts.size === 0) return;
    try {
      const totals = await addSealCounts(db, counts, new Date(deps.clock.now()));
      for (const [keyId, total] of totals) checkBudget(keyId, total);
    } catch (err) {
      vault.returnSealCounts(counts);
      log.warn({ err }, 'could not record vault seal counts; will retry');
    }
  };
  // Serialized so a timer flush and the shutdown flush never add the same counts twice.
  const flush = (): Promise<void> => (flushing = flushing.then(flushOnce));

  return {
    async start() {
      const keys = await registerRing(db, { activeKeyId: vault.activeKeyId, keyIds: deps.keyIds }, new Date(deps.clock.now()));
      const active = keys.find((k) => k.keyId === vault.activeKeyId);
      const retiredInRing = keys.filter((k) => k.state === 'retired' && deps.keyIds.includes(k.keyId)).map((k) => k.keyId);
      if (retiredInRing.length > 0) {
        log.warn({ keyIds: retiredInRing }, 'VAULT_KEYS still holds retired keys; remove them');
      }
      if (active) checkBudget(active.keyId, active.sealCount);
      timer = setInterval(() => void flush(), deps.flushIntervalMs ?? 5_000);
      timer.unref();
    },
    flush,
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
  };
}
