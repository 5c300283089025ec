/**
 * The gateway supervisor's decisions with an in-memory lock store and scripted sessions: take the
 * lease and connect; stand by while another holds it; disconnect when the lease is lost or cannot
 * be renewed; pause on a spent identify budget and resume when it has room; stop for good on a
 * refused token; release the lease on stop.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.ts';
import { createManualClock } from '../../src/core/clock.ts';
import type { Lease, LockPort } from '../../src/core/platform.ts';
import { createGatewaySupervisor, type GatewayState } from '../../adapters/discord/supervisor.ts';
import type { GatewayEvents, GatewaySession } from '../../adapters/discord/gateway.ts';
import type { IdentifyBudget } from '../../adapters/discord/identify-budget.ts';

function memoryLocks() {
  const holders = new Map<string, string>();
  let failing = false;
  const port: LockPort & { steal(name: string): void; fail(on: boolean): void; holder(name: string): string | undefined } = {
    acquire: async (name) => {
      if (failing) throw new Error('redis down');
      if (holders.has(name)) return undefined;
      const token = Math.random().toString(36);
      holders.set(name, token);
      const lease: Lease = {
        extend: async () => {
          if (failing) throw new Error('redis down');
          return holders.get(name) === token;
        },
        release: async () => {
          if (holders.get(name) === token) holders.delete(name);
        },
      };
      return lease;
    },
    steal: (name) => holders.set(name, 'someone-else'),
    fail: (on) => {
      failing = on;
    },
    holder: (name) => holders.get(name),
  };
  return port;
}

interface ScriptedSession {
  events: Pick<GatewayEvents, 'onReady' | 'onFatal'>;
  closed: boolean;
}

function setup(options: { loginError?: Error } = {}) {
  const clock = createManualClock(0);
  const locks = memoryLocks();
  const sessions: ScriptedSession[] = [];
  let room = true;
  const budget: IdentifyBudget = { used: async () => 0, available: async () => room, waitForIdentify: async () => undefined };
  const supervisor = createGatewaySupervisor({
    locks,
    clock,
    log: createLogger({ level: 'silent' }),
    audit: async () => undefined,
    tenantId: () => '00000000-0000-4000-8000-000000000000',
    applicationId: '100000000000000001',
    leaseMs: 300,
    budget,
    openSession: (events): GatewaySession => {
      const session: ScriptedSession = { events, closed: false };
      sessions.push(session);
      return {
        open: async () => {
          if (options.loginError) throw options.loginError;
          events.onReady('100000000000000002');
        },
        close: async () => {
          session.closed = true;
        },
      };
    },
  });
  return { clock, locks, sessions, supervisor, setRoom: (value: boolean) => (room = value) };
}

const until = async (probe: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
const LEASE = 'discord:gateway:100000000000000001';

describe('gateway supervisor', () => {
  it('takes the lease and connects; a second supervisor stands by', async () => {
    const a = setup();
    const b = createGatewaySupervisor({
      locks: a.locks,
      clock: a.clock,
      log: createLogger({ level: 'silent' }),
      audit: async () => undefined,
      tenantId: () => 't',
      applicationId: '100000000000000001',
      leaseMs: 300,
      budget: { used: async () => 0, available: async () => true, waitForIdentify: async () => undefined },
      openSession: () => {
        throw new Error('the standby must not connect');
      },
    });
    a.supervisor.start();
    await until(() => a.supervisor.state() === 'connected', 'a connected');
    b.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.state()).toBe('standby');
    await b.stop();
    await a.supervisor.stop();
    expect(a.locks.holder(LEASE)).toBeUndefined();
    expect(a.sessions[0]?.closed).toBe(true);
  });

  it('disconnects when the lease is taken over, and when it cannot be renewed for two thirds of its TTL', async () => {
    const { locks, sessions, supervisor } = setup();
    supervisor.start();
    await until(() => supervisor.state() === 'connected', 'connected');
    locks.steal(LEASE);
    await until(() => sessions[0]?.closed === true, 'closed after takeover');
    expect(supervisor.state()).toBe('standby');

    const held = setup();
    held.supervisor.start();
    await until(() => held.supervisor.state() === 'connected', 'connected');
    held.locks.fail(true);
    // Renewal errors alone are tolerated until 2/3 of the TTL has passed since the last renewal.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(held.sessions[0]?.closed).toBe(false);
    held.clock.advance(201);
    await until(() => held.sessions[0]?.closed === true, 'closed after failing renewals');
    expect(held.supervisor.state()).toBe('standby');
    await supervisor.stop();
    await held.supervisor.stop();
  });

  it('pauses on a spent identify budget, keeps the lease, and reconnects once there is room', async () => {
    const { locks, sessions, supervisor, setRoom } = setup();
    supervisor.start();
    await until(() => supervisor.state() === 'connected', 'connected');
    setRoom(false);
    supervisor.refused({ kind: 'exhausted', used: 900 });
    await until(() => sessions[0]?.closed === true, 'closed');
    expect(supervisor.state() satisfies GatewayState).toBe('paused');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(sessions).toHaveLength(1);
    expect(locks.holder(LEASE)).toBeDefined();
    setRoom(true);
    await until(() => sessions.length === 2 && supervisor.state() === 'connected', 'reconnected');
    await supervisor.stop();
  });

  it('stops for good on a refused token or a fatal close code', async () => {
    const refused = setup({ loginError: Object.assign(new Error('An invalid token was provided.'), { code: 'TokenInvalid' }) });
    refused.supervisor.start();
    await until(() => refused.supervisor.state() === 'failed', 'failed');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(refused.sessions).toHaveLength(1);
    await refused.supervisor.stop();

    const closed = setup();
    closed.supervisor.start();
    await until(() => closed.supervisor.state() === 'connected', 'connected');
    closed.sessions[0]?.events.onFatal(4014);
    await until(() => closed.sessions[0]?.closed === true, 'closed');
    expect(closed.supervisor.state()).toBe('failed');
    await closed.supervisor.stop();
  });

  it('retries a login that failed for another reason on the next tick', async () => {
    const flaky = setup({ loginError: new Error('ECONNREFUSED') });
    flaky.supervisor.start();
    await until(() => flaky.sessions.length >= 2, 'a second attempt');
    expect(flaky.sessions[0]?.closed).toBe(true);
    await flaky.supervisor.stop();
  });
});
