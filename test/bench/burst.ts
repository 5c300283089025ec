/**
 * Benchmark `burst`: the real product in-process (role all, offline model) with the Slack,
 * Telegram and Discord adapters pointed at stand-ins that enforce the published limits and answer
 * 429 past them (Slack 1 message/s per channel and Discord 50 requests/s plus 5 messages per 5 s
 * per channel through limits fronts; Telegram 1/s per chat, 20/min per group, 30/s overall in its
 * own stand-in). A steady load, then a 10× burst for 10 s: signed webhook deliveries sent
 * open-loop from a worker thread, Discord mentions dispatched on the stand-in's gateway. Reports webhook ack latency, drain time
 * against the theoretical minimum (an earliest-possible schedule under the published limits, from
 * the actual arrival times), 429s, and replies lost or duplicated; checks in Postgres that every
 * inbound event has exactly one sent reply.
 *
 * Standalone: `npx node test/bench/burst.ts [--steady-rate N] [--steady-seconds N] [--burst-seconds N]`.
 */
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startStack, type Stack } from '../support/stack.ts';
import { slackAdapterFactory } from '../../adapters/slack/index.ts';
import { telegramAdapterFactory } from '../../adapters/telegram/index.ts';
import { SLACK_CHANNEL_INTERVAL_MS, SLACK_WORKSPACE_INTERVAL_MS } from '../../adapters/slack/pace.ts';
import { TELEGRAM_CHAT_INTERVAL_MS, TELEGRAM_GLOBAL_INTERVAL_MS, TELEGRAM_GROUP_INTERVAL_MS } from '../../adapters/telegram/pace.ts';
import { slackSignedHeaders, startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { eventCallback, mentionEvent, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_TEAM } from '../standins/slack-fixtures.ts';
import { startTelegramStandin, telegramWebhookHeaders, type TelegramStandin } from '../standins/telegram.ts';
import { groupMention, privateMessage, TG_BOT_ID, TG_BOT_TOKEN, TG_BOT_USERNAME, TG_PERSON, update } from '../standins/telegram-fixtures.ts';
import { startDiscordStandin, type DiscordStandin } from '../standins/discord.ts';
import { BOT as DISCORD_BOT, discordEnv } from '../standins/discord-harness.ts';
import { discordAdapterFactory } from '../../adapters/discord/index.ts';
import { DISCORD_PACE } from '../../adapters/discord/config.ts';
import { startDiscordLimitsFront, startSlackLimitsFront, type DiscordLimitsFront, type SlackLimitsFront } from './limits-standin.ts';
import { fmt, formatTable, percentile } from './report.ts';

/** Load shape of the burst benchmark. */
export interface BurstBenchOptions {
  /** Webhook deliveries per second in the steady phase (the burst is 10×); default 4. */
  readonly steadyRate?: number;
  /** Length of the steady phase in seconds; default 5. */
  readonly steadySeconds?: number;
  /** Length of the burst in seconds; default 10. */
  readonly burstSeconds?: number;
}

const SLACK_SECRET = 'burst-bench-signing-secret';
const SLACK_TOKEN = 'xoxb-burst-bench-token';
const TG_SECRET = 'burst-bench-webhook-secret-0123456789-abc';
const SLACK_CHANNELS = 10;
const TG_PRIVATE_CHATS = 8;
const TG_GROUPS = 10;
const DISCORD_CHANNELS = 8;
// Of every 10 messages: 4 Slack channel mentions, 2 Telegram private messages, 2 group mentions, 2 Discord mentions.
const MIX: readonly Segment[] = ['slack', 'tg-private', 'discord', 'tg-group', 'slack', 'slack', 'tg-private', 'discord', 'tg-group', 'slack'];
const SEGMENTS: readonly Segment[] = ['slack', 'tg-private', 'tg-group', 'discord'];
const DRAIN_TIMEOUT_MS = 75_000;
const DUPLICATE_WATCH_MS = 1500;

type Segment = 'slack' | 'tg-private' | 'tg-group' | 'discord';
type Phase = 'steady' | 'burst';

const SEGMENT_LABEL: Readonly<Record<Segment, string>> = {
  slack: `Slack channels (${SLACK_CHANNELS})`,
  'tg-private': `Telegram private chats (${TG_PRIVATE_CHATS})`,
  'tg-group': `Telegram groups (${TG_GROUPS})`,
  discord: `Discord channels (${DISCORD_CHANNELS})`,
};

/** One planned webhook delivery. */
interface PlannedPost {
  readonly token: string;
  readonly segment: Segment;
  readonly target: string;
  readonly phase: Phase;
  readonly atMs: number;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What the driver saw for one delivery (times are epoch ms). */
interface PostResult {
  readonly sentAt: number;
  readonly latencyMs: number;
  readonly status: number;
}

const DRIVER = 'switchboard-bench-burst-driver';

interface DriverData {
  readonly kind: typeof DRIVER;
  /** Epoch ms that every post's `atMs` counts from. */
  readonly startAt: number;
  readonly posts: ReadonlyArray<Pick<PlannedPost, 'atMs' | 'url' | 'headers' | 'body'>>;
}

function isDriverData(value: unknown): value is DriverData {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === DRIVER;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** Sends every post at its offset from now (open loop: a slow answer never delays the next send). */
async function drive(startAt: number, posts: DriverData['posts']): Promise<PostResult[]> {
  const start = startAt - performance.timeOrigin;
  const results: PostResult[] = new Array<PostResult>(posts.length);
  await Promise.all(
    posts.map(
      (post, i) =>
        new Promise<void>((resolve) => {
          setTimeout(() => {
            const sentAt = epochNow();
            const t0 = performance.now();
            fetch(post.url, { method: 'POST', headers: post.headers, body: post.body })
              .then(async (res) => {
                await res.arrayBuffer();
                results[i] = { sentAt, latencyMs: performance.now() - t0, status: res.status };
              })
              .catch(() => {
                results[i] = { sentAt, latencyMs: performance.now() - t0, status: 0 };
              })
              .finally(resolve);
          }, Math.max(0, start + post.atMs - performance.now()));
        }),
    ),
  );
  return results;
}

if (!isMainThread && isDriverData(workerData) && parentPort) {
  parentPort.postMessage(await drive(workerData.startAt, workerData.posts));
}

function runDriver(startAt: number, posts: readonly PlannedPost[]): Promise<PostResult[]> {
  return new Promise<PostResult[]>((resolve, reject) => {
    const data: DriverData = { kind: DRIVER, startAt, posts: posts.map(({ atMs, url, headers, body }) => ({ atMs, url, headers, body })) };
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    let result: PostResult[] | undefined;
    worker.once('message', (message: PostResult[]) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`burst driver exited with code ${code} before reporting`))));
  });
}

/** A limit one send spends: a minimum gap after the previous send, or at most `count` per window. */
type Limit = { readonly key: string; readonly gapMs: number } | { readonly key: string; readonly count: number; readonly windowMs: number };

/**
 * Earliest-possible schedule: each target's messages in arrival order, repeatedly sending the
 * head whose earliest allowed time is soonest. Returns each message's send time (epoch ms).
 */
function earliestSchedule(items: ReadonlyArray<{ target: string; arrival: number; limits: readonly Limit[] }>): number[] {
  const queues = new Map<string, number[]>();
  items.forEach((item, i) => queues.set(item.target, [...(queues.get(item.target) ?? []), i]));
  for (const queue of queues.values()) queue.sort((a, b) => (items[a]?.arrival ?? 0) - (items[b]?.arrival ?? 0));
  const history = new Map<string, number[]>();
  const times = new Array<number>(items.length).fill(Number.NaN);
  const earliest = (i: number): number => {
    const item = items[i];
    if (!item) return Number.POSITIVE_INFINITY;
    let t = item.arrival;
    for (const limit of item.limits) {
      const sent = history.get(limit.key) ?? [];
      if ('gapMs' in limit) {
        const last = sent.at(-1);
        if (last !== undefined) t = Math.max(t, last + limit.gapMs);
      } else if (sent.length >= limit.count) {
        t = Math.max(t, (sent[sent.length - limit.count] ?? 0) + limit.windowMs);
      }
    }
    return t;
  };
  for (let done = 0; done < items.length; done += 1) {
    let best = -1;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const queue of queues.values()) {
      const head = queue[0];
      if (head === undefined) continue;
      const at = earliest(head);
      if (at < bestAt) {
        bestAt = at;
        best = head;
      }
    }
    const item = items[best];
    if (!item) break;
    queues.get(item.target)?.shift();
    times[best] = bestAt;
    for (const limit of item.limits) history.set(limit.key, [...(history.get(limit.key) ?? []), bestAt]);
  }
  return times;
}

/** One budget as the product's pacer books it (PaceRule). */
interface GcraRule {
  readonly key: string;
  readonly intervalMs: number;
  readonly burst: number;
}

/**
 * Replays the pacer's reserve script (src/queue/pacer.ts, GCRA over several keys at once) for
 * bookings made at `bookedAt`, in that order; returns each booking's slot (epoch ms).
 */
function replayGcra(items: ReadonlyArray<{ bookedAt: number; rules: readonly GcraRule[] }>): number[] {
  const tat = new Map<string, number>();
  const order = items.map((_, i) => i).sort((a, b) => (items[a]?.bookedAt ?? 0) - (items[b]?.bookedAt ?? 0));
  const slots = new Array<number>(items.length).fill(Number.NaN);
  for (const i of order) {
    const item = items[i];
    if (!item) continue;
    const now = item.bookedAt;
    let start = now;
    for (const rule of item.rules) start = Math.max(start, Math.max(tat.get(rule.key) ?? 0, now) - (Math.max(1, rule.burst) - 1) * rule.intervalMs);
    for (const rule of item.rules) tat.set(rule.key, Math.max(tat.get(rule.key) ?? 0, start) + rule.intervalMs);
    slots[i] = start;
  }
  return slots;
}

/** The product's pace rules for a reply to `segment`/`target` (as adapters' pace.ts build them). */
function productRules(segment: Segment, target: string): GcraRule[] {
  if (segment === 'slack') {
    return [
      { key: `slack:${target}`, intervalMs: SLACK_CHANNEL_INTERVAL_MS, burst: 1 },
      { key: 'slack:workspace', intervalMs: SLACK_WORKSPACE_INTERVAL_MS, burst: 20 },
    ];
  }
  if (segment === 'discord') {
    return [
      { key: 'dc:global', intervalMs: DISCORD_PACE.globalIntervalMs, burst: DISCORD_PACE.globalBurst },
      { key: `dc:channel:${target}`, intervalMs: DISCORD_PACE.channelIntervalMs, burst: DISCORD_PACE.channelBurst },
    ];
  }
  const rules: GcraRule[] = [
    { key: 'tg:global', intervalMs: TELEGRAM_GLOBAL_INTERVAL_MS, burst: 1 },
    { key: `tg:chat:${target}`, intervalMs: TELEGRAM_CHAT_INTERVAL_MS, burst: 1 },
  ];
  if (segment === 'tg-group') rules.push({ key: `tg:group:${target}`, intervalMs: TELEGRAM_GROUP_INTERVAL_MS, burst: 1 });
  return rules;
}

/** The published limits a reply to `segment`/`target` spends. */
function publishedLimits(segment: Segment, target: string): Limit[] {
  if (segment === 'slack') return [{ key: `slack:${target}`, gapMs: 1000 }];
  if (segment === 'discord') {
    return [
      { key: 'dc:global', count: 50, windowMs: 1000 },
      { key: `dc:channel:${target}`, count: 5, windowMs: 5000 },
    ];
  }
  const limits: Limit[] = [
    { key: 'tg:global', count: 30, windowMs: 1000 },
    { key: `tg:chat:${target}`, gapMs: 1000 },
  ];
  if (segment === 'tg-group') limits.push({ key: `tg:group:${target}`, count: 20, windowMs: 60_000 });
  return limits;
}

/** The budgets the product's pacer books (adapters' pace.ts), to show how much of the drain is our own pacing. */
function pacerLimits(segment: Segment, target: string): Limit[] {
  if (segment === 'slack') {
    return [
      { key: `slack:${target}`, gapMs: SLACK_CHANNEL_INTERVAL_MS },
      // Burst 20 on the workspace budget: never binding at these rates; modelled as a plain gap.
      { key: 'slack:workspace', gapMs: SLACK_WORKSPACE_INTERVAL_MS },
    ];
  }
  if (segment === 'discord') {
    return [
      { key: 'dc:global', gapMs: DISCORD_PACE.globalIntervalMs },
      { key: `dc:channel:${target}`, gapMs: DISCORD_PACE.channelIntervalMs },
    ];
  }
  const limits: Limit[] = [
    { key: 'tg:global', gapMs: TELEGRAM_GLOBAL_INTERVAL_MS },
    { key: `tg:chat:${target}`, gapMs: TELEGRAM_CHAT_INTERVAL_MS },
  ];
  if (segment === 'tg-group') limits.push({ key: `tg:group:${target}`, gapMs: TELEGRAM_GROUP_INTERVAL_MS });
  return limits;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Builds the deliveries: steady phase then burst, round-robin over the mix and each segment's targets. */
function planPosts(stackUrl: string, steadyRate: number, steadySeconds: number, burstSeconds: number): PlannedPost[] {
  const slackUrl = `${stackUrl}/webhooks/slack/events`;
  const tgUrl = `${stackUrl}/webhooks/telegram`;
  const slackChannels = Array.from({ length: SLACK_CHANNELS }, (_, i) => `C0BURST${String(i).padStart(4, '0')}`);
  const tgPeople = Array.from({ length: TG_PRIVATE_CHATS }, (_, i) => 880_100_000 + i);
  const tgGroups = Array.from({ length: TG_GROUPS }, (_, i) => -1_000_880_200_000 - i);
  const discordChannels = Array.from({ length: DISCORD_CHANNELS }, (_, i) => `41000000000000${String(i).padStart(4, '0')}`);
  const counters: Record<Segment, number> = { slack: 0, 'tg-private': 0, 'tg-group': 0, discord: 0 };
  const posts: PlannedPost[] = [];
  const phases: Array<{ phase: Phase; rate: number; seconds: number; offsetMs: number }> = [
    { phase: 'steady', rate: steadyRate, seconds: steadySeconds, offsetMs: 0 },
    { phase: 'burst', rate: steadyRate * 10, seconds: burstSeconds, offsetMs: steadySeconds * 1000 },
  ];
  for (const { phase, rate, seconds, offsetMs } of phases) {
    const count = Math.round(rate * seconds);
    for (let i = 0; i < count; i += 1) {
      const n = posts.length;
      const token = `bq${String(n).padStart(5, '0')}`;
      const segment = MIX[n % MIX.length] ?? 'slack';
      const k = counters[segment]++;
      const atMs = offsetMs + (i * 1000) / rate;
      if (segment === 'slack') {
        const channel = slackChannels[k % slackChannels.length] ?? '';
        const body = JSON.stringify(eventCallback(mentionEvent({ channel, text: `<@${SLACK_BOT_USER}> burst check ${token}` })));
        posts.push({ token, segment, target: channel, phase, atMs, url: slackUrl, headers: slackSignedHeaders(SLACK_SECRET, body), body });
      } else if (segment === 'tg-private') {
        const id = tgPeople[k % tgPeople.length] ?? 0;
        const body = JSON.stringify(update(privateMessage({ from: { ...TG_PERSON, id }, text: `burst check ${token}` })));
        posts.push({ token, segment, target: String(id), phase, atMs, url: tgUrl, headers: telegramWebhookHeaders(TG_SECRET), body });
      } else if (segment === 'discord') {
        // Not a webhook: dispatched on the stand-in's gateway at its time (body = the mention's text).
        const channel = discordChannels[k % discordChannels.length] ?? '';
        posts.push({ token, segment, target: channel, phase, atMs, url: '', headers: {}, body: `<@${DISCORD_BOT.userId}> burst check ${token}` });
      } else {
        const id = tgGroups[k % tgGroups.length] ?? 0;
        const chat = { id, type: 'supergroup', title: `Burst room ${k % TG_GROUPS}` };
        const body = JSON.stringify(update(groupMention({ chat }, `burst check ${token}`)));
        posts.push({ token, segment, target: String(id), phase, atMs, url: tgUrl, headers: telegramWebhookHeaders(TG_SECRET), body });
      }
    }
  }
  return posts;
}

/** Every delivered reply as (token, time), from the three stand-ins. */
function deliveries(slack: SlackStandin, telegram: TelegramStandin, discord: DiscordStandin, discordChannels: readonly string[]): Array<{ token: string; at: number }> {
  const found: Array<{ token: string; at: number }> = [];
  for (const post of slack.posts()) {
    const token = /bq\d{5}/.exec(post.text)?.[0];
    if (token) found.push({ token, at: post.at });
  }
  for (const message of telegram.messages()) {
    const token = /bq\d{5}/.exec(message.visible)?.[0];
    if (token) found.push({ token, at: message.at });
  }
  for (const channel of discordChannels) {
    for (const request of discord.messagesIn(channel)) {
      const body = request.body;
      const content = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['content'] : undefined;
      const token = typeof content === 'string' ? /bq\d{5}/.exec(content)?.[0] : undefined;
      if (token) found.push({ token, at: discord.arrivedAt(request) });
    }
  }
  return found;
}

const seconds = (ms: number): string => fmt(ms / 1000, 1);

/** Runs the burst benchmark and prints its table; throws when a correctness check fails (lost, duplicated, not stored, not acked). */
export async function runBurstBench(options?: BurstBenchOptions): Promise<void> {
  const steadyRate = positive('steady rate', options?.steadyRate ?? 4);
  const steadySeconds = positive('steady seconds', options?.steadySeconds ?? 5);
  const burstSeconds = positive('burst seconds', options?.burstSeconds ?? 10);
  const problems: string[] = [];
  let slack: SlackStandin | undefined;
  let front: SlackLimitsFront | undefined;
  let telegram: TelegramStandin | undefined;
  let discord: DiscordStandin | undefined;
  let discordFront: DiscordLimitsFront | undefined;
  let stack: Stack | undefined;
  try {
    slack = await startSlackStandin();
    slack.addBot({ token: SLACK_TOKEN, teamId: SLACK_TEAM, teamName: 'Burst Team', botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID });
    front = await startSlackLimitsFront(slack.apiUrl);
    telegram = await startTelegramStandin({ bot: { token: TG_BOT_TOKEN, id: TG_BOT_ID, username: TG_BOT_USERNAME }, enforceLimits: true });
    const discordChannels = Array.from({ length: DISCORD_CHANNELS }, (_, i) => `41000000000000${String(i).padStart(4, '0')}`);
    discord = await startDiscordStandin({
      botToken: DISCORD_BOT.token,
      applicationId: DISCORD_BOT.applicationId,
      botUserId: DISCORD_BOT.userId,
      guildId: DISCORD_BOT.guildId,
      channelIds: discordChannels,
    });
    discordFront = await startDiscordLimitsFront(discord.apiUrl);
    stack = await startStack({
      adapterFactories: [slackAdapterFactory, telegramAdapterFactory, discordAdapterFactory],
      env: {
        ...discordEnv(discord, { DISCORD_API_URL: discordFront.apiUrl }),
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        SLACK_BOT_TOKEN: SLACK_TOKEN,
        SLACK_API_URL: front.apiUrl,
        SLACK_API_TIMEOUT_MS: '5000',
        TELEGRAM_BOT_TOKEN: TG_BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
        TELEGRAM_API_URL: telegram.apiUrl,
        TELEGRAM_API_TIMEOUT_MS: '5000',
        WORKER_CONCURRENCY: '16',
        DATABASE_POOL_MAX: '10',
      },
    });
    const dc = discord;
    await dc.waitFor(() => dc.live(), 'the Discord gateway to be ready', 15_000);
    const posts = planPosts(stack.baseUrl, steadyRate, steadySeconds, burstSeconds);
    const steadyCount = posts.filter((p) => p.phase === 'steady').length;
    console.log(
      `burst: role 'all', offline model, WORKER_CONCURRENCY 16; steady ${fmt(steadyRate)}/s for ${fmt(steadySeconds)} s (${steadyCount} deliveries), ` +
        `then ${fmt(steadyRate * 10)}/s for ${fmt(burstSeconds)} s (${posts.length - steadyCount}); open-loop signed webhook POSTs from a worker thread`,
    );
    console.log(
      `targets: ${SEGMENT_LABEL.slack} via app_mention, ${SEGMENT_LABEL['tg-private']}, ${SEGMENT_LABEL['tg-group']} (webhooks); ` +
        `${SEGMENT_LABEL.discord} via gateway MESSAGE_CREATE (no webhook ack to time); mix per 10 messages: 4 Slack, 2 Telegram private, 2 Telegram group, 2 Discord`,
    );
    console.log(
      `limits enforced (429 past them): Slack 1 msg/s per channel (limits front); Telegram 1/s per chat, 20/min per group, 30/s per bot (stand-in enforceLimits); ` +
        `Discord 50 req/s per bot + 5 message creates per 5 s per channel (limits front)`,
    );

    const startAt = Date.now() + 300;
    const webhookIndexes = posts.map((p, i) => ({ p, i })).filter(({ p }) => p.segment !== 'discord');
    const dispatchedAt = new Map<number, number>();
    for (const [i, p] of posts.entries()) {
      if (p.segment !== 'discord') continue;
      setTimeout(() => {
        dispatchedAt.set(i, Date.now());
        dc.dispatch('MESSAGE_CREATE', dc.message({ channelId: p.target, author: { id: '200000000000000077', username: 'burst' }, content: p.body, mentions: [{ id: DISCORD_BOT.userId, username: 'switchboard', bot: true }] }));
      }, Math.max(0, startAt + p.atMs - Date.now()));
    }
    const webhookResults = await runDriver(startAt, webhookIndexes.map(({ p }) => p));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt + Math.max(...posts.map((p) => p.atMs)) + 50 - Date.now())));
    const results: PostResult[] = posts.map((_, i) => ({ sentAt: dispatchedAt.get(i) ?? Number.NaN, latencyMs: Number.NaN, status: 200 }));
    webhookIndexes.forEach(({ i }, j) => {
      const r = webhookResults[j];
      if (r) results[i] = r;
    });
    const burstPosts = posts.map((p, i) => ({ p, r: results[i] })).filter((x) => x.p.phase === 'burst');
    const burstStart = Math.min(...burstPosts.map((x) => x.r?.sentAt ?? Number.POSITIVE_INFINITY));
    const accepted = posts.filter((_, i) => results[i]?.status === 200);
    if (accepted.length !== posts.length) {
      const statuses: Record<string, number> = {};
      for (const r of results) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
      problems.push(`${posts.length - accepted.length} webhook POSTs were not answered 200: ${JSON.stringify(statuses)}`);
    }

    // Drain: until every accepted delivery has a reply (or the timeout).
    const expected = new Set(accepted.map((p) => p.token));
    const standins = { slack, telegram, discord: dc };
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      const got = new Set(deliveries(standins.slack, standins.telegram, standins.discord, discordChannels).map((d) => d.token));
      if ([...expected].every((t) => got.has(t))) break;
      if (Date.now() > deadline) {
        problems.push(`drain timed out after ${DRAIN_TIMEOUT_MS / 1000} s`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Anything sent twice shows up shortly after.
    await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WATCH_MS));
    const delivered = deliveries(slack, telegram, dc, discordChannels);
    const firstAt = new Map<string, number>();
    const times = new Map<string, number>();
    for (const d of delivered) {
      times.set(d.token, (times.get(d.token) ?? 0) + 1);
      firstAt.set(d.token, Math.min(firstAt.get(d.token) ?? Number.POSITIVE_INFINITY, d.at));
    }

    // Theoretical minimum and our pacer's floor, from the actual arrival times.
    const items = posts.map((p, i) => ({ p, arrival: results[i]?.sentAt ?? Number.NaN }));
    const published = earliestSchedule(items.map(({ p, arrival }) => ({ target: `${p.segment}:${p.target}`, arrival, limits: publishedLimits(p.segment, p.target) })));
    const paced = earliestSchedule(items.map(({ p, arrival }) => ({ target: `${p.segment}:${p.target}`, arrival, limits: pacerLimits(p.segment, p.target) })));

    // Where each reply spent its time: stored by the agent (messages.created_at), then delivered.
    const stored = await stack.switchboard.services.db.query<{ token: string; replied: Date }>(
      `SELECT substring(mi.text_redacted from 'bq[0-9]{5}') AS token, mo.created_at AS replied
         FROM messages mi JOIN messages mo ON mo.reply_to_event_id = mi.inbound_event_id
        WHERE mi.direction = 'in' AND mi.text_redacted ~ 'bq[0-9]{5}'`,
    );
    const repliedAt = new Map(stored.rows.map((r) => [r.token, r.replied.getTime()]));

    // The slots the product's pacer actually books, replayed in the order replies were stored.
    const booked = replayGcra(posts.map((p) => ({ bookedAt: repliedAt.get(p.token) ?? Number.POSITIVE_INFINITY, rules: productRules(p.segment, p.target) })));

    const slack429 = front.refusals().length + slack.postAttempts().filter((a) => a.outcome === '429').length;
    const telegram429 = telegram.attempts().filter((a) => a.outcome === 'limit-429' || a.outcome === '429').length;
    const discord429 = discordFront.refusals().length;

    const rows: string[][] = [];
    const summary = { drain: 0, theory: 0, pacer: 0 };
    for (const segment of [...SEGMENTS, 'all' as const]) {
      const indexes = posts.map((p, i) => ({ p, i })).filter(({ p }) => segment === 'all' || p.segment === segment);
      const burstIdx = indexes.filter(({ p }) => p.phase === 'burst');
      // Webhook acks only (Discord arrives over the gateway: nothing to time).
      const acks = (list: ReadonlyArray<{ i: number }>): Float64Array =>
        Float64Array.from(list.map(({ i }) => results[i]?.latencyMs ?? Number.NaN).filter((ms) => Number.isFinite(ms))).sort();
      const lat = acks(burstIdx);
      const steadyLat = acks(indexes.filter(({ p }) => p.phase === 'steady'));
      const lastDelivered = Math.max(...indexes.map(({ p }) => firstAt.get(p.token) ?? Number.NEGATIVE_INFINITY));
      const lastTheory = Math.max(...indexes.map(({ i }) => published[i] ?? Number.NaN));
      const lastPaced = Math.max(...indexes.map(({ i }) => paced[i] ?? Number.NaN));
      const lastBooked = Math.max(...indexes.map(({ i }) => booked[i] ?? Number.NaN));
      const lastReplied = Math.max(...indexes.map(({ p }) => repliedAt.get(p.token) ?? Number.NaN));
      const lateVsPacer = Float64Array.from(indexes.map(({ p, i }) => (firstAt.get(p.token) ?? Number.NaN) - (paced[i] ?? Number.NaN))).sort();
      const lost = indexes.filter(({ p }) => expected.has(p.token) && (times.get(p.token) ?? 0) === 0).length;
      const duplicated = indexes.reduce((n, { p }) => n + Math.max(0, (times.get(p.token) ?? 0) - 1), 0);
      const drain = lastDelivered - burstStart;
      const theory = lastTheory - burstStart;
      const pacer = lastPaced - burstStart;
      const errors =
        segment === 'slack' ? slack429 : segment === 'discord' ? discord429 : segment === 'tg-private' || segment === 'tg-group' ? Number.NaN : slack429 + telegram429 + discord429;
      if (segment === 'all') Object.assign(summary, { drain, theory, pacer });
      rows.push([
        segment === 'all' ? 'all' : SEGMENT_LABEL[segment],
        fmt(indexes.length),
        `${fmt(percentile(steadyLat, 50), 1)} / ${fmt(percentile(steadyLat, 99), 1)}`,
        `${fmt(percentile(lat, 50), 1)} / ${fmt(percentile(lat, 99), 1)} / ${fmt(percentile(lat, 100), 1)}`,
        seconds(drain),
        seconds(theory),
        fmt(drain / theory, 2),
        seconds(pacer),
        fmt(drain / pacer, 2),
        seconds(lastBooked - burstStart),
        seconds(lastReplied - burstStart),
        `${fmt(percentile(lateVsPacer, 50))} / ${fmt(percentile(lateVsPacer, 99))}`,
        Number.isNaN(errors) ? '-' : fmt(errors),
        fmt(lost),
        fmt(duplicated),
      ]);
    }
    console.log('');
    console.log(
      formatTable(
        ['', 'msgs', 'ack p50/p99 steady ms', 'ack p50/p99/max burst ms', 'drain s', 'min s', 'drain/min', 'pacer floor s', 'drain/pacer', 'GCRA replay s', 'last reply stored s', 'late vs pacer p50/p99 ms', '429s', 'lost', 'dup'],
        rows,
      ),
    );
    console.log(`429s by stand-in: Slack ${fmt(slack429)}, Telegram ${fmt(telegram429)}, Discord ${fmt(discord429)} (Telegram's are per bot, shown in the 'all' row only)`);
    const refusals = front.refusals();
    if (refusals.length > 0) {
      const gaps = Float64Array.from(refusals.map((r) => r.gapMs)).sort();
      console.log(
        `Slack 429s: gap to the channel's previous accepted post p50 ${fmt(percentile(gaps, 50))} ms, min ${fmt(percentile(gaps, 0))} ms ` +
          `(the limit is ${fmt(1000)} ms); ${new Set(refusals.map((r) => r.channel)).size} channels`,
      );
    }
    console.log(
      'drain = burst start (first burst POST) → last reply delivered; min = earliest-possible schedule of the same arrivals under the published limits; ' +
        `pacer floor = the same under the product's own budgets (Slack ${SLACK_CHANNEL_INTERVAL_MS} ms/channel; Telegram ${TELEGRAM_CHAT_INTERVAL_MS} ms/chat, ` +
        `${TELEGRAM_GROUP_INTERVAL_MS} ms/group, ${TELEGRAM_GLOBAL_INTERVAL_MS} ms/bot; Discord ${DISCORD_PACE.channelIntervalMs} ms/channel, ${DISCORD_PACE.globalIntervalMs} ms/bot); ` +
        `GCRA replay = the slots the product's multi-key reserve script (src/queue/pacer.ts) books, replayed in the order replies were stored`,
    );
    const perTarget = new Map<string, number>();
    for (const x of burstPosts) perTarget.set(`${x.p.segment}:${x.p.target}`, (perTarget.get(`${x.p.segment}:${x.p.target}`) ?? 0) + 1);
    const maxPer = (segment: Segment): number => Math.max(0, ...[...perTarget].filter(([k]) => k.startsWith(`${segment}:`)).map(([, n]) => n));
    console.log(
      `burst messages per target (max): Slack channel ${maxPer('slack')}, Telegram private chat ${maxPer('tg-private')}, Telegram group ${maxPer('tg-group')}, Discord channel ${maxPer('discord')}`,
    );
    if (process.env['BURST_TRACE'] === '1') {
      const outcomes: Record<string, number> = {};
      for (const a of telegram.attempts()) outcomes[`telegram ${a.outcome}`] = (outcomes[`telegram ${a.outcome}`] ?? 0) + 1;
      for (const a of slack.postAttempts()) outcomes[`slack ${a.outcome}`] = (outcomes[`slack ${a.outcome}`] ?? 0) + 1;
      const errors = await stack.switchboard.services.db.query<{ code: string | null; n: string }>(`SELECT last_error_code AS code, count(*) AS n FROM outbox GROUP BY 1`);
      console.log(`trace: stand-in attempts ${JSON.stringify(outcomes)}; outbox last_error_code ${JSON.stringify(errors.rows)}`);
      const chat = posts.find((p) => p.segment === 'tg-private')?.target;
      console.log(`trace: telegram attempts to ${chat ?? ''}: ${telegram.attempts().filter((a) => String(a.chatId) === chat).map((a) => `${seconds(a.at - burstStart)}:${a.outcome}`).join(' ')}`);
      // One target per segment, message by message: arrival, reply stored, pacer slot, delivered (s after burst start).
      for (const segment of SEGMENTS) {
        const first = posts.find((p) => p.segment === segment);
        const lines = posts
          .map((p, i) => ({ p, i }))
          .filter(({ p }) => p.segment === segment && p.target === first?.target)
          .map(({ p, i }) =>
            [p.token, results[i]?.sentAt, repliedAt.get(p.token), paced[i], booked[i], published[i], firstAt.get(p.token)].map((v, j) => (j === 0 ? String(v) : seconds(Number(v) - burstStart))).join(' '),
          );
        console.log(`trace ${segment} ${first?.target ?? ''}: token arrival replied pacer-floor gcra-replay min delivered\n  ${lines.join('\n  ')}`);
      }
    }
    console.log(`drain / theoretical minimum: ${fmt(summary.drain / summary.theory, 2)} (target ≤ 1.10); drain / pacer floor: ${fmt(summary.drain / summary.pacer, 2)}`);

    // Postgres: every inbound event has exactly one sent reply.
    const db = stack.switchboard.services.db;
    const check = await db.query<{ platform: string; events: string; one: string; none: string; many: string }>(
      `SELECT e.platform,
              count(*) AS events,
              count(*) FILTER (WHERE coalesce(s.n, 0) = 1) AS one,
              count(*) FILTER (WHERE coalesce(s.n, 0) = 0) AS none,
              count(*) FILTER (WHERE coalesce(s.n, 0) > 1) AS many
         FROM inbound_events e
         LEFT JOIN (SELECT m.reply_to_event_id AS id, count(*) AS n
                      FROM messages m JOIN outbox o ON o.message_id = m.id
                     WHERE o.status = 'sent' AND m.direction = 'out'
                     GROUP BY 1) s ON s.id = e.id
        GROUP BY e.platform ORDER BY e.platform`,
    );
    const outbox = await db.query<{ status: string; n: string; attempts: string }>(
      `SELECT status, count(*) AS n, sum(attempts) AS attempts FROM outbox GROUP BY status ORDER BY status`,
    );
    console.log('');
    for (const row of check.rows) {
      console.log(
        `check (Postgres): ${row.platform}: ${row.events} inbound events, ${row.one} with exactly one sent reply, ${row.none} with none, ${row.many} with more than one`,
      );
    }
    console.log(`check (Postgres): outbox by status: ${outbox.rows.map((r) => `${r.status} ${r.n} (attempts ${r.attempts})`).join(', ')}`);
    const events = check.rows.reduce((n, r) => n + Number(r.events), 0);
    const exactlyOne = check.rows.reduce((n, r) => n + Number(r.one), 0);
    if (events !== accepted.length) problems.push(`Postgres holds ${events} inbound events for ${accepted.length} accepted deliveries`);
    if (exactlyOne !== events) problems.push(`${events - exactlyOne} inbound events do not have exactly one sent reply`);
    const lostTotal = [...expected].filter((t) => (times.get(t) ?? 0) === 0).length;
    const dupTotal = [...times.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
    if (lostTotal > 0) problems.push(`${lostTotal} replies lost`);
    if (dupTotal > 0) problems.push(`${dupTotal} replies duplicated`);
    // Targets are reported, not failed on: the run is still a valid measurement when it misses them.
    const total429 = slack429 + telegram429 + discord429;
    const ratio = summary.drain / summary.theory;
    console.log(`target: 429s received by the stand-ins ${fmt(total429)} (target 0): ${total429 === 0 ? 'met' : 'MISSED'}`);
    console.log(`target: drain / theoretical minimum ${fmt(ratio, 2)} (target ≤ 1.10): ${ratio <= 1.1 ? 'met' : 'MISSED'}`);
  } finally {
    await stack?.stop().catch((err: unknown) => console.error('switchboard cleanup failed:', err));
    await front?.close().catch(() => undefined);
    await slack?.close().catch(() => undefined);
    await telegram?.close().catch(() => undefined);
    await discordFront?.close().catch(() => undefined);
    await discord?.close().catch(() => undefined);
  }
  if (problems.length > 0) throw new Error(`burst benchmark failed its checks:\n- ${problems.join('\n- ')}`);
}

if (import.meta.main && isMainThread) {
  const { values } = parseArgs({
    options: { 'steady-rate': { type: 'string' }, 'steady-seconds': { type: 'string' }, 'burst-seconds': { type: 'string' } },
  });
  const options: { steadyRate?: number; steadySeconds?: number; burstSeconds?: number } = {};
  if (values['steady-rate'] !== undefined) options.steadyRate = Number(values['steady-rate']);
  if (values['steady-seconds'] !== undefined) options.steadySeconds = Number(values['steady-seconds']);
  if (values['burst-seconds'] !== undefined) options.burstSeconds = Number(values['burst-seconds']);
  try {
    await runBurstBench(options);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
