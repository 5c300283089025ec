/** Prometheus instruments of the rate limiters, registered on the process's registry. */
import { Counter, type Registry } from 'prom-client';

/** Which limit decided. */
export type LimitName = 'messages' | 'login_ip' | 'login_account' | 'ws_connections' | 'conversation_queue';

/** The limiters' counters. */
export interface LimitMetrics {
  /** Requests refused by a limit. */
  readonly rejected: Counter<'limit'>;
  /** Decisions taken without Redis (fail open on a local limit, or fail closed), by limit. */
  readonly degraded: Counter<'limit' | 'mode'>;
  /** Platform deliveries acknowledged but dropped because their conversation's queue was full. */
  readonly dropped: Counter<'platform' | 'reason'>;
}

/** Creates the counters on `registry` (once per process). */
export function createLimitMetrics(registry: Registry): LimitMetrics {
  const registers = [registry];
  return {
    rejected: new Counter({
      name: 'switchboard_rate_limit_rejected_total',
      help: 'Requests refused by a rate limit or cap',
      labelNames: ['limit'],
      registers,
    }),
    degraded: new Counter({
      name: 'switchboard_rate_limit_degraded_total',
      help: 'Limit decisions taken while the limiter Redis was unreachable (mode: open_local or closed)',
      labelNames: ['limit', 'mode'],
      registers,
    }),
    dropped: new Counter({
      name: 'switchboard_inbound_dropped_total',
      help: 'Platform deliveries acknowledged and dropped by our own back-pressure',
      labelNames: ['platform', 'reason'],
      registers,
    }),
  };
}
