/**
 * The audit chain, checked from outside the database: the canonical serialization of a row, its
 * SHA-256, and verification of every chain from its anchor (or the beginning) to its recorded head.
 * The serialization mirrors audit_row_hash() in migration 004; a test checks the two agree.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Db } from '../store/db.ts';
import { listAuditChains, readAuditChainEnds, readAuditChainRows, type AuditChainInfo, type AuditChainRow } from '../store/audit.ts';

/** prev_hash of a chain's first row. */
export const GENESIS_HASH = '0'.repeat(64);

const FORMAT_TAG = 'switchboard-audit-v1';

/** One field: `~` for NULL, else `<utf-8 byte length>:<text>` (length-prefixed, so no delimiter is ambiguous). */
function field(value: string | null): string {
  return value === null ? '~' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

/** The exact bytes (as UTF-8 text) a row's hash covers, given the previous row's hash. */
export function canonicalAuditRecord(row: AuditChainRow, prevHash: string): string {
  const fields = [
    prevHash,
    row.id,
    row.tenantId,
    row.category,
    row.seq,
    row.at,
    row.actorType,
    row.actorId,
    row.action,
    row.targetType,
    row.targetId,
    row.ip,
    row.userAgent,
    row.details,
  ];
  return FORMAT_TAG + fields.map((f) => `|${field(f)}`).join('');
}

/** SHA-256 (lower-case hex) of the canonical record. */
export function auditRowHash(row: AuditChainRow, prevHash: string): string {
  return createHash('sha256').update(canonicalAuditRecord(row, prevHash), 'utf8').digest('hex');
}

/** Why a chain failed. */
export type AuditBreakReason =
  | 'row_modified'
  | 'row_missing'
  | 'link_broken'
  | 'tail_missing'
  | 'head_missing'
  | 'wrong_chain';

/** The first broken place of one chain. `rowId` is the row where the break shows (or the lost row's id). */
export interface AuditChainBreak {
  readonly chain: string;
  readonly rowId: string | null;
  readonly seq: string | null;
  readonly reason: AuditBreakReason;
  readonly detail: string;
}

/** What one chain looked like. */
export interface AuditChainSummary {
  readonly chain: string;
  readonly tenantId: string | null;
  readonly category: string;
  readonly rows: number;
  readonly anchorSeq: string | null;
  readonly headSeq: string | null;
  readonly headHash: string | null;
  readonly broken: AuditChainBreak | null;
}

/** The verdict over all (or one tenant's) chains. */
export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly rows: number;
  readonly chains: readonly AuditChainSummary[];
  readonly breaks: readonly AuditChainBreak[];
}

const PAGE_ROWS = 2_000;

/** Checks rows in chain order; returns the first break, or where the chain ended. */
async function walkChain(
  client: pg.PoolClient,
  info: AuditChainInfo,
): Promise<{ rows: number; lastSeq: bigint; lastHash: string; lastId: string | null; broken: AuditChainBreak | null }> {
  let expectedSeq = info.anchor === null ? 1n : BigInt(info.anchor.seq) + 1n;
  let expectedPrev = info.anchor?.hash ?? GENESIS_HASH;
  let previousId: string | null = info.anchor?.id ?? null;
  let rows = 0;
  let after = info.anchor?.seq ?? '0';
  const breakAt = (row: AuditChainRow, reason: AuditBreakReason, detail: string): AuditChainBreak => ({
    chain: info.chain,
    rowId: row.id,
    seq: row.seq,
    reason,
    detail,
  });
  for (;;) {
    const page = await readAuditChainRows(client, info.chain, after, PAGE_ROWS);
    for (const row of page) {
      rows += 1;
      const seq = BigInt(row.seq);
      const where = previousId === null ? 'the start of the chain' : `row ${previousId}`;
      if (row.tenantId !== info.tenantId || row.category !== info.category) {
        return { rows, lastSeq: seq, lastHash: row.hash, lastId: row.id, broken: breakAt(row, 'wrong_chain', 'tenant or category does not match its chain') };
      }
      if (auditRowHash(row, row.prevHash) !== row.hash) {
        return { rows, lastSeq: seq, lastHash: row.hash, lastId: row.id, broken: breakAt(row, 'row_modified', 'content does not match its hash (the row was changed)') };
      }
      if (row.prevHash !== expectedPrev || seq !== expectedSeq) {
        const broken =
          seq > expectedSeq
            ? breakAt(row, 'row_missing', `${String(seq - expectedSeq)} row(s) removed between ${where} and this row (expected seq ${String(expectedSeq)}, found ${row.seq})`)
            : breakAt(row, 'link_broken', `does not follow ${where} (rows reordered, replaced or inserted)`);
        return { rows, lastSeq: seq, lastHash: row.hash, lastId: row.id, broken };
      }
      expectedSeq = seq + 1n;
      expectedPrev = row.hash;
      previousId = row.id;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE_ROWS) break;
    after = last.seq;
  }
  return { rows, lastSeq: expectedSeq - 1n, lastHash: expectedPrev, lastId: previousId, broken: null };
}

/** Verifies one chain inside a read-only snapshot, so a concurrent prune or append cannot cause a false alarm. */
async function verifyChain(db: Db, info: AuditChainInfo): Promise<AuditChainSummary> {
  const client = await db.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Re-read head and anchor in the snapshot the rows are read in.
    const chain: AuditChainInfo = { ...info, ...(await readAuditChainEnds(client, info.chain)) };
    const walked = await walkChain(client, chain);
    await client.query('COMMIT');
    let broken = walked.broken;
    if (broken === null && chain.head === null) {
      broken = { chain: chain.chain, rowId: walked.lastId, seq: String(walked.lastSeq), reason: 'head_missing', detail: 'the chain has rows but no recorded head' };
    } else if (broken === null && chain.head !== null && (BigInt(chain.head.seq) !== walked.lastSeq || chain.head.hash !== walked.lastHash)) {
      const missing = BigInt(chain.head.seq) - walked.lastSeq;
      broken = {
        chain: chain.chain,
        rowId: chain.head.id,
        seq: chain.head.seq,
        reason: 'tail_missing',
        detail:
          missing > 0n
            ? `the chain ends at seq ${String(walked.lastSeq)} but its head records seq ${chain.head.seq} (row ${chain.head.id ?? '?'}): ${String(missing)} row(s) removed from the end`
            : `the last row does not match the recorded head (seq ${chain.head.seq})`,
      };
    }
    return {
      chain: chain.chain,
      tenantId: chain.tenantId,
      category: chain.category,
      rows: walked.rows,
      anchorSeq: chain.anchor?.seq ?? null,
      headSeq: chain.head?.seq ?? null,
      headHash: chain.head?.hash ?? null,
      broken,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Verifies every chain (or one tenant's): each row's hash, each link, no gaps, and the recorded head. */
export async function verifyAuditLog(db: Db, options: { readonly tenantId?: string } = {}): Promise<AuditVerifyResult> {
  const chains = await listAuditChains(db, options.tenantId);
  const summaries: AuditChainSummary[] = [];
  for (const info of chains) summaries.push(await verifyChain(db, info));
  const breaks = summaries.flatMap((s) => (s.broken === null ? [] : [s.broken]));
  return { ok: breaks.length === 0, rows: summaries.reduce((n, s) => n + s.rows, 0), chains: summaries, breaks };
}
