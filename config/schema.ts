/**
 * Every setting Switchboard reads, in one place. Values come from environment variables; every
 * secret also accepts `NAME_FILE` (a path whose contents are the value, as docker secrets give).
 * Nothing else in the code base reads process.env.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: readonly string[]) =>
  z.url().refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), {
    message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
  });
const optionalSecret = z.string().min(1).optional();

/** Names of settings that are secrets: they accept `NAME_FILE` and are never logged. */
export const SECRET_SETTINGS = [
  'VAULT_KEYS',
  'JWT_PRIVATE_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'LLM_API_KEY',
  'DATABASE_URL',
  'REDIS_URL',
] as const;

/** The environment, as Switchboard understands it. Defaults make a new machine work. */
export const EnvSchema = z.object({
  SWITCHBOARD_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: int(0, 65_535).default(8080),
  PUBLIC_URL: z.url().optional(),
  HTTP_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  HTTP_JSON_MAX_DEPTH: int(2, 256).default(32),
  WS_MAX_FRAME_BYTES: int(1024, 1024 * 1024).default(64 * 1024),
  WS_HEARTBEAT_MS: int(1000, 600_000).default(30_000),

  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/switchboard'),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9{}_-]+$/, 'letters, digits, braces, _ and - only')
    .default('{switchboard}'),

  MESSAGE_MAX_CHARS: int(1, 100_000).default(10_000),
  PII_DEFAULT_ACTION: z.enum(['log', 'redact', 'block']).default('redact'),

  VAULT_KEYS: optionalSecret,
  JWT_PRIVATE_KEY: optionalSecret,
  JWT_ISSUER: z.string().min(1).default('switchboard'),
  JWT_AUDIENCE: z.string().min(1).default('switchboard-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 900).default(900),
  WS_TICKET_TTL_SECONDS: int(5, 120).default(30),
  DEV_SECRETS_DIR: z.string().min(1).default('.switchboard'),

  LLM_PROVIDER: z.enum(['auto', 'offline', 'openai', 'anthropic', 'openai-compatible']).default('auto'),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_BASE_URL: url(['http', 'https']).optional(),
  LLM_API_KEY: optionalSecret,
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: url(['http', 'https']).optional(),
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: url(['http', 'https']).optional(),
  LLM_TIMEOUT_MS: int(100, 600_000).default(60_000),
  LLM_MAX_OUTPUT_TOKENS: int(16, 200_000).default(1024),
  AGENT_MAX_STEPS: int(1, 20).default(5),
  AGENT_CONTEXT_MESSAGES: int(1, 200).default(20),
  AGENT_SYSTEM_PROMPT: z
    .string()
    .min(1)
    .max(20_000)
    .default(
      'You are Switchboard, a helpful assistant. Placeholders such as [EMAIL_ADDRESS] stand for personal data that was redacted before it reached you; never ask the user to repeat it.',
    ),

  WORKER_CONCURRENCY: int(1, 256).default(4),
  WORKER_LOCK_DURATION_MS: int(500, 600_000).default(30_000),
  JOB_ATTEMPTS: int(1, 100).default(8),
  JOB_BACKOFF_MS: int(10, 600_000).default(2_000),
  SWEEPER_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  SWEEPER_STALE_AFTER_MS: int(100, 86_400_000).default(60_000),
  OUTBOX_SENDING_LEASE_MS: int(1000, 3_600_000).default(120_000),
  SHUTDOWN_DEADLINE_MS: int(100, 600_000).default(10_000),
  DEV_BOOTSTRAP_OWNER: bool.default(true),
});

/** The raw, parsed environment. */
export type Env = z.infer<typeof EnvSchema>;
