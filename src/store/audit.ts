/**
 * The audit log: append-only, hash-chained facts about security-relevant events. Ids, types and
 * counts only. Chaining happens in Postgres (migration 004's BEFORE INSERT trigger), so every
 * append, with the pool or inside a caller's transaction, is chained in the inserting transaction.
 */
import { SwitchboardError } from '../core/errors.ts';
import type { Queryable } from './db.ts';

/** One audit entry. `details` must never hold message text, tokens or secrets. */
export interface AuditEntry {
  readonly tenantId?: string;
  readonly actorType: 'user' | 'system' | 'platform' | 'api_key';
  readonly actorId?: string;
  readonly action: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null | readonly string[] | Readonly<Record<string, number>>>>;
  /** When it happened; defaults to the database's clock at append time. Jobs on an injected Clock pass it. */
  readonly at?: Date;
}

/** Audit categories; each has its own retention (security 1 year, access 90 days by default). */
export const AUDIT_CATEGORIES = ['security', 'access'] as const;

/** An audit category. */
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

const ACTION_PATTERN = /^[a-z0-9_]+(?:[.-][a-z0-9_]+)*$/;
const MAX_ACTION_CHARS = 100;
const MAX_DETAILS_BYTES = 16 * 1024;
const MAX_SHORT_FIELD_CHARS = 500;

/** Appends one entry; the database assigns its category, chain position and hash. */
export async function appendAudit(q: Queryable, entry: AuditEntry): Promise<void> {
  if (entry.action.length > MAX_ACTION_CHARS || !ACTION_PATTERN.test(entry.action)) {
    throw new SwitchboardError('validation_failed', 'Audit action must be dotted lower-case words', {
      context: { length: entry.action.length },
    });
  }
  const details = JSON.stringify(entry.details ?? {});
  if (Buffer.byteLength(details, 'utf8') > MAX_DETAILS_BYTES) {
    throw new SwitchboardError('validation_failed', 'Audit details too large', {
      context: { action: entry.action, limitBytes: MAX_DETAILS_BYTES },
    });
  }
  await q.query(
    `INSERT INTO audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      entry.tenantId ?? null,
      entry.actorType,
      entry.actorId?.slice(0, MAX_SHORT_FIELD_CHARS) ?? null,
      entry.action,
      entry.targetType?.slice(0, MAX_SHORT_FIELD_CHARS) ?? null,
      entry.targetId?.slice(0, MAX_SHORT_FIELD_CHARS) ?? null,
      entry.ip?.slice(0, 100) ?? null,
      entry.userAgent?.slice(0, 500) ?? null,
      details,
      entry.at ?? null,
    ],
  );
}

/** A chain: its head (last row) and, once pruned, its anchor (last pruned row). */
export interface AuditChainInfo {
  readonly chain: string;
  readonly tenantId: string | null;
  readonly category: string;
  readonly head: { readonly seq: string; readonly id: string | null; readonly hash: string } | null;
  readonly anchor: { readonly seq: string; readonly id: string; readonly hash: string; readonly prunedRows: string } | null;
}

/** One stored row with every hashed field as the text the hash was computed over. */
export interface AuditChainRow {
  readonly id: string;
  readonly chain: string;
  readonly seq: string;
  readonly tenantId: string | null;
  readonly category: string;
  readonly at: string;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly details: string;
  readonly prevHash: string;
  readonly hash: string;
}

interface ChainInfoRow {
  chain: string;
  tenant_id: string | null;
  category: string;
  last_seq: string | null;
  last_id: string | null;
  last_hash: string | null;
  anchor_seq: string | null;
  anchor_id: string | null;
  anchor_hash: string | null;
  pruned_rows: string | null;
}

/**
 * Every chain known to the head table, the anchor table or the rows themselves (a chain with rows
 * but no head means someone bypassed the trigger); optionally one tenant's.
 */
export async function listAuditChains(q: Queryable, tenantId?: string): Promise<AuditChainInfo[]> {
  const result = await q.query<ChainInfoRow>(
    `WITH chains AS (
       SELECT chain, tenant_id, category, 0 AS source FROM audit_chain_head
       UNION SELECT chain, tenant_id, category, 1 FROM audit_anchor
       UNION SELECT DISTINCT chain, tenant_id, category, 2 FROM audit_log
     ), one AS (
       -- The head's tenant and category win; rows only speak for chains nothing else records.
       SELECT DISTINCT ON (chain) chain, tenant_id, category FROM chains
       WHERE $1::uuid IS NULL OR tenant_id = $1::uuid ORDER BY chain, source
     )
     SELECT one.chain, one.tenant_id, one.category,
            h.last_seq::text, h.last_id::text, h.last_hash,
            a.anchor_seq::text, a.anchor_id::text, a.anchor_hash, a.pruned_rows::text
     FROM one
     LEFT JOIN audit_chain_head h ON h.chain = one.chain
     LEFT JOIN audit_anchor a ON a.chain = one.chain
     ORDER BY one.chain`,
    [tenantId ?? null],
  );
  return result.rows.map((r) => ({
    chain: r.chain,
    tenantId: r.tenant_id,
    category: r.category,
    head: r.last_seq === null || r.last_hash === null ? null : { seq: r.last_seq, id: r.last_id, hash: r.last_hash },
    anchor:
      r.anchor_seq === null || r.anchor_id === null || r.anchor_hash === null
        ? null
        : { seq: r.anchor_seq, id: r.anchor_id, hash: r.anchor_hash, prunedRows: r.pruned_rows ?? '0' },
  }));
}

/** A chain's recorded head and anchor, read again inside the verifier's snapshot. */
export async function readAuditChainEnds(q: Queryable, chain: string): Promise<Pick<AuditChainInfo, 'head' | 'anchor'>> {
  const result = await q.query<Omit<ChainInfoRow, 'chain' | 'tenant_id' | 'category'>>(
    `SELECT h.last_seq::text, h.last_id::text, h.last_hash,
            a.anchor_seq::text, a.anchor_id::text, a.anchor_hash, a.pruned_rows::text
     FROM (SELECT $1::text AS chain) c
     LEFT JOIN audit_chain_head h ON h.chain = c.chain
     LEFT JOIN audit_anchor a ON a.chain = c.chain`,
    [chain],
  );
  const r = result.rows[0];
  return {
    head: !r || r.last_seq === null || r.last_hash === null ? null : { seq: r.last_seq, id: r.last_id, hash: r.last_hash },
    anchor:
      !r || r.anchor_seq === null || r.anchor_id === null || r.anchor_hash === null
        ? null
        : { seq: r.anchor_seq, id: r.anchor_id, hash: r.anchor_hash, prunedRows: r.pruned_rows ?? '0' },
  };
}

interface ChainRowRecord {
  id: string;
  chain: string;
  seq: string;
  tenant_id: string | null;
  category: string;
  at_text: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details_text: string;
  prev_hash: string;
  hash: string;
}

/** Up to `limit` rows of one chain after position `afterSeq`, in chain order (keyset pages). */
export async function readAuditChainRows(q: Queryable, chain: string, afterSeq: string, limit: number): Promise<AuditChainRow[]> {
  // Times and details are rendered by Postgres exactly as the trigger rendered them for the hash.
  const result = await q.query<ChainRowRecord>(
    `SELECT id::text, chain, seq::text, tenant_id::text, category, audit_time_text(at) AS at_text, actor_type,
            actor_id, action, target_type, target_id, ip, user_agent, details::text AS details_text, prev_hash, hash
     FROM audit_log WHERE chain = $1 AND seq > $2::bigint ORDER BY audit_log.seq LIMIT $3`,
    [chain, afterSeq, limit],
  );
  return result.rows.map((r) => ({
    id: r.id,
    chain: r.chain,
    seq: r.seq,
    tenantId: r.tenant_id,
    category: r.category,
    at: r.at_text,
    actorType: r.actor_type,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    userAgent: r.user_agent,
    details: r.details_text,
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/** The chains holding rows of `category` (what retention walks). */
export async function listAuditChainsByCategory(q: Queryable, category: AuditCategory): Promise<string[]> {
  const result = await q.query<{ chain: string }>('SELECT chain FROM audit_chain_head WHERE category = $1 ORDER BY chain', [
    category,
  ]);
  return result.rows.map((r) => r.chain);
}

/**
 * Removes up to `limit` of the chain's oldest rows older than `cutoff` (never leaving a hole) and
 * moves its anchor; returns how many went. Goes through the SECURITY DEFINER function audit_prune.
 */
export async function pruneAuditChain(q: Queryable, chain: string, cutoff: Date, limit: number, now: Date): Promise<number> {
  const result = await q.query<{ pruned: number }>('SELECT audit_prune($1, $2, $3, $4) AS pruned', [chain, cutoff, limit, now]);
  return result.rows[0]?.pruned ?? 0;
}
