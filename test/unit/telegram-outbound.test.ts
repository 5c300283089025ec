/** Bot API errors → retry semantics (429 retry_after honoured exactly), and the pacing budgets. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TelegramError } from 'telegraf';
import { isEntityParseError, toTelegramError } from '../../adapters/telegram/errors.ts';
import { telegramPaceRules } from '../../adapters/telegram/pace.ts';
import type { OutboundMessage } from '../../src/core/envelope.ts';

const tgError = (error_code: number, description: string, parameters?: Record<string, number>) =>
  new TelegramError({ error_code, description, ...(parameters ? { parameters } : {}) });

describe('Telegram errors', () => {
  it('turns a 429 into send_rate_limited with retry_after in ms', () => {
    const error = toTelegramError(tgError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }), 'sendMessage');
    expect(error.code).toBe('send_rate_limited');
    expect(error.details.retryAfterMs).toBe(7000);
    expect(error.retryable).toBe(true);
  });

  it('makes 5xx, 409 and network failures retryable, and refusals permanent', () => {
    expect(toTelegramError(tgError(502, 'Bad Gateway'), 'sendMessage').retryable).toBe(true);
    expect(toTelegramError(tgError(409, 'Conflict'), 'getUpdates').retryable).toBe(true);
    expect(toTelegramError(new Error('ECONNRESET'), 'sendMessage').retryable).toBe(true);
    for (const [code, text] of [[400, 'Bad Request: chat not found'], [401, 'Unauthorized'], [403, 'Forbidden: bot was blocked by the user'], [404, 'Not Found']] as const) {
      const error = toTelegramError(tgError(code, text), 'sendMessage');
      expect([error.code, error.retryable, error.details.context?.['status']]).toEqual(['send_failed', false, code]);
    }
    expect(toTelegramError(new Error('aborted'), 'sendMessage', { cancelled: true, timedOut: false }).code).toBe('shutting_down');
    expect(toTelegramError(new Error('aborted'), 'sendMessage', { cancelled: false, timedOut: true }).details.context).toEqual({ method: 'sendMessage', timeout: true });
  });

  it('recognises refused HTML', () => {
    expect(isEntityParseError(toTelegramError(tgError(400, "Bad Request: can't parse entities: unsupported start tag"), 'sendMessage'))).toBe(true);
    expect(isEntityParseError(toTelegramError(tgError(400, 'Bad Request: chat not found'), 'sendMessage'))).toBe(false);
  });
});

describe('Telegram pacing', () => {
  const message = (kind: 'dm' | 'group', channelId: string, threadId?: string): OutboundMessage => ({
    outboxId: randomUUID(),
    messageId: randomUUID(),
    tenantId: randomUUID(),
    platform: 'telegram',
    installationId: '7000000001',
    conversationId: randomUUID(),
    conversation: { key: 'k', channelId, kind, ...(threadId ? { threadId } : {}) },
    text: 'x',
  });

  it('spends 1/s per chat and ~30/s per bot in a private chat', () => {
    expect(telegramPaceRules(message('dm', '42'))).toEqual([
      { key: 'telegram:7000000001:global', intervalMs: 35, burst: 1, gateOnly: true },
      { key: 'telegram:7000000001:chat:42', intervalMs: 1000, burst: 1 },
    ]);
  });

  it('adds 20/min per group, shared by its forum topics', () => {
    const rules = telegramPaceRules(message('group', '-1001', '7'));
    expect(rules).toContainEqual({
      key: 'telegram:7000000001:group:-1001',
      intervalMs: 3000,
      burst: 1,
      window: { max: 20, ms: 60_000 },
    });
    expect(rules.map((r) => r.key)).toEqual(telegramPaceRules(message('group', '-1001')).map((r) => r.key));
    // Rate rules use burst 1, so no second holds more than the published limit; the group's
    // minute is a sliding window of 20 sends checked at send time.
    for (const rule of rules.filter((r) => r.window === undefined)) {
      expect(1 + Math.floor(1000 / rule.intervalMs)).toBeLessThanOrEqual(rule.key.endsWith('global') ? 30 : 2);
    }
  });
});
