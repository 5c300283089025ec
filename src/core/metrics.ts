/** Prometheus metrics (prom-client), one registry per process, created in the composition root. */
import { Counter, Histogram, Registry, Gauge, collectDefaultMetrics } from 'prom-client';

/** Every instrument Switchboard records. */
export interface Metrics {
  readonly registry: Registry;
  readonly ingestTotal: Counter<'platform' | 'outcome'>;
  readonly ingestSeconds: Histogram<'platform'>;
  readonly piiFindingsTotal: Counter<'type'>;
  readonly enqueueFailuresTotal: Counter<'queue'>;
  readonly sweeperRequeuedTotal: Counter<'kind'>;
  readonly jobsTotal: Counter<'queue' | 'outcome'>;
  readonly llmRequestsTotal: Counter<'provider' | 'outcome'>;
  readonly llmSeconds: Histogram<'provider'>;
  readonly sendTotal: Counter<'platform' | 'outcome'>;
  readonly sendSeconds: Histogram<'platform'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly wsConnections: Gauge;
}

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the registry and instruments; `collectQueueDepth` runs on every scrape. */
export function createMetrics(options: { defaultMetrics: boolean } = { defaultMetrics: true }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
  const registers = [registry];
  return {
    registry,
    ingestTotal: new Counter({
      name: 'switchboard_ingest_total',
      help: 'Inbound messages by outcome (accepted, duplicate, rejected, blocked)',
      labelNames: ['platform', 'outcome'],
      registers,
    }),
    ingestSeconds: new Histogram({
      name: 'switchboard_ingest_seconds',
      help: 'Time from candidate to committed inbound event',
      labelNames: ['platform'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    piiFindingsTotal: new Counter({
      name: 'switchboard_pii_findings_total',
      help: 'PII findings in inbound and outbound text by entity type',
      labelNames: ['type'],
      registers,
    }),
    enqueueFailuresTotal: new Counter({
      name: 'switchboard_enqueue_failures_total',
      help: 'Jobs that could not be enqueued (the sweeper retries them)',
      labelNames: ['queue'],
      registers,
    }),
    sweeperRequeuedTotal: new Counter({
      name: 'switchboard_sweeper_requeued_total',
      help: 'Stale inbound events and outbox rows re-enqueued by the sweeper',
      labelNames: ['kind'],
      registers,
    }),
    jobsTotal: new Counter({
      name: 'switchboard_jobs_total',
      help: 'Jobs processed by outcome (completed, skipped, retried, failed)',
      labelNames: ['queue', 'outcome'],
      registers,
    }),
    llmRequestsTotal: new Counter({
      name: 'switchboard_llm_requests_total',
      help: 'LLM requests by provider and outcome (ok or error code)',
      labelNames: ['provider', 'outcome'],
      registers,
    }),
    llmSeconds: new Histogram({
      name: 'switchboard_llm_seconds',
      help: 'LLM request latency',
      labelNames: ['provider'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    sendTotal: new Counter({
      name: 'switchboard_send_total',
      help: 'Outbound sends by platform and outcome (sent or error code)',
      labelNames: ['platform', 'outcome'],
      registers,
    }),
    sendSeconds: new Histogram({
      name: 'switchboard_send_seconds',
      help: 'Outbound send latency',
      labelNames: ['platform'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'switchboard_queue_jobs',
      help: 'Jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers,
    }),
    wsConnections: new Gauge({
      name: 'switchboard_ws_connections',
      help: 'Open web chat sockets in this process',
      registers,
    }),
  };
}
