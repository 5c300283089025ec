/**
 * Webhook authentication. Telegram signs nothing: it sends the secret token given to setWebhook
 * in `X-Telegram-Bot-Api-Secret-Token` on every delivery. We compare SHA-256 digests of the
 * expected and received values with `timingSafeEqual` (two 32-byte buffers, so neither the
 * comparison's time nor an exception reveals the secret's length or a matching prefix).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The header Telegram carries the secret in (lower case, as node gives header names). */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Why a delivery was refused. */
export type TelegramVerifyFailure = 'missing_secret' | 'bad_secret';

/** The outcome of checking one delivery. */
export type TelegramVerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: TelegramVerifyFailure };

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Checks the received header value against the configured secret. */
export function verifyTelegramSecret(expected: string, received: string | undefined): TelegramVerifyResult {
  if (received === undefined || received === '') return { ok: false, reason: 'missing_secret' };
  // Over-long values are refused without hashing megabytes (Telegram's limit is 256).
  if (received.length > 1024) return { ok: false, reason: 'bad_secret' };
  return timingSafeEqual(digest(expected), digest(received)) ? { ok: true } : { ok: false, reason: 'bad_secret' };
}
