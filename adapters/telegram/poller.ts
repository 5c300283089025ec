/**
 * Long polling (getUpdates) with at-least-once delivery and one poller per bot. Telegram counts an
 * update as confirmed once getUpdates is called with an offset above its id, so the offset we
 * send is always "last COMMITTED update + 1": updates are dispatched one by one, in order, and the
 * offset moves past an update only after the sink committed it. A crash (or an outage) before the
 * commit leaves the update unconfirmed and Telegram hands it out again; ingest dedupes on
 * (bot, update_id). telegraf's own `launch()` polling is not used: it moves its offset when a
 * batch arrives and confirms it on shutdown even when a handler failed.
 *
 * Only the holder of a Redis lease polls (Telegram answers a second concurrent getUpdates with
 * 409); it renews the lease every third of its TTL, and a standby takes over when it lapses.
 */
import type { Logger } from '../../src/core/logger.ts';
import type { AdapterAudit, Lease, LockPort } from '../../src/core/platform.ts';
import { toSwitchboardError } from '../../src/core/errors.ts';
import type { TelegramApi } from './api.ts';
import type { TelegramDispatcher } from './dispatch.ts';
import { TELEGRAM_VERIFIED_BY, updateIdOf } from './normalize.ts';

/** What the poller needs. */
export interface PollerDeps {
  readonly botId: string;
  readonly api: TelegramApi;
  readonly dispatch: TelegramDispatcher;
  readonly locks: LockPort;
  readonly audit: AdapterAudit;
  readonly log: Logger;
  readonly leaseMs: number;
  readonly pollTimeoutSeconds: number;
  /** Bounds waits on Telegram during start and stop. */
  readonly apiTimeoutMs: number;
  /** Runs before the first getUpdates of each lease (learns the bot's identity). */
  readonly prepare: () => Promise<void>;
}

/** The poller's state, for status lines and tests. */
export type PollerState = 'stopped' | 'standby' | 'polling';

/** A long-polling receiver with leader election. */
export interface TelegramPoller {
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): PollerState;
}

/** How often one update may fail to commit before it is given up (audited) so the bot moves on. */
export const MAX_UPDATE_ATTEMPTS = 8;
const BATCH_LIMIT = 100;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

const backoff = (attempt: number): number => Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Creates the poller (nothing polls until `start`). */
export function createTelegramPoller(deps: PollerDeps): TelegramPoller {
  const lockName = `telegram:poll:${deps.botId}`;
  const beatMs = Math.max(200, Math.floor(deps.leaseMs / 3));
  let state: PollerState = 'stopped';
  let lease: Lease | undefined;
  let loop: Promise<void> | undefined;
  let abort: AbortController | undefined;
  let voluntary = false;
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> = Promise.resolve();
  const isRunning = (): boolean => state !== 'stopped';

  /** Dispatches a batch in order; returns the new offset and how long to back off (0 = go on). */
  const handleBatch = async (updates: readonly unknown[], offset: number | undefined, attempts: Map<number, number>, signal: AbortSignal) => {
    const ordered = updates
      .map((update) => ({ update, id: updateIdOf(update) }))
      .filter((u): u is { update: unknown; id: number } => u.id !== undefined)
      .sort((a, b) => a.id - b.id);
    if (ordered.length === 0) {
      deps.log.warn({ count: updates.length }, 'getUpdates returned entries without update ids; waiting');
      return { offset, waitMs: 5_000 };
    }
    let next = offset;
    for (const { update, id } of ordered) {
      if (signal.aborted) break;
      if (next !== undefined && id < next) continue;
      try {
        const outcome = await deps.dispatch(update, TELEGRAM_VERIFIED_BY.polling);
        deps.log.debug({ updateId: id, outcome }, 'Telegram update handled');
      } catch (err) {
        const attempt = (attempts.get(id) ?? 0) + 1;
        const code = toSwitchboardError(err).code;
        if (attempt < MAX_UPDATE_ATTEMPTS) {
          attempts.set(id, attempt);
          // Not committed: the offset stays, so the next getUpdates returns this update again.
          deps.log.warn({ updateId: id, attempt, code }, 'Telegram update not committed; it will be fetched again');
          return { offset: next, waitMs: backoff(attempt) };
        }
        deps.log.error({ updateId: id, attempts: attempt, code }, 'Telegram update failed repeatedly; giving it up');
        await deps.audit({ action: 'telegram.update_given_up', targetType: 'installation', targetId: deps.botId, details: { updateId: id, code, attempts: attempt } }).catch(() => undefined);
      }
      attempts.delete(id);
      next = id + 1;
    }
    return { offset: next, waitMs: 0 };
  };

  const run = async (signal: AbortSignal): Promise<void> => {
    let offset: number | undefined;
    let ready = false;
    let waitMs = 0;
    let failures = 0;
    const attempts = new Map<number, number>();
    while (!signal.aborted) {
      if (waitMs > 0) await sleep(waitMs, signal);
      if (signal.aborted) break;
      try {
        if (!ready) {
          await deps.prepare();
          // getUpdates is refused while a webhook is set.
          await deps.api.deleteWebhook();
          ready = true;
        }
        const updates = await deps.api.getUpdates({ offset, timeoutSeconds: deps.pollTimeoutSeconds, limit: BATCH_LIMIT }, signal);
        failures = 0;
        if (updates.length === 0) {
          // Everything below the offset we just sent is confirmed now; asking without one returns the
          // earliest unconfirmed update (and survives Telegram restarting its ids after a quiet week).
          offset = undefined;
          waitMs = 0;
          continue;
        }
        ({ offset, waitMs } = await handleBatch(updates, offset, attempts, signal));
      } catch (err) {
        if (signal.aborted) break;
        const error = toSwitchboardError(err);
        failures += 1;
        const status = error.details.context?.['status'];
        if (status === 409) ready = false;
        waitMs = error.details.retryAfterMs ?? (status === 401 || status === 404 ? BACKOFF_MAX_MS : backoff(failures));
        deps.log.warn({ code: error.code, status: status ?? null, waitMs }, 'Telegram getUpdates failed; retrying');
      }
    }
    // On a voluntary stop, confirm what was committed so the next poller does not fetch it again.
    if (voluntary && offset !== undefined) {
      await deps.api.getUpdates({ offset, timeoutSeconds: 0, limit: 1 }, AbortSignal.timeout(deps.apiTimeoutMs)).catch(() => undefined);
    }
  };

  const halt = async (): Promise<void> => {
    abort?.abort();
    abort = undefined;
    const running = loop;
    if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, deps.apiTimeoutMs * 2).unref())]);
  };

  const beat = async (): Promise<void> => {
    if (state === 'stopped') return;
    try {
      if (lease) {
        if (await lease.extend()) return;
        deps.log.warn('Telegram polling lease lost to another process; stopping getUpdates');
        lease = undefined;
        await halt();
        // stop() may have run meanwhile.
        if (isRunning()) state = 'standby';
        return;
      }
      // The previous holder's loop is still winding down.
      if (loop) return;
      lease = await deps.locks.acquire(lockName, deps.leaseMs);
      if (!lease) {
        state = 'standby';
        return;
      }
      deps.log.info('Telegram polling lease acquired; polling getUpdates');
      state = 'polling';
      const controller = new AbortController();
      abort = controller;
      const current = run(controller.signal).finally(() => {
        if (loop === current) loop = undefined;
      });
      loop = current;
    } catch (err) {
      // Redis unreachable: keep what we have and try again on the next beat.
      deps.log.warn({ err }, 'Telegram polling lease check failed');
    }
  };

  // Beats never overlap: the next one is scheduled when the previous one finished.
  const runBeat = (): void => {
    beating = beat().finally(() => {
      if (state === 'stopped') return;
      timer = setTimeout(runBeat, beatMs);
      timer.unref();
    });
  };

  return {
    start: async () => {
      if (state !== 'stopped') return;
      state = 'standby';
      voluntary = false;
      runBeat();
      await beating;
    },
    stop: async () => {
      if (state === 'stopped') return;
      state = 'stopped';
      clearTimeout(timer);
      await beating.catch(() => undefined);
      voluntary = true;
      await halt();
      await lease?.release().catch(() => undefined);
      lease = undefined;
    },
    state: () => state,
  };
}
