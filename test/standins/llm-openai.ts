/**
 * A stand-in for OpenAI Chat Completions (`POST /v1/chat/completions`), also serving as any
 * OpenAI-compatible server (Ollama, vLLM, llama.cpp). Point the real `openai` SDK at `baseURL`.
 * Unscripted requests get `openAiText("stand-in reply: <last user message>")`, so end-to-end tests
 * can see what the model was sent; script specific answers with `reply(...)`.
 */
import {
  reply as generic,
  startHttpStandin,
  type RecordedRequest,
  type StandinReply,
} from './http-standin.ts';

/** The route the stand-in serves. */
export const OPENAI_CHAT_ROUTE = 'POST /v1/chat/completions';

/** Options for the OpenAI stand-in. */
export interface OpenAiStandinOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get a 401. */
  readonly apiKey?: string;
  /** Answer for unscripted requests; defaults to echoing the last user message. */
  readonly defaultReply?: (request: RecordedRequest) => StandinReply;
}

/** A running OpenAI stand-in. */
export interface OpenAiStandin {
  /** Pass as the SDK's `baseURL` (it ends in /v1). */
  readonly baseURL: string;
  /** Every request, any route. */
  readonly requests: readonly RecordedRequest[];
  /** The chat completion requests, oldest first. */
  chatRequests(): RecordedRequest[];
  /** The parsed JSON bodies of the chat completion requests, oldest first. */
  chatBodies(): ChatRequestBody[];
  /** Scripts the next chat completion replies, one per request, in order. */
  reply(...replies: StandinReply[]): void;
  /** Resolves once at least `count` requests arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The loosely typed shape of a chat completion request body, for assertions. */
export interface ChatRequestBody {
  readonly model?: string;
  readonly messages?: ReadonlyArray<Record<string, unknown>>;
  readonly tools?: ReadonlyArray<Record<string, unknown>>;
  readonly max_tokens?: number;
  readonly max_completion_tokens?: number;
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}_${(++sequence).toString().padStart(6, '0')}`;

/** Options shared by the completion builders. */
export interface OpenAiReplyOptions {
  readonly model?: string;
  readonly finishReason?: string;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

function completion(message: Record<string, unknown>, finishReason: string, options: OpenAiReplyOptions): StandinReply {
  const usage = options.usage ?? { prompt_tokens: 11, completion_tokens: 7 };
  return generic.json({
    id: nextId('chatcmpl'),
    object: 'chat.completion',
    created: 1_700_000_000,
    model: options.model ?? 'gpt-standin',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: options.finishReason ?? finishReason, logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  });
}

/** A plain text answer. */
export function openAiText(text: string, options: OpenAiReplyOptions = {}): StandinReply {
  return completion({ content: text }, 'stop', options);
}

/** An answer asking for tool calls; object arguments are JSON-encoded, strings are sent as they are. */
export function openAiToolCalls(
  calls: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly arguments: object | string }>,
  options: OpenAiReplyOptions & { readonly text?: string } = {},
): StandinReply {
  return completion(
    {
      content: options.text ?? null,
      tool_calls: calls.map((call) => ({
        id: call.id ?? nextId('call'),
        type: 'function',
        function: {
          name: call.name,
          arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
        },
      })),
    },
    'tool_calls',
    options,
  );
}

/** An OpenAI-style error body with the given status (and headers, e.g. retry-after). */
export function openAiError(
  status: number,
  options: { readonly message?: string; readonly type?: string; readonly code?: string; readonly headers?: Record<string, string> } = {},
): StandinReply {
  return generic.json(
    {
      error: {
        message: options.message ?? `stand-in error ${status}`,
        type: options.type ?? (status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error'),
        param: null,
        code: options.code ?? null,
      },
    },
    { status, ...(options.headers ? { headers: options.headers } : {}) },
  );
}

/** A streamed text answer: one chunk per piece, then [DONE]. */
export function openAiStream(pieces: readonly string[], options: { readonly model?: string } = {}): StandinReply {
  const id = nextId('chatcmpl');
  const chunk = (delta: object, finish: string | null): object => ({
    id,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: options.model ?? 'gpt-standin',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  return generic.sse([
    { data: chunk({ role: 'assistant', content: '' }, null) },
    ...pieces.map((piece) => ({ data: chunk({ content: piece }, null) })),
    { data: chunk({}, 'stop') },
    { data: '[DONE]' },
  ]);
}

/** The last user message's text in a chat request body ('' when none). */
export function lastUserText(body: unknown): string {
  const messages = (body as ChatRequestBody | undefined)?.messages ?? [];
  const last = messages.filter((m) => m['role'] === 'user').at(-1);
  const content = last?.['content'];
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : ''))
      .join('');
  }
  return '';
}

/** Starts the stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startOpenAiStandin(options: OpenAiStandinOptions = {}): Promise<OpenAiStandin> {
  const defaultReply = options.defaultReply ?? ((r: RecordedRequest) => openAiText(`stand-in reply: ${lastUserText(r.body)}`));
  const { apiKey } = options;
  const standin = await startHttpStandin({
    routes: { [OPENAI_CHAT_ROUTE]: defaultReply },
    ...(apiKey === undefined
      ? {}
      : {
          authorize: (r: RecordedRequest) =>
            r.headers.authorization === `Bearer ${apiKey}`
              ? undefined
              : openAiError(401, { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' }),
        }),
  });
  return {
    baseURL: `${standin.url}/v1`,
    requests: standin.requests,
    chatRequests: () => standin.requestsTo(OPENAI_CHAT_ROUTE),
    chatBodies: () => standin.requestsTo(OPENAI_CHAT_ROUTE).map((r) => r.body as ChatRequestBody),
    reply: (...replies) => standin.enqueue(OPENAI_CHAT_ROUTE, ...replies),
    waitForRequests: (count, timeoutMs) => standin.waitForRequests(count, timeoutMs),
    close: () => standin.close(),
  };
}
