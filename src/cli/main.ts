#!/usr/bin/env node
/** The `switchboard` command. */
import { Command, Option } from 'commander';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';
import { runStart } from './start.ts';
import { runMigrate } from './migrate.ts';
import { runDemo } from './demo.ts';
import { runPiiScan } from './pii.ts';
import { runUserCreate } from './user.ts';
import { runDoctor } from './doctor.ts';

const program = new Command()
  .name('switchboard')
  .description('Self-hosted hub for talking to AI agents from chat platforms, safely.')
  .showHelpAfterError();

program
  .command('start')
  .description('run the API and workers (one process by default)')
  .addOption(new Option('--role <role>', 'which parts to run').choices(['api', 'worker', 'all']).default('all'))
  .action((opts: { role: 'api' | 'worker' | 'all' }) => runStart(opts.role));

program.command('migrate').description('create the database if missing and apply migrations').action(runMigrate);

program
  .command('demo')
  .description('run a scripted web chat conversation in-process and print what was stored and what the LLM saw')
  .action(runDemo);

program
  .command('pii')
  .description('PII tools')
  .command('scan')
  .description('scan text for PII')
  .requiredOption('--jsonl', 'read {"text": "..."} lines on stdin, write {"findings": [...]} lines on stdout')
  .action(runPiiScan);

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
  .action(runUserCreate);

program
  .command('doctor')
  .description('check configuration, connectivity and keys')
  .action(runDoctor);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const error = isSwitchboardError(err) ? err : new SwitchboardError('internal', 'Unexpected error', {}, { cause: err });
  process.stderr.write(`switchboard: ${error.code}: ${error.message}\n`);
  if (error.code === 'internal' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
  process.exitCode = 1;
}
