/**
 * The sweeper: Postgres is the source of truth, Redis can lose jobs (a restart without AOF, a
 * failover). Every interval it re-enqueues inbound events and outbox rows that should have moved
 * on by now. Job ids equal row ids, so a job that still exists is not duplicated.
 */
import type { Logger } from '../../src/core/logger.ts';
import type { Metrics } from '../../src/core/metrics.ts';
import type { Platform } from '../../src/core/envelope.ts';
import type { Db } from '../../src/store/db.ts';
import { listStaleInboundEvents, touchInboundEvents } from '../../src/store/inbound-events.ts';
import { listStaleOutbox, touchOutbox } from '../../src/store/outbox.ts';

/** What the sweeper needs. */
export interface SweeperDeps {
  readonly db: Db;
  readonly enqueueAgent: (eventId: string) => Promise<void>;
  readonly enqueueOutbound: (platform: Platform, outboxId: string) => Promise<void>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly staleAfterMs: number;
  readonly outboxLeaseMs: number;
  readonly batchSize?: number;
}

/** One sweep; returns how many rows were re-enqueued. Rows whose enqueue fails wait for the next sweep. */
export async function sweepOnce(deps: SweeperDeps): Promise<{ events: number; outbox: number }> {
  const batch = deps.batchSize ?? 500;
  const events = await listStaleInboundEvents(deps.db, deps.staleAfterMs, batch);
  const requeuedEvents: string[] = [];
  for (const id of events) {
    try {
      await deps.enqueueAgent(id);
      requeuedEvents.push(id);
    } catch {
      break; // Redis is still down; try again next sweep.
    }
  }
  await touchInboundEvents(deps.db, requeuedEvents);

  const rows = await listStaleOutbox(deps.db, deps.staleAfterMs, deps.outboxLeaseMs, batch);
  const requeuedOutbox: string[] = [];
  for (const row of rows) {
    try {
      await deps.enqueueOutbound(row.platform, row.id);
      requeuedOutbox.push(row.id);
    } catch {
      break;
    }
  }
  await touchOutbox(deps.db, requeuedOutbox);

  deps.metrics.sweeperRequeuedTotal.inc({ kind: 'inbound_event' }, requeuedEvents.length);
  deps.metrics.sweeperRequeuedTotal.inc({ kind: 'outbox' }, requeuedOutbox.length);
  if (requeuedEvents.length + requeuedOutbox.length > 0) {
    deps.log.info({ events: requeuedEvents.length, outbox: requeuedOutbox.length }, 'sweeper re-enqueued stale work');
  }
  return { events: requeuedEvents.length, outbox: requeuedOutbox.length };
}

/** Runs `sweepOnce` every `intervalMs` until stopped; one sweep at a time. */
export function startSweeper(deps: SweeperDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await sweepOnce(deps);
      } catch (err) {
        deps.log.warn({ err }, 'sweep failed; will retry');
      }
    });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
