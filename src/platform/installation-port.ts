/** The InstallationPort adapters use: installations in Postgres, credentials sealed by the vault. */
import { z } from 'zod';
import type { IdSource } from '../core/clock.ts';
import type { InstallationPort } from '../core/platform.ts';
import type { Vault } from '../crypto/vault.ts';
import type { Db } from '../store/db.ts';
import { credentialsAad, findInstallation, revokeInstallation, upsertInstallation } from '../store/installations.ts';

const CredentialsSchema = z.record(z.string().max(200), z.string().max(10_000));

/** Creates the port. Credentials are JSON, sealed with AAD installations|credentials_sealed|<row id>. */
export function createInstallationPort(db: Db, vault: Vault, ids: IdSource): InstallationPort {
  return {
    find: async (platform, externalId) => {
      const row = await findInstallation(db, platform, externalId);
      if (!row) return undefined;
      return { externalId: row.externalId, tenantId: row.tenantId, name: row.name, botUserId: row.botUserId, active: row.status === 'active' };
    },
    credentials: async (platform, externalId) => {
      const row = await findInstallation(db, platform, externalId);
      if (!row || row.status !== 'active' || row.credentialsSealed === null) return undefined;
      return CredentialsSchema.parse(JSON.parse(vault.openText(row.credentialsSealed, credentialsAad(row.id))));
    },
    save: async (input) => {
      await upsertInstallation(db, {
        id: ids(),
        tenantId: input.tenantId,
        platform: input.platform,
        externalId: input.externalId,
        name: input.name,
        ...(input.botUserId === undefined ? {} : { botUserId: input.botUserId }),
        seal: (rowId) => vault.seal(JSON.stringify(CredentialsSchema.parse(input.credentials)), credentialsAad(rowId)),
      });
    },
    revoke: (platform, externalId) => revokeInstallation(db, platform, externalId),
  };
}
