/**
 * A small programmatic web chat client: sign in, get a ticket, open the socket, send messages and
 * wait for frames. The demo and the tests drive Switchboard through it, as a browser would.
 */
import { ServerFrameSchema, type ServerFrame } from '../../adapters/webchat/frames.ts';

/** A signed-in client with an open socket. */
export interface WebchatClient {
  readonly userId: string;
  readonly conversationId: string;
  /** Every frame received so far, in order. */
  readonly frames: readonly ServerFrame[];
  /** Sends a raw string frame (tests use it for malformed input). */
  sendRaw(data: string): void;
  /** Sends a message; resolves with its client id. */
  send(text: string, id?: string): string;
  /** Resolves with the first frame (already received or future) matching `predicate`. */
  waitFor<T extends ServerFrame>(predicate: (frame: ServerFrame) => frame is T, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  /** Resolves when the socket closes, with its close code. */
  closed(): Promise<number>;
  close(): void;
}

/** Signs in over REST and returns the access token. */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await response.json()) as { accessToken?: string; error?: { code: string } };
  if (!response.ok || body.accessToken === undefined) throw new Error(`sign-in failed: ${body.error?.code ?? response.status}`);
  return body.accessToken;
}

/** Gets a one-time WebSocket ticket. */
export async function getTicket(baseUrl: string, accessToken: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/ws-ticket`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: '{}',
  });
  const body = (await response.json()) as { ticket?: string; error?: { code: string } };
  if (!response.ok || body.ticket === undefined) throw new Error(`ticket failed: ${body.error?.code ?? response.status}`);
  return body.ticket;
}

/** Opens the socket with a ticket and waits for the `ready` frame. */
export async function connectWebchat(baseUrl: string, ticket: string, timeoutMs = 10_000): Promise<WebchatClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`;
  const socket = new WebSocket(url);
  const frames: ServerFrame[] = [];
  const waiters = new Set<{ predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }>();
  let closeCode: number | undefined;
  const closeWaiters: Array<(code: number) => void> = [];

  socket.addEventListener('message', (event) => {
    const parsed = ServerFrameSchema.safeParse(JSON.parse(String(event.data)));
    if (!parsed.success) throw new Error('server sent a frame outside the protocol');
    frames.push(parsed.data);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(parsed.data)) {
        waiters.delete(waiter);
        waiter.resolve(parsed.data);
      }
    }
  });
  socket.addEventListener('close', (event) => {
    closeCode = event.code;
    for (const resolve of closeWaiters.splice(0)) resolve(event.code);
  });

  const waitFor = (predicate: (frame: ServerFrame) => boolean, waitMs = timeoutMs): Promise<ServerFrame> => {
    const found = frames.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve: (f: ServerFrame) => (clearTimeout(timer), resolve(f)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out after ${waitMs} ms waiting for a frame`));
      }, waitMs);
      waiters.add(waiter);
    });
  };

  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('socket failed to open')), { once: true });
  });
  const ready = await waitFor((f) => f.type === 'ready');
  if (ready.type !== 'ready') throw new Error('unexpected first frame');

  return {
    userId: ready.userId,
    conversationId: ready.conversationId,
    frames,
    sendRaw: (data) => socket.send(data),
    send: (text, id = crypto.randomUUID()) => {
      socket.send(JSON.stringify({ type: 'send', id, text }));
      return id;
    },
    waitFor: waitFor as WebchatClient['waitFor'],
    closed: () => (closeCode === undefined ? new Promise((resolve) => closeWaiters.push(resolve)) : Promise.resolve(closeCode)),
    close: () => socket.close(1000),
  };
}

/** Signs in and connects in one step. */
export async function openWebchat(baseUrl: string, email: string, password: string): Promise<WebchatClient> {
  const token = await signIn(baseUrl, email, password);
  return connectWebchat(baseUrl, await getTicket(baseUrl, token));
}
