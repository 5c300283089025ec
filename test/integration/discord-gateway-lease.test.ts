/**
 * One gateway per bot, and the persisted IDENTIFY budget, with two adapter instances (two
 * "processes") sharing the real Redis and Postgres: the second stands by while the first holds
 * the lease; a holder that loses its lease disconnects and exactly one instance takes over; past
 * DISCORD_IDENTIFY_DAILY_LIMIT (3 here) the holder stops re-identifying, says so (log, audit,
 * status), and the budget holds for the other instance too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows } from '../support/wait.ts';
import { startDiscordStandin, type DiscordStandin } from '../standins/discord.ts';
import { BOT, discordEnv, scriptedModel } from '../standins/discord-harness.ts';
import { discordAdapterFactory } from '../../adapters/discord/index.ts';
import type { PlatformAdapterFactory } from '../../adapters/index.ts';
import type { PlatformAdapter, PlatformAdapterDeps } from '../../src/core/platform.ts';
import { createCounterPort, createLockPort } from '../../src/queue/locks.ts';
import { createInstallationPort } from '../../src/platform/installation-port.ts';
import { findLinkedUser } from '../../src/store/installations.ts';
import { appendAudit } from '../../src/store/audit.ts';
import { createLogger } from '../../src/core/logger.ts';
import { randomIds, systemClock } from '../../src/core/clock.ts';

let standin: DiscordStandin;
let stack: Stack;
let redis: Redis;
let first: PlatformAdapter | undefined;
let second: PlatformAdapter;
const leaseKey = () => `${stack.config.QUEUE_PREFIX}:lock:discord:gateway:${BOT.applicationId}`;

const capturing: PlatformAdapterFactory = {
  ...discordAdapterFactory,
  create: (config, deps) => {
    first = discordAdapterFactory.create(config, deps);
    return first;
  },
};

/** A second instance, as another API process would build it: same Redis prefix, same database. */
function secondInstance(): PlatformAdapter {
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
  return discordAdapterFactory.create(stack.config, deps);
}

const gatewayState = (adapter: PlatformAdapter | undefined): string => /gateway (\w+)/.exec(adapter?.status().detail ?? '')?.[1] ?? '?';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  standin = await startDiscordStandin({
    botToken: BOT.token,
    applicationId: BOT.applicationId,
    botUserId: BOT.userId,
    guildId: BOT.guildId,
    channelIds: [...BOT.channels],
  });
  stack = await startStack({
    env: discordEnv(standin, { DISCORD_IDENTIFY_DAILY_LIMIT: '3', DISCORD_GATEWAY_LEASE_MS: '1200' }),
    adapterFactories: [capturing],
    llm: scriptedModel(),
  });
  redis = new Redis(stack.config.REDIS_URL);
  await standin.waitFor(() => standin.live(), 'the first instance to connect');
  second = secondInstance();
  await second.start();
});
afterAll(async () => {
  await second?.stop();
  await stack?.stop();
  redis?.disconnect();
  await standin?.close();
});

describe('Discord gateway lease and identify budget', () => {
  it('keeps one gateway per bot; a holder that loses its lease disconnects and exactly one instance takes over', async () => {
    await sleep(1200);
    expect(standin.connections()).toBe(1);
    expect(standin.identifies()).toHaveLength(1);
    expect(gatewayState(first)).toBe('connected');
    expect(gatewayState(second)).toBe('standby');

    // Someone else takes the lease (as a process would after ours lapsed in a long pause).
    await redis.set(leaseKey(), 'another-process', 'PX', 60_000);
    await standin.waitFor(() => !standin.live(), 'the holder to disconnect', 5000);
    await sleep(1000);
    expect(standin.live()).toBe(false);
    expect(gatewayState(first)).toBe('standby');

    // The lease is free again: one instance (either) connects, the other stays on standby.
    const connectionsBefore = standin.connections();
    await redis.del(leaseKey());
    await standin.waitFor(() => standin.live(), 'a takeover', 5000);
    await sleep(1500);
    expect(standin.live()).toBe(true);
    expect(standin.identifies()).toHaveLength(2);
    expect(standin.connections()).toBe(connectionsBefore + 1);
    expect([gatewayState(first), gatewayState(second)].sort()).toEqual(['connected', 'standby']);
  });

  it('stops re-identifying past the daily limit, says so, and the budget holds for every instance', async () => {
    const holder = gatewayState(first) === 'connected' ? first : second;
    const standby = holder === first ? second : first;
    // Discord refuses resumes: each drop now costs an IDENTIFY.
    standin.setResume('invalid-session');
    standin.drop();
    await standin.waitFor(() => standin.identifies().length === 3 && standin.live(), 'the third identify (the limit)', 5000);
    standin.drop();
    await standin.waitFor(() => gatewayState(holder) === 'paused', 'the holder to pause', 5000);
    const connections = standin.connections();
    await sleep(1500);
    expect(standin.identifies()).toHaveLength(3);
    expect(standin.live()).toBe(false);
    expect(standin.connections()).toBe(connections);
    expect(holder?.status()).toMatchObject({ state: 'misconfigured', detail: expect.stringContaining('identifies 3/3 in 24 h') });
    const audited = await countRows(
      stack.switchboard.services.db,
      `SELECT count(*) AS n FROM audit_log WHERE action = 'discord.identify_budget_exhausted' AND target_id = $1`,
      [BOT.applicationId],
    );
    expect(audited).toBeGreaterThanOrEqual(1);
    // The count lives in Redis, shared by every instance.
    const keys = await redis.keys(`${stack.config.QUEUE_PREFIX}:counter:discord:identify:${BOT.applicationId}:*`);
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    expect(values.reduce((sum, v) => sum + Number(v), 0)).toBe(3);

    // The paused holder goes away; the standby takes the lease and is refused too.
    await holder?.stop();
    await standin.waitFor(() => gatewayState(standby) === 'paused', 'the other instance to pause', 5000);
    await sleep(500);
    expect(standin.identifies()).toHaveLength(3);
    expect(standin.live()).toBe(false);
  });
});
