/**
 * `npm run bench [-- names...] [--messages N] [--concurrency N] [--users N]`: runs the named
 * benchmarks one after another (default: all). Each benchmark module is loaded only when it runs,
 * so one that is missing or broken does not stop the others. Benchmarks are not tests: they print
 * ratios against a baseline measured in the same run (ARCHITECTURE §4).
 */
import { parseArgs } from 'node:util';

/** Options the runner passes on to the benchmarks that take them. */
export interface BenchOptions {
  messages?: number;
  concurrency?: number;
  users?: number;
}

/** The known benchmarks, in run order: name → lazy loader and runner. */
export const BENCHMARKS: ReadonlyMap<string, (options: BenchOptions) => Promise<void>> = new Map([
  ['ingest', async (options: BenchOptions) => (await import('./ingest.ts')).runIngestBench(options)],
  // The PII scanner takes only a message count (its corpus size; its own default when not given).
  ['pii', async (options: BenchOptions) =>
    (await import('./pii.ts')).runPiiBench(options.messages === undefined ? {} : { messages: options.messages })],
  ['burst', async () => (await import('./burst.ts')).runBurstBench()],
]);

const USAGE = `usage: npm run bench -- [names...] [--messages N] [--concurrency N] [--users N]
  names: ${[...BENCHMARKS.keys()].join(', ')} (default: all)
  --messages N      ingest: measured requests per side (default 2,000); pii: corpus size (default 20,000)
  --concurrency N   ingest: requests in flight (default 32)
  --users N         ingest: signed-in users = conversations the requests rotate over (default 1)`;

class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Parses the command line; throws `UsageError` for anything it does not know. */
function parseCommandLine(argv: readonly string[]): { names: string[]; options: BenchOptions; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        messages: { type: 'string' },
        concurrency: { type: 'string' },
        users: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const unknown = positionals.filter((name) => !BENCHMARKS.has(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; known: ${[...BENCHMARKS.keys()].join(', ')}`);
  }
  const options: BenchOptions = {};
  const messages = positiveInt('messages', values.messages);
  const concurrency = positiveInt('concurrency', values.concurrency);
  const users = positiveInt('users', values.users);
  if (messages !== undefined) options.messages = messages;
  if (concurrency !== undefined) options.concurrency = concurrency;
  if (users !== undefined) options.users = users;
  const names = positionals.length > 0 ? [...new Set(positionals)] : [...BENCHMARKS.keys()];
  return { names, options, help: values.help === true };
}

/** Runs the benchmarks named on the command line; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  const failed: string[] = [];
  for (const name of command.names) {
    const run = BENCHMARKS.get(name);
    if (!run) continue;
    console.log(`\n=== bench ${name} ===`);
    const started = performance.now();
    try {
      await run(command.options);
      console.log(`=== bench ${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
    } catch (err) {
      failed.push(name);
      console.error(`=== bench ${name}: FAILED after ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }
  if (failed.length > 0) console.error(`\nbench: failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
