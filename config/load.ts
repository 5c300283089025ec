/**
 * Parses the environment once, reports every problem at the same time, and returns a
 * deep-frozen config. Secrets may come from `NAME_FILE`.
 */
import { readFileSync } from 'node:fs';
import { SwitchboardError } from '../src/core/errors.ts';
import { EnvSchema, SECRET_SETTINGS, type Env } from './schema.ts';

/** The validated, frozen configuration every part of Switchboard receives. */
export type Config = Readonly<Env>;

/** Where the raw values come from; defaults to process.env. */
export interface LoadConfigOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Reads a `_FILE` path; injectable for tests. */
  readonly readFile?: (path: string) => string;
  /** false: skip production-only refusals (doctor --security reports them itself, with fixes). */
  readonly productionRefusals?: boolean;
}

/** TLS settings that are wrong anywhere, and plain HTTP or CORS `*` in production (require_wss). */
function transportProblems(env: Env, productionRefusals: boolean): string[] {
  const problems: string[] = [];
  if ((env.TLS_CERT === undefined) !== (env.TLS_KEY === undefined)) {
    problems.push(`${env.TLS_CERT === undefined ? 'TLS_CERT' : 'TLS_KEY'}: set TLS_CERT_FILE and TLS_KEY_FILE (or TLS_CERT and TLS_KEY) together`);
  }
  if (env.SWITCHBOARD_ENV !== 'production' || !productionRefusals) return problems;
  if (env.REQUIRE_TLS === false) problems.push('REQUIRE_TLS: cannot be false in production (plain HTTP and ws:// are always refused there)');
  if (env.TLS_CERT === undefined && env.TRUST_PROXY === false) {
    problems.push(
      'TLS_CERT: production refuses plain HTTP: set TLS_CERT_FILE and TLS_KEY_FILE to serve TLS, or TRUST_PROXY to the TLS-terminating proxy (requests must then carry X-Forwarded-Proto: https)',
    );
  }
  if (env.CORS_ORIGINS.includes('*')) problems.push('CORS_ORIGINS: "*" is refused in production; list the allowed origins');
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Resolves `NAME_FILE` for every secret; setting both NAME and NAME_FILE is an error. */
function resolveSecretFiles(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
  problems: string[],
): Record<string, string | undefined> {
  const resolved: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    // Empty strings mean "unset", as in most .env tooling.
    if (value !== undefined && value !== '') resolved[name] = value;
  }
  for (const name of SECRET_SETTINGS) {
    const filePath = resolved[`${name}_FILE`];
    if (filePath === undefined) continue;
    if (resolved[name] !== undefined) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      resolved[name] = readFile(filePath).trim();
    } catch {
      problems.push(`${name}_FILE: cannot read ${filePath}`);
    }
  }
  return resolved;
}

/** Loads and validates configuration; throws `config_invalid` listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const problems: string[] = [];
  const resolved = resolveSecretFiles(env, readFile, problems);
  const parsed = EnvSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  if (parsed.success) problems.push(...transportProblems(parsed.data, options.productionRefusals ?? true));
  if (parsed.success && parsed.data.SWITCHBOARD_ENV === 'production' && options.productionRefusals !== false) {
    if (parsed.data.VAULT_KEYS === undefined) problems.push('VAULT_KEYS: required in production (or VAULT_KEYS_FILE)');
    if (parsed.data.JWT_PRIVATE_KEY === undefined)
      problems.push('JWT_PRIVATE_KEY: required in production (or JWT_PRIVATE_KEY_FILE)');
  }
  if (problems.length > 0 || !parsed.success) {
    throw new SwitchboardError('config_invalid', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      issues: problems.map((p) => {
        const [path = '', ...rest] = p.split(': ');
        return { path, message: rest.join(': ') };
      }),
    });
  }
  return deepFreeze({ ...parsed.data });
}
