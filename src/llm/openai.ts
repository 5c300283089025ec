/**
 * LLM provider over OpenAI Chat Completions through the official `openai` SDK. The same code
 * serves OpenAI itself and OpenAI-compatible servers (see openai-compatible.ts). Non-streamed:
 * the agent needs whole answers, and our deadline covers the body read as well as the headers.
 */
import OpenAI from 'openai';
import { systemClock, type Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { LlmProvider, LlmRequest, LlmResponse } from '../core/ports.ts';
import { fromOpenAiCompletion, toOpenAiMessages, toOpenAiTools } from './openai-messages.ts';
import { withLlmDeadline } from './timeout.ts';

/** Everything a Chat Completions provider needs; nothing is read from the environment. */
export interface ChatCompletionsProviderOptions {
  /** Provider kind reported as `name` and in errors. */
  readonly name: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer`; when absent no Authorization header is sent at all. */
  readonly apiKey?: string;
  /** Includes the `/v1` path segment, e.g. http://127.0.0.1:11434/v1. */
  readonly baseURL: string;
  readonly timeoutMs: number;
  /** Used when a request names no limit of its own. */
  readonly maxOutputTokens: number;
  /** OpenAI wants `max_completion_tokens` (newer models reject `max_tokens`); most compatible servers want `max_tokens`. */
  readonly tokenLimitField: 'max_completion_tokens' | 'max_tokens';
  readonly clock?: Clock;
}

/** The shared Chat Completions implementation behind the openai and openai-compatible providers. */
export function createChatCompletionsProvider(options: ChatCompletionsProviderOptions): LlmProvider {
  const { name, model, timeoutMs, tokenLimitField } = options;
  const clock = options.clock ?? systemClock;
  const client = new OpenAI({
    // The SDK insists on a key; for keyless servers the header is then removed again below.
    apiKey: options.apiKey ?? 'unused',
    baseURL: options.baseURL,
    // Explicit nulls stop the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID behind config's back.
    organization: null,
    project: null,
    webhookSecret: null,
    // BullMQ owns retries; an SDK retry would double the wait and hide the 429's retry-after.
    maxRetries: 0,
    timeout: timeoutMs,
    // The SDK's debug logging prints request bodies (message text); our logger is the only logger.
    logLevel: 'off',
    defaultHeaders: options.apiKey === undefined ? { Authorization: null } : undefined,
  });

  async function complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse> {
    const limit = request.maxOutputTokens ?? options.maxOutputTokens;
    const completion = await withLlmDeadline(signal, { vendor: name, timeoutMs, now: () => clock.now() }, (s) =>
      client.chat.completions.create(
        {
          model,
          messages: toOpenAiMessages(request.messages),
          // OpenAI rejects an empty tools array, so omit it when there are no tools.
          ...(request.tools.length > 0 ? { tools: toOpenAiTools(request.tools) } : {}),
          ...(tokenLimitField === 'max_tokens' ? { max_tokens: limit } : { max_completion_tokens: limit }),
        },
        { signal: s },
      ),
    );
    const response = fromOpenAiCompletion(completion, model);
    if (response === undefined) {
      throw new SwitchboardError('llm_unavailable', `${name} returned no choices`, {
        retryable: true,
        context: { vendor: name },
      });
    }
    return response;
  }

  return { name, model, complete };
}

/** Settings for the OpenAI provider. */
export interface OpenAiProviderOptions {
  readonly model: string;
  readonly apiKey: string;
  /** Defaults to https://api.openai.com/v1. */
  readonly baseURL?: string;
  readonly timeoutMs: number;
  readonly maxOutputTokens: number;
  readonly clock?: Clock;
}

/** OpenAI's public API default base URL. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** The OpenAI provider (Chat Completions, tools as functions). */
export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  return createChatCompletionsProvider({
    name: 'openai',
    model: options.model,
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? OPENAI_DEFAULT_BASE_URL,
    timeoutMs: options.timeoutMs,
    maxOutputTokens: options.maxOutputTokens,
    tokenLimitField: 'max_completion_tokens',
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
