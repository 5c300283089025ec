/**
 * Socket Mode with the real @slack/socket-mode client against the stand-in's WebSocket:
 * events_api envelopes are acked only after they are committed, a redelivered envelope is
 * answered once, and only one process per app holds the socket (a Redis lease): a standby takes
 * over when the holder stops, and a holder that loses its lease disconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { slackAdapterFactory, createSlackAdapter } from '../../adapters/slack/index.ts';
import type { SlackSettings } from '../../adapters/slack/config.ts';
import type { PlatformAdapter, PlatformAdapterDeps } from '../../src/core/platform.ts';
import { createInstallationPort } from '../../src/platform/installation-port.ts';
import { createCounterPort, createLockPort } from '../../src/queue/locks.ts';
import { findLinkedUser } from '../../src/store/installations.ts';
import { appendAudit } from '../../src/store/audit.ts';
import { createLogger } from '../../src/core/logger.ts';
import { systemClock, randomIds } from '../../src/core/clock.ts';
import { startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { dmEvent, eventCallback, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_TEAM } from '../standins/slack-fixtures.ts';
import { TEST_REDIS_URL } from '../support/env.ts';

const BOT_TOKEN = 'xoxb-socket-test-token';
const APP_TOKEN = 'xapp-1-A0STANDIN-socket-test';
const LEASE_MS = 1500;

let standin: SlackStandin;
let stack: Stack;
let redis: Redis;
const adapters: PlatformAdapter[] = [];

/** A Slack adapter in "another process": Socket Mode only, sharing the stack's database, Redis prefix and ingest. */
function socketAdapter(): PlatformAdapter {
  const { db, vault, ingest } = stack.switchboard.services;
  const deps: PlatformAdapterDeps = {
    sink: ingest,
    installations: createInstallationPort(db, vault, randomIds),
    linkedUser: (platform, installationId, userId) => findLinkedUser(db, platform, installationId, userId),
    locks: createLockPort(redis, stack.config.QUEUE_PREFIX),
    counters: createCounterPort(redis, stack.config.QUEUE_PREFIX),
    audit: (entry) => appendAudit(db, { ...entry, actorType: 'platform' }),
    log: createLogger({ level: 'silent' }),
    clock: systemClock,
    defaultTenantId: stack.tenantId,
    receive: true,
  };
  const settings: SlackSettings = {
    signingSecret: undefined,
    botToken: undefined,
    appToken: APP_TOKEN,
    oauth: undefined,
    apiUrl: standin.apiUrl,
    apiTimeoutMs: 3000,
    apiRetries: 0,
    socketLeaseMs: LEASE_MS,
    maxAttachmentBytes: 1024,
  };
  const adapter = createSlackAdapter(settings, deps, { jsonMaxDepth: 32 });
  adapters.push(adapter);
  return adapter;
}

beforeAll(async () => {
  standin = await startSlackStandin();
  standin.addBot({ token: BOT_TOKEN, teamId: SLACK_TEAM, teamName: 'Socket Team', botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID });
  // The stack registers the workspace and sends the replies; the socket adapters below receive.
  stack = await startStack({
    adapterFactories: [slackAdapterFactory],
    env: { SLACK_SIGNING_SECRET: 'unused-here', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: standin.apiUrl, SLACK_API_RETRIES: '0' },
  });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  for (const adapter of adapters) await adapter.stop();
  redis?.disconnect();
  await stack?.stop();
  await standin?.close();
});

const eventRows = (eventId: string) =>
  countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'slack' AND platform_event_id = $1`, [eventId]);
const repliesIn = (channel: string) => standin.posts().filter((p) => p.channel === channel);

describe('Slack Socket Mode', () => {
  let first: PlatformAdapter;
  let second: PlatformAdapter;

  it('connects once per app: the first process holds the socket, the second stands by', async () => {
    first = socketAdapter();
    await first.start();
    await standin.socket.waitForConnections(1);
    expect(first.status().detail).toContain('socket mode connected');
    second = socketAdapter();
    await second.start();
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(standin.socket.connections()).toBe(1);
    expect(second.status().detail).toContain('socket mode standby');
  });

  it('acks an events_api envelope only after it is committed, and answers in the thread', async () => {
    const event = dmEvent();
    const payload = eventCallback(event);
    const envelopeId = standin.socket.push(payload);
    await standin.socket.waitForAck(envelopeId);
    // Committed before the ack reached Slack.
    expect(await eventRows(String(payload['event_id']))).toBe(1);
    const channel = String(event['channel']);
    await waitUntil(async () => repliesIn(channel).length, (n) => n === 1, { what: 'the reply' });
    expect(repliesIn(channel)[0]?.threadTs).toBe(event['ts']);
  });

  it('answers a redelivered envelope (retry_attempt) once', async () => {
    const event = dmEvent();
    const payload = eventCallback(event);
    const acks = [standin.socket.push(payload), standin.socket.push(payload, { retryAttempt: 1 }), standin.socket.push(payload, { retryAttempt: 2 })];
    for (const id of acks) await standin.socket.waitForAck(id);
    expect(await eventRows(String(payload['event_id']))).toBe(1);
    const channel = String(event['channel']);
    await waitUntil(async () => repliesIn(channel).length, (n) => n === 1, { what: 'the reply' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(repliesIn(channel)).toHaveLength(1);
  });

  it('acks envelopes it does not use without storing anything', async () => {
    const before = await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events`);
    const ids = [
      standin.socket.push(eventCallback(dmEvent({ user: SLACK_BOT_USER, bot_id: SLACK_BOT_ID }))),
      standin.socket.push(eventCallback({ type: 'reaction_added', user: 'U0PERSON01', reaction: 'thumbsup' })),
      standin.socket.push({ type: 'event_callback', team_id: 'not-a-team', event: { type: 'message' } }),
    ];
    for (const id of ids) await standin.socket.waitForAck(id);
    expect(await countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM inbound_events`)).toBe(before);
  });

  it('hands the socket to the standby when the holder stops', async () => {
    const opensBefore = standin.socket.openCount();
    const stoppedAt = Date.now();
    await first.stop();
    await waitUntil(async () => second.status().detail, (d) => d.includes('socket mode connected'), { timeoutMs: LEASE_MS * 3, what: 'the standby to connect' });
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS * 2);
    await standin.socket.waitForConnections(1);
    expect(standin.socket.openCount()).toBe(opensBefore + 1);
    const event = dmEvent();
    const envelopeId = standin.socket.push(eventCallback(event));
    await standin.socket.waitForAck(envelopeId);
    await waitUntil(async () => repliesIn(String(event['channel'])).length, (n) => n === 1, { what: 'the reply through the new holder' });
  });

  it('disconnects when its lease is taken, and a standby takes over once the lease lapses', async () => {
    // Another process "steals" the lease (as after a network partition); its holder then dies without releasing it.
    const keys = await redis.keys(`${stack.config.QUEUE_PREFIX}:lock:slack:socket:*`);
    expect(keys).toHaveLength(1);
    await redis.set(keys[0] ?? '', 'someone-else', 'PX', LEASE_MS);
    await waitUntil(async () => standin.socket.connections(), (n) => n === 0, { timeoutMs: LEASE_MS * 2, what: 'the holder to disconnect' });
    const third = socketAdapter();
    await third.start();
    // Once the stolen lease expires, one of the two waiting processes takes the socket — exactly one.
    await standin.socket.waitForConnections(1, LEASE_MS * 4);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(standin.socket.connections()).toBe(1);
    const connected = [second, third].filter((a) => a.status().detail.includes('socket mode connected'));
    expect(connected).toHaveLength(1);
  });
});
