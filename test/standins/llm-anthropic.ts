/**
 * A stand-in for Anthropic's Messages API (`POST /v1/messages`). Point the real
 * `@anthropic-ai/sdk` at `baseURL` (no /v1: the SDK adds it). Accepts the key as `x-api-key` OR
 * `Authorization: Bearer` (SDK 1.12 sends the latter). Unscripted requests get
 * `anthropicText("stand-in reply: <last user text>")`; script answers with `reply(...)`.
 */
import {
  reply as generic,
  startHttpStandin,
  type RecordedRequest,
  type StandinReply,
} from './http-standin.ts';

/** The route the stand-in serves. */
export const ANTHROPIC_MESSAGES_ROUTE = 'POST /v1/messages';

/** Options for the Anthropic stand-in. */
export interface AnthropicStandinOptions {
  /** When set, requests must carry it as `x-api-key` or `Authorization: Bearer`, or get a 401. */
  readonly apiKey?: string;
  /** Answer for unscripted requests; defaults to echoing the last user text. */
  readonly defaultReply?: (request: RecordedRequest) => StandinReply;
}

/** The loosely typed shape of a Messages request body, for assertions. */
export interface MessagesRequestBody {
  readonly model?: string;
  readonly max_tokens?: number;
  readonly system?: unknown;
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: unknown }>;
  readonly tools?: ReadonlyArray<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** A running Anthropic stand-in. */
export interface AnthropicStandin {
  /** Pass as the SDK's `baseURL`. */
  readonly baseURL: string;
  readonly requests: readonly RecordedRequest[];
  /** The Messages requests, oldest first. */
  messageRequests(): RecordedRequest[];
  /** Their parsed JSON bodies, oldest first. */
  messageBodies(): MessagesRequestBody[];
  /** Scripts the next Messages replies, one per request, in order. */
  reply(...replies: StandinReply[]): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}_${(++sequence).toString().padStart(6, '0')}`;

/** Options shared by the message builders. */
export interface AnthropicReplyOptions {
  readonly model?: string;
  readonly stopReason?: string;
  readonly usage?: { readonly input_tokens: number; readonly output_tokens: number };
}

function message(content: readonly object[], stopReason: string, options: AnthropicReplyOptions): StandinReply {
  return generic.json({
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: options.model ?? 'claude-standin',
    content,
    stop_reason: options.stopReason ?? stopReason,
    stop_sequence: null,
    usage: options.usage ?? { input_tokens: 13, output_tokens: 5 },
  });
}

/** A plain text answer. */
export function anthropicText(text: string, options: AnthropicReplyOptions = {}): StandinReply {
  return message([{ type: 'text', text }], 'end_turn', options);
}

/** An answer asking for tools (tool_use blocks), optionally after some text. */
export function anthropicToolUse(
  calls: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly input: object }>,
  options: AnthropicReplyOptions & { readonly text?: string } = {},
): StandinReply {
  return message(
    [
      ...(options.text === undefined ? [] : [{ type: 'text', text: options.text }]),
      ...calls.map((call) => ({ type: 'tool_use', id: call.id ?? nextId('toolu'), name: call.name, input: call.input })),
    ],
    'tool_use',
    options,
  );
}

/** An Anthropic-style error body (`{type:'error', error:{type, message}}`) with the given status. */
export function anthropicError(
  status: number,
  options: { readonly type?: string; readonly message?: string; readonly headers?: Record<string, string> } = {},
): StandinReply {
  const defaultType =
    status === 429 ? 'rate_limit_error'
    : status === 401 ? 'authentication_error'
    : status === 403 ? 'permission_error'
    : status === 529 ? 'overloaded_error'
    : status >= 500 ? 'api_error'
    : 'invalid_request_error';
  return generic.json(
    { type: 'error', error: { type: options.type ?? defaultType, message: options.message ?? `stand-in error ${status}` } },
    { status, ...(options.headers ? { headers: options.headers } : {}) },
  );
}

/** The last user turn's text in a Messages request body ('' when none). */
export function lastUserText(body: unknown): string {
  const messages = (body as MessagesRequestBody | undefined)?.messages ?? [];
  const content = messages.filter((m) => m.role === 'user').at(-1)?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block: unknown) =>
        typeof block === 'object' && block !== null && 'type' in block && block.type === 'text' && 'text' in block
          ? String(block.text)
          : '',
      )
      .join('');
  }
  return '';
}

/** Starts the stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startAnthropicStandin(options: AnthropicStandinOptions = {}): Promise<AnthropicStandin> {
  const defaultReply =
    options.defaultReply ?? ((r: RecordedRequest) => anthropicText(`stand-in reply: ${lastUserText(r.body)}`));
  const { apiKey } = options;
  const standin = await startHttpStandin({
    routes: { [ANTHROPIC_MESSAGES_ROUTE]: defaultReply },
    ...(apiKey === undefined
      ? {}
      : {
          authorize: (r: RecordedRequest) =>
            r.headers['x-api-key'] === apiKey || r.headers.authorization === `Bearer ${apiKey}`
              ? undefined
              : anthropicError(401, { message: 'invalid x-api-key' }),
        }),
  });
  return {
    baseURL: standin.url,
    requests: standin.requests,
    messageRequests: () => standin.requestsTo(ANTHROPIC_MESSAGES_ROUTE),
    messageBodies: () => standin.requestsTo(ANTHROPIC_MESSAGES_ROUTE).map((r) => r.body as MessagesRequestBody),
    reply: (...replies) => standin.enqueue(ANTHROPIC_MESSAGES_ROUTE, ...replies),
    waitForRequests: (count, timeoutMs) => standin.waitForRequests(count, timeoutMs),
    close: () => standin.close(),
  };
}
