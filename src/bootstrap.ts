/** First-start setup: the default tenant, and in development an owner account with a one-time password. */
import { generatePassword, hashPassword } from './auth/passwords.ts';
import type { Db } from './store/db.ts';
import { isUniqueViolation } from './store/db.ts';
import { DEFAULT_TENANT_SLUG, ensureTenant, type PiiAction } from './store/tenants.ts';
import { countUsers, insertUser } from './store/users.ts';

/** The development owner's sign-in email. */
export const DEV_OWNER_EMAIL = 'owner@switchboard.local';

/** Ensures the default tenant exists; returns its id. */
export function ensureDefaultTenant(db: Db, piiAction: PiiAction): Promise<string> {
  return ensureTenant(db, DEFAULT_TENANT_SLUG, 'Default workspace', piiAction);
}

/**
 * With an empty database, creates an owner and returns its password (to print once).
 * Returns undefined when any user exists or another process created it first.
 */
export async function bootstrapDevelopmentOwner(db: Db, tenantId: string): Promise<{ email: string; password: string } | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  const password = generatePassword();
  try {
    await insertUser(db, {
      tenantId,
      email: DEV_OWNER_EMAIL,
      displayName: 'Owner',
      role: 'owner',
      passwordHash: await hashPassword(password),
    });
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
  return { email: DEV_OWNER_EMAIL, password };
}
