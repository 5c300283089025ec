/** What the web chat's socket server gets injected: it never touches storage or queues itself. */
import type { ChatMessage } from './frames.ts';

/** A person signed in to the web chat. */
export interface WebchatUser {
  readonly userId: string;
  readonly tenantId: string;
  readonly displayName: string;
  /** The sign-in session behind the ticket; its revocation closes the socket with 4001. */
  readonly sessionId?: string;
  /** When the session ends; the socket is closed with 4001 then. */
  readonly sessionExpiresAt?: Date;
}

/** Events from other processes that sockets react to (ids only). */
export type WebchatBusEvent =
  | { kind: 'message'; conversationId: string; messageId: string }
  | { kind: 'typing'; conversationId: string; state: 'start' | 'stop' }
  | { kind: 'session_revoked'; sessionId: string }
  | { kind: 'user_revoked'; userId: string };

/** The services the socket server calls. */
export interface WebchatPorts {
  /** Verifies and consumes a one-time ticket; throws `unauthenticated`. */
  authenticateTicket(ticket: string): Promise<WebchatUser>;
  /** The person's conversation with the agent (created on first use); they are its participant. */
  openConversation(user: WebchatUser): Promise<{ conversationId: string }>;
  /** Hands a message to ingest; throws SwitchboardError (message_too_long, pii_blocked, …). */
  submit(
    user: WebchatUser,
    input: { clientMessageId: string; text: string },
  ): Promise<{ messageId: string; conversationId: string; duplicate: boolean; storedText: string; piiTypes: readonly string[] }>;
  /** A page of the conversation's history, oldest first. */
  history(
    user: WebchatUser,
    conversationId: string,
    page: { before?: string; limit: number },
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }>;
  /** One message as a participant may see it; undefined when missing or not theirs. */
  loadMessage(user: WebchatUser, conversationId: string, messageId: string): Promise<ChatMessage | undefined>;
  /** Receives bus events (ids only) from every process. Returns a stop function. */
  subscribe(handler: (event: WebchatBusEvent) => void): Promise<() => Promise<void>>;
  /**
   * Admits a new socket for the user (connection caps); throws `rate_limited` to refuse it.
   * Returns a function releasing the slot when the socket closes.
   */
  admit?(user: WebchatUser): Promise<() => void>;
  /**
   * Whether the user's session is still live (not revoked, not past its end, user enabled).
   * Sockets re-check it periodically, so a revocation whose bus event was lost still closes them.
   */
  sessionLive?(user: WebchatUser): Promise<boolean>;
}
