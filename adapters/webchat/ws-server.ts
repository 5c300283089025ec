/**
 * The web chat's WebSocket server: one-time ticket on upgrade, same-origin check, zod-validated
 * frames with a size cap, heartbeats, and delivery of replies published by any process.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from '../../src/core/logger.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { parseJsonBounded } from '../../src/core/json.ts';
import { ClientFrameSchema, HISTORY_PAGE_MAX, type ServerFrame } from './frames.ts';
import type { WebchatPorts, WebchatUser } from './ports.ts';

/** Socket server settings. */
export interface WebchatServerOptions {
  readonly path: string;
  readonly maxFrameBytes: number;
  readonly heartbeatMs: number;
  readonly jsonMaxDepth: number;
  /** Origins allowed to open a socket; empty means "same host as the request". */
  readonly allowedOrigins: readonly string[];
  readonly onConnectionCountChange?: (count: number) => void;
}

/** Close code for an invalid or expired session (the page returns to sign-in). */
export const CLOSE_UNAUTHENTICATED = 4001;

interface Connection {
  readonly socket: WebSocket;
  readonly user: WebchatUser;
  readonly conversationId: string;
  alive: boolean;
}

// setTimeout's limit; longer sessions are re-armed when the timer fires.
const MAX_TIMER_MS = 2_147_000_000;

/** A running socket server. */
export interface WebchatServer {
  /** How many sockets this process holds. */
  connectionCount(): number;
  /** Closes every socket with 1001 and stops listening for upgrades. */
  close(): Promise<void>;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, retryAfterMs?: number): void {
  const retryAfter = retryAfterMs === undefined ? '' : `Retry-After: ${Math.max(1, Math.ceil(retryAfterMs / 1000))}\r\n`;
  // end(), not write()+destroy(): over TLS a destroy can drop the reply before it is flushed.
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${retryAfter}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function originAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  // Non-browser clients send no Origin; cross-site browsers always do, which is what this stops.
  if (origin === undefined) return true;
  if (allowed.length > 0) return allowed.includes(origin);
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Attaches the web chat's socket server to an HTTP server. */
export async function attachWebchatServer(
  http: Server,
  ports: WebchatPorts,
  options: WebchatServerOptions,
  log: Logger,
): Promise<WebchatServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes });
  const connections = new Set<Connection>();
  const byConversation = new Map<string, Set<Connection>>();

  const send = (connection: Connection, frame: ServerFrame): void => {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(frame));
  };
  const countChanged = (): void => options.onConnectionCountChange?.(connections.size);

  const closeWhere = (matches: (c: Connection) => boolean, reason: string): void => {
    for (const connection of connections) {
      if (matches(connection)) connection.socket.close(CLOSE_UNAUTHENTICATED, reason);
    }
  };

  const unsubscribe = await ports.subscribe((event) => {
    if (event.kind === 'session_revoked') {
      closeWhere((c) => c.user.sessionId === event.sessionId, 'Session ended');
      return;
    }
    if (event.kind === 'user_revoked') {
      closeWhere((c) => c.user.userId === event.userId, 'Session ended');
      return;
    }
    const listeners = byConversation.get(event.conversationId);
    if (!listeners || listeners.size === 0) return;
    if (event.kind === 'typing') {
      for (const c of listeners) send(c, { type: 'typing', conversationId: event.conversationId, state: event.state });
      return;
    }
    for (const connection of listeners) {
      ports
        .loadMessage(connection.user, event.conversationId, event.messageId)
        .then((message) => {
          if (message) send(connection, { type: 'message', message });
        })
        .catch((err: unknown) => log.warn({ err, messageId: event.messageId }, 'could not load message for socket'));
    }
  });

  const armSessionExpiry = (connection: Connection): NodeJS.Timeout | undefined => {
    const expiresAt = connection.user.sessionExpiresAt;
    if (expiresAt === undefined) return undefined;
    const remaining = expiresAt.getTime() - Date.now();
    if (remaining <= 0) {
      connection.socket.close(CLOSE_UNAUTHENTICATED, 'Session expired');
      return undefined;
    }
    return setTimeout(() => {
      if (expiresAt.getTime() - Date.now() <= 0) connection.socket.close(CLOSE_UNAUTHENTICATED, 'Session expired');
      else armSessionExpiry(connection);
    }, Math.min(remaining, MAX_TIMER_MS));
  };

  const handleFrame = async (connection: Connection, data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) {
      send(connection, { type: 'error', code: 'validation_failed', message: 'Binary frames are not supported' });
      return;
    }
    let frame;
    try {
      const raw = parseJsonBounded(data.toString('utf8'), options.jsonMaxDepth);
      const parsed = ClientFrameSchema.safeParse(raw);
      if (!parsed.success) {
        send(connection, { type: 'error', code: 'validation_failed', message: 'Malformed frame' });
        return;
      }
      frame = parsed.data;
    } catch (err) {
      const code = isSwitchboardError(err) ? err.code : 'validation_failed';
      send(connection, { type: 'error', code, message: 'Malformed frame' });
      return;
    }
    try {
      if (frame.type === 'send') {
        const receipt = await ports.submit(connection.user, { clientMessageId: frame.id, text: frame.text });
        send(connection, {
          type: 'ack',
          id: frame.id,
          messageId: receipt.messageId,
          duplicate: receipt.duplicate,
          stored: { text: receipt.storedText, piiTypes: [...receipt.piiTypes] },
        });
      } else {
        const page = await ports.history(connection.user, connection.conversationId, {
          ...(frame.before === undefined ? {} : { before: frame.before }),
          limit: frame.limit ?? 50,
        });
        send(connection, { type: 'history', conversationId: connection.conversationId, ...page });
      }
    } catch (err) {
      if (isSwitchboardError(err)) {
        send(connection, {
          type: 'error',
          code: err.code,
          message: err.message,
          ...(frame.type === 'send' ? { id: frame.id } : {}),
          ...(err.details.retryAfterMs === undefined ? {} : { retryAfterMs: err.details.retryAfterMs }),
        });
      } else {
        log.error({ err }, 'web chat frame failed');
        send(connection, { type: 'error', code: 'internal', message: 'Something went wrong', ...(frame.type === 'send' ? { id: frame.id } : {}) });
      }
    }
  };

  const onConnection = async (socket: WebSocket, user: WebchatUser, release: () => void): Promise<void> => {
    socket.once('close', release);
    let conversationId: string;
    try {
      ({ conversationId } = await ports.openConversation(user));
    } catch (err) {
      log.error({ err }, 'could not open conversation');
      socket.close(1011, 'Unavailable');
      return;
    }
    const connection: Connection = { socket, user, conversationId, alive: true };
    connections.add(connection);
    let listeners = byConversation.get(conversationId);
    if (!listeners) byConversation.set(conversationId, (listeners = new Set()));
    listeners.add(connection);
    countChanged();
    const expiry = armSessionExpiry(connection);
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      void handleFrame(connection, data, isBinary);
    });
    socket.on('error', (err) => log.debug({ err }, 'socket error'));
    socket.on('close', () => {
      clearTimeout(expiry);
      connections.delete(connection);
      listeners.delete(connection);
      if (listeners.size === 0) byConversation.delete(conversationId);
      countChanged();
    });
    send(connection, { type: 'ready', userId: user.userId, conversationId });
    try {
      const page = await ports.history(user, conversationId, { limit: HISTORY_PAGE_MAX });
      send(connection, { type: 'history', conversationId, ...page });
    } catch (err) {
      log.warn({ err }, 'could not load history');
    }
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== options.path) return; // another upgrade handler may own this path
    if (!originAllowed(request, options.allowedOrigins)) {
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const ticket = url.searchParams.get('ticket');
    if (!ticket || ticket.length > 4096) {
      rejectUpgrade(socket, 401, 'Unauthorized');
      return;
    }
    ports.authenticateTicket(ticket).then(
      async (user) => {
        let release: () => void = () => undefined;
        if (ports.admit) {
          try {
            release = await ports.admit(user);
            // A client that drops mid-handshake never reaches onConnection: free its slot with the raw socket.
            socket.once('close', release);
          } catch (err) {
            const retryAfterMs = isSwitchboardError(err) ? err.details.retryAfterMs : undefined;
            rejectUpgrade(socket, 429, 'Too Many Requests', retryAfterMs);
            return;
          }
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          void onConnection(ws, user, release);
        });
      },
      () => rejectUpgrade(socket, 401, 'Unauthorized'),
    );
  };
  http.on('upgrade', onUpgrade);

  const recheckSession = (connection: Connection): void => {
    if (!ports.sessionLive || connection.user.sessionId === undefined) return;
    ports.sessionLive(connection.user).then(
      (live) => {
        if (!live) connection.socket.close(CLOSE_UNAUTHENTICATED, 'Session ended');
      },
      (err: unknown) => log.debug({ err }, 'session re-check failed; will retry'),
    );
  };

  const heartbeat = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      recheckSession(connection);
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    connectionCount: () => connections.size,
    close: async () => {
      clearInterval(heartbeat);
      http.off('upgrade', onUpgrade);
      for (const connection of connections) connection.socket.close(1001, 'Server shutting down');
      await unsubscribe();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
