/**
 * Every setting Switchboard reads, in one place. Values come from environment variables; every
 * secret also accepts `NAME_FILE` (a path whose contents are the value, as docker secrets give).
 * Nothing else in the code base reads process.env.
 */
import { isIP } from 'node:net';
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
  'TLS_CERT',
  'TLS_KEY',
  'API_KEY_HASH_KEY',
  'GOOGLE_CLIENT_SECRET',
  'GITHUB_CLIENT_SECRET',
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_CLIENT_SECRET',
  'DISCORD_BOT_TOKEN',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
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

  // Transport security and vault key budget (docs/security/keys-and-transport.md). TLS is served
  // directly when TLS_CERT and TLS_KEY (PEM; usually TLS_CERT_FILE / TLS_KEY_FILE) are both set. REQUIRE_TLS (always on in
  // production) refuses plain HTTP and ws:// unless the request came over TLS or through a trusted
  // proxy (TRUST_PROXY: hop count, or proxy addresses/CIDRs) with X-Forwarded-Proto: https.
  TLS_CERT: optionalSecret,
  TLS_KEY: optionalSecret,
  TLS_MIN_VERSION: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  REQUIRE_TLS: bool.optional(),
  TRUST_PROXY: z
    .string()
    .max(2000)
    .transform((raw, ctx): false | number | string[] => {
      const value = raw.trim();
      if (['false', 'off', 'no', '0'].includes(value)) return false;
      if (/^\d+$/.test(value)) {
        const hops = Number(value);
        if (hops <= 20) return hops;
      }
      if (['true', 'yes', 'on', '*'].includes(value)) {
        ctx.addIssue({ code: 'custom', message: 'trusting every address lets any client forge X-Forwarded-*; give a hop count or the proxy addresses' });
        return z.NEVER;
      }
      const entries = value.split(',').map((e) => e.trim());
      for (const entry of entries) {
        const [address = '', prefix, extra] = entry.split('/');
        const family = isIP(address);
        const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
        const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
        if (!named && (family === 0 || !prefixOk || extra !== undefined)) {
          ctx.addIssue({ code: 'custom', message: 'expected false, a hop count (1-20), or a comma list of IPs/CIDRs or loopback, linklocal, uniquelocal' });
          return z.NEVER;
        }
      }
      return entries;
    })
    .default(false),
  CORS_ORIGINS: z
    .string()
    .max(4000)
    .transform((raw, ctx): string[] => {
      const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
      if (entries.includes('*')) return ['*'];
      for (const entry of entries) {
        let origin = '';
        try {
          origin = new URL(entry).origin;
        } catch {
          // reported below
        }
        if (origin !== entry || !/^https?:\/\//.test(entry)) {
          ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 100)}" is not an origin like https://app.example.com (no path, no trailing slash)` });
          return z.NEVER;
        }
      }
      return entries;
    })
    .default([]),
  HSTS_MAX_AGE_SECONDS: int(0, 63_072_000).default(31_536_000),
  VAULT_KEY_SEAL_BUDGET: int(1000, 2 ** 32).default(2 ** 28),

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

  // Data rights (docs/security/data-rights.md): account exports running at once per API process;
  // each holds one database connection for as long as it streams, so keep it well under the pool.
  DATA_EXPORT_MAX_CONCURRENT: int(1, 50).default(2),

  // Rate limits and caps (docs/security/limits.md). Counters live in Redis, so they hold across
  // every API process: a per-user message token bucket, sign-in throttling per account and per IP,
  // a per-user cap on open sockets, and a cap on unanswered messages per conversation.
  RATE_LIMIT_MESSAGES_PER_MINUTE: int(1, 100_000).default(60),
  RATE_LIMIT_MESSAGE_BURST: int(1, 10_000).default(10),
  RATE_LIMIT_LOGIN_ACCOUNT_FAILURES: int(1, 100_000).default(10),
  RATE_LIMIT_LOGIN_IP_FAILURES: int(1, 1_000_000).default(100),
  RATE_LIMIT_LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  RATE_LIMIT_WS_CONNECTIONS_PER_USER: int(1, 1_000).default(5),
  RATE_LIMIT_WS_SLOT_TTL_SECONDS: int(2, 3_600).default(60),
  RATE_LIMIT_CONVERSATION_PENDING_MAX: int(1, 1_000_000).default(1_000),
  RATE_LIMIT_REDIS_TIMEOUT_MS: int(10, 10_000).default(500),

  VAULT_KEYS: optionalSecret,
  JWT_PRIVATE_KEY: optionalSecret,
  JWT_ISSUER: z.string().min(1).default('switchboard'),
  JWT_AUDIENCE: z.string().min(1).default('switchboard-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 900).default(900),
  WS_TICKET_TTL_SECONDS: int(5, 120).default(30),

  // Sessions and two-factor sign-in (docs/security/authentication.md). A session ends when it goes
  // unrefreshed for the idle TTL or reaches the absolute TTL; refresh tokens rotate on every use.
  // The second sign-in step's token lives MFA_TOKEN_TTL_SECONDS; TOTP_MAX_FAILURES wrong codes within
  // TOTP_FAILURE_WINDOW_SECONDS lock the user's 2FA for TOTP_LOCKOUT_SECONDS.
  SESSION_IDLE_TTL_SECONDS: int(900, 30 * 86_400).default(8 * 3600),
  SESSION_ABSOLUTE_TTL_SECONDS: int(900, 90 * 86_400).default(7 * 86_400),
  MFA_TOKEN_TTL_SECONDS: int(30, 900).default(300),
  TOTP_ISSUER: z.string().min(1).max(64).regex(/^[^:]+$/, 'must not contain ":"').default('Switchboard'),
  TOTP_MAX_FAILURES: int(1, 100).default(5),
  TOTP_FAILURE_WINDOW_SECONDS: int(60, 86_400).default(900),
  TOTP_LOCKOUT_SECONDS: int(60, 86_400).default(900),
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

  // Retention and the audit log (docs/security/audit-and-retention.md). Worker processes run the
  // retention job every RETENTION_INTERVAL_MS; a Redis lease makes one process run it per interval.
  // Messages follow tenants.retention_days (default 90) and PII originals tenants.pii_retention_days
  // (default 30); finished inbound events (the dedupe rows) stay at least RETENTION_DEDUPE_MIN_DAYS;
  // expired or revoked sessions, tickets and sign-in challenges go RETENTION_EXPIRED_GRACE_HOURS
  // after they ended. Audit security events are kept AUDIT_SECURITY_RETENTION_DAYS, access events
  // AUDIT_ACCESS_RETENTION_DAYS. Deletes run in batches of RETENTION_BATCH_SIZE rows.
  RETENTION_ENABLED: bool.default(true),
  RETENTION_INTERVAL_MS: int(1_000, 86_400_000).default(3_600_000),
  RETENTION_BATCH_SIZE: int(1, 100_000).default(5_000),
  RETENTION_DEDUPE_MIN_DAYS: int(1, 3_650).default(7),
  RETENTION_EXPIRED_GRACE_HOURS: int(0, 8_760).default(24),
  AUDIT_SECURITY_RETENTION_DAYS: int(1, 36_500).default(365),
  AUDIT_ACCESS_RETENTION_DAYS: int(1, 36_500).default(90),

  // API keys: the server-side HMAC key for stored key hashes (development generates one under
  // DEV_SECRETS_DIR; production refuses to start without it), the longest lifetime a key may have
  // (0 = no limit; keys created without an expiry get this one), and the longest rotation overlap.
  API_KEY_HASH_KEY: optionalSecret,
  API_KEY_MAX_TTL_DAYS: int(0, 3650).default(365),
  API_KEY_MAX_OVERLAP_SECONDS: int(0, 86_400).default(3600),

  // Sign in with Google (OpenID Connect) and GitHub (OAuth2) (docs/security/sign-in-with-google-github.md).
  // A provider is enabled when its client id and secret are both set; its redirect URI is
  // <PUBLIC_URL>/api/v1/auth/oidc/<google|github>/callback, so PUBLIC_URL is then required. The
  // issuer and URLs are overridable only to point at a stand-in (plain http is refused in production).
  // OIDC_FLOW_TTL_SECONDS bounds how long a started sign-in may take at the provider.
  GOOGLE_CLIENT_ID: z.string().min(1).max(255).optional(),
  GOOGLE_CLIENT_SECRET: optionalSecret,
  GOOGLE_OIDC_ISSUER: url(['http', 'https']).default('https://accounts.google.com'),
  GOOGLE_ID_TOKEN_ALG: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']).default('RS256'),
  GITHUB_CLIENT_ID: z.string().min(1).max(255).optional(),
  GITHUB_CLIENT_SECRET: optionalSecret,
  GITHUB_OAUTH_URL: url(['http', 'https']).default('https://github.com'),
  GITHUB_API_URL: url(['http', 'https']).default('https://api.github.com'),
  OIDC_FLOW_TTL_SECONDS: int(60, 1800).default(600),
  OIDC_HTTP_TIMEOUT_MS: int(1000, 60_000).default(10_000),

  // Slack (docs/platforms/slack.md). The adapter is enabled when any SLACK_* credential is set.
  // Receiving: Events API over HTTP (SLACK_SIGNING_SECRET) and/or Socket Mode (SLACK_APP_TOKEN).
  // Workspaces: one from SLACK_BOT_TOKEN, and/or many through OAuth v2 (SLACK_CLIENT_ID and
  // SLACK_CLIENT_SECRET; SLACK_ALLOWED_TEAM_IDS limits who may install). SLACK_API_URL and
  // SLACK_OAUTH_AUTHORIZE_URL point the SDK elsewhere (tests use a local stand-in).
  SLACK_SIGNING_SECRET: optionalSecret,
  SLACK_BOT_TOKEN: optionalSecret,
  SLACK_APP_TOKEN: optionalSecret,
  SLACK_CLIENT_ID: z.string().min(1).max(100).optional(),
  SLACK_CLIENT_SECRET: optionalSecret,
  SLACK_OAUTH_SCOPES: z
    .string()
    .max(2000)
    .regex(/^[a-z:._,-]+$/, 'a comma list of Slack scopes such as app_mentions:read,chat:write')
    .default('app_mentions:read,chat:write,im:history'),
  SLACK_OAUTH_REDIRECT_URL: url(['http', 'https']).optional(),
  SLACK_ALLOWED_TEAM_IDS: z
    .string()
    .max(4000)
    .transform((raw) => raw.split(',').map((e) => e.trim()).filter((e) => e !== ''))
    .pipe(z.array(z.string().regex(/^[TE][A-Z0-9]{2,30}$/, 'Slack team ids look like T0123ABCD')))
    .optional(),
  SLACK_API_URL: url(['http', 'https']).default('https://slack.com/api/'),
  SLACK_OAUTH_AUTHORIZE_URL: url(['http', 'https']).default('https://slack.com/oauth/v2/authorize'),
  SLACK_API_TIMEOUT_MS: int(100, 120_000).default(10_000),
  SLACK_API_RETRIES: int(0, 10).default(2),
  SLACK_SOCKET_LEASE_MS: int(1000, 600_000).default(30_000),
  SLACK_MAX_ATTACHMENT_BYTES: int(0, 1024 * 1024 * 1024).default(20 * 1024 * 1024),

  // Discord (docs/platforms/discord.md). The adapter is enabled when DISCORD_BOT_TOKEN is set, and
  // then needs DISCORD_APPLICATION_ID. The gateway (mentions and DMs) runs in API processes, one
  // holder per bot behind a Redis lease (DISCORD_GATEWAY_LEASE_MS), and stops identifying past
  // DISCORD_IDENTIFY_DAILY_LIMIT in any 24 h (Discord resets the token at 1000). The interactions
  // endpoint (/ask) needs DISCORD_PUBLIC_KEY; DISCORD_REGISTER_COMMANDS registers /ask on start.
  // DISCORD_API_URL points the SDK elsewhere (the gateway URL follows it; tests use a stand-in).
  DISCORD_BOT_TOKEN: optionalSecret,
  DISCORD_APPLICATION_ID: z.string().regex(/^\d{15,22}$/, 'a Discord application id (snowflake digits)').optional(),
  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the application public key: 64 hex characters').optional(),
  DISCORD_API_URL: url(['http', 'https']).default('https://discord.com/api'),
  DISCORD_GATEWAY_ENABLED: bool.default(true),
  DISCORD_REGISTER_COMMANDS: bool.default(false),
  DISCORD_INTERACTION_WINDOW_SECONDS: int(1, 3600).default(300),
  DISCORD_IDENTIFY_DAILY_LIMIT: int(1, 1000).default(900),
  DISCORD_IDENTIFY_INTERVAL_MS: int(0, 60_000).default(5_000),
  DISCORD_RECONNECT_BASE_MS: int(10, 60_000).default(1_000),
  DISCORD_RECONNECT_MAX_MS: int(100, 600_000).default(60_000),
  DISCORD_GATEWAY_LEASE_MS: int(1000, 600_000).default(30_000),
  DISCORD_REST_TIMEOUT_MS: int(100, 120_000).default(15_000),
  DISCORD_MAX_ATTACHMENT_BYTES: int(0, 1024 * 1024 * 1024).default(25 * 1024 * 1024),

  // Telegram (docs/platforms/telegram.md). The adapter is enabled when TELEGRAM_BOT_TOKEN (or the
  // webhook secret) is set. TELEGRAM_MODE=webhook receives at /webhooks/telegram and REQUIRES
  // TELEGRAM_WEBHOOK_SECRET (checked on every delivery); TELEGRAM_SET_WEBHOOK registers the URL and
  // secret with Telegram on start. TELEGRAM_MODE=polling runs getUpdates in one process per bot
  // (a Redis lease), confirming an update only after it is committed. TELEGRAM_API_URL points the
  // SDK elsewhere (tests use a local stand-in).
  TELEGRAM_BOT_TOKEN: optionalSecret,
  TELEGRAM_MODE: z.enum(['webhook', 'polling']).default('webhook'),
  TELEGRAM_WEBHOOK_SECRET: optionalSecret,
  TELEGRAM_SET_WEBHOOK: bool.default(false),
  TELEGRAM_WEBHOOK_URL: url(['http', 'https']).optional(),
  TELEGRAM_API_URL: url(['http', 'https']).default('https://api.telegram.org'),
  TELEGRAM_API_TIMEOUT_MS: int(100, 120_000).default(10_000),
  TELEGRAM_POLL_TIMEOUT_SECONDS: int(0, 50).default(25),
  TELEGRAM_POLL_LEASE_MS: int(1000, 600_000).default(30_000),
  TELEGRAM_MAX_ATTACHMENT_BYTES: int(0, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
});

/** The raw, parsed environment. */
export type Env = z.infer<typeof EnvSchema>;
