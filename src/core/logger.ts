/**
 * Structured logging with pino. Secrets, tokens and message text are redacted by path, so a
 * careless `log.info({ body })` cannot leak them (ARCHITECTURE invariant 5).
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Object paths whose values are never written to logs. */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'ticket',
  '*.ticket',
  'text',
  '*.text',
  'content',
  '*.content',
  'body',
  '*.body',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'messages',
  '*.messages',
];

/** Options for the root logger. */
export interface LoggerOptions {
  readonly level: string;
  readonly name?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to inspect output. */
  readonly destination?: NodeJS.WritableStream;
}

/** Creates the root logger; children inherit redaction. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    name: options.name ?? 'switchboard',
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return options.destination ? pino(base, options.destination) : pino(base);
}
