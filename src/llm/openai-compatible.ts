/**
 * LLM provider for servers that speak OpenAI Chat Completions: Ollama, vLLM, llama.cpp, LM Studio.
 * Same code path as openai.ts; only the base URL is required, the key is optional, and the token
 * limit goes in `max_tokens`, which these servers understand.
 */
import type { Clock } from '../core/clock.ts';
import type { LlmProvider } from '../core/ports.ts';
import { createChatCompletionsProvider } from './openai.ts';

/** Settings for an OpenAI-compatible server. */
export interface OpenAiCompatibleProviderOptions {
  /** Required: such servers have no sensible default model. */
  readonly model: string;
  /** Required, including `/v1`, e.g. http://127.0.0.1:11434/v1 for Ollama. */
  readonly baseURL: string;
  /** Optional: local servers usually need none, and then no Authorization header is sent. */
  readonly apiKey?: string;
  readonly timeoutMs: number;
  readonly maxOutputTokens: number;
  readonly clock?: Clock;
}

/** The OpenAI-compatible provider. */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleProviderOptions): LlmProvider {
  return createChatCompletionsProvider({
    name: 'openai-compatible',
    model: options.model,
    baseURL: options.baseURL,
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    timeoutMs: options.timeoutMs,
    maxOutputTokens: options.maxOutputTokens,
    tokenLimitField: 'max_tokens',
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
