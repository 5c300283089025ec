/**
 * Reporting limit violations: a metric for every refusal, and an audit event at most once per
 * subject and window, so a client hammering a limit cannot turn the audit log (a serialized,
 * hash-chained table) into the thing that falls over.
 */
import type { Logger } from '../core/logger.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../store/db.ts';
import { appendAudit, type AuditEntry } from '../store/audit.ts';
import type { LimitMetrics, LimitName } from './limit-metrics.ts';
import type { LimiterRedis } from './limiter-redis.ts';

/** Records violations. */
export interface ViolationReporter {
  /**
   * Counts one refusal of `limit` for `subject` (an id or digest, never PII) and audits it unless
   * the same subject was audited for this limit within `onceMs`. Never throws.
   */
  report(limit: LimitName, subject: string, onceMs: number, entry: AuditEntry): Promise<void>;
  /** Audits unconditionally (drops of platform deliveries: each one is data not kept). Never throws. */
  audit(entry: AuditEntry): Promise<void>;
}

/** What the reporter needs. */
export interface ViolationReporterDeps {
  readonly db: Db;
  readonly limiter: LimiterRedis;
  readonly metrics: LimitMetrics;
  readonly clock: Clock;
  readonly log: Logger;
}

const LOCAL_MARKS_MAX = 10_000;

/** Creates the reporter. */
export function createViolationReporter(deps: ViolationReporterDeps): ViolationReporter {
  // Used only while Redis is unreachable: per-process "already audited" marks.
  const localMarks = new Map<string, number>();

  const firstInWindow = async (mark: string, onceMs: number): Promise<boolean> => {
    if (deps.limiter.usable()) {
      try {
        const set = await deps.limiter.redis.set(`${deps.limiter.keyPrefix}audited:${mark}`, '1', 'PX', onceMs, 'NX');
        return set === 'OK';
      } catch {
        // fall through to the local marks
      }
    }
    const now = deps.clock.now();
    const until = localMarks.get(mark);
    if (until !== undefined && until > now) return false;
    if (localMarks.size >= LOCAL_MARKS_MAX) localMarks.clear();
    localMarks.set(mark, now + onceMs);
    return true;
  };

  const audit = async (entry: AuditEntry): Promise<void> => {
    try {
      await appendAudit(deps.db, entry);
    } catch (err) {
      deps.log.warn({ err, action: entry.action }, 'could not audit a rate-limit event');
    }
  };

  return {
    audit,
    report: async (limit, subject, onceMs, entry) => {
      deps.metrics.rejected.inc({ limit });
      if (await firstInWindow(`${limit}:${subject}`, onceMs)) await audit(entry);
    },
  };
}
