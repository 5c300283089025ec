/**
 * A real Switchboard process for crash tests: `node test/support/switchboard-process.ts <role>`.
 * Configuration comes from the environment, as in production. Prints `READY <port>` once started.
 */
import { loadConfig } from '../../config/load.ts';
import { createSwitchboard, type Role } from '../../src/main.ts';

const role = (process.argv[2] ?? 'all') as Role;
const switchboard = await createSwitchboard({ config: loadConfig(), role, defaultMetrics: false });
const { port } = await switchboard.start();
process.stdout.write(`READY ${port}\n`);
process.on('SIGTERM', () => {
  void switchboard.stop().then(() => process.exit(0));
});
