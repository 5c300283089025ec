/** Liveness, readiness and Prometheus metrics. */
import { Router } from 'express';
import type { Db } from '../../store/db.ts';
import type { Metrics } from '../../core/metrics.ts';

/** What readiness checks and scrapes need. */
export interface HealthDeps {
  readonly db: Db;
  readonly pingRedis: () => Promise<unknown>;
  readonly metrics: Metrics;
  /** Refreshes gauges (queue depth) before a scrape. */
  readonly beforeScrape?: () => Promise<void>;
  readonly isShuttingDown: () => boolean;
}

const withTimeout = async <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/** `GET /healthz`, `GET /readyz`, `GET /metrics`. */
export function createHealthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const check = async (probe: () => Promise<unknown>): Promise<'ok' | 'down'> => {
      try {
        await withTimeout(probe(), 2_000);
        return 'ok';
      } catch {
        return 'down';
      }
    };
    const [postgres, redis] = await Promise.all([check(() => deps.db.query('SELECT 1')), check(deps.pingRedis)]);
    const ready = postgres === 'ok' && redis === 'ok' && !deps.isShuttingDown();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', postgres, redis, shuttingDown: deps.isShuttingDown() });
  });
  router.get('/metrics', async (_req, res) => {
    await deps.beforeScrape?.().catch(() => undefined);
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
