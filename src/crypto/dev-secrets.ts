/**
 * Secrets for a fresh development machine: a vault key and a JWT signing key generated once into
 * a private directory, so `npm start` works without setup. Production never comes here: there,
 * VAULT_KEYS and JWT_PRIVATE_KEY must be configured.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../config/load.ts';
import { isSwitchboardError, SwitchboardError } from '../core/errors.ts';
import { parseEd25519PrivateKeyPem } from '../auth/signing-key.ts';
import { parseVaultKeys, VAULT_KEY_BYTES } from './key-ring.ts';
import { generateApiKeyHashKey, parseApiKeyHashKey } from '../auth/api-keys.ts';

/** The two secrets every process needs. */
export interface DevSecrets {
  /** Vault key spec, `id:base64key`. */
  readonly vaultKeys: string;
  /** PKCS#8 PEM of an Ed25519 key. */
  readonly jwtPrivateKeyPem: string;
}

/** Secrets plus where they came from, so startup can say so. */
export interface ResolvedSecrets extends DevSecrets {
  readonly source: 'config' | 'development';
}

/** The settings `resolveSecrets` reads. */
export type SecretsConfig = Pick<Config, 'SWITCHBOARD_ENV' | 'VAULT_KEYS' | 'JWT_PRIVATE_KEY' | 'DEV_SECRETS_DIR'>;

/** File names inside the development secrets directory. */
export const DEV_SECRET_FILES = Object.freeze({ vaultKeys: 'vault-keys', jwtPrivateKey: 'jwt-ed25519.pem' });

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Creates `path` with `content` only if it does not exist, atomically: the content is written to a
 * private temp file and hard-linked into place, so a second process starting at the same moment
 * either wins or reads a complete file, never a half-written one. Returns false if it existed.
 */
function createIfAbsent(path: string, content: () => string, mode: number): boolean {
  if (exists(path)) return false;
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(temp, content(), { mode, flag: 'wx' });
  try {
    chmodSync(temp, mode); // the umask may have loosened the creation mode
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Reads an existing secret file: a regular file (not a symlink), tightened to 0600 if looser. */
function readSecretFile(path: string, log: (msg: string) => void): string {
  const stats = lstatSync(path);
  if (!stats.isFile()) {
    throw new SwitchboardError('config_invalid', `Development secret ${path} is not a regular file; remove it to regenerate`);
  }
  if ((stats.mode & 0o077) !== 0) {
    chmodSync(path, FILE_MODE);
    log(`WARNING: ${path} was readable by other users; its mode is now 0600. Treat the key in it as exposed.`);
  }
  return readFileSync(path, 'utf8').trim();
}

function ensureDir(dir: string, log: (msg: string) => void): void {
  const created = mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  if (created !== undefined) {
    chmodSync(dir, DIR_MODE);
    return;
  }
  const stats = statSync(dir);
  if (!stats.isDirectory()) throw new SwitchboardError('config_invalid', `DEV_SECRETS_DIR ${dir} is not a directory`);
  if ((stats.mode & 0o077) !== 0) log(`WARNING: ${dir} is accessible to other users; development keys in it are exposed.`);
}

function invalidFile(path: string, error: unknown): SwitchboardError {
  // The inner message names ids and positions only, never key material.
  const detail = isSwitchboardError(error) ? error.message : 'unreadable';
  return new SwitchboardError('config_invalid', `Development secret ${path} is invalid (${detail}); delete it to regenerate`, {}, { cause: error });
}

function newVaultKeySpec(): string {
  // A random id suffix so keys from two dev machines never share an id.
  return `dev-${randomBytes(4).toString('hex')}:${randomBytes(VAULT_KEY_BYTES).toString('base64')}\n`;
}

function newEd25519Pem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Loads the development secrets from `dir`, generating any that are missing (files 0600, dir 0700). */
export function loadOrCreateDevSecrets(dir: string, log: (msg: string) => void): DevSecrets {
  ensureDir(dir, log);
  createIfAbsent(join(dir, '.gitignore'), () => '*\n', 0o644);

  const vaultPath = join(dir, DEV_SECRET_FILES.vaultKeys);
  const createdVault = createIfAbsent(vaultPath, newVaultKeySpec, FILE_MODE);

  const jwtPath = join(dir, DEV_SECRET_FILES.jwtPrivateKey);
  const createdJwt = createIfAbsent(jwtPath, newEd25519Pem, FILE_MODE);

  const vaultKeys = readSecretFile(vaultPath, log);
  const jwtPrivateKeyPem = `${readSecretFile(jwtPath, log)}\n`;
  try {
    parseVaultKeys(vaultKeys);
  } catch (error) {
    throw invalidFile(vaultPath, error);
  }
  try {
    parseEd25519PrivateKeyPem(jwtPrivateKeyPem);
  } catch (error) {
    throw invalidFile(jwtPath, error);
  }

  const created = [createdVault ? vaultPath : undefined, createdJwt ? jwtPath : undefined].filter((p) => p !== undefined);
  log(
    `WARNING: DEVELOPMENT KEYS IN USE (vault key and JWT signing key from ${dir}${created.length > 0 ? `; generated ${created.join(', ')}` : ''}). ` +
      'They are stored unencrypted on this machine and must never be used in production: set VAULT_KEYS and JWT_PRIVATE_KEY instead.',
  );
  return { vaultKeys, jwtPrivateKeyPem };
}

/** Picks configured secrets, or development ones outside production; validates both. */
export function resolveSecrets(config: SecretsConfig, log: (msg: string) => void): ResolvedSecrets {
  const configuredVault = config.VAULT_KEYS;
  const configuredJwt = config.JWT_PRIVATE_KEY;
  // Fail at startup, not on the first seal or login.
  if (configuredVault !== undefined) parseVaultKeys(configuredVault);
  if (configuredJwt !== undefined) parseEd25519PrivateKeyPem(configuredJwt);
  if (configuredVault !== undefined && configuredJwt !== undefined) {
    return { vaultKeys: configuredVault, jwtPrivateKeyPem: configuredJwt, source: 'config' };
  }
  if (config.SWITCHBOARD_ENV === 'production') {
    // The config loader already refuses this; checked again because a missing key here would
    // otherwise mean silently generated keys in production.
    const missing = [configuredVault === undefined ? 'VAULT_KEYS' : undefined, configuredJwt === undefined ? 'JWT_PRIVATE_KEY' : undefined].filter(
      (name) => name !== undefined,
    );
    throw new SwitchboardError('config_invalid', `${missing.join(' and ')} required in production (development keys are never generated there)`, {
      issues: missing.map((path) => ({ path, message: 'required in production' })),
    });
  }
  const dev = loadOrCreateDevSecrets(config.DEV_SECRETS_DIR, log);
  return {
    vaultKeys: configuredVault ?? dev.vaultKeys,
    jwtPrivateKeyPem: configuredJwt ?? dev.jwtPrivateKeyPem,
    source: 'development',
  };
}

/** File name of the development API key hashing key inside DEV_SECRETS_DIR. */
export const DEV_API_KEY_HASH_FILE = 'api-key-hash-key';

/** The settings `resolveApiKeyHashKey` reads. */
export type ApiKeyHashKeyConfig = Pick<Config, 'SWITCHBOARD_ENV' | 'API_KEY_HASH_KEY' | 'DEV_SECRETS_DIR'>;

/**
 * The API key hashing key: configured, or (outside production) generated once under
 * DEV_SECRETS_DIR. Kept apart from `resolveSecrets` so processes that never hash API keys (and
 * that function's callers) are unchanged; production without it refuses to start.
 */
export function resolveApiKeyHashKey(config: ApiKeyHashKeyConfig, log: (msg: string) => void): { key: Buffer; source: 'config' | 'development' } {
  if (config.API_KEY_HASH_KEY !== undefined) return { key: parseApiKeyHashKey(config.API_KEY_HASH_KEY), source: 'config' };
  if (config.SWITCHBOARD_ENV === 'production') {
    throw new SwitchboardError('config_invalid', 'API_KEY_HASH_KEY required in production (development keys are never generated there)', {
      issues: [{ path: 'API_KEY_HASH_KEY', message: 'required in production' }],
    });
  }
  ensureDir(config.DEV_SECRETS_DIR, log);
  createIfAbsent(join(config.DEV_SECRETS_DIR, '.gitignore'), () => '*\n', 0o644);
  const path = join(config.DEV_SECRETS_DIR, DEV_API_KEY_HASH_FILE);
  const created = createIfAbsent(path, () => `${generateApiKeyHashKey()}\n`, FILE_MODE);
  let key: Buffer;
  try {
    key = parseApiKeyHashKey(readSecretFile(path, log));
  } catch (error) {
    throw invalidFile(path, error);
  }
  log(
    `WARNING: DEVELOPMENT API KEY HASHING KEY IN USE (${path}${created ? ', generated now' : ''}). ` +
      'It must never be used in production: set API_KEY_HASH_KEY instead.',
  );
  return { key, source: 'development' };
}
