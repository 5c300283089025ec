/**
 * The OpenAI-compatible provider (Ollama, vLLM, llama.cpp) against the same OpenAI stand-in,
 * with a custom base URL and no key: same code path as the OpenAI provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwitchboardError } from '../../src/core/errors.ts';
import type { LlmMessage } from '../../src/core/ports.ts';
import { createOpenAiCompatibleProvider } from '../../src/llm/openai-compatible.ts';
import { reply } from '../standins/http-standin.ts';
import { openAiError, openAiText, openAiToolCalls, startOpenAiStandin, type OpenAiStandin } from '../standins/llm-openai.ts';

let standin: OpenAiStandin;

beforeAll(async () => {
  standin = await startOpenAiStandin();
});
afterAll(async () => {
  await standin.close();
});

const signal = (): AbortSignal => new AbortController().signal;
const base = { model: 'llama3.2', timeoutMs: 400, maxOutputTokens: 128 };

describe('openai-compatible provider', () => {
  it('talks to a custom base URL without any Authorization header, using max_tokens', async () => {
    const provider = createOpenAiCompatibleProvider({ ...base, baseURL: standin.baseURL });
    expect(provider).toMatchObject({ name: 'openai-compatible', model: 'llama3.2' });
    const before = standin.chatRequests().length;
    const response = await provider.complete({ messages: [{ role: 'user', content: 'hello [PHONE_NUMBER]' }], tools: [] }, signal());
    // The stand-in's default answer echoes what the model received.
    expect(response.text).toBe('stand-in reply: hello [PHONE_NUMBER]');
    const sent = standin.chatRequests()[before];
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({ model: 'llama3.2', messages: [{ role: 'user', content: 'hello [PHONE_NUMBER]' }], max_tokens: 128 });
  });

  it('sends the optional key as a Bearer token when one is configured', async () => {
    const provider = createOpenAiCompatibleProvider({ ...base, baseURL: standin.baseURL, apiKey: 'local-secret' });
    const before = standin.chatRequests().length;
    await provider.complete({ messages: [{ role: 'user', content: 'hi' }], tools: [] }, signal());
    expect(standin.chatRequests()[before]?.headers.authorization).toBe('Bearer local-secret');
  });

  it('round-trips a tool call, tolerating servers that say finish_reason "stop" and omit ids', async () => {
    const provider = createOpenAiCompatibleProvider({ ...base, baseURL: standin.baseURL });
    const tool = { name: 'lookup', description: 'Look something up', parameters: { type: 'object', properties: {} } };
    standin.reply(
      openAiToolCalls([{ id: '', name: 'lookup', arguments: { q: 'x' } }], { finishReason: 'stop' }),
      openAiText('found it'),
    );
    const history: LlmMessage[] = [{ role: 'user', content: 'look up x' }];
    const first = await provider.complete({ messages: history, tools: [tool] }, signal());
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: 'call_0', name: 'lookup', arguments: { q: 'x' } }]);
    history.push(
      { role: 'assistant', content: '', toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: 'call_0', name: 'lookup', content: 'x is 42' },
    );
    const before = standin.chatRequests().length;
    expect((await provider.complete({ messages: history, tools: [tool] }, signal())).text).toBe('found it');
    expect(standin.chatBodies()[before]?.messages?.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_0', content: 'x is 42' });
  });

  it('maps errors and timeouts the same way as the OpenAI provider', async () => {
    const provider = createOpenAiCompatibleProvider({ ...base, baseURL: standin.baseURL });
    const ask = { messages: [{ role: 'user' as const, content: 'x' }], tools: [] };
    standin.reply(openAiError(429, { headers: { 'retry-after': '2' } }), openAiError(404, { message: 'model not found' }), reply.hang());
    const codes: Array<[string, number | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      await provider.complete(ask, signal()).catch((e: unknown) => {
        if (isSwitchboardError(e)) codes.push([e.code, e.details.retryAfterMs]);
      });
    }
    expect(codes).toEqual([
      ['llm_rate_limited', 2000],
      ['llm_bad_request', undefined],
      ['llm_timeout', undefined],
    ]);
  });
});
