/**
 * The whole product in-process for integration and e2e tests: real Postgres (a database of its
 * own), real Redis (a queue prefix of its own), the real HTTP server on a free port.
 */
import { loadConfig, type Config } from '../../config/load.ts';
import { createSwitchboard, type Role, type Switchboard } from '../../src/main.ts';
import type { LlmProvider } from '../../src/core/ports.ts';
import type { PlatformAdapterFactory } from '../../adapters/index.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { insertUser, type UserRole } from '../../src/store/users.ts';
import { createTestDatabase, deleteRedisPrefix, testEnv, uniqueSuffix } from './env.ts';

/** A running stack. */
export interface Stack {
  readonly baseUrl: string;
  readonly config: Config;
  readonly tenantId: string;
  readonly switchboard: Switchboard;
  /** Creates a user in the default tenant. */
  createUser(input: { email: string; password: string; role?: UserRole; displayName?: string }): Promise<{ id: string }>;
  /** Stops the process, drops the database and deletes the queue keys. */
  stop(): Promise<void>;
}

/** Options for `startStack`. */
export interface StackOptions {
  readonly env?: Record<string, string>;
  readonly role?: Role;
  readonly llm?: LlmProvider;
  readonly adapterFactories?: readonly PlatformAdapterFactory[];
}

/** Starts a stack. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const prefix = `{sbt-${uniqueSuffix()}}`;
  const config = loadConfig({ env: testEnv(database.url, prefix, options.env) });
  const switchboard = await createSwitchboard({
    config,
    role: options.role ?? 'all',
    defaultMetrics: false,
    ...(options.llm ? { llm: options.llm } : {}),
    ...(options.adapterFactories ? { adapterFactories: options.adapterFactories } : {}),
  });
  let started;
  try {
    started = await switchboard.start();
  } catch (err) {
    await switchboard.stop().catch(() => undefined);
    await database.drop().catch(() => undefined);
    throw err;
  }
  const { port, tenantId } = started;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    config,
    tenantId,
    switchboard,
    createUser: async (input) => {
      const user = await insertUser(switchboard.services.db, {
        tenantId,
        email: input.email,
        displayName: input.displayName ?? input.email.split('@')[0] ?? 'user',
        role: input.role ?? 'member',
        passwordHash: await hashPassword(input.password),
      });
      return { id: user.id };
    },
    stop: async () => {
      await switchboard.stop();
      await database.drop();
      await deleteRedisPrefix(config.REDIS_URL, prefix);
    },
  };
}
