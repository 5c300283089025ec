/**
 * The Anthropic provider, driven through the real `@anthropic-ai/sdk` against a local stand-in:
 * system prompt separation, same-role merging, a tool_use / tool_result round trip, error
 * mapping, timeouts and aborts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSwitchboardError, type SwitchboardError } from '../../src/core/errors.ts';
import type { LlmMessage, LlmProvider, LlmRequest } from '../../src/core/ports.ts';
import { createAnthropicProvider } from '../../src/llm/anthropic.ts';
import { reply } from '../standins/http-standin.ts';
import {
  anthropicError,
  anthropicText,
  anthropicToolUse,
  startAnthropicStandin,
  type AnthropicStandin,
} from '../standins/llm-anthropic.ts';

const KEY = 'sk-ant-test-standin';
const TIMEOUT_MS = 400;

let standin: AnthropicStandin;
let provider: LlmProvider;

beforeAll(async () => {
  standin = await startAnthropicStandin({ apiKey: KEY });
  provider = createAnthropicProvider({
    model: 'claude-sonnet-4-6',
    apiKey: KEY,
    baseURL: standin.baseURL,
    timeoutMs: TIMEOUT_MS,
    maxOutputTokens: 512,
  });
});
afterAll(async () => {
  await standin.close();
});

const signal = (): AbortSignal => new AbortController().signal;

const timeTool = {
  name: 'get_time',
  description: 'Current time in a time zone',
  parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
};

async function failure(p: Promise<unknown>): Promise<SwitchboardError> {
  const error: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSwitchboardError(error)) throw new Error(`expected a SwitchboardError, got ${String(error)}`);
  return error;
}

describe('anthropic provider: replies', () => {
  let before = 0;
  beforeEach(() => {
    before = standin.messageRequests().length;
  });

  it('sends the system prompt separately and maps a non-streamed text reply', async () => {
    standin.reply(anthropicText('Hello there', { model: 'claude-sonnet-4-6-20260101', usage: { input_tokens: 30, output_tokens: 4 } }));
    const response = await provider.complete(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi, I am [PERSON]' },
        ],
        tools: [],
      },
      signal(),
    );
    expect(response).toEqual({
      text: 'Hello there',
      toolCalls: [],
      finishReason: 'stop',
      model: 'claude-sonnet-4-6-20260101',
      usage: { inputTokens: 30, outputTokens: 4 },
    });
    const sent = standin.messageRequests()[before];
    // SDK 1.12 authenticates with a Bearer header; the stand-in accepts either form.
    expect(sent?.headers.authorization ?? sent?.headers['x-api-key']).toContain(KEY);
    expect(sent?.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 512,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi, I am [PERSON]' }] }],
    });
  });

  it('merges consecutive same-role messages and leaves out empty text', async () => {
    await provider.complete(
      {
        messages: [
          { role: 'system', content: 'Rule one.' },
          { role: 'user', content: 'first' },
          { role: 'user', content: 'second' },
          { role: 'assistant', content: '' },
          { role: 'assistant', content: 'answer' },
          { role: 'system', content: 'Rule two.' },
          { role: 'user', content: '   ' },
          { role: 'user', content: 'third' },
        ],
        tools: [],
        maxOutputTokens: 40,
      },
      signal(),
    );
    const body = standin.messageBodies()[before];
    expect(body?.system).toBe('Rule one.\n\nRule two.');
    expect(body?.max_tokens).toBe(40);
    expect(body?.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'answer' }] },
      { role: 'user', content: [{ type: 'text', text: 'third' }] },
    ]);
  });

  it('does a tool-use round trip: tool_use out, tool_result back in a user turn, then text', async () => {
    standin.reply(
      anthropicToolUse([{ id: 'toolu_1', name: 'get_time', input: { tz: 'UTC' } }], { text: 'Let me check.' }),
      anthropicText('It is noon in UTC.'),
    );
    const history: LlmMessage[] = [{ role: 'user', content: 'What time is it in UTC?' }];
    const first = await provider.complete({ messages: history, tools: [timeTool] }, signal());
    expect(first).toMatchObject({
      text: 'Let me check.',
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'toolu_1', name: 'get_time', arguments: { tz: 'UTC' } }],
    });
    expect(standin.messageBodies()[before]?.tools).toEqual([
      { name: 'get_time', description: 'Current time in a time zone', input_schema: timeTool.parameters },
    ]);

    history.push(
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: 'toolu_1', name: 'get_time', content: '{"time":"12:00"}' },
      { role: 'user', content: 'And be quick.' },
    );
    const second = await provider.complete({ messages: history, tools: [timeTool] }, signal());
    expect(second).toMatchObject({ text: 'It is noon in UTC.', finishReason: 'stop', toolCalls: [] });
    expect(standin.messageBodies()[before + 1]?.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What time is it in UTC?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: { tz: 'UTC' } },
        ],
      },
      {
        // The tool result and the following user text share one user turn, tool_result first.
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"time":"12:00"}' },
          { type: 'text', text: 'And be quick.' },
        ],
      },
    ]);
  });

  it('maps stop reasons', async () => {
    standin.reply(anthropicText('cut', { stopReason: 'max_tokens' }), anthropicText('no', { stopReason: 'refusal' }));
    const ask: LlmRequest = { messages: [{ role: 'user', content: 'x' }], tools: [] };
    expect((await provider.complete(ask, signal())).finishReason).toBe('length');
    expect((await provider.complete(ask, signal())).finishReason).toBe('content_filter');
  });

  it('accepts the key as x-api-key too (stand-in check for other SDK versions)', async () => {
    const response = await fetch(`${standin.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'ping' }] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ content: [{ type: 'text', text: 'stand-in reply: ping' }] });
  });
});

describe('anthropic provider: errors', () => {
  const ask: LlmRequest = { messages: [{ role: 'user', content: 'hello' }], tools: [] };

  it('maps 429 with retry-after to llm_rate_limited, then succeeds on the next call', async () => {
    const before = standin.messageRequests().length;
    standin.reply(anthropicError(429, { headers: { 'retry-after': '3' } }), anthropicText('back again'));
    const error = await failure(provider.complete(ask, signal()));
    expect(error.code).toBe('llm_rate_limited');
    expect(error.details.retryAfterMs).toBe(3000);
    expect(error.retryable).toBe(true);
    expect(error.details.context?.['vendorErrorType']).toBe('rate_limit_error');
    expect(standin.messageRequests().length).toBe(before + 1);
    expect((await provider.complete(ask, signal())).text).toBe('back again');
  });

  it.each([
    [400, 'llm_bad_request', false],
    [404, 'llm_bad_request', false],
    [413, 'llm_bad_request', false],
    [403, 'llm_auth_failed', false],
    [500, 'llm_unavailable', true],
    [529, 'llm_unavailable', true],
  ] as const)('maps HTTP %i to %s (retryable %s)', async (status, code, retryable) => {
    standin.reply(anthropicError(status));
    const error = await failure(provider.complete(ask, signal()));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
  });

  it('maps a wrong key (401) to llm_auth_failed', async () => {
    const wrong = createAnthropicProvider({ model: 'm', apiKey: 'wrong', baseURL: standin.baseURL, timeoutMs: TIMEOUT_MS, maxOutputTokens: 64 });
    const error = await failure(wrong.complete(ask, signal()));
    expect(error.code).toBe('llm_auth_failed');
    expect(error.retryable).toBe(false);
  });

  it('maps a dropped connection to llm_unavailable', async () => {
    standin.reply(reply.drop());
    expect((await failure(provider.complete(ask, signal()))).code).toBe('llm_unavailable');
  });
});

describe('anthropic provider: deadlines and aborts', () => {
  const ask: LlmRequest = { messages: [{ role: 'user', content: 'hello' }], tools: [] };

  it('reports a server that never answers as llm_timeout within about LLM_TIMEOUT_MS', async () => {
    standin.reply(reply.hang());
    const started = performance.now();
    const error = await failure(provider.complete(ask, signal()));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('llm_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it('times out a body that never arrives after the headers', async () => {
    standin.reply(reply.hangAfterHeaders());
    const started = performance.now();
    expect((await failure(provider.complete(ask, signal()))).code).toBe('llm_timeout');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it("stops promptly when the caller's signal aborts", async () => {
    const slow = createAnthropicProvider({ model: 'm', apiKey: KEY, baseURL: standin.baseURL, timeoutMs: 30_000, maxOutputTokens: 64 });
    const count = standin.requests.length;
    standin.reply(reply.hang());
    const controller = new AbortController();
    const pending = failure(slow.complete(ask, controller.signal));
    await standin.waitForRequests(count + 1);
    const started = performance.now();
    controller.abort();
    const error = await pending;
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.code).toBe('shutting_down');
    await standin.requests[count]?.closed;
  });
});
