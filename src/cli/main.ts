#!/usr/bin/env node
/** The `switchboard` command. */
import { Command, Option } from 'commander';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';

/**
 * Loads a command's module only when it runs: importing every command (SDKs, the server) up
 * front cost seconds on each CLI start.
 */
function lazy<Args extends unknown[]>(load: () => Promise<(...args: Args) => unknown>) {
  return async (...args: Args): Promise<void> => {
    const run = await load();
    await run(...args);
  };
}

const program = new Command()
  .name('switchboard')
  .description('Self-hosted hub for talking to AI agents from chat platforms, safely.')
  .showHelpAfterError();

program
  .command('start')
  .description('run the API and workers (one process by default)')
  .addOption(new Option('--role <role>', 'which parts to run').choices(['api', 'worker', 'all']).default('all'))
  .action(async (opts: { role: 'api' | 'worker' | 'all' }) => (await import('./start.ts')).runStart(opts.role));

program.command('migrate').description('create the database if missing and apply migrations').action(lazy(async () => (await import('./migrate.ts')).runMigrate));

program
  .command('demo')
  .description('run a scripted web chat conversation in-process and print what was stored and what the LLM saw')
  .action(lazy(async () => (await import('./demo.ts')).runDemo));

program
  .command('pii')
  .description('PII tools')
  .command('scan')
  .description('scan text for PII')
  .requiredOption('--jsonl', 'read {"text": "..."} lines on stdin, write {"findings": [...]} lines on stdout')
  .action(lazy(async () => (await import('./pii.ts')).runPiiScan));

program
  .command('user')
  .description('manage users')
  .command('create')
  .description('create a user; the password is read from stdin, or generated and printed once')
  .requiredOption('--email <email>', 'sign-in email')
  .option('--name <name>', 'display name')
  .addOption(new Option('--role <role>', 'role').choices(['owner', 'admin', 'member', 'agent', 'auditor']).default('member'))
  .option('--tenant <slug>', 'tenant slug', 'default')
  .option('--password-stdin', 'read the password from stdin instead of generating one')
  .action(lazy(async () => (await import('./user.ts')).runUserCreate));

program
  .command('doctor')
  .description('check configuration, connectivity and keys')
  .option('--security', 'list security misconfigurations, each with its fix; exit 1 on a failure in production')
  .action(lazy(async () => (await import('./doctor.ts')).runDoctor));

const keys = program.command('keys').description('vault keys: status, rotation, retirement');
keys.command('status').description("each key's state, seal count against its budget, and stored values naming it").option('--json', 'print JSON').action(lazy(async () => (await import('./keys.ts')).runKeysStatus));
keys
  .command('rotate')
  .description('re-encrypt every sealed value not under the active key (batches; resumable; safe while running)')
  .option('--batch-size <n>', 'values per batch', '500')
  .option('--pause-ms <ms>', 'pause between batches', '0')
  .option('--json', 'print the report as JSON')
  .action(lazy(async () => (await import('./keys.ts')).runKeysRotate));
keys.command('retire <keyId>').description('mark a key retired once no stored value references it').action(lazy(async () => (await import('./keys.ts')).runKeysRetire));

program
  .command('audit')
  .description('the hash-chained audit log')
  .command('verify')
  .description('recompute every audit chain; exit 0 when intact, 1 naming the first broken row of each broken chain')
  .option('--tenant <id-or-slug>', 'verify only this tenant\'s chains')
  .option('--json', 'print the full result as JSON')
  .action(lazy(async () => (await import('./audit.ts')).runAuditVerify));

const twoFactor = program.command('2fa').description('two-factor sign-in (TOTP): enrol, reset, status, tenant policy');
twoFactor
  .command('enrol')
  .description("print the otpauth URI and QR code, read one code from stdin, confirm, print the recovery codes once")
  .requiredOption('--email <email>', "the user's sign-in email")
  .option('--tenant <slug>', 'tenant slug, when the email exists in several')
  .action(lazy(async () => (await import('./two-factor.ts')).runTwoFactorEnrol));
twoFactor
  .command('reset')
  .description("administrator reset (lost phone): remove the user's 2FA and recovery codes and end all their sessions")
  .requiredOption('--email <email>', "the user's sign-in email")
  .option('--tenant <slug>', 'tenant slug, when the email exists in several')
  .action(lazy(async () => (await import('./two-factor.ts')).runTwoFactorReset));
twoFactor
  .command('status')
  .description("show whether the user's 2FA is on and how many recovery codes are left")
  .requiredOption('--email <email>', "the user's sign-in email")
  .option('--tenant <slug>', 'tenant slug, when the email exists in several')
  .action(lazy(async () => (await import('./two-factor.ts')).runTwoFactorStatus));
twoFactor
  .command('require')
  .description('set the roles that must sign in with 2FA in a tenant (comma list, or "none")')
  .requiredOption('--roles <roles>', 'e.g. owner,admin — or none')
  .option('--tenant <slug>', 'tenant slug', 'default')
  .action(lazy(async () => (await import('./two-factor.ts')).runTwoFactorRequire));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const error = isSwitchboardError(err) ? err : new SwitchboardError('internal', 'Unexpected error', {}, { cause: err });
  process.stderr.write(`switchboard: ${error.code}: ${error.message}\n`);
  if (error.code === 'internal' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
  process.exitCode = 1;
}
