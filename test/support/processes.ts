/** Child processes for crash tests: real Switchboard processes and a private redis-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./switchboard-process.ts', import.meta.url));

/** A child process and a promise of its exit. */
export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Everything it printed, for failure messages. */
  output(): string;
}

function track(child: ChildProcess): Child {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, exited, output: () => output };
}

async function waitForOutput(child: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(child.output())) {
    if (child.process.exitCode !== null) throw new Error(`process exited early:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`process not ready in ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `switchboard-process.ts <role>` on this Node (24) with `env`, and waits for READY. */
export async function startSwitchboardProcess(role: 'api' | 'worker' | 'all', env: Record<string, string>): Promise<Child> {
  const child = track(
    spawn(process.execPath, [ENTRY, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  await waitForOutput(child, /READY \d+/, 20_000);
  return child;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a throwaway redis-server (no persistence) on `port`. */
export async function startRedisServer(port: number): Promise<Child> {
  const child = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await waitForOutput(child, /Ready to accept connections/, 10_000);
  return child;
}
