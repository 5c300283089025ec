/**
 * Every rate limit and cap, built once per process by the composition root (docs/security/limits.md):
 * - per-user message token bucket (Redis, GCRA): fails open onto a per-process bucket;
 * - sign-in throttling per account and per IP (Redis, rate-limiter-flexible): fails closed;
 * - per-user cap on open sockets (Redis sorted set of expiring slots): fails open onto a per-process cap;
 * - per-conversation cap on unanswered messages (Postgres): first party 429, platforms ack + drop.
 * The Redis-backed ones share one dedicated connection, so they hold across every API process.
 */
import type { Config } from '../../config/load.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Db } from '../store/db.ts';
import type { Ingest } from '../pipeline/ingest.ts';
import type { WebchatService } from '../http/webchat-service.ts';
import { createLimiterRedis, type LimiterRedis } from './limiter-redis.ts';
import { createLimitMetrics, type LimitMetrics, type LimitName } from './limit-metrics.ts';
import { createViolationReporter, type ViolationReporter } from './violations.ts';
import { createTokenBucket, type TokenBucket } from './token-bucket.ts';
import { createLoginThrottle, type LoginThrottle } from './login-throttle.ts';
import { createSocketCap, type SocketCap } from './socket-cap.ts';
import type { InboundSink } from '../core/ports.ts';
import { createConversationCap, type ConversationCap } from './conversation-cap.ts';
import { limitWebchat, type LimitedWebchatService } from './limited-webchat.ts';

export { isDroppedDelivery } from './conversation-cap.ts';
export type { LimitedWebchatService } from './limited-webchat.ts';

/** The settings the limits read (a subset of the config, so tests can pass their own). */
export type RateLimitSettings = Pick<
  Config,
  | 'REDIS_URL'
  | 'QUEUE_PREFIX'
  | 'RATE_LIMIT_MESSAGES_PER_MINUTE'
  | 'RATE_LIMIT_MESSAGE_BURST'
  | 'RATE_LIMIT_LOGIN_ACCOUNT_FAILURES'
  | 'RATE_LIMIT_LOGIN_IP_FAILURES'
  | 'RATE_LIMIT_LOGIN_WINDOW_SECONDS'
  | 'RATE_LIMIT_WS_CONNECTIONS_PER_USER'
  | 'RATE_LIMIT_WS_SLOT_TTL_SECONDS'
  | 'RATE_LIMIT_CONVERSATION_PENDING_MAX'
  | 'RATE_LIMIT_REDIS_TIMEOUT_MS'
>;

/** What the limits need. */
export interface RateLimitDeps {
  readonly settings: RateLimitSettings;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/** The process's limits. */
export interface RateLimits {
  readonly messages: TokenBucket;
  readonly login: LoginThrottle;
  readonly sockets: SocketCap;
  readonly conversations: ConversationCap;
  readonly reporter: ViolationReporter;
  readonly metrics: LimitMetrics;
  /** The sign-in window, for audit de-duplication. */
  readonly loginWindowMs: number;
  /** Ingest for first-party senders (web chat, REST): over the conversation cap → 429. */
  firstPartyIngest(ingest: Ingest): Ingest;
  /**
   * The door for platform adapters (their `sink`): over the conversation cap the delivery is dropped
   * and audited, and `accept` rejects with `rate_limited` + `retryable: false` + `context.dropped`
   * (see `isDroppedDelivery`): acknowledge the platform 2xx, never 429/5xx, and do not retry.
   */
  platformSink(ingest: Ingest): InboundSink;
  /** The web chat service with the message bucket on `submit` and the socket cap as `admit`. */
  limitWebchat(service: WebchatService): LimitedWebchatService;
  /** Releases this process's socket slots and closes the limiter connection. */
  close(): Promise<void>;
}

// Degraded decisions are logged at most this often per limit (each one is still counted).
const DEGRADED_LOG_EVERY_MS = 10_000;

/** Builds every limit on a dedicated Redis connection. */
export function createRateLimits(deps: RateLimitDeps): RateLimits {
  const { settings, clock, log } = deps;
  const limiter: LimiterRedis = createLimiterRedis(settings.REDIS_URL, settings.QUEUE_PREFIX, settings.RATE_LIMIT_REDIS_TIMEOUT_MS, (err) =>
    log.debug({ err }, 'rate-limit redis connection error'),
  );
  const metrics = createLimitMetrics(deps.metrics.registry);
  const reporter = createViolationReporter({ db: deps.db, limiter, metrics, clock, log });

  const lastLogged = new Map<LimitName, number>();
  const degraded = (limit: LimitName, mode: 'open_local' | 'closed') => (err: unknown) => {
    metrics.degraded.inc({ limit, mode });
    const now = clock.now();
    if ((lastLogged.get(limit) ?? -Infinity) + DEGRADED_LOG_EVERY_MS > now) return;
    lastLogged.set(limit, now);
    const message = err instanceof Error ? err.message : 'unknown error';
    log.warn({ limit, mode, reason: message }, mode === 'closed' ? 'rate limiter unavailable; failing closed' : 'rate limiter unavailable; failing open to a per-process limit');
  };

  const messages = createTokenBucket({
    limiter,
    name: 'msg',
    perMinute: settings.RATE_LIMIT_MESSAGES_PER_MINUTE,
    burst: settings.RATE_LIMIT_MESSAGE_BURST,
    clock,
    onDegraded: degraded('messages', 'open_local'),
  });
  const login = createLoginThrottle({
    limiter,
    accountFailures: settings.RATE_LIMIT_LOGIN_ACCOUNT_FAILURES,
    ipFailures: settings.RATE_LIMIT_LOGIN_IP_FAILURES,
    windowSeconds: settings.RATE_LIMIT_LOGIN_WINDOW_SECONDS,
    onUnavailable: degraded('login_ip', 'closed'),
  });
  const sockets = createSocketCap({
    limiter,
    perUser: settings.RATE_LIMIT_WS_CONNECTIONS_PER_USER,
    slotTtlMs: settings.RATE_LIMIT_WS_SLOT_TTL_SECONDS * 1000,
    clock,
    onDegraded: degraded('ws_connections', 'open_local'),
    onRenewFailed: (err) => log.warn({ err }, 'could not renew socket slots'),
  });
  const conversations = createConversationCap({ db: deps.db, max: settings.RATE_LIMIT_CONVERSATION_PENDING_MAX, reporter, metrics });

  return {
    messages,
    login,
    sockets,
    conversations,
    reporter,
    metrics,
    loginWindowMs: settings.RATE_LIMIT_LOGIN_WINDOW_SECONDS * 1000,
    firstPartyIngest: (ingest) => conversations.firstParty(ingest),
    platformSink: (ingest) => conversations.platform(ingest),
    limitWebchat: (service) => limitWebchat(service, { messages, sockets, reporter }),
    close: async () => {
      await sockets.close();
      limiter.close();
    },
  };
}
