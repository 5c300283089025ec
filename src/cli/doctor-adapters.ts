/**
 * `switchboard doctor`'s adapter lines: for every platform this build ships, whether it is
 * enabled (credentials configured), and if so whether its configuration builds an adapter.
 */
import type { Config } from '../../config/load.ts';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { systemClock } from '../core/clock.ts';
import type { PlatformAdapterDeps } from '../core/platform.ts';
import { PLATFORM_ADAPTERS } from '../../adapters/index.ts';

/** One doctor line. */
export interface AdapterCheck {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly detail: string;
}

const notRunning = (): never => {
  // Building an adapter only reads configuration; doctor never starts one, so no port is ever called.
  throw new SwitchboardError('internal', 'doctor does not run adapters');
};

/** Builds each configured adapter (without starting it) and reports its status. */
export function checkAdapters(config: Config): AdapterCheck[] {
  const deps: PlatformAdapterDeps = {
    sink: { accept: notRunning },
    installations: { find: notRunning, credentials: notRunning, save: notRunning, revoke: notRunning },
    linkedUser: notRunning,
    locks: { acquire: notRunning },
    counters: { increment: notRunning, get: notRunning },
    audit: notRunning,
    log: createLogger({ level: 'silent' }),
    clock: systemClock,
    defaultTenantId: '00000000-0000-4000-8000-000000000000',
    receive: false,
  };
  return PLATFORM_ADAPTERS.map((factory) => {
    const name = `adapter ${factory.platform}`;
    if (!factory.isConfigured(config)) return { name, status: 'ok', detail: 'disabled (no credentials configured)' };
    try {
      const status = factory.create(config, deps).status();
      return { name, status: status.state === 'enabled' ? 'ok' : 'fail', detail: `${status.state}: ${status.detail}` };
    } catch (err) {
      return { name, status: 'fail', detail: isSwitchboardError(err) ? err.message.replace(/\s+/g, ' ') : 'cannot be built' };
    }
  });
}
