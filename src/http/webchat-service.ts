/**
 * The web chat's server-side services: tickets, the person's conversation with the agent,
 * submitting messages to ingest, history and message loading with the participant rule.
 */
import type { Clock } from '../core/clock.ts';
import type { ChatMessage } from '../core/chat-message.ts';
import { SwitchboardError } from '../core/errors.ts';
import { formatConversationKey } from '../core/conversation-key.ts';
import type { ConversationRef } from '../core/envelope.ts';
import type { Db } from '../store/db.ts';
import { consumeWsTicket } from '../store/ws-tickets.ts';
import { getSessionWithUser } from '../store/sessions.ts';
import { isSessionLive } from '../auth/sessions.ts';
import { isParticipant, upsertConversation, upsertParticipant } from '../store/conversations.ts';
import { getMessage, historyPage, type MessageRecord } from '../store/messages.ts';
import { readableText, type TextSealer } from '../pipeline/protect-text.ts';
import type { Ingest } from '../pipeline/ingest.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Bus } from '../queue/bus.ts';

/** The installation id every web chat conversation lives under. */
export const WEBCHAT_INSTALLATION = 'web';

/** A signed-in web chat user. */
export interface WebchatIdentity {
  readonly userId: string;
  readonly tenantId: string;
  readonly displayName: string;
}

/** The web chat conversation of a person with the agent. */
export function webchatConversationRef(userId: string): ConversationRef {
  return {
    key: formatConversationKey({ platform: 'webchat', installationId: WEBCHAT_INSTALLATION, channelId: userId }),
    channelId: userId,
    kind: 'dm',
  };
}

/**
 * How a stored message is shown to a participant: people's own messages as stored (redacted,
 * with the types that were removed), the agent's replies as delivered.
 */
export function toMessageView(sealer: TextSealer, message: MessageRecord): ChatMessage {
  const types = message.piiFindings.map((f) => f.type);
  return {
    id: message.id,
    conversationId: message.conversationId,
    role: message.direction === 'in' ? 'user' : 'agent',
    text: readableText(sealer, message, message.direction === 'in' ? 'redacted' : 'original'),
    createdAt: message.createdAt.toISOString(),
    ...(message.clientMessageId === null ? {} : { clientMessageId: message.clientMessageId }),
    ...(types.length > 0 && message.direction === 'in' ? { pii: { types, action: message.piiAction } } : {}),
  };
}

/** What the service needs. */
export interface WebchatServiceDeps {
  readonly db: Db;
  readonly sealer: TextSealer;
  readonly tokens: TokenService;
  readonly ingest: Ingest;
  readonly bus: Bus;
  readonly clock: Clock;
}

/** Creates the services the socket server and the REST API use. */
export function createWebchatService(deps: WebchatServiceDeps) {
  const { db, sealer } = deps;

  const openConversation = async (user: WebchatIdentity): Promise<{ conversationId: string }> => {
    const ref = webchatConversationRef(user.userId);
    const conversationId = await upsertConversation(db, {
      tenantId: user.tenantId,
      platform: 'webchat',
      installationId: WEBCHAT_INSTALLATION,
      ref,
    });
    await upsertParticipant(db, {
      conversationId,
      platformUserId: user.userId,
      userId: user.userId,
      displayName: user.displayName,
      isAgent: false,
    });
    return { conversationId };
  };

  return {
    /** A ticket opens a socket for its session: the session must be live, and its end (or revocation) closes it. */
    authenticateTicket: async (ticket: string): Promise<WebchatIdentity & { sessionId: string; sessionExpiresAt: Date }> => {
      const claims = await deps.tokens.verifyWsTicket(ticket);
      if (claims.sessionId === undefined) throw new SwitchboardError('unauthenticated', 'Ticket names no session');
      const now = deps.clock.now();
      const consumed = await consumeWsTicket(db, claims.jti, claims.userId, new Date(now));
      if (!consumed) throw new SwitchboardError('unauthenticated', 'Ticket already used or expired');
      const found = await getSessionWithUser(db, claims.sessionId);
      if (!found || found.session.userId !== claims.userId || !isSessionLive(found.session, now)) {
        throw new SwitchboardError('unauthenticated', 'Session ended');
      }
      const { user, session } = found;
      if (user.disabled || user.tenantId !== claims.tenantId) throw new SwitchboardError('unauthenticated', 'Unknown user');
      return {
        userId: user.id,
        tenantId: user.tenantId,
        displayName: user.displayName,
        sessionId: session.id,
        // The absolute end: an open socket outlives idle periods (its page keeps refreshing), never the session.
        sessionExpiresAt: session.absoluteExpiresAt,
      };
    },

    sessionLive: async (user: WebchatIdentity & { sessionId?: string }): Promise<boolean> => {
      if (user.sessionId === undefined) return true;
      const found = await getSessionWithUser(db, user.sessionId);
      if (!found) return false;
      const { session, user: record } = found;
      // Idle expiry does not apply to an open socket (its page keeps refreshing); revocation and the absolute end do.
      return (
        session.revokedAt === null &&
        session.absoluteExpiresAt.getTime() > deps.clock.now() &&
        !record.disabled &&
        record.id === user.userId
      );
    },

    openConversation,

    submit: async (user: WebchatIdentity, input: { clientMessageId: string; text: string }) => {
      const ref = webchatConversationRef(user.userId);
      const receipt = await deps.ingest.accept({
        tenantId: user.tenantId,
        platform: 'webchat',
        installationId: WEBCHAT_INSTALLATION,
        // The client's id is the idempotency key: a resend after a dropped socket is a duplicate, not a new message.
        platformEventId: `${user.userId}.${input.clientMessageId}`,
        conversation: ref,
        messageId: input.clientMessageId,
        author: { platformUserId: user.userId, displayName: user.displayName, isBot: false, isSelf: false, userId: user.userId },
        text: input.text,
        attachments: [],
        mentionsAgent: true,
        verifiedBy: 'webchat-session',
      });
      if (!receipt.duplicate) {
        // Other tabs of the same person see the message too; ids only on the bus.
        await deps.bus
          .publish({ kind: 'message', conversationId: receipt.conversationId, messageId: receipt.messageId })
          .catch(() => 0);
      }
      return receipt;
    },

    history: async (user: WebchatIdentity, conversationId: string, page: { before?: string; limit: number }) => {
      if (!(await isParticipant(db, conversationId, user.userId))) {
        throw new SwitchboardError('forbidden', 'Not a participant of this conversation');
      }
      const before = page.before === undefined ? undefined : new Date(page.before);
      const result = await historyPage(db, conversationId, page.limit, before);
      return { messages: result.messages.map((m) => toMessageView(sealer, m)), hasMore: result.hasMore };
    },

    loadMessage: async (user: WebchatIdentity, conversationId: string, messageId: string) => {
      const message = await getMessage(db, messageId);
      if (!message || message.conversationId !== conversationId || message.tenantId !== user.tenantId) return undefined;
      return toMessageView(sealer, message);
    },

    subscribe: (handler: Parameters<Bus['subscribe']>[0]) => deps.bus.subscribe(handler),
  };
}

/** The web chat service. */
export type WebchatService = ReturnType<typeof createWebchatService>;
