/**
 * The composition root: config → services → HTTP + adapters + workers. Nothing else wires
 * modules together; everything below receives its collaborators as arguments.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Express } from 'express';
import type { Config } from '../config/load.ts';
import { createLogger, type Logger } from './core/logger.ts';
import { systemClock, randomIds, type Clock, type IdSource } from './core/clock.ts';
import { createMetrics, type Metrics } from './core/metrics.ts';
import type { LlmProvider, OutboundAdapter } from './core/ports.ts';
import type { Platform } from './core/envelope.ts';
import { createDb, type Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { createRedis, waitForRedis } from './queue/connection.ts';
import { createProducers, type Producers } from './queue/producers.ts';
import { createBus } from './queue/bus.ts';
import { createVault, parseVaultKeys, type Vault } from './crypto/vault.ts';
import { resolveApiKeyHashKey, resolveSecrets } from './crypto/dev-secrets.ts';
import { createTokenService, type TokenService } from './auth/tokens.ts';
import { createIngest, type Ingest } from './pipeline/ingest.ts';
import { createLlmProvider } from './llm/index.ts';
import { createToolRegistry, currentTimeTool } from './agent/tools.ts';
import { createHttpApp } from './http/app.ts';
import { createTransportServer, loadTlsSettings } from './http/tls.ts';
import { compileTrust } from './http/transport-policy.ts';
import { countSeals, createKeyUsage } from './crypto/key-usage.ts';
import { createHealthRoutes } from './http/routes/health.ts';
import { createApiRouters } from './http/routes/index.ts';
import { createAccessTokenAuthenticator } from './auth/access-authenticator.ts';
import { createApiKeyAuth } from './auth/api-key-authenticator.ts';
import { createWebchatService, type WebchatService } from './http/webchat-service.ts';
import { createRateLimits, type RateLimits } from './security/rate-limits.ts';
import { bootstrapDevelopmentOwner, ensureDefaultTenant } from './bootstrap.ts';
import { createWebchatOutbound } from '../adapters/webchat/outbound.ts';
import { PLATFORM_ADAPTERS, type PlatformAdapterFactory } from '../adapters/index.ts';
import type { PlatformAdapter, PlatformAdapterDeps } from './core/platform.ts';
import { createPacer } from './queue/pacer.ts';
import { createCounterPort, createLockPort } from './queue/locks.ts';
import { createInstallationPort } from './platform/installation-port.ts';
import { findLinkedUser } from './store/installations.ts';
import { appendAudit } from './store/audit.ts';
import { attachWebchatServer, type WebchatServer } from '../adapters/webchat/ws-server.ts';
import { createAgentWorker } from '../workers/agent/worker.ts';
import { createOutboundWorker } from '../workers/outbound/worker.ts';
import { startSweeper } from '../workers/maintenance/sweeper.ts';
import { retentionSettings, startRetention } from '../workers/maintenance/retention.ts';

/** Which parts a process runs. */
export type Role = 'api' | 'worker' | 'all';

/** How to build a Switchboard process. */
export interface SwitchboardOptions {
  readonly config: Config;
  readonly role: Role;
  readonly log?: Logger;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** Replaces the configured LLM provider (the demo records calls; tests use stand-ins). */
  readonly llm?: LlmProvider;
  /** Run migrations on start (default true; the advisory lock makes concurrent starts safe). */
  readonly migrate?: boolean;
  /** Told once when a development owner account is created, with its one-time password. */
  readonly onDevOwnerCreated?: (email: string, password: string) => void;
  /** Disables prom-client's process metrics (several instances in one test process). */
  readonly defaultMetrics?: boolean;
  /** The platform adapters to consider (default: every adapter this build ships). */
  readonly adapterFactories?: readonly PlatformAdapterFactory[];
}

/** The services a running process holds, for the CLI, tests and the demo. */
export interface SwitchboardServices {
  readonly db: Db;
  readonly vault: Vault;
  readonly tokens: TokenService;
  readonly ingest: Ingest;
  readonly producers: Producers;
  readonly metrics: Metrics;
  readonly webchat: WebchatService;
  /** Rate limits and caps; `limits.platformSink(ingest)` is the door for platform adapters. */
  readonly limits: RateLimits;
  readonly llm: LlmProvider;
  readonly log: Logger;
}

/** A built process. */
export interface Switchboard {
  readonly services: SwitchboardServices;
  /** Migrates, bootstraps, listens and starts workers per role. */
  start(): Promise<{ port: number; url: string; tenantId: string }>;
  /** Graceful shutdown: HTTP, sockets, workers (with a deadline), pools. Idempotent. */
  stop(): Promise<void>;
  /** The express app once started (the route inventory test walks its router stack). */
  httpApp(): Express | undefined;
}

/** Builds a process; nothing is started until `start()`. */
export async function createSwitchboard(options: SwitchboardOptions): Promise<Switchboard> {
  const { config, role } = options;
  const log = options.log ?? createLogger({ level: config.LOG_LEVEL });
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });

  const secrets = resolveSecrets(config, (message) => log.warn(message));
  const apiKeyHashKey = resolveApiKeyHashKey(config, (message) => log.warn(message)).key;
  const vaultRing = parseVaultKeys(secrets.vaultKeys);
  // Seals are counted per key (NIST's 2^32 random-IV bound); keyUsage flushes them to vault_keys.
  const vault = countSeals(createVault(vaultRing));
  // TLS files are read now so a bad certificate fails the start, not the first connection.
  const tls = loadTlsSettings(config);
  const trust = compileTrust(config.TRUST_PROXY);
  const requireTls = config.SWITCHBOARD_ENV === 'production' || config.REQUIRE_TLS === true;
  const tokens = await createTokenService({
    privateKeyPem: secrets.jwtPrivateKeyPem,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clock,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    ticketTtlSeconds: config.WS_TICKET_TTL_SECONDS,
    mfaTtlSeconds: config.MFA_TOKEN_TTL_SECONDS,
  });

  const db = createDb({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX }, (err) =>
    log.error({ err }, 'idle database client error'),
  );
  const keyUsage = createKeyUsage({ db, vault, keyIds: [...vaultRing.keys.keys()], sealBudget: config.VAULT_KEY_SEAL_BUDGET, clock, log });
  const producerRedis = createRedis(config.REDIS_URL, 'producer', 'producer');
  producerRedis.on('error', (err) => log.debug({ err }, 'redis producer connection error'));
  const producers = createProducers(producerRedis, config.QUEUE_PREFIX, {
    attempts: config.JOB_ATTEMPTS,
    backoffMs: config.JOB_BACKOFF_MS,
  });
  const subscribers = new Set<ReturnType<typeof createRedis>>();
  const bus = createBus(
    producerRedis,
    () => {
      const subscriber = createRedis(config.REDIS_URL, 'subscriber', 'webchat-bus');
      subscriber.on('error', (err) => log.debug({ err }, 'redis subscriber error'));
      subscribers.add(subscriber);
      return subscriber;
    },
    config.QUEUE_PREFIX,
    'webchat',
    (reason) => log.warn({ reason }, 'dropped malformed bus message'),
  );

  const ingest = createIngest({
    db,
    sealer: vault,
    enqueueAgent: producers.enqueueAgent,
    clock,
    ids,
    metrics,
    log,
    maxChars: config.MESSAGE_MAX_CHARS,
  });
  const limits = createRateLimits({ settings: config, db, clock, log, metrics });
  const webchat = createWebchatService({ db, sealer: vault, tokens, ingest: limits.firstPartyIngest(ingest), bus, clock });
  // The doors people use (REST and the socket): per-user message bucket and socket cap.
  const webchatDoor = limits.limitWebchat(webchat);
  const llm = options.llm ?? createLlmProvider(config, { clock });
  const adapters = new Map<Platform, OutboundAdapter>([['webchat', createWebchatOutbound(bus)]]);
  const platformAdapters: PlatformAdapter[] = [];
  const pacer = createPacer(producerRedis, config.QUEUE_PREFIX);
  const services: SwitchboardServices = { db, vault, tokens, ingest, producers, metrics, webchat, limits, llm, log };

  let server: Server | undefined;
  let httpApp: Express | undefined;
  let socketServer: WebchatServer | undefined;
  let sweeper: { stop(): Promise<void> } | undefined;
  let retention: { stop(): Promise<void> } | undefined;
  const workers: Worker[] = [];
  let workerRedis: ReturnType<typeof createRedis> | undefined;
  let shuttingDown = false;
  let stopping: Promise<void> | undefined;

  const pingRedis = () => producerRedis.ping();
  const refreshQueueGauges = async (): Promise<void> => {
    for (const queue of producers.queues()) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, count] of Object.entries(counts)) metrics.queueJobs.set({ queue: queue.name, state }, count);
    }
  };

  async function start(): Promise<{ port: number; url: string; tenantId: string }> {
    if (options.migrate ?? true) {
      const applied = await migrate(config.DATABASE_URL);
      if (applied.length > 0) log.info({ applied: applied.map((m) => m.version) }, 'database migrated');
    }
    await keyUsage.start();
    const tenantId = await ensureDefaultTenant(db, config.PII_DEFAULT_ACTION);
    if (!(await waitForRedis(producerRedis, 5_000))) {
      // Keep going: messages are still accepted (committed to Postgres) and the sweeper queues them later.
      log.warn('Redis is not reachable yet; accepted messages will be queued once it is');
    }
    if (config.SWITCHBOARD_ENV === 'development' && config.DEV_BOOTSTRAP_OWNER && role !== 'worker') {
      const created = await bootstrapDevelopmentOwner(db, tenantId);
      if (created) options.onDevOwnerCreated?.(created.email, created.password);
    }

    // Platform adapters: enabled when configured; receivers (webhooks, gateways) run in API processes.
    const platformDeps: PlatformAdapterDeps = {
      // Over a conversation's queue cap, deliveries are dropped (audited) with an error adapters acknowledge.
      sink: limits.platformSink(ingest),
      installations: createInstallationPort(db, vault, ids),
      linkedUser: (platform, installationId, platformUserId) => findLinkedUser(db, platform, installationId, platformUserId),
      locks: createLockPort(producerRedis, config.QUEUE_PREFIX),
      counters: createCounterPort(producerRedis, config.QUEUE_PREFIX),
      audit: (entry) => appendAudit(db, { ...entry, actorType: 'platform' }),
      log,
      clock,
      defaultTenantId: tenantId,
      receive: role !== 'worker',
    };
    for (const factory of options.adapterFactories ?? PLATFORM_ADAPTERS) {
      if (!factory.isConfigured(config)) continue;
      const adapter = factory.create(config, platformDeps);
      platformAdapters.push(adapter);
      adapters.set(adapter.platform, adapter);
    }

    const healthRoutes = createHealthRoutes({
      db,
      pingRedis,
      metrics,
      beforeScrape: refreshQueueGauges,
      isShuttingDown: () => shuttingDown,
    });
    const apiKeys = createApiKeyAuth({ db, hashKey: apiKeyHashKey, clock });
    const apiRoutes =
      role === 'worker'
        ? []
        : await createApiRouters({
            config,
            db,
            vault,
            tokens,
            authenticators: [createAccessTokenAuthenticator(tokens, db, clock), apiKeys.authenticate],
            apiKeys,
            webchat: webchatDoor,
            limits,
            bus,
            clock,
            log,
            metrics,
          });
    const app = createHttpApp({
      trust,
      requireTls,
      corsOrigins: config.CORS_ORIGINS,
      hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
      log,
      bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
      jsonMaxDepth: config.HTTP_JSON_MAX_DEPTH,
      rootRoutes: [healthRoutes],
      apiRoutes,
      webhookRoutes:
        role === 'worker'
          ? []
          : platformAdapters.flatMap((a) => (a.webhooks ? [{ platform: a.platform, router: a.webhooks }] : [])),
      oauthRoutes:
        role === 'worker' ? [] : platformAdapters.flatMap((a) => (a.oauth ? [{ platform: a.platform, router: a.oauth }] : [])),
    });
    httpApp = app;
    server = createTransportServer(app, { tls, requireTls, trust });
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    if (role !== 'worker') {
      socketServer = await attachWebchatServer(
        server,
        webchatDoor,
        {
          path: '/ws',
          maxFrameBytes: config.WS_MAX_FRAME_BYTES,
          heartbeatMs: config.WS_HEARTBEAT_MS,
          jsonMaxDepth: config.HTTP_JSON_MAX_DEPTH,
          allowedOrigins: config.PUBLIC_URL === undefined ? [] : [new URL(config.PUBLIC_URL).origin],
          onConnectionCountChange: (count) => metrics.wsConnections.set(count),
        },
        log,
      );
    }
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    const port = (listening.address() as AddressInfo).port;
    await Promise.all(platformAdapters.map((adapter) => adapter.start()));

    if (role !== 'api') {
      workerRedis = createRedis(config.REDIS_URL, 'worker', 'worker');
      workerRedis.on('error', (err) => log.debug({ err }, 'redis worker connection error'));
      const workerOptions = {
        connection: workerRedis,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WORKER_CONCURRENCY,
        lockDurationMs: config.WORKER_LOCK_DURATION_MS,
      };
      workers.push(
        createAgentWorker(
          {
            db,
            sealer: vault,
            provider: llm,
            tools: createToolRegistry([currentTimeTool(clock)]),
            ids,
            clock,
            metrics,
            log,
            adapters,
            enqueueOutbound: producers.enqueueOutbound,
            settings: {
              systemPrompt: config.AGENT_SYSTEM_PROMPT,
              contextMessages: config.AGENT_CONTEXT_MESSAGES,
              maxSteps: config.AGENT_MAX_STEPS,
              maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
            },
          },
          workerOptions,
        ),
      );
      for (const platform of adapters.keys()) {
        workers.push(
          createOutboundWorker(
            platform,
            { db, sealer: vault, adapters, metrics, log, leaseMs: config.OUTBOX_SENDING_LEASE_MS, clock, pacer },
            workerOptions,
          ),
        );
      }
      sweeper = startSweeper(
        {
          db,
          enqueueAgent: producers.requeueAgent,
          enqueueOutbound: producers.requeueOutbound,
          metrics,
          log,
          staleAfterMs: config.SWEEPER_STALE_AFTER_MS,
          outboxLeaseMs: config.OUTBOX_SENDING_LEASE_MS,
        },
        config.SWEEPER_INTERVAL_MS,
      );
      if (config.RETENTION_ENABLED) {
        retention = startRetention(
          { db, clock, log, settings: retentionSettings(config) },
          { redis: producerRedis, leaseKey: `${config.QUEUE_PREFIX}:maintenance:retention-lease`, intervalMs: config.RETENTION_INTERVAL_MS },
        );
      }
    }
    const host = config.HTTP_HOST === '0.0.0.0' || config.HTTP_HOST === '::' ? 'localhost' : config.HTTP_HOST;
    const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info({ role, url, llm: `${llm.name}:${llm.model}` }, 'switchboard started');
    return { port, url, tenantId };
  }

  async function closeWorkers(deadlineMs: number): Promise<void> {
    const graceful = Promise.all(workers.map((w) => w.close())).then(() => 'done' as const);
    const after = (ms: number) =>
      new Promise<'expired'>((resolve) => {
        setTimeout(() => resolve('expired'), ms).unref();
      });
    if ((await Promise.race([graceful, after(deadlineMs)])) === 'done') return;
    // Abort in-flight jobs through their AbortSignals: model calls stop, the jobs are retried elsewhere.
    log.warn({ deadlineMs }, 'workers did not finish in time; cancelling in-flight jobs');
    for (const worker of workers) worker.cancelAllJobs('shutting down');
    if ((await Promise.race([graceful, after(2_000)])) === 'expired') {
      // A job ignoring its signal keeps its lock until it lapses; another worker then recovers it.
      log.error('in-flight jobs ignored cancellation; closing without them');
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      shuttingDown = true;
      const closingHttp = server
        ? new Promise<void>((resolve) => {
            server?.close(() => resolve());
            server?.closeIdleConnections();
          })
        : Promise.resolve();
      await socketServer?.close();
      await limits.close();
      await Promise.all(platformAdapters.map((a) => a.stop().catch((err: unknown) => log.warn({ err, platform: a.platform }, 'adapter stop failed'))));
      await sweeper?.stop();
      await retention?.stop();
      await closeWorkers(config.SHUTDOWN_DEADLINE_MS);
      server?.closeAllConnections();
      await closingHttp;
      await producers.close().catch(() => undefined);
      for (const subscriber of subscribers) subscriber.disconnect();
      workerRedis?.disconnect();
      producerRedis.disconnect();
      await keyUsage.stop();
      await db.end().catch(() => undefined);
      log.info('switchboard stopped');
    })();
    return stopping;
  }

  return { services, start, stop, httpApp: () => httpApp };
}
