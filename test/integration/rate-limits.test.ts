/**
 * Rate limits and caps through the real HTTP and WebSocket paths, against the real Postgres and
 * Redis: the per-user message bucket (REST and socket share it), sign-in throttling per account and
 * per IP, the per-user socket cap (including slots leaked by a dead process), the per-conversation
 * queue cap (429 for the web chat, ack-and-drop for platforms), and what happens without Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startStack, type Stack } from '../support/stack.ts';
import { deleteRedisPrefix, TEST_REDIS_URL, uniqueSuffix } from '../support/env.ts';
import { freePort, startRedisServer, type Child } from '../support/processes.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { connectWebchat, getTicket, signIn, type WebchatClient } from '../../src/cli/webchat-client.ts';
import { createManualClock } from '../../src/core/clock.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import type { InboundCandidate } from '../../src/core/envelope.ts';
import { createLimiterRedis, type LimiterRedis } from '../../src/security/limiter-redis.ts';
import { createTokenBucket } from '../../src/security/token-bucket.ts';
import { createLoginThrottle } from '../../src/security/login-throttle.ts';
import { createSocketCap } from '../../src/security/socket-cap.ts';
import { isDroppedDelivery } from '../../src/security/rate-limits.ts';
import { slackAdapterFactory } from '../../adapters/slack/index.ts';
import { slackSignedHeaders, startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { channelId, dmEvent, eventCallback, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_TEAM } from '../standins/slack-fixtures.ts';

const PASSWORD = 'correct horse battery staple';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: { error?: { code: string } } & Record<string, unknown>;
}

/** POSTs JSON from a chosen loopback address, so tests can be "different clients" (per-IP limits). */
function postJson(baseUrl: string, path: string, body: unknown, options: { from?: string; token?: string } = {}): Promise<Answer> {
  const url = new URL(`/api/v1${path}`, baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: text ? JSON.parse(text) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (stack: Stack, email: string, password: string, from?: string) =>
  postJson(stack.baseUrl, '/auth/login', { email, password }, from === undefined ? {} : { from });

const sendRest = (stack: Stack, token: string, text: string, id: string = randomUUID()) =>
  postJson(stack.baseUrl, '/messages', { id, text }, { token });

/** Tries to open a socket; resolves with the upgrade's HTTP status (101 when it opened). */
function tryUpgrade(baseUrl: string, ticket: string): Promise<{ status: number; retryAfter?: string; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`);
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      resolve({ status: res.statusCode ?? 0, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) });
      res.resume();
    });
    socket.once('error', (err) => reject(err));
  });
}

const auditCount = (stack: Stack, action: string, limit: string): Promise<number> =>
  countRows(stack.switchboard.services.db, `SELECT count(*) AS n FROM audit_log WHERE action = $1 AND details->>'limit' = $2`, [action, limit]);

const metricValue = async (stack: Stack, name: string, labels: string): Promise<number> => {
  const text = await stack.switchboard.services.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

// One stack for most HTTP-level tests (each uses its own users and client addresses). No workers:
// nothing gets answered unless a test says so. A slow refill (6 a minute) keeps the counts exact
// however long a loaded machine takes; the refill itself is tested with a manual clock below.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    role: 'api',
    env: {
      RATE_LIMIT_MESSAGES_PER_MINUTE: '6',
      RATE_LIMIT_MESSAGE_BURST: '10',
      RATE_LIMIT_LOGIN_ACCOUNT_FAILURES: '3',
      RATE_LIMIT_LOGIN_IP_FAILURES: '6',
    },
  });
  for (const name of ['burst', 'calm', 'locked', 'neighbour', 'resets', 'fresh', 'parallel', 'tabs']) {
    await stack.createUser({ email: `${name}@example.test`, password: PASSWORD });
  }
});
afterAll(async () => {
  await stack?.stop();
});

describe('per-user message token bucket (burst 10)', () => {
  it('accepts the burst, then answers 429 with Retry-After on REST and rate_limited on the open socket, audited once', async () => {
    const token = await signIn(stack.baseUrl, 'burst@example.test', PASSWORD);
    const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => sendRest(stack, token, `burst ${i}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(4);
    for (const answer of refused) {
      expect(answer.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(10);
    }

    // The socket spends the same bucket: refused with a frame, and the socket stays usable.
    const client: WebchatClient = await connectWebchat(stack.baseUrl, await getTicket(stack.baseUrl, token));
    const id = client.send('one more over the socket');
    const error = await client.waitFor((f) => f.type === 'error' && f.id === id);
    expect(error).toMatchObject({ type: 'error', code: 'rate_limited', id });
    if (error.type !== 'error') throw new Error('expected an error frame');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(10_000);
    client.sendRaw(JSON.stringify({ type: 'history', limit: 5 }));
    await client.waitFor((f) => f.type === 'history' && f.messages.length === 5);

    // Another person's bucket is their own.
    const calm = await signIn(stack.baseUrl, 'calm@example.test', PASSWORD);
    expect((await sendRest(stack, calm, 'hello')).status).toBe(202);

    expect(await auditCount(stack, 'rate_limit.exceeded', 'messages')).toBe(1);
    expect(await metricValue(stack, 'switchboard_rate_limit_rejected_total', 'limit="messages"')).toBe(5);
    client.close();
  });
});

describe('the token bucket algorithm (manual clock, real Redis)', () => {
  let limiter: LimiterRedis;
  const prefix = `{sbt-${uniqueSuffix()}}`;
  beforeAll(() => {
    limiter = createLimiterRedis(TEST_REDIS_URL, prefix, 500, () => undefined);
  });
  afterAll(async () => {
    limiter.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });

  it('refills one token per interval and never holds more than the burst', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const bucket = createTokenBucket({ limiter, name: 'algo', perMinute: 60, burst: 10, clock, onDegraded: () => undefined });
    const take = async (n: number) => {
      const decisions = [];
      for (let i = 0; i < n; i += 1) decisions.push(await bucket.take('u1'));
      return decisions;
    };
    const first = await take(11);
    expect(first.map((d) => d.allowed)).toEqual([...Array<boolean>(10).fill(true), false]);
    expect(first.map((d) => d.remaining).slice(0, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(first[10]).toMatchObject({ allowed: false, retryAfterMs: 1_000, degraded: false });

    clock.advance(999);
    expect(await bucket.take('u1')).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect((await take(2)).map((d) => d.allowed)).toEqual([true, false]);

    // Ten minutes idle refills to the burst, not to 600.
    clock.advance(600_000);
    expect((await take(11)).filter((d) => d.allowed)).toHaveLength(10);
    // Keys are independent.
    expect((await bucket.take('u2')).allowed).toBe(true);
  });
});

describe('sign-in throttling (3 failures per account, 6 per IP)', () => {
  it('per account: after 3 failures even the right password gets 429 + Retry-After, from any IP; audited once', async () => {
    for (let i = 0; i < 3; i += 1) expect((await login(stack, 'locked@example.test', 'wrong password', '127.0.0.11')).status).toBe(401);
    const refused = await login(stack, 'locked@example.test', PASSWORD, '127.0.0.11');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    // The window is 15 minutes from the first failure.
    expect(Number(refused.retryAfter)).toBeGreaterThan(850);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(900);
    // The account is locked whichever address asks; the case of the email does not matter.
    expect((await login(stack, 'Locked@Example.TEST', PASSWORD, '127.0.0.12')).status).toBe(429);
    // Other accounts from the same address are fine (3 < 6 failures for the IP).
    expect((await login(stack, 'neighbour@example.test', PASSWORD, '127.0.0.11')).status).toBe(200);

    expect(await auditCount(stack, 'rate_limit.exceeded', 'login_account')).toBe(1);
    const audit = await stack.switchboard.services.db.query<{ ip: string; actor_id: string | null; tenant_id: string | null }>(
      `SELECT ip, actor_id, tenant_id FROM audit_log WHERE action = 'rate_limit.exceeded' AND details->>'limit' = 'login_account'`,
    );
    expect(audit.rows[0]).toMatchObject({ ip: '127.0.0.11', tenant_id: stack.tenantId });
    expect(audit.rows[0]?.actor_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a successful sign-in resets the account count; requests that never checked a password are not counted', async () => {
    const from = '127.0.0.21';
    expect((await login(stack, 'resets@example.test', 'wrong 1', from)).status).toBe(401);
    expect((await login(stack, 'resets@example.test', 'wrong 2', from)).status).toBe(401);
    expect((await login(stack, 'resets@example.test', PASSWORD, from)).status).toBe(200);
    expect((await login(stack, 'resets@example.test', 'wrong 3', from)).status).toBe(401);
    expect((await login(stack, 'resets@example.test', 'wrong 4', from)).status).toBe(401);
    // Malformed bodies (400) are refunded, so they do not push the account or the IP over.
    for (let i = 0; i < 5; i += 1) {
      const bad = await postJson(stack.baseUrl, '/auth/login', { email: 'resets@example.test', password: 'x', extra: true }, { from });
      expect(bad.status).toBe(400);
    }
    expect((await login(stack, 'resets@example.test', PASSWORD, from)).status).toBe(200);
  });

  it('per IP: 6 failures over different accounts, then 429 for any account from that IP only; audited with the IP', async () => {
    const from = '127.0.0.31';
    for (let i = 0; i < 6; i += 1) {
      expect((await login(stack, `nobody-${i}@example.test`, 'guess', from)).status).toBe(401);
    }
    const refused = await login(stack, 'fresh@example.test', PASSWORD, from);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await login(stack, 'fresh@example.test', PASSWORD, '127.0.0.32')).status).toBe(200);
    const audit = await stack.switchboard.services.db.query<{ ip: string }>(
      `SELECT ip FROM audit_log WHERE action = 'rate_limit.exceeded' AND details->>'limit' = 'login_ip'`,
    );
    expect(audit.rows.map((r) => r.ip)).toEqual([from]);
  });

  it('counts parallel attempts exactly: 20 at once against a limit of 3 get three answers and 17 refusals', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(stack, 'parallel@example.test', `wrong ${i}`, `127.0.1.${i + 1}`)),
    );
    expect(answers.filter((a) => a.status === 401)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(17);
  });

  it('keeps neither emails nor IP addresses in Redis', async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(stack.config.REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys(`${stack.config.QUEUE_PREFIX}:rl:*`);
      expect(keys.length).toBeGreaterThan(0);
      const joined = keys.join('\n');
      expect(joined).not.toContain('example.test');
      expect(joined).not.toContain('127.0.0');
    } finally {
      redis.disconnect();
    }
  });
});

describe('sign-in window (RateLimiterRedis, real Redis)', () => {
  it('forgets failures when the window ends', async () => {
    const prefix = `{sbt-${uniqueSuffix()}}`;
    const limiter = createLimiterRedis(TEST_REDIS_URL, prefix, 500, () => undefined);
    try {
      const throttle = createLoginThrottle({ limiter, accountFailures: 2, ipFailures: 100, windowSeconds: 1, onUnavailable: () => undefined });
      for (let i = 0; i < 2; i += 1) {
        const admission = await throttle.begin({ ip: '10.0.0.1', account: 'a@example.test' });
        if (!('attempt' in admission)) throw new Error('expected an attempt');
        await admission.attempt.failed();
      }
      expect('refused' in (await throttle.begin({ ip: '10.0.0.1', account: 'a@example.test' }))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect('attempt' in (await throttle.begin({ ip: '10.0.0.1', account: 'a@example.test' }))).toBe(true);
    } finally {
      limiter.close();
      await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    }
  });
});

describe('per-user WebSocket connection cap (5)', () => {
  it('refuses the 6th socket with 429 + Retry-After at upgrade, and admits again once one closes', async () => {
    const token = await signIn(stack.baseUrl, 'tabs@example.test', PASSWORD);
    const open: WebSocket[] = [];
    for (let i = 0; i < 5; i += 1) {
      const attempt = await tryUpgrade(stack.baseUrl, await getTicket(stack.baseUrl, token));
      expect(attempt.status).toBe(101);
      if (attempt.socket) open.push(attempt.socket);
    }
    const sixth = await tryUpgrade(stack.baseUrl, await getTicket(stack.baseUrl, token));
    expect(sixth.status).toBe(429);
    expect(Number(sixth.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await auditCount(stack, 'rate_limit.exceeded', 'ws_connections')).toBe(1);

    open.pop()?.close();
    const again = await waitUntil(
      async () => tryUpgrade(stack.baseUrl, await getTicket(stack.baseUrl, token)),
      (a) => {
        if (a.status === 101) open.push(a.socket!);
        return a.status === 101;
      },
      { timeoutMs: 5_000, what: 'a slot after a close' },
    );
    expect(again.status).toBe(101);
    for (const socket of open) socket.close();
  });
});

describe('socket slots of a dead process', () => {
  it('are renewed while alive, and expire after the TTL once their process stops renewing', async () => {
    const prefix = `{sbt-${uniqueSuffix()}}`;
    const options = { perUser: 5, slotTtlMs: 2_000, clock: { now: () => Date.now() }, onDegraded: () => undefined, onRenewFailed: () => undefined };
    const deadRedis = createLimiterRedis(TEST_REDIS_URL, prefix, 500, () => undefined);
    const liveRedis = createLimiterRedis(TEST_REDIS_URL, prefix, 500, () => undefined);
    const dying = createSocketCap({ ...options, limiter: deadRedis });
    const living = createSocketCap({ ...options, limiter: liveRedis });
    try {
      for (let i = 0; i < 5; i += 1) expect((await dying.admit('user-1')).admitted).toBe(true);
      // Renewal keeps live slots past their TTL.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(await living.admit('user-1')).toMatchObject({ admitted: false });
      // The process "dies": no more renewals, no releases (its connection is gone).
      deadRedis.close();
      const started = Date.now();
      await waitUntil(() => living.admit('user-1'), (a) => a.admitted, { timeoutMs: 5_000, intervalMs: 200, what: 'leaked slots to expire' });
      expect(Date.now() - started).toBeLessThanOrEqual(3_500);
    } finally {
      await dying.close();
      await living.close();
      liveRedis.close();
      await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    }
  });
});

describe('per-conversation queue cap (3 pending)', () => {
  let stack: Stack;
  beforeAll(async () => {
    // No workers: nothing gets answered unless the test says so.
    stack = await startStack({ role: 'api', env: { RATE_LIMIT_CONVERSATION_PENDING_MAX: '3' } });
    await stack.createUser({ email: 'queue@example.test', password: PASSWORD });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the web chat 429 (REST) and rate_limited (socket) when full, lets redeliveries through, and frees up as answers land', async () => {
    const token = await signIn(stack.baseUrl, 'queue@example.test', PASSWORD);
    const firstId = randomUUID();
    expect((await sendRest(stack, token, 'one', firstId)).status).toBe(202);
    expect((await sendRest(stack, token, 'two')).status).toBe(202);
    expect((await sendRest(stack, token, 'three')).status).toBe(202);
    const full = await sendRest(stack, token, 'four');
    expect(full.status).toBe(429);
    expect(full.body.error?.code).toBe('rate_limited');
    expect(full.retryAfter).toBe('5');
    // A resend of a message we already hold is a duplicate, not new work.
    const resend = await sendRest(stack, token, 'one', firstId);
    expect(resend.status).toBe(200);
    expect(resend.body['duplicate']).toBe(true);

    const client = await connectWebchat(stack.baseUrl, await getTicket(stack.baseUrl, token));
    const id = client.send('four, by socket');
    const error = await client.waitFor((f) => f.type === 'error' && f.id === id);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 5_000 });

    const { db } = stack.switchboard.services;
    expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events`)).toBe(3);
    // The agent answers one: there is room for exactly one more.
    await db.query(`UPDATE inbound_events SET status = 'answered' WHERE id = (SELECT id FROM inbound_events ORDER BY received_at LIMIT 1)`);
    const retry = client.send('four, again');
    await client.waitFor((f) => f.type === 'ack' && f.id === retry);
    expect((await sendRest(stack, token, 'five')).status).toBe(429);
    expect(await auditCount(stack, 'rate_limit.exceeded', 'conversation_queue')).toBe(1);
    client.close();
  });

  it('never answers a platform with back-pressure: over the cap the delivery is dropped (audited once) and marked for acknowledgement', async () => {
    const { ingest, limits, db } = stack.switchboard.services;
    const sink = limits.platformSink(ingest);
    const candidate = (eventId: string): InboundCandidate => ({
      tenantId: stack.tenantId,
      platform: 'slack',
      installationId: 'T-TEST',
      platformEventId: eventId,
      conversation: { key: 'slack:T-TEST:C-BUSY', channelId: 'C-BUSY', kind: 'channel' },
      messageId: eventId,
      author: { platformUserId: 'U-SENDER', displayName: 'Sender', isBot: false, isSelf: false },
      text: `message ${eventId}`,
      attachments: [],
      mentionsAgent: true,
      verifiedBy: 'test-signature',
    });
    const outcome = (eventId: string) =>
      sink.accept(candidate(eventId)).then(
        (receipt) => (receipt.duplicate ? 'duplicate' : 'accepted'),
        (err: unknown) => {
          if (!isDroppedDelivery(err)) throw err;
          // What an adapter relies on: not retryable (do not hand it over again), acknowledge 2xx.
          expect(isSwitchboardError(err) && err.retryable).toBe(false);
          return 'dropped';
        },
      );
    const outcomes = [];
    for (const eventId of ['Ev1', 'Ev2', 'Ev3', 'Ev4', 'Ev5', 'Ev4']) outcomes.push(await outcome(eventId));
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'dropped', 'dropped', 'dropped']);
    // The platform retries an event we hold: a duplicate, not a drop.
    expect(await outcome('Ev1')).toBe('duplicate');

    expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'slack'`)).toBe(3);
    const drops = await db.query<{ details: { platformEventId: string; max: number }; actor_type: string }>(
      `SELECT details, actor_type FROM audit_log WHERE action = 'rate_limit.inbound_dropped'`,
    );
    // Ev4 handed over twice, audited once.
    expect(drops.rows.map((r) => r.details.platformEventId).sort()).toEqual(['Ev4', 'Ev5']);
    expect(drops.rows.every((r) => r.actor_type === 'platform' && r.details.max === 3)).toBe(true);
    expect(await metricValue(stack, 'switchboard_inbound_dropped_total', 'platform="slack",reason="conversation_queue_full"')).toBe(3);
  });
});

describe('a real platform webhook over the queue cap (Slack adapter, cap 2)', () => {
  const SECRET = 'limits-test-signing-secret';
  const BOT_TOKEN = 'xoxb-limits-test-token';
  let standin: SlackStandin;
  let slackStack: Stack;
  beforeAll(async () => {
    standin = await startSlackStandin();
    standin.addBot({ token: BOT_TOKEN, teamId: SLACK_TEAM, teamName: 'Limits Team', botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID });
    // No workers: the first two stay unanswered and fill the conversation.
    slackStack = await startStack({
      role: 'api',
      adapterFactories: [slackAdapterFactory],
      env: {
        RATE_LIMIT_CONVERSATION_PENDING_MAX: '2',
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_API_URL: standin.apiUrl,
        SLACK_API_RETRIES: '0',
      },
    });
  });
  afterAll(async () => {
    await slackStack?.stop();
    await standin?.close();
  });

  it('answers every delivery 200, stores two and audits the drops', async () => {
    const channel = channelId('D');
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      // One thread is one conversation on Slack.
      const body = JSON.stringify(eventCallback(dmEvent({ channel, thread_ts: '1700000000.000100', text: `message ${i}` })));
      const response = await fetch(`${slackStack.baseUrl}/webhooks/slack/events`, { method: 'POST', headers: slackSignedHeaders(SECRET, body), body });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const { db } = slackStack.switchboard.services;
    expect(await countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE platform = 'slack'`)).toBe(2);
    expect(await countRows(db, `SELECT count(*) AS n FROM audit_log WHERE action = 'rate_limit.inbound_dropped'`)).toBe(2);
  });
});

describe('when the limiter Redis is unreachable', () => {
  let stack: Stack;
  let redis: Child;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    stack = await startStack({ role: 'api', env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    await stack.createUser({ email: 'outage@example.test', password: PASSWORD });
  });
  afterAll(async () => {
    // Bring Redis back so the stack shuts down (and cleans up) as it normally would.
    if (redis?.process.exitCode !== null || redis.process.signalCode !== null) redis = await startRedisServer(port);
    await stack?.stop().catch(() => undefined);
    redis?.process.kill('SIGKILL');
  });

  it('sign-in fails closed (503 limiter_unavailable + Retry-After); messages fail open onto a per-process bucket, counted', async () => {
    const token = await signIn(stack.baseUrl, 'outage@example.test', PASSWORD);
    redis.process.kill('SIGKILL');
    await redis.exited;
    await waitUntil(async () => (await fetch(`${stack.baseUrl}/readyz`)).status, (s) => s === 503, { what: 'Redis to be seen down' });

    const closed = await login(stack, 'outage@example.test', PASSWORD);
    expect(closed.status).toBe(503);
    expect(closed.body.error?.code).toBe('limiter_unavailable');
    expect(closed.retryAfter).toBe('5');

    const answers = [];
    for (let i = 0; i < 11; i += 1) answers.push((await sendRest(stack, token, `during the outage ${i}`)).status);
    // Still limited, by this process alone: the burst of 10, then 429.
    expect(answers).toEqual([...Array<number>(10).fill(202), 429]);
    expect(await metricValue(stack, 'switchboard_rate_limit_degraded_total', 'limit="messages",mode="open_local"')).toBe(11);
    expect(await metricValue(stack, 'switchboard_rate_limit_degraded_total', 'limit="login_ip",mode="closed"')).toBe(1);
  }, 30_000);

  it('the socket cap falls back to counting this process only', async () => {
    const limiter = createLimiterRedis('redis://127.0.0.1:1', `{sbt-${uniqueSuffix()}}`, 200, () => undefined);
    let degraded = 0;
    const cap = createSocketCap({
      limiter,
      perUser: 2,
      slotTtlMs: 2_000,
      clock: { now: () => Date.now() },
      onDegraded: () => (degraded += 1),
      onRenewFailed: () => undefined,
    });
    try {
      const first = await cap.admit('u');
      const second = await cap.admit('u');
      expect([first.admitted, second.admitted]).toEqual([true, true]);
      expect(await cap.admit('u')).toMatchObject({ admitted: false });
      if (first.admitted) first.release();
      expect(await cap.admit('u')).toMatchObject({ admitted: true, degraded: true });
      expect(degraded).toBe(4);
    } finally {
      await cap.close();
      limiter.close();
    }
  });

  it('the sign-in throttle refuses rather than guesses', async () => {
    const limiter = createLimiterRedis('redis://127.0.0.1:1', `{sbt-${uniqueSuffix()}}`, 200, () => undefined);
    try {
      const throttle = createLoginThrottle({ limiter, accountFailures: 10, ipFailures: 100, windowSeconds: 60, onUnavailable: () => undefined });
      const outcome = await throttle.begin({ ip: '10.0.0.1', account: 'x@example.test' }).then(
        () => 'admitted',
        (err: unknown) => (isSwitchboardError(err, 'limiter_unavailable') ? 'limiter_unavailable' : 'other'),
      );
      expect(outcome).toBe('limiter_unavailable');
    } finally {
      limiter.close();
    }
  });
});
