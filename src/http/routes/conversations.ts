/**
 * My conversations and their messages, and redacting my own message. Conversation content is for
 * its participants only: a conversation or message the caller does not take part in answers 404,
 * exactly like one that does not exist, so ids of other people's and other tenants' data leak nothing.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { SwitchboardError } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import type { Db } from '../../store/db.ts';
import type { Authenticator, Principal } from '../../auth/principal.ts';
import type { TextSealer } from '../../pipeline/protect-text.ts';
import { appendAudit } from '../../store/audit.ts';
import {
  canReadConversation,
  participantConversationsPage,
  participantMessagesPage,
  type ListCursor,
} from '../../store/messages.ts';
import { REDACTED_BY_USER_TEXT, existsAnywhere, originFields, redactOwnMessage, type RequestOrigin } from '../../store/redaction.ts';
import { principalOf, requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody, parseQuery } from '../validate.ts';
import { toMessageView } from '../webchat-service.ts';

/** The most items one page returns. */
export const PAGE_LIMIT_MAX = 100;

const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(50),
  cursor: z.string().min(1).max(200).optional(),
});

const CursorSchema = z.strictObject({
  at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  id: z.uuid(),
});

const IdSchema = z.uuid();

/** Opaque to clients: base64url of the last row's (time, id). */
function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify({ at: cursor.at, id: cursor.id })).toString('base64url');
}

function decodeCursor(raw: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = CursorSchema.safeParse(parsed);
  if (!result.success) {
    throw new SwitchboardError('validation_failed', 'Invalid cursor', { issues: [{ path: 'cursor', message: 'not a cursor this API issued' }] });
  }
  return result.data;
}


/** Parses a path id as a UUID. */
export function parseId(raw: unknown, name = 'id'): string {
  const parsed = IdSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new SwitchboardError('validation_failed', 'Invalid id', { issues: [{ path: name, message: 'must be a UUID' }] });
}

/** Where the request came from, for audit entries. */
export function requestOrigin(req: Request): RequestOrigin {
  const userAgent = req.get('user-agent');
  return { ...(req.ip === undefined ? {} : { ip: req.ip }), ...(userAgent === undefined ? {} : { userAgent }) };
}

/**
 * Whose conversations a caller reads: a user's own, or those of the user an API key acts as. A key
 * that acts as nobody takes part in no conversation: it lists none and reads none.
 */
interface Reader {
  readonly tenantId: string;
  readonly userId: string | null;
  readonly actorType: 'user' | 'api_key';
  readonly actorId: string;
  readonly onlyIds?: readonly string[];
}

function readerOf(principal: Principal): Reader {
  if (principal.kind === 'user') {
    return { tenantId: principal.tenantId, userId: principal.userId, actorType: 'user', actorId: principal.userId };
  }
  return {
    tenantId: principal.tenantId,
    userId: principal.userId ?? null,
    actorType: 'api_key',
    actorId: principal.apiKeyId,
    ...(principal.conversationIds === undefined ? {} : { onlyIds: [...principal.conversationIds] }),
  };
}

/** What the routes need. */
export interface ConversationRouteDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly authenticators: readonly Authenticator[];
  readonly clock: Clock;
}

/** `GET /conversations`, `GET /conversations/:id/messages`, `POST /messages/:id/redact`. */
export function createConversationRoutes(deps: ConversationRouteDeps): Router {
  const router = Router();
  const { db } = deps;

  /** 404 for anything the caller may not see; a probe of an id that exists elsewhere is audited. */
  const notVisible = async (
    req: Request,
    actor: { tenantId: string; actorType: 'user' | 'api_key'; actorId: string },
    kind: 'conversation' | 'message',
    id: string,
    route: string,
  ): Promise<SwitchboardError> => {
    if (await existsAnywhere(db, kind, id)) {
      await appendAudit(db, {
        tenantId: actor.tenantId,
        actorType: actor.actorType,
        actorId: actor.actorId,
        action: 'authz.denied',
        targetType: kind,
        targetId: id,
        ...originFields(requestOrigin(req)),
        details: { route, reason: 'not_participant' },
      });
    }
    return new SwitchboardError('not_found', kind === 'conversation' ? 'No such conversation' : 'No such message');
  };

  router.get('/conversations', requireAuth(deps.authenticators, 'conversations:read'), async (req, res) => {
    const query = parseQuery(PageQuerySchema, req.query);
    const reader = readerOf(principalOf(req));
    if (reader.userId === null) {
      res.json({ conversations: [], nextCursor: null });
      return;
    }
    const page = await participantConversationsPage(db, {
      tenantId: reader.tenantId,
      userId: reader.userId,
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
      ...(reader.onlyIds === undefined ? {} : { onlyIds: reader.onlyIds }),
    });
    const last = page.items.at(-1);
    res.json({
      conversations: page.items.map((c) => ({
        id: c.id,
        platform: c.platform,
        kind: c.kind,
        createdAt: c.createdAt.toISOString(),
        lastMessageAt: c.lastMessageAt.toISOString(),
        participantCount: c.participantCount,
        participants: c.participants,
      })),
      nextCursor: page.hasMore && last ? encodeCursor(last.cursor) : null,
    });
  });

  router.get('/conversations/:id/messages', requireAuth(deps.authenticators, 'conversations:read'), async (req, res) => {
    const conversationId = parseId(req.params['id']);
    const query = parseQuery(PageQuerySchema, req.query);
    const reader = readerOf(principalOf(req));
    const allowedByKey = reader.onlyIds === undefined || reader.onlyIds.includes(conversationId);
    const userId = reader.userId;
    if (
      userId === null ||
      !allowedByKey ||
      !(await canReadConversation(db, { tenantId: reader.tenantId, userId, conversationId }))
    ) {
      throw await notVisible(req, reader, 'conversation', conversationId, 'GET /conversations/:id/messages');
    }
    const page = await participantMessagesPage(db, {
      tenantId: reader.tenantId,
      userId,
      conversationId,
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
    });
    const last = page.items.at(-1);
    res.json({
      conversationId,
      messages: page.items.map((item) => ({
        ...toMessageView(deps.sealer, item.message),
        authoredByMe: item.message.authorUserId === userId,
        ...(item.redactedAt === null ? {} : { redactedAt: item.redactedAt.toISOString(), redactedBy: item.redactedBy }),
      })),
      nextCursor: page.hasMore && last ? encodeCursor(last.cursor) : null,
    });
  });

  router.post('/messages/:id/redact', requireAuth(deps.authenticators, 'messages:redact_own'), async (req, res) => {
    const user = userPrincipalOf(req);
    const messageId = parseId(req.params['id']);
    parseBody(z.strictObject({}), req.body ?? {});
    const outcome = await redactOwnMessage(db, {
      tenantId: user.tenantId,
      userId: user.userId,
      messageId,
      at: new Date(deps.clock.now()),
      origin: requestOrigin(req),
    });
    if (outcome.kind === 'not_found') {
      throw await notVisible(
        req,
        { tenantId: user.tenantId, actorType: 'user', actorId: user.userId },
        'message',
        messageId,
        'POST /messages/:id/redact',
      );
    }
    if (outcome.kind === 'not_author') {
      // The caller can see this message, so saying it exists leaks nothing; it just is not theirs.
      throw new SwitchboardError('forbidden', 'Only the author of a message can redact it');
    }
    res.json({
      id: outcome.messageId,
      conversationId: outcome.conversationId,
      text: REDACTED_BY_USER_TEXT,
      redactedAt: outcome.redactedAt.toISOString(),
      redactedBy: outcome.redactedBy,
      changed: outcome.changed,
    });
  });

  return router;
}
