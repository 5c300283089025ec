/**
 * `switchboard 2fa enrol | reset | require | status`: two-factor sign-in from the terminal.
 * - enrol: prints the otpauth URI (and a QR code) for the user's authenticator app, reads one code
 *   from stdin, confirms, and prints the 10 recovery codes once.
 * - reset: an administrator's reset for a lost phone: removes the enrolment and recovery codes and
 *   ends every session of the user (their sockets close with 4001). Audited.
 * - require: the tenant's policy (which roles must use 2FA).
 * Run with the same VAULT_KEYS and JWT_PRIVATE_KEY as the application.
 */
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { loadConfig, type Config } from '../../config/load.ts';
import { systemClock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import { createDb, type Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { appendAudit } from '../store/audit.ts';
import { findUsersForLogin, type UserRecord, type UserRole } from '../store/users.ts';
import { getRequired2faRoles, setRequired2faRoles } from '../store/totp.ts';
import { resolveSecrets } from '../crypto/dev-secrets.ts';
import { createVault, parseVaultKeys } from '../crypto/vault.ts';
import { createRedis } from '../queue/connection.ts';
import { createBus } from '../queue/bus.ts';
import { createTokenService } from '../auth/tokens.ts';
import { ROLES } from '../auth/token-claims.ts';
import { createAuthServices, type AuthServices } from '../auth/services.ts';
import { otpauthQrTerminal } from '../auth/otpauth-qr.ts';

const TENANT_SLUG = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const UserOptionsSchema = z.strictObject({ email: z.email().max(320), tenant: TENANT_SLUG.optional() });
const RequireOptionsSchema = z.strictObject({ roles: z.string().max(200), tenant: TENANT_SLUG });

/** Longest wait for the code on stdin. */
const CODE_TIMEOUT_MS = 5 * 60_000;
const CLI_CONTEXT = { userAgent: 'switchboard-cli' } as const;

function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

interface CliContext {
  readonly config: Config;
  readonly db: Db;
  readonly auth: AuthServices;
}

/** Builds the services the commands share; the bus tells running processes to close sockets. */
async function withAuth<T>(work: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const secrets = resolveSecrets(config, (message) => process.stderr.write(`${message}\n`));
  const vault = createVault(parseVaultKeys(secrets.vaultKeys));
  const tokens = await createTokenService({
    privateKeyPem: secrets.jwtPrivateKeyPem,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clock: systemClock,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    ticketTtlSeconds: config.WS_TICKET_TTL_SECONDS,
    mfaTtlSeconds: config.MFA_TOKEN_TTL_SECONDS,
  });
  await migrate(config.DATABASE_URL);
  const db = createDb({ connectionString: config.DATABASE_URL, max: 2, applicationName: 'switchboard-2fa' }, () => undefined);
  const redis = createRedis(config.REDIS_URL, 'command', 'cli-2fa');
  redis.on('error', () => undefined);
  const bus = createBus(
    redis,
    () => {
      throw new SwitchboardError('internal', 'The CLI only publishes');
    },
    config.QUEUE_PREFIX,
    'webchat',
    () => undefined,
  );
  const publisher = {
    publish: (event: Parameters<typeof bus.publish>[0]) =>
      bus.publish(event).catch((err: unknown) => {
        process.stderr.write('warning: could not tell running processes (Redis unreachable); open sockets close when their session ends\n');
        throw err;
      }),
  };
  const auth = createAuthServices({ config, db, vault, tokens, bus: publisher, clock: systemClock });
  try {
    return await work({ config, db, auth });
  } finally {
    redis.disconnect();
    await db.end();
  }
}

async function findUser(db: Db, email: string, tenant: string | undefined): Promise<UserRecord> {
  const found = await findUsersForLogin(db, email.toLowerCase(), tenant);
  if (found.length > 1) throw new SwitchboardError('validation_failed', 'This email exists in several tenants; add --tenant');
  const user = found[0];
  if (!user) throw new SwitchboardError('not_found', 'No such user');
  if (user.disabled) throw new SwitchboardError('conflict', 'This user is disabled');
  return user;
}

/** The first line on stdin (the code), or an error when stdin closes or nothing comes in time. */
function readOneLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    const timer = setTimeout(() => {
      rl.close();
      reject(new SwitchboardError('validation_failed', 'No code entered in time'));
    }, CODE_TIMEOUT_MS);
    rl.once('line', (line) => {
      clearTimeout(timer);
      // Settle before closing: close() emits 'close' synchronously, whose handler would reject.
      resolve(line.trim());
      rl.close();
    });
    rl.once('close', () => {
      clearTimeout(timer);
      reject(new SwitchboardError('validation_failed', 'No code entered (stdin closed)'));
    });
  });
}

/** `switchboard 2fa enrol --email …`. */
export async function runTwoFactorEnrol(raw: unknown): Promise<void> {
  const options = parseOptions(UserOptionsSchema, raw);
  await withAuth(async ({ db, auth }) => {
    const user = await findUser(db, options.email, options.tenant);
    const { otpauthUri, secret } = await auth.twoFactor.beginEnrolment(user, CLI_CONTEXT);
    const out = process.stdout;
    out.write(`Add this account to your authenticator app (scan the QR code or paste the URI):\n\n`);
    out.write(await otpauthQrTerminal(otpauthUri));
    out.write(`\notpauth URI: ${otpauthUri}\n`);
    out.write(`Secret (manual entry): ${secret}\n\n`);
    out.write('Enter the 6-digit code the app shows: ');
    const code = await readOneLine();
    const { recoveryCodes } = await auth.twoFactor.confirmEnrolment(user, code, CLI_CONTEXT);
    out.write(`\nTwo-factor sign-in is on for ${user.email}.\n`);
    out.write('Recovery codes (each works once; store them somewhere safe, they are not shown again):\n');
    for (const recoveryCode of recoveryCodes) out.write(`  ${recoveryCode}\n`);
  });
}

/** `switchboard 2fa reset --email …`. */
export async function runTwoFactorReset(raw: unknown): Promise<void> {
  const options = parseOptions(UserOptionsSchema, raw);
  await withAuth(async ({ db, auth }) => {
    const user = await findUser(db, options.email, options.tenant);
    const removed = await auth.twoFactor.reset(user, { actorType: 'system', actorId: 'cli' }, CLI_CONTEXT);
    // A lost second factor may be in someone else's hands: end every session it opened.
    const ended = await auth.sessions.revokeAllForUser(user, 'two_factor_reset', { actorType: 'system', actorId: 'cli' }, CLI_CONTEXT);
    process.stdout.write(
      `${removed ? 'Two-factor sign-in removed' : 'No two-factor enrolment found'} for ${user.email}; ${String(ended)} session(s) ended. They can enrol again after signing in.\n`,
    );
  });
}

/** `switchboard 2fa status --email …`. */
export async function runTwoFactorStatus(raw: unknown): Promise<void> {
  const options = parseOptions(UserOptionsSchema, raw);
  await withAuth(async ({ db, auth }) => {
    const user = await findUser(db, options.email, options.tenant);
    const status = await auth.twoFactor.status(user);
    process.stdout.write(
      `${user.email}: 2FA ${status.enabled ? `on since ${status.enabledAt?.toISOString() ?? '?'}` : status.pendingEnrolment ? 'enrolment started, not confirmed' : 'off'}` +
        `${status.enabled ? `, ${status.recoveryCodesRemaining} recovery code(s) left` : ''}${status.required ? ', required for their role' : ''}\n`,
    );
  });
}

/** `switchboard 2fa require --roles owner,admin [--tenant default]` (`--roles none` clears it). */
export async function runTwoFactorRequire(raw: unknown): Promise<void> {
  const options = parseOptions(RequireOptionsSchema, raw);
  const wanted = options.roles.trim() === 'none' ? [] : options.roles.split(',').map((r) => r.trim()).filter((r) => r !== '');
  const roles = parseOptions(z.array(z.enum(ROLES)), wanted) satisfies UserRole[];
  await withAuth(async ({ db }) => {
    const tenant = await db.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [options.tenant]);
    const tenantId = tenant.rows[0]?.id;
    if (tenantId === undefined) throw new SwitchboardError('not_found', 'No such tenant');
    const before = await getRequired2faRoles(db, tenantId);
    await setRequired2faRoles(db, tenantId, roles);
    const after = await getRequired2faRoles(db, tenantId);
    await appendAudit(db, {
      tenantId,
      actorType: 'system',
      actorId: 'cli',
      action: 'auth.2fa_policy_changed',
      targetType: 'tenant',
      targetId: tenantId,
      details: { before, after },
    });
    process.stdout.write(`Tenant ${options.tenant}: two-factor sign-in required for ${after.length === 0 ? 'no role' : after.join(', ')}\n`);
  });
}
