/** `switchboard start`: runs until SIGTERM/SIGINT, then shuts down gracefully. */
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../core/logger.ts';
import { createSwitchboard, type Role } from '../main.ts';

/** Starts a process with the given role and stops it on a signal. */
export async function runStart(role: Role): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL });
  const switchboard = await createSwitchboard({
    config,
    role,
    log,
    onDevOwnerCreated: (email, password) => {
      // Printed once, to the terminal only: it is not logged and cannot be shown again.
      process.stdout.write(
        `\n  Development owner account created (shown once):\n    email:    ${email}\n    password: ${password}\n\n`,
      );
    },
  });
  const { url } = await switchboard.start();
  if (role !== 'worker') process.stdout.write(`\n  Switchboard is running: open ${url}\n\n`);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    switchboard.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
