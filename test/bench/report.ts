/**
 * Shared benchmark helpers: an HTTP load client that runs on its own thread, percentiles,
 * CPU sampling, and plain-text tables and ratio lines.
 *
 * The load client runs in a worker thread (this same file, started with `workerData`) so the
 * client's own work does not share an event loop with the in-process servers it measures.
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** One load run: POST each body once to `url`, `concurrency` requests in flight, keep-alive. */
export interface LoadPlan {
  readonly url: string;
  /** Extra request headers; request i gets `headerSets[i % length]` (several users, say); empty for none. */
  readonly headerSets: readonly Readonly<Record<string, string>>[];
  /** Request bodies, already JSON-encoded; one request each. */
  readonly bodies: readonly string[];
  readonly concurrency: number;
}

/** What a load run saw. */
export interface LoadResult {
  /** Wall time from the first request sent to the last response read. */
  readonly durationMs: number;
  /** Latency of each request (send → full response read), in request order. */
  readonly latenciesMs: Float64Array<ArrayBuffer>;
  /** Response counts by HTTP status; transport errors count under status 0. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Requests that failed: non-2xx responses plus transport errors. */
  readonly failures: number;
  /** The first failure, for diagnosis (status and the start of the body, or the error). */
  readonly firstFailure?: string;
}

const LOAD_WORKER = 'switchboard-bench-load';

interface LoadWorkerData {
  readonly kind: typeof LOAD_WORKER;
  readonly plan: LoadPlan;
}

function isLoadWorkerData(value: unknown): value is LoadWorkerData {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === LOAD_WORKER;
}

/** Runs a load plan on a worker thread and resolves with what it measured. */
export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { kind: LOAD_WORKER, plan } satisfies LoadWorkerData });
    let result: LoadResult | undefined;
    worker.once('message', (message: LoadResult) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}

async function loadOnThisThread(plan: LoadPlan): Promise<LoadResult> {
  const target = new URL(plan.url);
  const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const latenciesMs = new Float64Array(plan.bodies.length);
  const statuses: Record<string, number> = {};
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;

  const send = (body: string, headers: Readonly<Record<string, string>>): Promise<{ status: number; failureText?: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('error', reject);
          if (status >= 200 && status < 300) {
            res.on('end', () => resolve({ status }));
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status, failureText: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const lane = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const body = plan.bodies[index];
      if (body === undefined) return;
      const sent = performance.now();
      let status = 0;
      try {
        const outcome = await send(body, plan.headerSets[index % plan.headerSets.length] ?? {});
        status = outcome.status;
        if (outcome.failureText !== undefined) firstFailure ??= `HTTP ${status}: ${outcome.failureText}`;
      } catch (err) {
        firstFailure ??= `transport error: ${err instanceof Error ? err.message : String(err)}`;
      }
      latenciesMs[index] = performance.now() - sent;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status < 200 || status >= 300) failures += 1;
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, plan.concurrency) }, lane));
  const durationMs = performance.now() - started;
  agent.destroy();
  return { durationMs, latenciesMs, statuses, failures, ...(firstFailure === undefined ? {} : { firstFailure }) };
}

if (!isMainThread && isLoadWorkerData(workerData) && parentPort) {
  const port = parentPort;
  const result = await loadOnThisThread(workerData.plan);
  port.postMessage(result, [result.latenciesMs.buffer]);
}

/** One result from several runs of the same target: durations add up, latencies and statuses merge. */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const latenciesMs = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
  const statuses: Record<string, number> = {};
  let offset = 0;
  let firstFailure: string | undefined;
  for (const result of results) {
    latenciesMs.set(result.latenciesMs, offset);
    offset += result.latenciesMs.length;
    for (const [status, count] of Object.entries(result.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
    firstFailure ??= result.firstFailure;
  }
  return {
    durationMs: results.reduce((sum, r) => sum + r.durationMs, 0),
    latenciesMs,
    statuses,
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

/** The p-th percentile (0–100) of ascending-sorted values, nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Throughput and latency percentiles of one load run. */
export interface LatencySummary {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Summarizes a load run. */
export function summarize(result: LoadResult): LatencySummary {
  const sorted = Float64Array.from(result.latenciesMs).sort();
  return {
    requests: sorted.length,
    requestsPerSecond: sorted.length / (result.durationMs / 1000),
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: percentile(sorted, 100),
  };
}

/** CPU time of the calling thread, in microseconds. */
export function threadCpuMicros(): number {
  const usage = process.threadCpuUsage();
  return usage.user + usage.system;
}

/** Busy and total jiffies of the whole machine from /proc/stat (undefined where there is none). */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  if (line?.startsWith('cpu ') !== true) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** A number with a fixed count of decimals and thousands separators; "n/a" when not finite. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** "label: 0.25× (contender 500 / baseline 2,000 unit)". */
export function ratioLine(label: string, contender: number, baseline: number, unit: string, decimals = 1): string {
  return `${label}: ${fmt(contender / baseline, 2)}× (${fmt(contender, decimals)} / ${fmt(baseline, decimals)} ${unit})`;
}
