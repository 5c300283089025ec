/**
 * Keeps exactly one gateway per bot across all API processes. Each process tries to take a lease
 * (deps.locks, `discord:gateway:<application id>`); the holder connects and renews it every third
 * of its TTL, the others stand by and retry at the same pace. A holder that cannot renew (another
 * process took over, or Redis stayed unreachable for two thirds of the TTL) disconnects at once.
 * When the identify budget refuses, the holder disconnects and keeps the lease (so standbys do not
 * churn through the same refusal) and reconnects once the 24 h window has room again.
 */
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { AdapterAudit, Lease, LockPort } from '../../src/core/platform.ts';
import type { GatewayEvents, GatewaySession } from './gateway.ts';
import type { IdentifyBudget, IdentifyRefusal } from './identify-budget.ts';

/** Where the gateway is. */
export type GatewayState =
  | 'standby' // another process holds the lease
  | 'connecting'
  | 'connected'
  | 'paused' // identify budget spent; waiting for the window
  | 'failed' // Discord refused us for good (token, intents); needs an operator
  | 'stopped';

/** What the supervisor needs. */
export interface SupervisorOptions {
  readonly locks: LockPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly audit: AdapterAudit;
  readonly tenantId: () => string;
  readonly applicationId: string;
  readonly leaseMs: number;
  readonly budget: IdentifyBudget;
  /** Builds a session wired to these events (plus the adapter's own message handling). */
  readonly openSession: (events: Pick<GatewayEvents, 'onReady' | 'onFatal'>) => GatewaySession;
}

/** The supervisor. */
export interface GatewaySupervisor {
  start(): void;
  stop(): Promise<void>;
  state(): GatewayState;
  /** The identify budget refused an IDENTIFY (wired to the budget's `onRefused`). */
  refused(refusal: IdentifyRefusal): void;
}

/** Creates the supervisor; nothing happens until `start`. */
export function createGatewaySupervisor(options: SupervisorOptions): GatewaySupervisor {
  const { locks, clock, log, leaseMs, applicationId } = options;
  const leaseName = `discord:gateway:${applicationId}`;
  const tickMs = Math.max(100, Math.floor(leaseMs / 3));
  let state: GatewayState = 'standby';
  let lease: Lease | undefined;
  let renewedAt = 0;
  let session: GatewaySession | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const audit = (action: string, details: Record<string, string | number | boolean | null>): void => {
    void options.audit({ tenantId: options.tenantId(), action, targetType: 'discord_application', targetId: applicationId, details }).catch(() => undefined);
  };

  const closeSession = async (): Promise<void> => {
    const current = session;
    session = undefined;
    await current?.close();
  };

  const openSession = (): void => {
    state = 'connecting';
    const current = options.openSession({
      onReady: () => {
        if (session === current) state = 'connected';
      },
      onFatal: (code) => {
        if (session !== current) return;
        state = 'failed';
        audit('discord.gateway.failed', { closeCode: code });
        void closeSession();
      },
    });
    session = current;
    current.open().catch((err: unknown) => {
      if (session !== current) return;
      const name = err instanceof Error ? err.name : 'unknown';
      // A refused token will not get better by itself; anything else is retried on the next tick.
      const fatal = err instanceof Error && /TokenInvalid/.test(`${name} ${(err as { code?: unknown }).code ?? ''}`);
      log.error({ error: name, fatal }, 'discord gateway login failed');
      state = fatal ? 'failed' : 'connecting';
      if (fatal) audit('discord.gateway.failed', { reason: 'token_invalid' });
      void closeSession();
    });
  };

  const loseLease = async (why: string): Promise<void> => {
    log.warn({ why }, 'discord gateway lease lost; disconnecting');
    lease = undefined;
    await closeSession();
    state = 'standby';
  };

  const tick = async (): Promise<void> => {
    if (!lease) {
      lease = await locks.acquire(leaseName, leaseMs).catch(() => undefined);
      if (!lease) return;
      renewedAt = clock.now();
      log.info('discord gateway lease taken; connecting');
      openSession();
      return;
    }
    let renewed: boolean | undefined;
    try {
      renewed = await lease.extend();
    } catch {
      renewed = undefined;
    }
    if (renewed === true) renewedAt = clock.now();
    if (renewed === false) return loseLease('taken over');
    if (renewed === undefined && clock.now() - renewedAt > (leaseMs * 2) / 3) return loseLease('cannot renew');
    // A session that ended without a fatal cause (login error, counter store trouble) is reopened.
    if (!session && state === 'connecting') openSession();
    if (!session && state === 'paused' && (await options.budget.available().catch(() => false))) {
      log.info('discord identify budget has room again; reconnecting');
      openSession();
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => log.error({ error: err instanceof Error ? err.name : 'unknown' }, 'discord gateway supervisor tick failed'))
        .finally(schedule);
    }, tickMs);
    timer.unref();
  };

  return {
    start: () => {
      if (stopped) return;
      running = tick()
        .catch(() => undefined)
        .finally(schedule);
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await closeSession();
      await lease?.release().catch(() => undefined);
      lease = undefined;
      state = 'stopped';
    },
    state: () => state,
    refused: (refusal) => {
      if (refusal.kind === 'exhausted') {
        log.error({ used: refusal.used }, 'discord identify budget exhausted; gateway paused until the 24 h window has room');
        audit('discord.identify_budget_exhausted', { used: refusal.used });
        state = 'paused';
      } else {
        log.warn('discord identify budget unreadable; reconnecting later');
        state = 'connecting';
      }
      void closeSession();
    },
  };
}
