/**
 * The retention job: deletes what is past its time, in short batches, on the injected Clock.
 * Messages (with their outbox rows) after the tenant's retention_days; the sealed originals of PII
 * messages after pii_retention_days (the redacted text stays); finished inbound events (dedupe rows)
 * after the tenant's retention but never sooner than the platforms' retry horizon; expired or
 * revoked sessions, WebSocket tickets and sign-in challenges after a grace period; audit rows after
 * their category's retention, from the oldest end of each chain, moving its anchor. Every run is
 * audited with its counts. A Redis lease makes one process in the fleet run it per interval.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Db } from '../../src/store/db.ts';
import { AUDIT_CATEGORIES, appendAudit, listAuditChainsByCategory, pruneAuditChain, type AuditCategory } from '../../src/store/audit.ts';
import {
  clearExpiredPiiOriginals,
  deleteExpiredInboundEvents,
  deleteExpiredMessages,
  deleteExpiredOptionalRows,
  deleteExpiredWsTickets,
  listTenantRetention,
  type OptionalRetentionTable,
} from '../../src/store/retention.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Periods and batch size (from config). */
export interface RetentionSettings {
  readonly batchSize: number;
  readonly dedupeMinDays: number;
  readonly expiredGraceHours: number;
  readonly auditSecurityDays: number;
  readonly auditAccessDays: number;
}

/** What a run needs. */
export interface RetentionDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: RetentionSettings;
}

/** Rows removed (or, for pii_originals, cleared) per table. */
export interface RetentionCounts {
  messages: number;
  outbox: number;
  pii_originals: number;
  inbound_events: number;
  ws_tickets: number;
  sessions: number;
  mfa_challenges: number;
  audit_log: number;
}

/** The outcome of one run; the same facts go to the audit log as `retention.run`. */
export interface RetentionReport {
  readonly at: string;
  readonly counts: RetentionCounts;
  readonly tenants: number;
  /** Optional tables not present in this database. */
  readonly absent: string[];
  /** Steps that failed (logged; the rest of the run went on). */
  readonly failed: string[];
}

/** Runs `batch` until it returns fewer than `limit` rows; returns the total. */
async function drain(batch: () => Promise<number>, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await batch();
    total += n;
    if (n < limit) return total;
  }
}

const emptyCounts = (): RetentionCounts => ({
  messages: 0,
  outbox: 0,
  pii_originals: 0,
  inbound_events: 0,
  ws_tickets: 0,
  sessions: 0,
  mfa_challenges: 0,
  audit_log: 0,
});

/** One run over every tenant and table. Failed steps are logged and reported; the run goes on. */
export async function runRetention(deps: RetentionDeps): Promise<RetentionReport> {
  const { db, settings, log } = deps;
  const limit = settings.batchSize;
  const nowMs = deps.clock.now();
  const now = new Date(nowMs);
  const daysAgo = (days: number) => new Date(nowMs - days * DAY_MS);
  const counts = emptyCounts();
  const failed: string[] = [];
  const absent: string[] = [];
  const step = async (name: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      failed.push(name);
      log.warn({ err, step: name }, 'retention step failed; the rest of the run goes on');
    }
  };

  const tenants = await listTenantRetention(db);
  for (const tenant of tenants) {
    const own = emptyCounts();
    await step(`messages:${tenant.tenantId}`, async () => {
      const cutoff = daysAgo(tenant.retentionDays);
      for (;;) {
        const gone = await deleteExpiredMessages(db, tenant.tenantId, cutoff, limit);
        own.messages += gone.messages;
        own.outbox += gone.outbox;
        if (gone.messages < limit) break;
      }
    });
    await step(`pii_originals:${tenant.tenantId}`, async () => {
      const cutoff = daysAgo(tenant.piiRetentionDays);
      own.pii_originals += await drain(() => clearExpiredPiiOriginals(db, tenant.tenantId, cutoff, limit), limit);
    });
    await step(`inbound_events:${tenant.tenantId}`, async () => {
      // Dedupe rows must outlive every platform's retries, whatever the tenant's retention.
      const cutoff = daysAgo(Math.max(tenant.retentionDays, settings.dedupeMinDays));
      own.inbound_events += await drain(() => deleteExpiredInboundEvents(db, tenant.tenantId, cutoff, limit), limit);
    });
    for (const key of ['messages', 'outbox', 'pii_originals', 'inbound_events'] as const) counts[key] += own[key];
    if (own.messages + own.pii_originals + own.inbound_events > 0) {
      await step(`audit:${tenant.tenantId}`, () =>
        appendAudit(db, {
          tenantId: tenant.tenantId,
          actorType: 'system',
          action: 'retention.applied',
          targetType: 'tenant',
          targetId: tenant.tenantId,
          details: {
            messages: own.messages,
            outbox: own.outbox,
            pii_originals: own.pii_originals,
            inbound_events: own.inbound_events,
            retention_days: tenant.retentionDays,
            pii_retention_days: tenant.piiRetentionDays,
          },
          at: now,
        }),
      );
    }
  }

  const expiredBefore = new Date(nowMs - settings.expiredGraceHours * HOUR_MS);
  await step('ws_tickets', async () => {
    counts.ws_tickets += await drain(() => deleteExpiredWsTickets(db, expiredBefore, limit), limit);
  });
  for (const table of ['sessions', 'mfa_challenges'] as const satisfies readonly OptionalRetentionTable[]) {
    await step(table, async () => {
      let total = 0;
      for (;;) {
        const n = await deleteExpiredOptionalRows(db, table, expiredBefore, limit);
        if (n === null) {
          absent.push(table);
          return;
        }
        total += n;
        if (n < limit) break;
      }
      counts[table] += total;
    });
  }

  const auditDays: Record<AuditCategory, number> = {
    security: settings.auditSecurityDays,
    access: settings.auditAccessDays,
  };
  for (const category of AUDIT_CATEGORIES) {
    const cutoff = daysAgo(auditDays[category]);
    const chains = await listAuditChainsByCategory(db, category).catch((err: unknown) => {
      log.warn({ err, category }, 'could not list audit chains');
      failed.push(`audit_log:${category}`);
      return [];
    });
    for (const chain of chains) {
      await step(`audit_log:${chain}`, async () => {
        counts.audit_log += await drain(() => pruneAuditChain(db, chain, cutoff, limit, now), limit);
      });
    }
  }

  const report: RetentionReport = { at: now.toISOString(), counts, tenants: tenants.length, absent, failed };
  await appendAudit(db, {
    actorType: 'system',
    action: 'retention.run',
    details: { ...counts, tenants: tenants.length, absent, failed: failed.slice(0, 50) },
    at: now,
  });
  log.info({ counts, failed: failed.length }, 'retention run finished');
  return report;
}

/** The fleet-wide schedule. */
export interface RetentionScheduleOptions {
  readonly redis: Redis;
  /** Redis key of the lease (under the queue prefix). */
  readonly leaseKey: string;
  readonly intervalMs: number;
  /** Delay of the first attempt after start (default: the smaller of a minute and the interval). */
  readonly firstDelayMs?: number;
}

// Extends the lease only while this process still holds it.
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Tries every interval to take the lease (SET NX PX interval) and runs when it gets it. The lease is
 * kept, not released, after a run: nobody else runs until the interval has passed, across restarts
 * too. A long run renews it. Returns `stop` (waits for a run in progress) and `tick` (one attempt;
 * true when this process ran).
 */
export function startRetention(
  deps: RetentionDeps,
  options: RetentionScheduleOptions,
): { stop(): Promise<void>; tick(): Promise<boolean> } {
  let running: Promise<boolean> = Promise.resolve(false);
  let stopped = false;

  const attempt = async (): Promise<boolean> => {
    if (stopped) return false;
    const token = randomUUID();
    const taken = await options.redis.set(options.leaseKey, token, 'PX', options.intervalMs, 'NX');
    if (taken !== 'OK') return false;
    const renew = setInterval(() => {
      options.redis.eval(RENEW_SCRIPT, 1, options.leaseKey, token, String(options.intervalMs)).catch(() => undefined);
    }, Math.max(1_000, Math.floor(options.intervalMs / 3)));
    renew.unref();
    try {
      await runRetention(deps);
      return true;
    } finally {
      clearInterval(renew);
    }
  };

  const tick = (): Promise<boolean> => {
    running = running.then(attempt).catch((err: unknown) => {
      deps.log.warn({ err }, 'retention run failed; will retry next interval');
      return false;
    });
    return running;
  };

  const first = setTimeout(() => void tick(), options.firstDelayMs ?? Math.min(60_000, options.intervalMs));
  first.unref();
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    tick,
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}

/** The settings a run takes, from the configuration's RETENTION_* and AUDIT_* values. */
export function retentionSettings(config: {
  readonly RETENTION_BATCH_SIZE: number;
  readonly RETENTION_DEDUPE_MIN_DAYS: number;
  readonly RETENTION_EXPIRED_GRACE_HOURS: number;
  readonly AUDIT_SECURITY_RETENTION_DAYS: number;
  readonly AUDIT_ACCESS_RETENTION_DAYS: number;
}): RetentionSettings {
  return {
    batchSize: config.RETENTION_BATCH_SIZE,
    dedupeMinDays: config.RETENTION_DEDUPE_MIN_DAYS,
    expiredGraceHours: config.RETENTION_EXPIRED_GRACE_HOURS,
    auditSecurityDays: config.AUDIT_SECURITY_RETENTION_DAYS,
    auditAccessDays: config.AUDIT_ACCESS_RETENTION_DAYS,
  };
}
