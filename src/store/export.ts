/**
 * Data portability: everything Switchboard holds about one person, as one JSON document written
 * in pieces. One read-only REPEATABLE READ snapshot gives the counts and the rows, so the counts at
 * the top of the document always match what follows; rows are read through server-side cursors in
 * batches, so 10,000 messages never sit in memory as one string.
 */
import type pg from 'pg';
import { SwitchboardError } from '../core/errors.ts';
import type { Db } from './db.ts';
import { messageRecordFromRow, type MessageRecord, type MessageRowData } from './messages.ts';

/**
 * A table holding rows that belong to one user, exported as its own section. Other modules add
 * their tables here (one line each). A section whose table does not exist is left out; listed
 * columns that do not exist are skipped; columns that look secret are never exported.
 */
export interface UserTableSection {
  /** The section's key in the document and in `counts`. */
  readonly name: string;
  readonly table: string;
  /** The column holding the user's id. */
  readonly userColumn: string;
  /** The columns exported, in order. Never hashes, sealed values or tokens. */
  readonly columns: readonly string[];
}

/** Every per-user table the export reads, besides conversations, messages and the audit log. */
export const USER_TABLE_SECTIONS: readonly UserTableSection[] = [
  {
    name: 'sessions',
    table: 'sessions',
    userColumn: 'user_id',
    columns: ['id', 'auth_method', 'created_at', 'last_used_at', 'idle_expires_at', 'absolute_expires_at', 'revoked_at', 'revoked_reason', 'ip', 'user_agent'],
  },
  {
    name: 'two_factor',
    table: 'user_totp',
    userColumn: 'user_id',
    columns: ['created_at', 'enabled_at', 'locked_until'],
  },
  {
    name: 'recovery_codes',
    table: 'recovery_codes',
    userColumn: 'user_id',
    columns: ['created_at', 'used_at'],
  },
  {
    name: 'api_keys',
    table: 'api_keys',
    userColumn: 'user_id',
    columns: ['id', 'public_id', 'name', 'role', 'scopes', 'conversation_ids', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'],
  },
  {
    name: 'api_keys_created',
    table: 'api_keys',
    userColumn: 'created_by',
    columns: ['id', 'public_id', 'name', 'role', 'scopes', 'conversation_ids', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'],
  },
  {
    name: 'platform_identities',
    table: 'platform_identities',
    userColumn: 'user_id',
    columns: ['platform', 'installation_id', 'platform_user_id', 'linked_at'],
  },
  {
    name: 'linked_sign_in_accounts',
    table: 'oauth_identities',
    userColumn: 'user_id',
    columns: ['provider', 'subject', 'email', 'created_at', 'last_login_at'],
  },
];

/**
 * Tables that reference users but are deliberately not exported, with the reason. A test checks
 * that every table with a foreign key to users is in one list or the other.
 */
export const NOT_EXPORTED_USER_TABLES: Readonly<Record<string, string>> = {
  users: 'the profile section is the user row itself',
  messages: 'exported inside conversations',
  participants: 'exported inside conversations',
  ws_tickets: 'one-time 30-second socket tickets: no content, pruned continuously',
  mfa_challenges: 'one-time second-sign-in-step tokens: no content, minutes long',
  oidc_flows: 'in-flight Google/GitHub sign-ins: digests only, minutes long',
};

// Anything named like a credential is never exported, whatever a section lists.
const SECRET_COLUMN = /(hash|secret|sealed|token|password|recovery|key_material|cipher)/i;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const BATCH_ROWS = 500;

/** Quotes an identifier that already matched IDENTIFIER. */
function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new SwitchboardError('internal', 'Unsafe identifier in export registry');
  return `"${name}"`;
}

/** Whose data, and how messages are shown. */
export interface ExportRequest {
  readonly tenantId: string;
  readonly userId: string;
  readonly now: Date;
  /** Renders a stored message the way its reader sees it (the web chat's view). */
  readonly messageView: (message: MessageRecord) => Record<string, unknown>;
}

/** An open export: the counts are known; `stream` writes the document; `close` always runs. */
export interface ExportSession {
  readonly counts: Readonly<Record<string, number>>;
  stream(write: (chunk: string) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

interface ResolvedSection {
  readonly section: UserTableSection;
  readonly columns: readonly string[];
}

/**
 * Opens a snapshot for the user's export. Throws `rate_limited` when an export of the same user
 * is already running (in any process: a transaction-level advisory lock), `not_found` when the
 * user is not in the tenant.
 */
export async function openUserExport(db: Db, request: ExportRequest): Promise<ExportSession> {
  const client = await db.connect().catch((err: unknown) => {
    throw new SwitchboardError('db_unavailable', 'Database unavailable', {}, { cause: err });
  });
  let open = true;
  const close = async (): Promise<void> => {
    if (!open) return;
    open = false;
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const locked = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtextextended('switchboard:export:' || $1::text, 0)) AS ok`,
      [request.userId],
    );
    if (!locked.rows[0]?.ok) {
      throw new SwitchboardError('rate_limited', 'An export of this account is already running', { retryAfterMs: 5_000 });
    }
    const profile = await readProfile(client, request);
    const sections = await resolveSections(client);
    const counts = await countEverything(client, request, sections);
    return {
      counts,
      stream: (write) => writeDocument(client, request, profile, sections, counts, write),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function readProfile(client: pg.PoolClient, request: ExportRequest): Promise<Record<string, unknown>> {
  const result = await client.query<{
    id: string;
    email: string;
    display_name: string;
    role: string;
    created_at: Date;
    disabled_at: Date | null;
    tenant_id: string;
    tenant_slug: string;
    tenant_name: string;
  }>(
    `SELECT u.id, u.email, u.display_name, u.role, u.created_at, u.disabled_at,
            t.id AS tenant_id, t.slug AS tenant_slug, t.name AS tenant_name
     FROM users u JOIN tenants t ON t.id = u.tenant_id
     WHERE u.id = $1 AND u.tenant_id = $2`,
    [request.userId, request.tenantId],
  );
  const row = result.rows[0];
  if (!row) throw new SwitchboardError('not_found', 'No such account');
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    disabledAt: row.disabled_at?.toISOString() ?? null,
    tenant: { id: row.tenant_id, slug: row.tenant_slug, name: row.tenant_name },
  };
}

/** Keeps the registered sections whose table exists, with the listed columns that exist and are not secret. */
async function resolveSections(client: pg.PoolClient): Promise<ResolvedSection[]> {
  const tables = [...new Set(USER_TABLE_SECTIONS.map((s) => s.table))];
  const found = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
    [tables],
  );
  const columnsOf = new Map<string, Set<string>>();
  for (const row of found.rows) {
    const set = columnsOf.get(row.table_name) ?? new Set<string>();
    set.add(row.column_name);
    columnsOf.set(row.table_name, set);
  }
  const resolved: ResolvedSection[] = [];
  for (const section of USER_TABLE_SECTIONS) {
    const existing = columnsOf.get(section.table);
    if (!existing?.has(section.userColumn)) continue;
    const columns = section.columns.filter((c) => existing.has(c) && !SECRET_COLUMN.test(c));
    if (columns.length > 0) resolved.push({ section, columns });
  }
  return resolved;
}

// The conversations a person may read: theirs, in their tenant. Every export query starts here.
const MY_CONVERSATIONS = `SELECT c.id FROM conversations c
  WHERE c.tenant_id = $1 AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id AND p.user_id = $2)`;

// Audit entries about a person: what they did, what was done to them, and events on their messages.
const MY_AUDIT = `FROM audit_log a
  WHERE a.tenant_id = $1
    AND (a.actor_id = $2::text OR (a.target_type = 'user' AND a.target_id = $2::text)
         OR (a.target_type = 'message' AND a.target_id IN
             (SELECT m.id::text FROM messages m WHERE m.tenant_id = $1 AND m.author_user_id = $2::uuid)))`;

async function countEverything(
  client: pg.PoolClient,
  request: ExportRequest,
  sections: readonly ResolvedSection[],
): Promise<Record<string, number>> {
  const params = [request.tenantId, request.userId];
  const one = async (sql: string, values: unknown[] = params): Promise<number> =>
    Number((await client.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const counts: Record<string, number> = { users: 1 };
  counts['conversations'] = await one(`SELECT count(*) AS n FROM (${MY_CONVERSATIONS}) mine`);
  counts['participants'] = await one(
    `SELECT count(*) AS n FROM participants WHERE conversation_id IN (${MY_CONVERSATIONS})`,
  );
  counts['messages'] = await one(
    `SELECT count(*) AS n FROM messages WHERE tenant_id = $1 AND conversation_id IN (${MY_CONVERSATIONS})`,
  );
  for (const { section } of sections) {
    counts[section.name] = await one(
      `SELECT count(*) AS n FROM ${ident(section.table)} WHERE ${ident(section.userColumn)} = $1`,
      [request.userId],
    );
  }
  counts['audit_log'] = await one(`SELECT count(*) AS n ${MY_AUDIT}`);
  return counts;
}

/** Reads a cursor in batches, calling `each` per batch; closes the cursor. */
async function eachBatch<Row extends pg.QueryResultRow>(
  client: pg.PoolClient,
  name: string,
  sql: string,
  values: unknown[],
  each: (rows: Row[]) => Promise<void>,
): Promise<void> {
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, values);
  for (;;) {
    const batch = await client.query<Row>(`FETCH ${BATCH_ROWS} FROM ${name}`);
    if (batch.rows.length > 0) await each(batch.rows);
    if (batch.rows.length < BATCH_ROWS) break;
  }
  await client.query(`CLOSE ${name}`);
}

/** Joins JSON values into array items, with a leading comma when the array already has items. */
function items(values: readonly unknown[], first: boolean): string {
  return (first ? '' : ',') + values.map((v) => JSON.stringify(v)).join(',');
}

interface ConversationRow {
  id: string;
  platform: string;
  kind: string;
  created_at: Date;
  last_message_at: Date;
}

async function writeDocument(
  client: pg.PoolClient,
  request: ExportRequest,
  profile: Record<string, unknown>,
  sections: readonly ResolvedSection[],
  counts: Readonly<Record<string, number>>,
  write: (chunk: string) => Promise<void>,
): Promise<void> {
  const params = [request.tenantId, request.userId];
  const head = {
    format: 'switchboard.account-export',
    version: 1,
    exportedAt: request.now.toISOString(),
    counts,
    profile,
  };
  await write(`${JSON.stringify(head).slice(0, -1)},"conversations":[`);

  // Conversations are few; each one's messages stream through a cursor of their own.
  const conversations = await client.query<ConversationRow>(
    `SELECT c.id, c.platform, c.kind, c.created_at, c.last_message_at FROM conversations c
     WHERE c.id IN (${MY_CONVERSATIONS}) ORDER BY c.created_at, c.id`,
    params,
  );
  let firstConversation = true;
  for (const conversation of conversations.rows) {
    const participants = await client.query<{ display_name: string; is_agent: boolean; user_id: string | null; joined_at: Date }>(
      `SELECT display_name, is_agent, user_id, joined_at FROM participants
       WHERE conversation_id = $1 ORDER BY joined_at, platform_user_id`,
      [conversation.id],
    );
    const opening = {
      id: conversation.id,
      platform: conversation.platform,
      kind: conversation.kind,
      createdAt: conversation.created_at.toISOString(),
      lastMessageAt: conversation.last_message_at.toISOString(),
      participants: participants.rows.map((p) => ({
        displayName: p.display_name,
        isAgent: p.is_agent,
        isMe: p.user_id === request.userId,
        joinedAt: p.joined_at.toISOString(),
      })),
    };
    await write(`${firstConversation ? '' : ','}${JSON.stringify(opening).slice(0, -1)},"messages":[`);
    firstConversation = false;
    let firstMessage = true;
    await eachBatch<MessageRowData & { redacted_at: Date | null }>(
      client,
      'export_messages',
      `SELECT m.* FROM messages m WHERE m.conversation_id = $1 AND m.tenant_id = $2 ORDER BY m.created_at, m.id`,
      [conversation.id, request.tenantId],
      async (rows) => {
        const views = rows.map((row) => ({
          ...request.messageView(messageRecordFromRow(row)),
          authoredByMe: row.author_user_id === request.userId,
          ...(row.redacted_at === null ? {} : { redactedAt: row.redacted_at.toISOString() }),
        }));
        await write(items(views, firstMessage));
        firstMessage = false;
      },
    );
    await write(']}');
  }
  await write(']');

  for (const { section, columns } of sections) {
    await write(`,${JSON.stringify(section.name)}:[`);
    let first = true;
    await eachBatch<Record<string, unknown>>(
      client,
      'export_section',
      `SELECT ${columns.map(ident).join(', ')} FROM ${ident(section.table)} WHERE ${ident(section.userColumn)} = $1
       ORDER BY ${ident(columns[0] ?? section.userColumn)}`,
      [request.userId],
      async (rows) => {
        await write(items(rows.map(camelRow), first));
        first = false;
      },
    );
    await write(']');
  }

  await write(',"audit_log":[');
  let firstAudit = true;
  await eachBatch<{
    at: Date;
    action: string;
    actor_type: string;
    actor_id: string | null;
    target_type: string | null;
    target_id: string | null;
    ip: string | null;
    user_agent: string | null;
    details: unknown;
  }>(
    client,
    'export_audit',
    `SELECT a.at, a.action, a.actor_type, a.actor_id, a.target_type, a.target_id, a.ip, a.user_agent, a.details
     ${MY_AUDIT} ORDER BY a.at, a.id`,
    params,
    async (rows) => {
      const entries = rows.map((row) => {
        const byMe = row.actor_id === request.userId;
        // A refused attempt of mine names someone else's object: its id would tell me it exists.
        const foreignTarget = byMe && row.action === 'authz.denied';
        // Someone else's address and browser (an admin's, say) are theirs, not the subject's.
        return {
          at: row.at.toISOString(),
          action: row.action,
          actorType: row.actor_type,
          byMe,
          targetType: row.target_type,
          targetId: foreignTarget ? null : row.target_id,
          ...(byMe ? { ip: row.ip, userAgent: row.user_agent } : {}),
          details: row.details,
        };
      });
      await write(items(entries, firstAudit));
      firstAudit = false;
    },
  );
  await write(']}\n');
}

/** A row with camelCase keys and ISO dates. */
function camelRow(row: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties: no prototype setter can be reached through a key.
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()),
      value instanceof Date ? value.toISOString() : value,
    ]),
  );
}
