/**
 * LLM provider over Anthropic's Messages API through the official `@anthropic-ai/sdk`.
 * Non-streamed, like the OpenAI provider; our deadline also covers reading the body.
 */
import Anthropic from '@anthropic-ai/sdk';
import { systemClock, type Clock } from '../core/clock.ts';
import type { LlmProvider, LlmRequest, LlmResponse } from '../core/ports.ts';
import { fromAnthropicMessage, toAnthropicPrompt, toAnthropicTools } from './anthropic-messages.ts';
import { withLlmDeadline } from './timeout.ts';

/** Settings for the Anthropic provider; nothing is read from the environment. */
export interface AnthropicProviderOptions {
  readonly model: string;
  readonly apiKey: string;
  /** Without `/v1`: the SDK appends `/v1/messages`. Defaults to https://api.anthropic.com. */
  readonly baseURL?: string;
  readonly timeoutMs: number;
  /** Used when a request names no limit; the Messages API requires one. */
  readonly maxOutputTokens: number;
  readonly clock?: Clock;
}

/** Anthropic's public API default base URL. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** The Anthropic provider (Messages API, tool_use / tool_result blocks). */
export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  const { model, timeoutMs } = options;
  const clock = options.clock ?? systemClock;
  const client = new Anthropic({
    // A credential passed in code stops the SDK from consulting ANTHROPIC_* variables or profiles.
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
    webhookKey: null,
    // BullMQ owns retries; an SDK retry would double the wait and hide the 429's retry-after.
    maxRetries: 0,
    // An explicit timeout also stops the SDK refusing large max_tokens without streaming.
    timeout: timeoutMs,
    // The SDK's debug logging prints request bodies (message text); our logger is the only logger.
    logLevel: 'off',
    openTelemetry: false,
  });

  async function complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse> {
    const prompt = toAnthropicPrompt(request.messages);
    const message = await withLlmDeadline(
      signal,
      { vendor: 'anthropic', timeoutMs, now: () => clock.now() },
      (s) =>
        client.messages.create(
          {
            model,
            max_tokens: request.maxOutputTokens ?? options.maxOutputTokens,
            ...(prompt.system === undefined ? {} : { system: prompt.system }),
            messages: prompt.messages,
            ...(request.tools.length > 0 ? { tools: toAnthropicTools(request.tools) } : {}),
          },
          { signal: s },
        ),
    );
    return fromAnthropicMessage(message, model);
  }

  return { name: 'anthropic', model, complete };
}
