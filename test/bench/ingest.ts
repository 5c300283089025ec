/**
 * Benchmark `ingest`: authenticated web chat messages through the real product's ingest
 * (auth → validate → sanitize → PII → Postgres commit → enqueue) against a bare express handler
 * that only does `queue.add`, both over real HTTP on 127.0.0.1 with the same client, in the same
 * run. Reports throughput and latency ratios (contender / baseline); absolute numbers on a shared
 * machine are noise.
 *
 * Standalone: `npx node test/bench/ingest.ts [--messages N] [--concurrency N] [--users N]`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import express from 'express';
import { Queue } from 'bullmq';
import { EnvSchema } from '../../config/schema.ts';
import { createRedis } from '../../src/queue/connection.ts';
import { jobOptions } from '../../src/queue/producers.ts';
import { sanitizeText } from '../../src/pipeline/sanitize.ts';
import { scanPii } from '../../src/pipeline/pii/index.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, uniqueSuffix } from '../support/env.ts';
import {
  fmt,
  formatTable,
  machineCpuTicks,
  mergeLoadResults,
  percentile,
  ratioLine,
  runLoad,
  summarize,
  threadCpuMicros,
  type LatencySummary,
  type LoadResult,
} from './report.ts';

/** Options of the ingest benchmark. */
export interface IngestBenchOptions {
  /** Measured requests per contender (default 2,000). */
  messages?: number;
  /** Requests in flight (default 32). */
  concurrency?: number;
  /**
   * Signed-in users the requests rotate over (default 1). Each user is one conversation, and ingest
   * serializes the commits of one conversation (its row lock), so this changes the picture a lot.
   */
  users?: number;
}

const DEFAULT_MESSAGES = 2_000;
const DEFAULT_CONCURRENCY = 32;
const WARMUP_MESSAGES = 200;
/** Measured requests are split into this many rounds, baseline and switchboard alternating (ABBA). */
const ROUNDS = 8;
const SEED = 0x5b1d_2024;

// ---------------------------------------------------------------------------------------------
// Seeded texts: plain chat and chat with emails, card numbers and phone numbers, 50–500 chars.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const WORDS = (
  'hi hello thanks please could you can we the a an and or but if when then so because meeting ' +
  'tomorrow today next week friday monday call me back about invoice order project draft review ' +
  'calendar slot afternoon morning agenda notes summary update status ticket deploy release plan ' +
  'budget team lunch office remote travel flight hotel booking confirm cancel reschedule question ' +
  'answer help quick idea café naïve résumé über 🙂 👍'
).split(' ');
const FIRST = ['maria', 'john', 'li', 'fatima', 'olu', 'sven', 'ana', 'raj'];
const LAST = ['lopez', 'smith', 'wang', 'haddad', 'adeyemi', 'berg', 'silva', 'patel'];
const DOMAINS = ['example.com', 'mail.example.org', 'corp.example.net'];
/** Well-known test card numbers (Luhn-valid). */
const CARDS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '4012888888881881'];
const PHONES = ['+1 415 555 0132', '(212) 555-0198', '+44 20 7946 0958', '415-555-0199', '+49 30 901820', '+1-202-555-0147'];

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function piiToken(random: () => number): string {
  const kind = Math.floor(random() * 3);
  if (kind === 0) return `${pick(random, FIRST)}.${pick(random, LAST)}${Math.floor(random() * 100)}@${pick(random, DOMAINS)}`;
  if (kind === 1) {
    const digits = pick(random, CARDS);
    const style = Math.floor(random() * 3);
    if (style === 0) return digits;
    const groups = digits.length === 15 ? [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)] : (digits.match(/.{4}/g) ?? [digits]);
    return groups.join(style === 1 ? ' ' : '-');
  }
  return pick(random, PHONES);
}

/** `count` texts, 50–500 chars; about half carry one to three PII items. Same seed, same texts. */
export function benchTexts(count: number, seed = SEED): string[] {
  const random = mulberry32(seed);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const target = 50 + Math.floor(random() * 451);
    const pii = random() < 0.5 ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => piiToken(random)) : [];
    const piiChars = pii.reduce((sum, token) => sum + token.length + 1, 0);
    const words: string[] = [];
    let length = piiChars;
    while (length < target) {
      const word = pick(random, WORDS);
      if (length + word.length + 1 > target && length >= 50) break;
      words.push(word);
      length += word.length + 1;
    }
    for (const token of pii) words.splice(Math.floor(random() * (words.length + 1)), 0, token);
    let text = words.join(' ');
    text = `${text.charAt(0).toUpperCase()}${text.slice(1)}${random() < 0.5 ? '.' : '?'}`;
    while (text.length > 500) text = text.slice(0, text.lastIndexOf(' ', 499));
    texts.push(text);
  }
  return texts;
}

// ---------------------------------------------------------------------------------------------
// The baseline: a bare express 5 app whose one handler only does `queue.add`.

interface Baseline {
  readonly url: string;
  waitingJobs(): Promise<number>;
  stop(): Promise<void>;
}

async function startBaseline(): Promise<Baseline> {
  const prefix = `{sbb-${uniqueSuffix()}}`;
  const connection = createRedis(TEST_REDIS_URL, 'producer', 'bench-baseline');
  const queue = new Queue('agent', { connection, prefix });
  const policy = { attempts: 5, backoffMs: 1_000 };
  const app = express();
  app.use(express.json());
  app.post('/messages', async (req, res) => {
    const body: unknown = req.body;
    const text = typeof body === 'object' && body !== null ? (body as { text?: unknown }).text : undefined;
    const job = await queue.add('answer', { text }, jobOptions(policy, randomUUID()));
    res.status(202).json({ id: job.id });
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/messages`,
    waitingJobs: async () => (await queue.getJobCounts('waiting')).waiting ?? 0,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await queue.close().catch(() => undefined);
      connection.disconnect();
      await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The contender: the real product, API role only (no workers), signed-in users.

interface Contender {
  readonly stack: Stack;
  readonly url: string;
  /** One access token per user. */
  readonly tokens: readonly string[];
}

async function startContender(users: number): Promise<Contender> {
  // The test environment pins a small pool (5); measure with the product's default instead.
  const poolMax = String(EnvSchema.shape.DATABASE_POOL_MAX.parse(undefined));
  // The bench measures ingest, not the limits: one user's burst must not hit the per-user message
  // bucket, and with no workers the conversation's pending count grows past the default cap.
  const stack = await startStack({
    role: 'api',
    env: {
      DATABASE_POOL_MAX: poolMax,
      RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
      RATE_LIMIT_MESSAGE_BURST: '10000',
      RATE_LIMIT_CONVERSATION_PENDING_MAX: '1000000',
    },
  });
  try {
    const tokens: string[] = [];
    for (let i = 0; i < users; i++) {
      const email = `bench${i}@example.com`;
      const password = randomBytes(18).toString('base64url');
      await stack.createUser({ email, password, displayName: `Bench ${i}` });
      const response = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const login: unknown = await response.json();
      const token = typeof login === 'object' && login !== null ? (login as { accessToken?: unknown }).accessToken : undefined;
      if (!response.ok || typeof token !== 'string') throw new Error(`login failed: HTTP ${response.status}`);
      tokens.push(token);
    }
    return { stack, url: `${stack.baseUrl}/api/v1/messages`, tokens };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring.

interface Measured {
  readonly result: LoadResult;
  /** CPU time of the thread running the servers (not the client's), in µs. */
  readonly serverCpuMicros: number;
  /** Busy and total jiffies of the whole machine (servers, client, Postgres, Redis) during the run. */
  readonly machineBusyTicks: number;
  readonly machineTotalTicks: number;
}

interface Target {
  readonly url: string;
  readonly headerSets: readonly Readonly<Record<string, string>>[];
}

async function measure(target: Target, texts: readonly string[], concurrency: number): Promise<Measured> {
  const bodies = texts.map((text) => JSON.stringify({ id: randomUUID(), text }));
  const cpuBefore = threadCpuMicros();
  const machineBefore = machineCpuTicks();
  const result = await runLoad({ url: target.url, headerSets: target.headerSets, bodies, concurrency });
  const serverCpuMicros = threadCpuMicros() - cpuBefore;
  const machineAfter = machineCpuTicks();
  return {
    result,
    serverCpuMicros,
    machineBusyTicks: machineBefore && machineAfter ? machineAfter.busy - machineBefore.busy : Number.NaN,
    machineTotalTicks: machineBefore && machineAfter ? machineAfter.total - machineBefore.total : Number.NaN,
  };
}

function merge(parts: readonly Measured[]): Measured {
  return {
    result: mergeLoadResults(parts.map((p) => p.result)),
    serverCpuMicros: parts.reduce((sum, p) => sum + p.serverCpuMicros, 0),
    machineBusyTicks: parts.reduce((sum, p) => sum + p.machineBusyTicks, 0),
    machineTotalTicks: parts.reduce((sum, p) => sum + p.machineTotalTicks, 0),
  };
}

interface Row {
  readonly summary: LatencySummary;
  readonly cpuPerRequest: number;
  readonly machineBusy: number;
  readonly failures: number;
}

function rowOf(m: Measured): Row {
  const summary = summarize(m.result);
  return {
    summary,
    cpuPerRequest: m.serverCpuMicros / summary.requests,
    machineBusy: m.machineTotalTicks > 0 ? m.machineBusyTicks / m.machineTotalTicks : Number.NaN,
    failures: m.result.failures,
  };
}

function cells(name: string, r: Row): string[] {
  const s = r.summary;
  return [
    name,
    fmt(s.requestsPerSecond),
    fmt(s.p50Ms, 1),
    fmt(s.p95Ms, 1),
    fmt(s.p99Ms, 1),
    fmt(s.maxMs, 1),
    fmt(r.failures),
    fmt(r.cpuPerRequest),
    `${fmt(r.machineBusy * 100)}%`,
  ];
}

/** Sequential in-process cost of the per-request CPU stages on the same texts, in µs per message. */
async function stageCosts(texts: readonly string[], contender: Contender): Promise<Array<[string, number]>> {
  const maxChars = contender.stack.config.MESSAGE_MAX_CHARS;
  const time = async (work: (text: string) => unknown): Promise<number> => {
    for (const text of texts.slice(0, 100)) await work(text);
    const started = performance.now();
    for (const text of texts) await work(text);
    return ((performance.now() - started) * 1000) / texts.length;
  };
  const tokens = contender.stack.switchboard.services.tokens;
  const token = contender.tokens[0] ?? '';
  return [
    ['sanitize', await time((text) => sanitizeText(text, { maxChars }))],
    ['PII scan', await time((text) => scanPii(text))],
    ['access token verify (EdDSA)', await time(() => tokens.verifyAccessToken(token))],
  ];
}

function splitInto<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size)).filter((part) => part.length > 0);
}

/** Runs the ingest benchmark and prints a table and the contender / baseline ratios. */
export async function runIngestBench(options?: IngestBenchOptions): Promise<void> {
  const messages = options?.messages ?? DEFAULT_MESSAGES;
  const concurrency = options?.concurrency ?? DEFAULT_CONCURRENCY;
  const users = options?.users ?? 1;
  for (const [name, value] of [
    ['messages', messages],
    ['concurrency', concurrency],
    ['users', users],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  }

  const texts = benchTexts(WARMUP_MESSAGES + messages);
  const warmupTexts = texts.slice(0, WARMUP_MESSAGES);
  const measuredTexts = texts.slice(WARMUP_MESSAGES);
  const rounds = splitInto(measuredTexts, Math.min(ROUNDS, messages));
  const lengths = texts.map((t) => t.length);
  const withPii = texts.filter((t) => scanPii(t).findings.length > 0).length;
  console.log(
    `ingest: ${fmt(messages)} measured + ${WARMUP_MESSAGES} warm-up POSTs per side, concurrency ${concurrency}, keep-alive, ` +
      `client on its own thread; measured in ${rounds.length} alternating rounds (ABBA) so background load hits both sides`,
  );
  console.log(
    `texts: seeded, ${Math.min(...lengths)}–${Math.max(...lengths)} chars, ${fmt((withPii / texts.length) * 100)}% with PII ` +
      `(emails, card numbers, phone numbers)`,
  );

  const problems: string[] = [];
  let baseline: Baseline | undefined;
  let contender: Contender | undefined;
  try {
    baseline = await startBaseline();
    contender = await startContender(users);
    const config = contender.stack.config;
    console.log(
      `switchboard: role 'api' (no workers: the agent does not compete for CPU), Postgres pool ${config.DATABASE_POOL_MAX}, ` +
        `tenant PII action '${config.PII_DEFAULT_ACTION}', ${users} signed-in user${users === 1 ? '' : 's'} = ` +
        `${users} conversation${users === 1 ? '' : 's'}, POST /api/v1/messages with Bearer token`,
    );
    console.log(`baseline:    express 5, express.json(), one POST handler doing only queue.add (no auth, validation, sanitize, PII, Postgres)`);

    const baseTarget: Target = { url: baseline.url, headerSets: [] };
    const contTarget: Target = { url: contender.url, headerSets: contender.tokens.map((t) => ({ authorization: `Bearer ${t}` })) };
    await measure(baseTarget, warmupTexts, concurrency);
    await measure(contTarget, warmupTexts, concurrency);
    const metrics = contender.stack.switchboard.services.metrics;
    metrics.ingestSeconds.reset();

    const baseParts: Measured[] = [];
    const contParts: Measured[] = [];
    for (const [i, roundTexts] of rounds.entries()) {
      if (i % 2 === 0) {
        baseParts.push(await measure(baseTarget, roundTexts, concurrency));
        contParts.push(await measure(contTarget, roundTexts, concurrency));
      } else {
        contParts.push(await measure(contTarget, roundTexts, concurrency));
        baseParts.push(await measure(baseTarget, roundTexts, concurrency));
      }
    }
    const base = rowOf(merge(baseParts));
    const cont = rowOf(merge(contParts));

    console.log('');
    console.log(
      formatTable(
        ['', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'non-2xx', 'server CPU µs/req', 'machine CPU'],
        [cells('baseline (queue.add only)', base), cells('switchboard ingest', cont)],
      ),
    );
    console.log('');
    console.log(ratioLine('throughput ratio (switchboard / baseline)', cont.summary.requestsPerSecond, base.summary.requestsPerSecond, 'req/s'));
    console.log(ratioLine('p99 latency ratio (switchboard / baseline)', cont.summary.p99Ms, base.summary.p99Ms, 'ms'));
    console.log(ratioLine('server CPU per request ratio', cont.cpuPerRequest, base.cpuPerRequest, 'µs', 0));
    const perRound = rounds.map((_, i) => {
      const b = baseParts[i];
      const c = contParts[i];
      return b && c ? summarize(c.result).requestsPerSecond / summarize(b.result).requestsPerSecond : Number.NaN;
    });
    console.log(
      `throughput ratio per round: ${perRound.map((r) => fmt(r, 2)).join(', ')} (median ${fmt(percentile([...perRound].sort((a, b) => a - b), 50), 2)})`,
    );

    // Where the contender's time goes.
    const histogram = await metrics.ingestSeconds.get();
    const sum = histogram.values.find((v) => v.metricName === 'switchboard_ingest_seconds_sum')?.value ?? Number.NaN;
    const count = histogram.values.find((v) => v.metricName === 'switchboard_ingest_seconds_count')?.value ?? Number.NaN;
    const contLatencies = contParts.flatMap((p) => [...p.result.latenciesMs]);
    const meanLatency = contLatencies.reduce((a, b) => a + b, 0) / contLatencies.length;
    console.log('');
    console.log(
      `switchboard: mean request ${fmt(meanLatency, 1)} ms, of which ingest.accept up to the commit ` +
        `${fmt((sum / count) * 1000, 1)} ms (product metric switchboard_ingest_seconds, ${fmt(count)} samples)`,
    );
    const stages = await stageCosts(measuredTexts, contender);
    console.log(`per-request CPU stages, sequential, in-process: ${stages.map(([name, us]) => `${name} ${fmt(us)} µs`).join(', ')}`);

    // Nothing lost, nothing failed.
    const expected = WARMUP_MESSAGES + messages;
    const db = contender.stack.switchboard.services.db;
    const stored = await db.query<{ events: string; messages: string; with_pii: string }>(
      `SELECT (SELECT count(*) FROM inbound_events) AS events,
              (SELECT count(*) FROM messages WHERE direction = 'in') AS messages,
              (SELECT count(*) FROM messages WHERE direction = 'in' AND jsonb_array_length(pii_findings) > 0) AS with_pii`,
    );
    const events = Number(stored.rows[0]?.events ?? -1);
    const inbound = Number(stored.rows[0]?.messages ?? -1);
    const storedWithPii = Number(stored.rows[0]?.with_pii ?? -1);
    const agentQueue = contender.stack.switchboard.services.producers.queues()[0];
    const queued = agentQueue ? ((await agentQueue.getJobCounts('waiting')).waiting ?? 0) : -1;
    const baselineQueued = await baseline.waitingJobs();
    console.log('');
    console.log(
      `check: Postgres holds ${fmt(events)} inbound events and ${fmt(inbound)} inbound messages (${fmt(storedWithPii)} with PII findings) ` +
        `for ${fmt(expected)} accepted POSTs; agent queue waiting ${fmt(queued)}; baseline queue waiting ${fmt(baselineQueued)}`,
    );
    console.log(`check: non-2xx responses: baseline ${fmt(base.failures)}, switchboard ${fmt(cont.failures)}`);
    if (events !== expected || inbound !== expected) problems.push(`Postgres holds ${events} events / ${inbound} messages, expected ${expected}`);
    if (queued !== expected) problems.push(`agent queue holds ${queued} waiting jobs, expected ${expected}`);
    if (baselineQueued !== expected) problems.push(`baseline queue holds ${baselineQueued} waiting jobs, expected ${expected}`);
    for (const [name, parts] of [
      ['baseline', baseParts],
      ['switchboard', contParts],
    ] as const) {
      const merged = mergeLoadResults(parts.map((p) => p.result));
      if (merged.failures > 0) {
        problems.push(`${name}: ${merged.failures} failed requests ${JSON.stringify(merged.statuses)}; first: ${merged.firstFailure ?? '?'}`);
      }
    }
  } finally {
    await baseline?.stop().catch((err: unknown) => console.error('baseline cleanup failed:', err));
    await contender?.stack.stop().catch((err: unknown) => console.error('switchboard cleanup failed:', err));
  }
  if (problems.length > 0) throw new Error(`ingest benchmark failed its checks:\n- ${problems.join('\n- ')}`);
}

if (import.meta.main && isMainThread) {
  const { values } = parseArgs({
    options: { messages: { type: 'string' }, concurrency: { type: 'string' }, users: { type: 'string' } },
  });
  const options: IngestBenchOptions = {};
  if (values.messages !== undefined) options.messages = Number(values.messages);
  if (values.concurrency !== undefined) options.concurrency = Number(values.concurrency);
  if (values.users !== undefined) options.users = Number(values.users);
  try {
    await runIngestBench(options);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
