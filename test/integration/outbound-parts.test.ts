/**
 * Outbound delivery to a platform with a message limit and a pacing budget: long replies go out
 * in order, in parts that fit, spaced by the budget; a failure mid-way resumes at the failed part
 * without resending earlier ones; a 429 with Retry-After is waited out and the reply arrives once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SwitchboardError } from '../../src/core/errors.ts';
import type { OutboundMessage } from '../../src/core/envelope.ts';
import type { PlatformAdapter } from '../../src/core/platform.ts';
import type { PlatformAdapterFactory } from '../../adapters/index.ts';
import { formatConversationKey } from '../../src/core/conversation-key.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';

interface Delivery {
  readonly at: number;
  readonly text: string;
  readonly part?: OutboundMessage['part'];
}
const deliveries: Delivery[] = [];
const failures: Array<'once' | { retryAfterMs: number }> = [];

const recordingFactory: PlatformAdapterFactory = {
  platform: 'telegram',
  isConfigured: () => true,
  create: (): PlatformAdapter => ({
    platform: 'telegram',
    maxMessageChars: 40,
    paceRules: (message) => [{ key: `test:chat:${message.conversation.channelId}`, intervalMs: 300, burst: 1 }],
    send: async (message) => {
      const failure = failures.shift();
      if (failure === 'once') throw new SwitchboardError('send_failed', 'stand-in refused this part');
      if (failure !== undefined) {
        throw new SwitchboardError('send_rate_limited', 'stand-in says 429', { retryAfterMs: failure.retryAfterMs });
      }
      deliveries.push({ at: Date.now(), text: message.text, ...(message.part ? { part: message.part } : {}) });
      return { platformMessageId: `m${deliveries.length}` };
    },
    start: async () => undefined,
    stop: async () => undefined,
    status: () => ({ platform: 'telegram', state: 'enabled', detail: 'test' }),
  }),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ adapterFactories: [recordingFactory], env: { JOB_BACKOFF_MS: '50' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends an inbound message on the test platform; the offline responder's long reply is what gets split. */
async function sendInbound(): Promise<string> {
  const { ingest, db } = stack.switchboard.services;
  const chat = randomUUID();
  const receipt = await ingest.accept({
    tenantId: stack.tenantId,
    platform: 'telegram',
    installationId: 'bot1',
    platformEventId: randomUUID(),
    conversation: { key: formatConversationKey({ platform: 'telegram', installationId: 'bot1', channelId: chat }), channelId: chat, kind: 'dm' },
    messageId: '1',
    author: { platformUserId: 'u1', displayName: 'U', isBot: false, isSelf: false },
    text: 'hi',
    attachments: [],
    mentionsAgent: true,
    verifiedBy: 'test',
  });
  await waitUntil(
    () => countRows(db, `SELECT count(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.reply_to_event_id = $1`, [receipt.eventId]),
    (n) => n === 1,
  );
  return receipt.eventId;
}

it('splits long replies, paces the parts, resumes after a failure and waits out a 429', async () => {
  // The offline responder's reply is long (hundreds of characters): it must arrive in ≤ 40-char parts.
  failures.push('once', { retryAfterMs: 700 });
  const eventId = await sendInbound();
  const { db } = stack.switchboard.services;
  await waitUntil(
    () => countRows(db, `SELECT count(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.reply_to_event_id = $1 AND o.status = 'sent'`, [eventId]),
    (n) => n === 1,
    { timeoutMs: 60_000, what: 'all parts sent' },
  );
  const row = await db.query<{ parts_sent: number }>(
    `SELECT o.parts_sent FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.reply_to_event_id = $1`,
    [eventId],
  );
  const count = deliveries[0]?.part?.count ?? 0;
  expect(count).toBeGreaterThan(3);
  expect(row.rows[0]?.parts_sent).toBe(count);
  // Each part once, in order, within the limit.
  expect(deliveries.map((d) => d.part?.index)).toEqual([...Array(count).keys()]);
  for (const d of deliveries) expect(d.text.length).toBeLessThanOrEqual(40);
  // Spaced by the budget (a little slack for timer granularity).
  for (let i = 1; i < deliveries.length; i += 1) {
    expect(deliveries[i]!.at - deliveries[i - 1]!.at).toBeGreaterThanOrEqual(290);
  }
  expect(failures).toHaveLength(0);
}, 90_000);
