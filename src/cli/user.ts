/** `switchboard user create`. */
import { text } from 'node:stream/consumers';
import { loadConfig } from '../../config/load.ts';
import { SwitchboardError } from '../core/errors.ts';
import { createDb, isUniqueViolation } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { ensureTenant } from '../store/tenants.ts';
import { insertUser, type UserRole } from '../store/users.ts';
import { generatePassword, hashPassword, validateNewPassword } from '../auth/passwords.ts';
import { z } from 'zod';

const OptionsSchema = z.strictObject({
  email: z.email().max(320),
  name: z.string().min(1).max(200).optional(),
  role: z.enum(['owner', 'admin', 'member', 'agent', 'auditor']),
  tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  passwordStdin: z.boolean().optional(),
});

/** Creates a user in a tenant (created when missing). */
export async function runUserCreate(raw: unknown): Promise<void> {
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SwitchboardError('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const options = parsed.data;
  const config = loadConfig();
  const password = options.passwordStdin ? (await text(process.stdin)).replace(/\r?\n$/, '') : generatePassword();
  validateNewPassword(password);
  await migrate(config.DATABASE_URL);
  const db = createDb({ connectionString: config.DATABASE_URL, max: 2 }, () => undefined);
  try {
    const tenantId = await ensureTenant(db, options.tenant, options.tenant, config.PII_DEFAULT_ACTION);
    const role: UserRole = options.role;
    const user = await insertUser(db, {
      tenantId,
      email: options.email,
      displayName: options.name ?? options.email.split('@')[0] ?? options.email,
      role,
      passwordHash: await hashPassword(password),
    }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new SwitchboardError('conflict', 'A user with this email already exists in the tenant');
      throw err;
    });
    process.stdout.write(`Created ${user.role} ${user.email} (${user.id}) in tenant ${options.tenant}\n`);
    if (!options.passwordStdin) process.stdout.write(`Password (shown once): ${password}\n`);
  } finally {
    await db.end();
  }
}
