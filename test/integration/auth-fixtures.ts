/**
 * Shared set-up for the authentication tests: a migrated database of their own, a manual clock,
 * the real token service and vault, the auth services, and a bus that records what it is told.
 */
import { randomUUID } from 'node:crypto';
import { createManualClock } from '../../src/core/clock.ts';
import { createVault, parseVaultKeys } from '../../src/crypto/vault.ts';
import { createTokenService, type TokenService } from '../../src/auth/tokens.ts';
import { createAuthServices, type AuthServices } from '../../src/auth/services.ts';
import type { BusEvent } from '../../src/queue/bus.ts';
import { ensureTenant } from '../../src/store/tenants.ts';
import { insertUser, type UserRecord, type UserRole } from '../../src/store/users.ts';
import { createDb, type Db } from '../../src/store/db.ts';
import { createTestDatabase, testJwtKeyPem, testVaultKeys } from '../support/env.ts';

/** 2030-01-01T12:00:00Z: the start of every manual clock here (a multiple of 30 s). */
export const START_MS = Date.UTC(2030, 0, 1, 12, 0, 0);

/** Everything an auth test needs. */
export interface AuthFixture {
  readonly db: Db;
  readonly clock: ReturnType<typeof createManualClock>;
  readonly tokens: TokenService;
  readonly auth: AuthServices;
  readonly vault: ReturnType<typeof createVault>;
  /** Bus events published so far, in order. */
  readonly published: BusEvent[];
  readonly tenantId: string;
  createUser(role?: UserRole, tenantId?: string): Promise<UserRecord>;
  createTenant(slug: string): Promise<string>;
  /** Audit rows with this action, oldest first. */
  audits(action: string): Promise<Array<{ actor_id: string | null; target_id: string | null; details: Record<string, unknown> }>>;
  close(): Promise<void>;
}

/** Settings used unless a test overrides them. */
export const DEFAULT_AUTH_SETTINGS = {
  SESSION_IDLE_TTL_SECONDS: 3600,
  SESSION_ABSOLUTE_TTL_SECONDS: 86_400,
  TOTP_ISSUER: 'Switchboard',
  TOTP_MAX_FAILURES: 5,
  TOTP_FAILURE_WINDOW_SECONDS: 900,
  TOTP_LOCKOUT_SECONDS: 900,
  ACCESS_TOKEN_TTL_SECONDS: 900,
} as const;

/** Builds a fixture on a new database. */
export async function createAuthFixture(): Promise<AuthFixture> {
  const database = await createTestDatabase();
  const db = createDb({ connectionString: database.url, max: 5 }, () => undefined);
  const clock = createManualClock(START_MS);
  const vault = createVault(parseVaultKeys(testVaultKeys()));
  const tokens = await createTokenService({
    privateKeyPem: testJwtKeyPem(),
    issuer: 'switchboard',
    audience: 'switchboard-api',
    clock,
    accessTtlSeconds: 900,
    ticketTtlSeconds: 30,
    mfaTtlSeconds: 300,
  });
  const published: BusEvent[] = [];
  const bus = {
    publish: (event: BusEvent) => {
      published.push(event);
      return Promise.resolve(1);
    },
  };
  const auth = createAuthServices({ config: DEFAULT_AUTH_SETTINGS, db, vault, tokens, bus, clock });
  const tenantId = await ensureTenant(db, 'default', 'Default', 'redact');
  let n = 0;
  return {
    db,
    clock,
    tokens,
    auth,
    vault,
    published,
    tenantId,
    createUser: (role = 'member', tenant = tenantId) =>
      insertUser(db, {
        tenantId: tenant,
        email: `user${++n}-${randomUUID().slice(0, 8)}@example.test`,
        displayName: `User ${n}`,
        role,
        // Sign-in by password is tested over HTTP; these tests start at "first factor accepted".
        passwordHash: 'unused',
      }),
    createTenant: (slug) => ensureTenant(db, slug, slug, 'redact'),
    audits: async (action) =>
      (
        await db.query<{ actor_id: string | null; target_id: string | null; details: Record<string, unknown> }>(
          'SELECT actor_id, target_id, details FROM audit_log WHERE action = $1 ORDER BY id',
          [action],
        )
      ).rows,
    close: async () => {
      await db.end();
      await database.drop();
    },
  };
}
