/**
 * The OpenAI provider, driven through the real `openai` SDK against a local stand-in:
 * request/response mapping, a tool-call round trip, error mapping, timeouts and aborts.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSwitchboardError, SwitchboardError } from '../../src/core/errors.ts';
import type { LlmMessage, LlmProvider, LlmRequest } from '../../src/core/ports.ts';
import { createManualClock } from '../../src/core/clock.ts';
import { createOpenAiProvider } from '../../src/llm/openai.ts';
import { withLlmDeadline } from '../../src/llm/timeout.ts';
import { reply } from '../standins/http-standin.ts';
import {
  openAiError,
  openAiStream,
  openAiText,
  openAiToolCalls,
  startOpenAiStandin,
  type OpenAiStandin,
} from '../standins/llm-openai.ts';

const KEY = 'sk-test-standin';
const TIMEOUT_MS = 400;

let standin: OpenAiStandin;
let provider: LlmProvider;

beforeAll(async () => {
  standin = await startOpenAiStandin({ apiKey: KEY });
  provider = createOpenAiProvider({ model: 'gpt-4o-mini', apiKey: KEY, baseURL: standin.baseURL, timeoutMs: TIMEOUT_MS, maxOutputTokens: 256 });
});
afterAll(async () => {
  await standin.close();
});

const signal = (): AbortSignal => new AbortController().signal;

const weatherTool = {
  name: 'get_time',
  description: 'Current time in a time zone',
  parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
};

/** Runs `p`, expecting a SwitchboardError; returns it. */
async function failure(p: Promise<unknown>): Promise<SwitchboardError> {
  const error: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSwitchboardError(error)) throw new Error(`expected a SwitchboardError, got ${String(error)}`);
  return error;
}

describe('openai provider: replies', () => {
  let before = 0;
  beforeEach(() => {
    before = standin.chatRequests().length;
  });

  it('sends a non-streamed chat completion and maps the text reply', async () => {
    standin.reply(openAiText('Hello there', { model: 'gpt-4o-mini-2024', usage: { prompt_tokens: 20, completion_tokens: 3 } }));
    const request: LlmRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi, my email is [EMAIL_ADDRESS]' },
      ],
      tools: [],
    };
    const response = await provider.complete(request, signal());
    expect(response).toEqual({
      text: 'Hello there',
      toolCalls: [],
      finishReason: 'stop',
      model: 'gpt-4o-mini-2024',
      usage: { inputTokens: 20, outputTokens: 3 },
    });
    const sent = standin.chatRequests()[before];
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi, my email is [EMAIL_ADDRESS]' },
      ],
      max_completion_tokens: 256,
    });
  });

  it('uses the per-request output limit when one is given', async () => {
    await provider.complete({ messages: [{ role: 'user', content: 'x' }], tools: [], maxOutputTokens: 32 }, signal());
    expect(standin.chatBodies()[before]?.max_completion_tokens).toBe(32);
  });

  it('does a tool-call round trip: tool_calls out, the tool result back in OpenAI format, then text', async () => {
    standin.reply(
      openAiToolCalls([{ id: 'call_abc', name: 'get_time', arguments: { tz: 'UTC' } }]),
      openAiText('It is noon in UTC.'),
    );
    const history: LlmMessage[] = [{ role: 'user', content: 'What time is it in UTC?' }];
    const first = await provider.complete({ messages: history, tools: [weatherTool] }, signal());
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: 'call_abc', name: 'get_time', arguments: { tz: 'UTC' } }]);
    expect(standin.chatBodies()[before]?.tools).toEqual([
      { type: 'function', function: { name: 'get_time', description: 'Current time in a time zone', parameters: weatherTool.parameters } },
    ]);

    history.push(
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: 'call_abc', name: 'get_time', content: '{"time":"12:00"}' },
    );
    const second = await provider.complete({ messages: history, tools: [weatherTool] }, signal());
    expect(second).toMatchObject({ text: 'It is noon in UTC.', toolCalls: [], finishReason: 'stop' });

    const secondBody = standin.chatBodies()[before + 1];
    expect(secondBody?.messages).toEqual([
      { role: 'user', content: 'What time is it in UTC?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"time":"12:00"}' },
    ]);
  });

  it('turns invalid tool-call JSON into { __invalid_json } instead of failing the call', async () => {
    standin.reply(openAiToolCalls([{ id: 'call_bad', name: 'get_time', arguments: '{"tz": "UTC"' }]));
    const response = await provider.complete({ messages: [{ role: 'user', content: 'time?' }], tools: [weatherTool] }, signal());
    expect(response.toolCalls).toEqual([{ id: 'call_bad', name: 'get_time', arguments: { __invalid_json: '{"tz": "UTC"' } }]);
  });

  it('truncates long invalid arguments and rejects absurdly deep ones', async () => {
    const long = `{${'x'.repeat(5000)}`;
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    standin.reply(
      openAiToolCalls([
        { id: 'c1', name: 'get_time', arguments: long },
        { id: 'c2', name: 'get_time', arguments: deep },
        { id: 'c3', name: 'get_time', arguments: '' },
      ]),
    );
    const response = await provider.complete({ messages: [{ role: 'user', content: 'time?' }], tools: [weatherTool] }, signal());
    const [a, b, c] = response.toolCalls;
    expect((a?.arguments as { __invalid_json: string }).__invalid_json).toHaveLength(1001);
    expect(b?.arguments).toEqual({ __invalid_json: deep });
    expect(c?.arguments).toEqual({});
  });

  it('serves streamed completions to the real SDK (stand-in SSE support, for other tests)', async () => {
    standin.reply(openAiStream(['Hel', 'lo']));
    const client = new OpenAI({ apiKey: KEY, baseURL: standin.baseURL, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello');
  });
});

describe('openai provider: errors', () => {
  const ask: LlmRequest = { messages: [{ role: 'user', content: 'hello' }], tools: [] };

  it('maps 429 with retry-after to llm_rate_limited, then succeeds on the next call', async () => {
    const before = standin.chatRequests().length;
    standin.reply(openAiError(429, { headers: { 'retry-after': '7' } }), openAiText('back again'));
    const error = await failure(provider.complete(ask, signal()));
    expect(error.code).toBe('llm_rate_limited');
    expect(error.details.retryAfterMs).toBe(7000);
    expect(error.retryable).toBe(true);
    // maxRetries 0: the SDK made exactly one attempt; BullMQ owns retries.
    expect(standin.chatRequests().length).toBe(before + 1);
    const next = await provider.complete(ask, signal());
    expect(next.text).toBe('back again');
  });

  it('prefers retry-after-ms when present', async () => {
    standin.reply(openAiError(429, { headers: { 'retry-after-ms': '1500', 'retry-after': '9' } }));
    const error = await failure(provider.complete(ask, signal()));
    expect(error.details.retryAfterMs).toBe(1500);
  });

  it('reads retry-after given as an HTTP date against the injected clock', async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const dated = createOpenAiProvider({ model: 'm', apiKey: KEY, baseURL: standin.baseURL, timeoutMs: TIMEOUT_MS, maxOutputTokens: 64, clock });
    standin.reply(openAiError(429, { headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' } }));
    expect((await failure(dated.complete(ask, signal()))).details.retryAfterMs).toBe(30_000);
  });

  it.each([
    [400, 'llm_bad_request', false],
    [422, 'llm_bad_request', false],
    [403, 'llm_auth_failed', false],
    [500, 'llm_unavailable', true],
    [503, 'llm_unavailable', true],
  ] as const)('maps HTTP %i to %s (retryable %s)', async (status, code, retryable) => {
    standin.reply(openAiError(status));
    const error = await failure(provider.complete(ask, signal()));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.details.context?.['status']).toBe(status);
    // Messages never carry the vendor's body text.
    expect(error.message).not.toContain('stand-in error');
  });

  it('maps a wrong key (401) to llm_auth_failed, not retryable', async () => {
    const wrong = createOpenAiProvider({ model: 'm', apiKey: 'sk-wrong', baseURL: standin.baseURL, timeoutMs: TIMEOUT_MS, maxOutputTokens: 64 });
    const error = await failure(wrong.complete(ask, signal()));
    expect(error.code).toBe('llm_auth_failed');
    expect(error.retryable).toBe(false);
  });

  it('maps a dropped connection and a closed port to llm_unavailable', async () => {
    standin.reply(reply.drop());
    expect((await failure(provider.complete(ask, signal()))).code).toBe('llm_unavailable');
    const nowhere = createOpenAiProvider({ model: 'm', apiKey: KEY, baseURL: 'http://127.0.0.1:1/v1', timeoutMs: TIMEOUT_MS, maxOutputTokens: 64 });
    const error = await failure(nowhere.complete(ask, signal()));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('maps an empty choices array to llm_unavailable', async () => {
    standin.reply(reply.json({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] }));
    expect((await failure(provider.complete(ask, signal()))).code).toBe('llm_unavailable');
  });
});

describe('openai provider: deadlines and aborts', () => {
  const ask: LlmRequest = { messages: [{ role: 'user', content: 'hello' }], tools: [] };

  it('reports a server that never answers as llm_timeout within about LLM_TIMEOUT_MS', async () => {
    standin.reply(reply.hang());
    const started = performance.now();
    const error = await failure(provider.complete(ask, signal()));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('llm_timeout');
    expect(error.retryable).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it('also times out a server that sends headers and then stalls the body', async () => {
    standin.reply(reply.hangAfterHeaders());
    const started = performance.now();
    const error = await failure(provider.complete(ask, signal()));
    expect(error.code).toBe('llm_timeout');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it("stops promptly when the caller's signal aborts, and closes the connection", async () => {
    const slow = createOpenAiProvider({ model: 'm', apiKey: KEY, baseURL: standin.baseURL, timeoutMs: 30_000, maxOutputTokens: 64 });
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
    // The stand-in sees the client go away: the request really stopped, not just our promise.
    await standin.requests[count]?.closed;
  });

  it('passes a SwitchboardError abort reason through, so the caller chooses the code', async () => {
    const count = standin.requests.length;
    standin.reply(reply.hang());
    const controller = new AbortController();
    const pending = failure(provider.complete(ask, controller.signal));
    await standin.waitForRequests(count + 1);
    controller.abort(new SwitchboardError('tool_failed', 'job cancelled'));
    expect((await pending).code).toBe('tool_failed');
  });

  it('cannot be held up by work that ignores the signal', async () => {
    const started = performance.now();
    const error = await failure(
      withLlmDeadline(signal(), { vendor: 'test', timeoutMs: 100, now: Date.now }, () => new Promise<never>(() => {})),
    );
    expect(error.code).toBe('llm_timeout');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects at once, without a request, when the signal is already aborted', async () => {
    const count = standin.requests.length;
    const error = await failure(provider.complete(ask, AbortSignal.abort()));
    expect(error.code).toBe('shutting_down');
    expect(standin.requests.length).toBe(count);
  });
});
