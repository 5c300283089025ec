/**
 * Benchmark the PII scanner against two contenders on the SAME seeded corpus, in the same
 * process: (a) our `scanPii`, (b) the `redact-pii` package (its SyncRedactor with only the
 * built-ins for our entity types; it has no IBAN rule), (c) one combined RegExp of naive
 * patterns, the baseline (= 1.00). Reports throughput (median of several timed runs after a
 * warm-up), accuracy on the labelled corpus, and a few adversarial inputs.
 *
 * Standalone: `npx node test/bench/pii.ts [--messages N]`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { SyncRedactor } from 'redact-pii';
import { scanPii, type PiiEntityType } from '../../src/pipeline/pii/index.ts';
import { LABELLED_CORPUS_PATH, type LabelledLine } from '../fixtures/pii/generate-labelled.ts';
import { NEGATIVES, card, email, iban, int, ipv4, ipv6, mulberry32, phoneIntl, phoneNational, phoneUs, pick, ssn, type Rng } from '../fixtures/pii/values.ts';
import { fmt, formatTable } from './report.ts';

/** Options of the PII benchmark. */
export interface PiiBenchOptions {
  /** Messages in the throughput corpus (default 20,000). */
  messages?: number;
}

const SEED = 0x5b1d;
// Several warm-up passes: the hand-written scanner needs a few to reach optimized code, a RegExp does not.
const WARMUPS = 3;
const REPETITIONS = 7;

/** A typed span, as every contender reports it. */
interface Span {
  readonly type: PiiEntityType;
  readonly start: number;
  readonly end: number;
}

interface Contender {
  readonly name: string;
  /** The work a production caller would do per message (scan, or redact for redact-pii). */
  readonly run: (text: string) => unknown;
  /** Spans found in `text`, for accuracy. */
  readonly spans: (text: string) => Span[];
  /** Types it can report at all. */
  readonly covers: ReadonlySet<PiiEntityType>;
}

// ---------------------------------------------------------------- corpus

const WORDS = (
  'the a to and of is it for on you that this in we be can have with not are at do if me my so just ' +
  'please thanks ok yes no hi hey team deploy build ticket customer issue fixed merged review meeting ' +
  'tomorrow today call later update release bug error server logs check done ship week sprint plan ' +
  'noted lunch coffee agenda slides notes invoice order refund account login password reset access ' +
  'bitte danke morgen heute merci demain gracias mañana obrigado amanhã grazie domani 今日 明日 ありがとう 谢谢'
).split(' ');

function sentence(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(rng, WORDS));
  return out.join(' ');
}

const PII_GENERATORS: ReadonlyArray<(r: Rng) => string> = [
  email,
  (r) => card(r),
  (r) => ssn(r),
  (r) => iban(r),
  ipv4,
  ipv6,
  phoneUs,
  phoneIntl,
  (r) => phoneNational(r),
];
const NEGATIVE_GENERATORS = Object.values(NEGATIVES);

/** A deterministic corpus of chat messages: plain text of varied length, some with PII or look-alikes. */
export function buildChatCorpus(messages: number, seed = SEED): string[] {
  const rng = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < messages; i++) {
    const roll = rng();
    const words = roll < 0.4 ? int(rng, 1, 8) : roll < 0.85 ? int(rng, 10, 40) : int(rng, 80, 300);
    const parts = [sentence(rng, words)];
    const kind = rng();
    if (kind < 0.3) {
      for (let k = int(rng, 1, 3); k > 0; k--) parts.splice(int(rng, 0, parts.length), 0, pick(rng, PII_GENERATORS)(rng));
    } else if (kind < 0.5) {
      parts.splice(int(rng, 0, parts.length), 0, pick(rng, NEGATIVE_GENERATORS)(rng));
    }
    out.push(parts.join(' '));
  }
  return out;
}

// ---------------------------------------------------------------- contenders

const OUR_TYPES: ReadonlySet<PiiEntityType> = new Set<PiiEntityType>([
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'US_SSN',
  'CREDIT_CARD',
  'IBAN_CODE',
  'IP_ADDRESS',
]);

const ours: Contender = {
  name: 'switchboard scanPii',
  run: (text) => scanPii(text),
  spans: (text) => scanPii(text).findings.map(({ type, start, end }) => ({ type, start, end })),
  covers: OUR_TYPES,
};

/** redact-pii built-ins that correspond to our types. It has no IBAN rule. */
const REDACT_PII_TYPES: Readonly<Record<string, PiiEntityType>> = {
  creditCardNumber: 'CREDIT_CARD',
  phoneNumber: 'PHONE_NUMBER',
  ipAddress: 'IP_ADDRESS',
  usSocialSecurityNumber: 'US_SSN',
  emailAddress: 'EMAIL_ADDRESS',
};

/** The library's built-in order (CommonJS export order), which decides who wins an overlap. */
function redactPiiBuiltInOrder(): string[] {
  const require = createRequire(import.meta.url);
  const patterns = require('redact-pii/lib/built-ins/simple-regexp-patterns.js') as Record<string, unknown>;
  return Object.keys(patterns).filter((k) => k !== '__esModule');
}

type BuiltIns = NonNullable<NonNullable<ConstructorParameters<typeof SyncRedactor>[0]>['builtInRedactors']>;

function builtInsOnly(order: readonly string[], enabled: readonly string[]): BuiltIns {
  const config: Record<string, { enabled: boolean }> = { names: { enabled: false } };
  for (const name of order) config[name] = { enabled: enabled.includes(name) };
  return config as BuiltIns;
}

const OPEN = '\uE000';
const CLOSE = '\uE001';
const TYPE_MARK_BASE = 0xe010;

/**
 * redact-pii returns redacted text, not spans. Method: its SyncRedactor applies one regex per
 * built-in, in a fixed order, each with `String#replace(regex, replaceWith)`. We build one
 * single-type SyncRedactor per built-in and chain them in the library's order, each with
 * `globalReplaceWith = OPEN + typeMark + '$&' + CLOSE`: `$&` re-inserts the match, so the text is
 * unchanged except for private-use markers around each match. Stripping the markers while
 * counting positions gives exact spans in the original text. Matches nested inside an earlier
 * match (which the real placeholder would have hidden) are dropped: only outermost regions count.
 * The only difference from production is that later regexes see the original value between
 * markers instead of a placeholder word, which can shift a \b or two; that is the closest
 * reconstruction available without patching the library.
 */
function makeRedactPii(): Contender {
  const order = redactPiiBuiltInOrder();
  const enabled = order.filter((n) => n in REDACT_PII_TYPES);
  const production = new SyncRedactor({ builtInRedactors: builtInsOnly(order, enabled) });
  const typesByMark = new Map<string, PiiEntityType>();
  const markers = enabled.map((name, k) => {
    const mark = String.fromCharCode(TYPE_MARK_BASE + k);
    const type = REDACT_PII_TYPES[name];
    if (type !== undefined) typesByMark.set(mark, type);
    return new SyncRedactor({ globalReplaceWith: `${OPEN}${mark}$&${CLOSE}`, builtInRedactors: builtInsOnly(order, [name]) });
  });
  return {
    name: 'redact-pii SyncRedactor',
    run: (text) => production.redact(text),
    spans: (text) => {
      let marked = text;
      for (const m of markers) marked = m.redact(marked);
      const spans: Span[] = [];
      let depth = 0;
      let pos = 0;
      let start = 0;
      let type: PiiEntityType | undefined;
      for (let i = 0; i < marked.length; i++) {
        const ch = marked[i] ?? '';
        if (ch === OPEN) {
          const mark = marked[i + 1] ?? '';
          i++;
          if (depth === 0) {
            start = pos;
            type = typesByMark.get(mark);
          }
          depth++;
        } else if (ch === CLOSE) {
          depth--;
          if (depth === 0 && type !== undefined && pos > start) spans.push({ type, start, end: pos });
        } else pos++;
      }
      return spans;
    },
    covers: new Set(Object.values(REDACT_PII_TYPES)),
  };
}

/** Naive patterns of the kind found in many codebases, joined into one alternation. */
const NAIVE_SOURCE = [
  String.raw`(?<EMAIL_ADDRESS>[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})`,
  String.raw`(?<IBAN_CODE>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b)`,
  String.raw`(?<CREDIT_CARD>\b(?:\d[ -]?){12,18}\d\b)`,
  String.raw`(?<US_SSN>\b\d{3}-\d{2}-\d{4}\b)`,
  String.raw`(?<IP_ADDRESS>\b(?:\d{1,3}\.){3}\d{1,3}\b|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}\b)`,
  String.raw`(?<PHONE_NUMBER>(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b)`,
].join('|');

function naiveSpans(text: string): Span[] {
  const re = new RegExp(NAIVE_SOURCE, 'g');
  const spans: Span[] = [];
  for (const m of text.matchAll(re)) {
    const groups = m.groups ?? {};
    const type = (Object.keys(groups) as PiiEntityType[]).find((k) => groups[k] !== undefined);
    if (type !== undefined) spans.push({ type, start: m.index, end: m.index + m[0].length });
  }
  return spans;
}

const naive: Contender = {
  name: 'naive combined RegExp',
  run: (text) => naiveSpans(text),
  spans: naiveSpans,
  covers: OUR_TYPES,
};

// ---------------------------------------------------------------- measurement

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function timeOnce(c: Contender, corpus: readonly string[]): number {
  const t0 = performance.now();
  let sink = 0;
  for (const text of corpus) if (c.run(text) !== undefined) sink++;
  const ms = performance.now() - t0;
  if (sink !== corpus.length) throw new Error('unexpected result');
  return ms;
}

interface Throughput {
  readonly medianMs: number;
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
}

function measure(contenders: readonly Contender[], corpus: readonly string[], bytes: number): Map<Contender, Throughput> {
  for (let w = 0; w < WARMUPS; w++) for (const c of contenders) timeOnce(c, corpus);
  const times = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  // Interleave contenders per repetition so machine noise hits all of them alike.
  for (let r = 0; r < REPETITIONS; r++) for (const c of contenders) times.get(c)?.push(timeOnce(c, corpus));
  const out = new Map<Contender, Throughput>();
  for (const c of contenders) {
    const ms = median(times.get(c) ?? []);
    out.set(c, { medianMs: ms, msgsPerSec: corpus.length / (ms / 1000), mbPerSec: bytes / 1e6 / (ms / 1000) });
  }
  return out;
}

interface Scores {
  tp: number;
  fp: number;
  fn: number;
}

function prf(s: Scores): { p: number; r: number; f1: number } {
  const p = s.tp + s.fp === 0 ? Number.NaN : s.tp / (s.tp + s.fp);
  const r = s.tp + s.fn === 0 ? Number.NaN : s.tp / (s.tp + s.fn);
  return { p, r, f1: p + r === 0 ? 0 : (2 * p * r) / (p + r) };
}

/**
 * Strict: same type and exactly the same span. Lenient: same type and overlapping spans, each
 * gold span matched at most once. Both count per entity over the whole corpus.
 */
function score(c: Contender, corpus: readonly LabelledLine[]): { strict: Scores; lenient: Scores; perType: Map<PiiEntityType, Scores> } {
  const strict: Scores = { tp: 0, fp: 0, fn: 0 };
  const lenient: Scores = { tp: 0, fp: 0, fn: 0 };
  const perType = new Map<PiiEntityType, Scores>();
  const bucket = (t: PiiEntityType): Scores => {
    let s = perType.get(t);
    if (s === undefined) {
      s = { tp: 0, fp: 0, fn: 0 };
      perType.set(t, s);
    }
    return s;
  };
  for (const line of corpus) {
    const got = c.spans(line.text);
    const exact = new Set(got.map((s) => `${s.type}:${s.start}:${s.end}`));
    const gold = new Set(line.entities.map((s) => `${s.type}:${s.start}:${s.end}`));
    for (const g of line.entities) {
      const hit = exact.has(`${g.type}:${g.start}:${g.end}`);
      if (hit) strict.tp++;
      else strict.fn++;
      if (hit) bucket(g.type).tp++;
      else bucket(g.type).fn++;
    }
    for (const s of got) {
      if (!gold.has(`${s.type}:${s.start}:${s.end}`)) {
        strict.fp++;
        bucket(s.type).fp++;
      }
    }
    const used = new Set<number>();
    for (const s of got) {
      const k = line.entities.findIndex((g, i) => !used.has(i) && g.type === s.type && g.start < s.end && s.start < g.end);
      if (k >= 0) {
        used.add(k);
        lenient.tp++;
      } else lenient.fp++;
    }
    lenient.fn += line.entities.length - used.size;
  }
  return { strict, lenient, perType };
}

const pct = (x: number): string => (Number.isFinite(x) ? fmt(x, 3) : 'n/a');

function adversarial(contenders: readonly Contender[]): string {
  const size = 8 * 1024;
  const inputs: Array<[string, string]> = [
    ["'a' × 8 KiB", 'a'],
    ["digits × 8 KiB", '1'],
    ["'1 ' × 4 Ki", '1 '],
    ["'a.' × 4 Ki", 'a.'],
    ["'::' × 4 Ki", ':'],
    ["'1.' × 4 Ki", '1.'],
  ];
  const rows = inputs.map(([label, unit]) => {
    const text = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    return [
      label,
      ...contenders.map((c) => {
        c.run(text);
        const t0 = performance.now();
        c.run(text);
        return fmt(performance.now() - t0, 2);
      }),
    ];
  });
  return formatTable(['input (ms, one run)', ...contenders.map((c) => c.name)], rows);
}

/** Runs the benchmark and prints the report. */
export async function runPiiBench(options: PiiBenchOptions = {}): Promise<void> {
  const messages = options.messages ?? 20_000;
  const corpus = buildChatCorpus(messages);
  const bytes = corpus.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  const contenders = [naive, ours, makeRedactPii()];
  const baseline = naive;

  const lines: string[] = [];
  lines.push(`PII scanner benchmark: ${fmt(messages)} chat messages, ${fmt(bytes / 1e6, 2)} MB UTF-8, seed 0x${SEED.toString(16)}`);
  lines.push(`Node ${process.version}; ${WARMUPS} warm-up passes, then median of ${REPETITIONS} timed passes per contender (interleaved).`);
  lines.push('');

  const results = measure(contenders, corpus, bytes);
  const base = results.get(baseline);
  lines.push(
    formatTable(
      ['contender', 'median ms', 'msgs/s', 'MB/s', 'vs baseline'],
      contenders.map((c) => {
        const r = results.get(c);
        return [
          c === baseline ? `${c.name} (baseline)` : c.name,
          fmt(r?.medianMs ?? Number.NaN, 1),
          fmt(r?.msgsPerSec ?? Number.NaN),
          fmt(r?.mbPerSec ?? Number.NaN, 1),
          `${fmt((r?.msgsPerSec ?? Number.NaN) / (base?.msgsPerSec ?? Number.NaN), 2)}×`,
        ];
      }),
    ),
  );
  lines.push('  (redact-pii is timed doing what it does in production: redact with its placeholders.)');
  lines.push('');

  const labelled: LabelledLine[] = readFileSync(LABELLED_CORPUS_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LabelledLine);
  const entities = labelled.reduce((n, l) => n + l.entities.length, 0);
  lines.push(`Accuracy on the labelled corpus (${labelled.length} lines, ${entities} entities, ${labelled.filter((l) => l.entities.length === 0).length} lines without PII).`);
  lines.push('strict = same type and exact span; lenient = same type and overlapping span.');
  const scores = new Map(contenders.map((c) => [c, score(c, labelled)]));
  lines.push(
    formatTable(
      ['contender', 'P strict', 'R strict', 'F1 strict', 'P lenient', 'R lenient', 'F1 lenient'],
      contenders.map((c) => {
        const s = scores.get(c);
        const a = prf(s?.strict ?? { tp: 0, fp: 0, fn: 0 });
        const b = prf(s?.lenient ?? { tp: 0, fp: 0, fn: 0 });
        return [c.name, pct(a.p), pct(a.r), pct(a.f1), pct(b.p), pct(b.r), pct(b.f1)];
      }),
    ),
  );
  lines.push('');
  lines.push('Strict recall / precision per type ("n/a": the contender has no rule for that type):');
  const types = [...OUR_TYPES];
  lines.push(
    formatTable(
      ['type', ...contenders.map((c) => c.name)],
      types.map((t) => [
        t,
        ...contenders.map((c) => {
          if (!c.covers.has(t)) return 'n/a';
          const s = scores.get(c)?.perType.get(t) ?? { tp: 0, fp: 0, fn: 0 };
          const { p, r } = prf(s);
          return `R ${pct(r)} / P ${pct(p)}`;
        }),
      ]),
    ),
  );
  lines.push('');
  lines.push('Adversarial inputs (catastrophic-backtracking and quadratic probes):');
  lines.push(adversarial(contenders));
  console.log(lines.join('\n'));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { messages: { type: 'string' } } });
  await runPiiBench(values.messages === undefined ? {} : { messages: Number(values.messages) });
}
