import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { DEV_SECRET_FILES, loadOrCreateDevSecrets, resolveSecrets, type SecretsConfig } from '../../src/crypto/dev-secrets.ts';
import { createVault, parseVaultKeys } from '../../src/crypto/vault.ts';
import { parseEd25519PrivateKeyPem } from '../../src/auth/signing-key.ts';

let root: string;
let logs: string[];
const log = (message: string): void => {
  logs.push(message);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sb-dev-secrets-'));
  logs = [];
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const mode = (path: string): number => statSync(path).mode & 0o777;
const configuredVault = `prod1:${randomBytes(32).toString('base64')}`;
const configuredPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function config(overrides: Partial<SecretsConfig>): SecretsConfig {
  return { SWITCHBOARD_ENV: 'development', VAULT_KEYS: undefined, JWT_PRIVATE_KEY: undefined, DEV_SECRETS_DIR: join(root, 'secrets'), ...overrides };
}

describe('loadOrCreateDevSecrets', () => {
  it('creates the directory (0700), both keys (0600) and a .gitignore of *', () => {
    const dir = join(root, 'nested', 'secrets');
    const secrets = loadOrCreateDevSecrets(dir, log);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, DEV_SECRET_FILES.vaultKeys))).toBe(0o600);
    expect(mode(join(dir, DEV_SECRET_FILES.jwtPrivateKey))).toBe(0o600);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('*\n');
    expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'jwt-ed25519.pem', 'vault-keys']);

    const ring = parseVaultKeys(secrets.vaultKeys);
    expect(ring.keys.size).toBe(1);
    expect(ring.activeKeyId).toMatch(/^dev-[0-9a-f]{8}$/);
    const vault = createVault(ring);
    const aad = { table: 't', column: 'c', rowId: 'r' };
    expect(vault.openText(vault.seal('hello', aad), aad)).toBe('hello');

    expect(secrets.jwtPrivateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(parseEd25519PrivateKeyPem(secrets.jwtPrivateKeyPem).asymmetricKeyType).toBe('ed25519');
  });

  // process.umask(mask) is not allowed in worker threads; the forks pool runs tests in processes.
  it.skipIf(!isMainThread)('works even under a permissive umask', () => {
    const previous = process.umask(0o000);
    try {
      const dir = join(root, 'umask');
      loadOrCreateDevSecrets(dir, log);
      expect(mode(dir)).toBe(0o700);
      expect(mode(join(dir, DEV_SECRET_FILES.vaultKeys))).toBe(0o600);
      expect(mode(join(dir, DEV_SECRET_FILES.jwtPrivateKey))).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('logs a clear development-keys warning without the key material', () => {
    const secrets = loadOrCreateDevSecrets(join(root, 's'), log);
    const text = logs.join('\n');
    expect(text).toMatch(/DEVELOPMENT KEYS IN USE/);
    expect(text).toMatch(/never be used in production/);
    expect(text).not.toContain(secrets.vaultKeys.split(':')[1]);
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('reuses the same files on a second call', () => {
    const dir = join(root, 's');
    const first = loadOrCreateDevSecrets(dir, log);
    const vaultBefore = readFileSync(join(dir, DEV_SECRET_FILES.vaultKeys), 'utf8');
    const second = loadOrCreateDevSecrets(dir, log);
    expect(second).toEqual(first);
    expect(readFileSync(join(dir, DEV_SECRET_FILES.vaultKeys), 'utf8')).toBe(vaultBefore);
    // No temp files left behind.
    expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'jwt-ed25519.pem', 'vault-keys']);
  });

  it('fills in only a missing file and keeps the other', () => {
    const dir = join(root, 's');
    const first = loadOrCreateDevSecrets(dir, log);
    rmSync(join(dir, DEV_SECRET_FILES.jwtPrivateKey));
    const second = loadOrCreateDevSecrets(dir, log);
    expect(second.vaultKeys).toBe(first.vaultKeys);
    expect(second.jwtPrivateKeyPem).not.toBe(first.jwtPrivateKeyPem);
  });

  it('tightens a key file that became group/world readable, and warns', () => {
    const dir = join(root, 's');
    loadOrCreateDevSecrets(dir, log);
    const path = join(dir, DEV_SECRET_FILES.vaultKeys);
    chmodSync(path, 0o644);
    logs = [];
    loadOrCreateDevSecrets(dir, log);
    expect(mode(path)).toBe(0o600);
    expect(logs.join('\n')).toMatch(/readable by other users/);
  });

  it('refuses a corrupted key file with config_invalid, naming the file but not its content', () => {
    const dir = join(root, 's');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, DEV_SECRET_FILES.vaultKeys), 'dev:c2hvcnQ=\n', { mode: 0o600 });
    let caught: unknown;
    try {
      loadOrCreateDevSecrets(dir, log);
    } catch (error) {
      caught = error;
    }
    expect(isSwitchboardError(caught, 'config_invalid')).toBe(true);
    if (isSwitchboardError(caught)) {
      expect(caught.message).toContain(DEV_SECRET_FILES.vaultKeys);
      expect(caught.message).not.toContain('c2hvcnQ=');
    }
  });

  it('refuses a symlinked key file', () => {
    const dir = join(root, 's');
    mkdirSync(dir, { mode: 0o700 });
    const elsewhere = join(root, 'elsewhere');
    writeFileSync(elsewhere, `x:${randomBytes(32).toString('base64')}`);
    symlinkSync(elsewhere, join(dir, DEV_SECRET_FILES.vaultKeys));
    expect(() => loadOrCreateDevSecrets(dir, log)).toThrow(/not a regular file/);
  });

  it('refuses a directory path that is a file', () => {
    const path = join(root, 'file');
    writeFileSync(path, 'x');
    expect(() => loadOrCreateDevSecrets(path, log)).toThrow();
  });
});

describe('resolveSecrets', () => {
  it('uses configured secrets and creates nothing', () => {
    const resolved = resolveSecrets(config({ VAULT_KEYS: configuredVault, JWT_PRIVATE_KEY: configuredPem }), log);
    expect(resolved).toEqual({ vaultKeys: configuredVault, jwtPrivateKeyPem: configuredPem, source: 'config' });
    expect(() => statSync(join(root, 'secrets'))).toThrow();
    expect(logs).toEqual([]);
  });

  it('uses configured secrets in production', () => {
    const resolved = resolveSecrets(config({ SWITCHBOARD_ENV: 'production', VAULT_KEYS: configuredVault, JWT_PRIVATE_KEY: configuredPem }), log);
    expect(resolved.source).toBe('config');
  });

  it.each([
    ['both missing', {}],
    ['vault keys missing', { JWT_PRIVATE_KEY: configuredPem }],
    ['JWT key missing', { VAULT_KEYS: configuredVault }],
  ])('refuses production with %s, and generates nothing', (_name, overrides) => {
    let caught: unknown;
    try {
      resolveSecrets(config({ SWITCHBOARD_ENV: 'production', ...overrides }), log);
    } catch (error) {
      caught = error;
    }
    expect(isSwitchboardError(caught, 'config_invalid')).toBe(true);
    expect(() => statSync(join(root, 'secrets'))).toThrow();
  });

  it.each(['development', 'test'] as const)('generates development secrets in %s', (env) => {
    const resolved = resolveSecrets(config({ SWITCHBOARD_ENV: env }), log);
    expect(resolved.source).toBe('development');
    expect(mode(join(root, 'secrets', DEV_SECRET_FILES.vaultKeys))).toBe(0o600);
    expect(resolveSecrets(config({ SWITCHBOARD_ENV: env }), log)).toEqual(resolved);
  });

  it('mixes a configured secret with a development one outside production', () => {
    const resolved = resolveSecrets(config({ VAULT_KEYS: configuredVault }), log);
    expect(resolved.vaultKeys).toBe(configuredVault);
    expect(resolved.source).toBe('development');
    expect(parseEd25519PrivateKeyPem(resolved.jwtPrivateKeyPem).asymmetricKeyType).toBe('ed25519');
  });

  it('refuses invalid configured secrets at startup', () => {
    expect(() => resolveSecrets(config({ VAULT_KEYS: 'nope', JWT_PRIVATE_KEY: configuredPem }), log)).toThrow(/VAULT_KEYS/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => resolveSecrets(config({ VAULT_KEYS: configuredVault, JWT_PRIVATE_KEY: rsa }), log)).toThrow(/Ed25519/);
  });
});
