/**
 * HTTP helpers for the authentication tests: JSON calls, the refresh cookie as a browser would keep
 * it (read from Set-Cookie, sent back in Cookie), and sockets opened with a session's ticket.
 */
import { expect } from 'vitest';
import { connectWebchat, getTicket, type WebchatClient } from '../../src/cli/webchat-client.ts';

/** The refresh cookie's name. */
export const COOKIE = '__Secure-sb_refresh';

/** An answer: status, parsed body, the refresh cookie it set (undefined: none; '': cleared). */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly setCookie: string[];
  readonly cookie: string | undefined;
}

/** Calls the API; `cookie` is sent as the refresh cookie, `csrf` adds the page's CSRF header. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; cookie?: string; csrf?: boolean; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers['cookie'] = `${COOKIE}=${options.cookie}`;
  if (options.csrf) headers['x-switchboard-csrf'] = '1';
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const setCookie = response.headers.getSetCookie();
  const ours = setCookie.find((c) => c.startsWith(`${COOKIE}=`));
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    setCookie,
    cookie: ours === undefined ? undefined : (ours.slice(COOKIE.length + 1).split(';')[0] ?? ''),
  };
}

/** A completed sign-in: the access token in memory and the refresh token the cookie carries. */
export interface SignedIn {
  readonly accessToken: string;
  readonly refresh: string;
  readonly sessionId: string;
}

/** Signs in with a password (no 2FA) and returns the session's credentials. */
export async function login(baseUrl: string, email: string, password: string): Promise<SignedIn> {
  const answer = await call(baseUrl, 'POST', '/auth/login', { body: { email, password } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return fromSession(answer);
}

/** The credentials of an answer that completed a sign-in or refresh. */
export function fromSession(answer: Answer): SignedIn {
  const session = answer.body['session'] as { id?: string } | undefined;
  if (typeof answer.body['accessToken'] !== 'string' || !answer.cookie || typeof session?.id !== 'string') {
    throw new Error(`not a session answer: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return { accessToken: answer.body['accessToken'], refresh: answer.cookie, sessionId: session.id };
}

/** Opens a web chat socket for a session. */
export async function openSocket(baseUrl: string, accessToken: string): Promise<WebchatClient> {
  return connectWebchat(baseUrl, await getTicket(baseUrl, accessToken));
}

/** Resolves with the close code, or rejects after `ms`. */
export async function closeCode(client: WebchatClient, ms = 5000): Promise<number> {
  return Promise.race([
    client.closed(),
    new Promise<number>((_resolve, reject) => setTimeout(() => reject(new Error('socket stayed open')), ms)),
  ]);
}
