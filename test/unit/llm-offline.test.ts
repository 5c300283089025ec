/** The offline responder (labelled, deterministic, reflective) and the recording decorator. */
import { describe, expect, it } from 'vitest';
import { SwitchboardError, isSwitchboardError } from '../../src/core/errors.ts';
import type { LlmProvider, LlmRequest, LlmResponse } from '../../src/core/ports.ts';
import { createOfflineProvider, OFFLINE_LABEL } from '../../src/llm/offline.ts';
import { createRecordingProvider, RECORDING_LIMIT } from '../../src/llm/recording.ts';

const signal = (): AbortSignal => new AbortController().signal;

const request: LlmRequest = {
  messages: [
    { role: 'system', content: 'You are Switchboard.' },
    { role: 'user', content: 'earlier question' },
    { role: 'assistant', content: 'earlier answer' },
    { role: 'user', content: 'Email me at [EMAIL_ADDRESS]\n  second line' },
  ],
  tools: [{ name: 'get_time', description: 'time', parameters: { type: 'object' } }],
};

describe('offline provider', () => {
  const provider = createOfflineProvider();

  it('is labelled, explains how to configure a model, and reflects what it received', async () => {
    const response = await provider.complete(request, signal());
    expect(provider).toMatchObject({ name: 'offline', model: 'offline' });
    expect(response.text.startsWith(`${OFFLINE_LABEL}\n`)).toBe(true);
    for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'LLM_BASE_URL', 'LLM_MODEL', 'LLM_PROVIDER']) {
      expect(response.text).toContain(name);
    }
    // The last user message exactly as received (already redacted upstream), whitespace included.
    expect(response.text).toContain('<<<\nEmail me at [EMAIL_ADDRESS]\n  second line\n>>>');
    expect(response.text).toContain('Context received: 4 messages (1 system, 2 user, 1 assistant) and 1 tool.');
    expect(response.text).not.toContain('earlier question');
    expect(response).toMatchObject({ toolCalls: [], finishReason: 'stop', model: 'offline' });
  });

  it('is deterministic, and exact', async () => {
    const a = await provider.complete(request, signal());
    const b = await createOfflineProvider().complete(structuredClone(request) as LlmRequest, signal());
    expect(b).toEqual(a);
    expect(a.text).toMatchInlineSnapshot(`
      "[offline responder — no language model is configured]

      This reply comes from Switchboard itself, not from a language model. To connect one, set:
        - OPENAI_API_KEY for OpenAI, or
        - ANTHROPIC_API_KEY for Anthropic, or
        - LLM_BASE_URL and LLM_MODEL (plus LLM_API_KEY if the server wants one) for an OpenAI-compatible server such as Ollama, vLLM or llama.cpp.
      LLM_PROVIDER (auto, openai, anthropic, openai-compatible, offline) chooses explicitly; LLM_MODEL picks the model.

      Context received: 4 messages (1 system, 2 user, 1 assistant) and 1 tool.

      The last user message, exactly as a model would have received it:
      <<<
      Email me at [EMAIL_ADDRESS]
        second line
      >>>"
    `);
  });

  it('says so when there is no user message', async () => {
    const response = await provider.complete({ messages: [], tools: [] }, signal());
    expect(response.text).toContain('Context received: 0 messages and 0 tools.');
    expect(response.text).toContain('There was no user message in the request.');
  });

  it('refuses an already-aborted signal like the real providers', async () => {
    const error: unknown = await provider.complete(request, AbortSignal.abort()).catch((e: unknown) => e);
    expect(isSwitchboardError(error, 'shutting_down')).toBe(true);
  });
});

describe('recording provider', () => {
  it('records requests, responses and error codes, passing both through unchanged', async () => {
    const recorder = createRecordingProvider(createOfflineProvider());
    expect(recorder).toMatchObject({ name: 'offline', model: 'offline' });
    const response = await recorder.complete(request, signal());
    await recorder.complete(request, AbortSignal.abort()).catch(() => undefined);
    expect(recorder.calls).toHaveLength(2);
    expect(recorder.calls[0]).toEqual({ request, response });
    expect(recorder.calls[1]).toEqual({ request, errorCode: 'shutting_down' });
  });

  it('keeps a copy of the request, and only the last RECORDING_LIMIT calls', async () => {
    let n = 0;
    const counting: LlmProvider = {
      name: 'counting',
      model: 'c',
      complete: (): Promise<LlmResponse> =>
        Promise.resolve({ text: String(++n), toolCalls: [], finishReason: 'stop', model: 'c' }),
    };
    const recorder = createRecordingProvider(counting);
    const messages = [{ role: 'user' as const, content: 'original' }];
    await recorder.complete({ messages, tools: [] }, signal());
    messages[0] = { role: 'user', content: 'rewritten' };
    expect(recorder.calls[0]?.request.messages[0]?.content).toBe('original');
    for (let i = 0; i < RECORDING_LIMIT + 20; i++) await recorder.complete({ messages, tools: [] }, signal());
    expect(recorder.calls).toHaveLength(RECORDING_LIMIT);
    expect(recorder.calls.at(-1)?.response?.text).toBe(String(RECORDING_LIMIT + 21));
    expect(recorder.calls[0]?.response?.text).toBe('22');
  });

  it('records a call while it is still running, and non-Switchboard errors as internal', async () => {
    let fail: (e: unknown) => void = () => {};
    const pending: LlmProvider = {
      name: 'p',
      model: 'p',
      complete: () => new Promise<LlmResponse>((_, reject) => (fail = reject)),
    };
    const recorder = createRecordingProvider(pending);
    const call = recorder.complete({ messages: [], tools: [] }, signal()).catch((e: unknown) => e);
    expect(recorder.calls).toEqual([{ request: { messages: [], tools: [] } }]);
    fail(new Error('boom'));
    await call;
    expect(recorder.calls[0]?.errorCode).toBe('internal');
    const sbFail = createRecordingProvider({ ...pending, complete: () => Promise.reject(new SwitchboardError('llm_timeout', 't')) });
    await sbFail.complete({ messages: [], tools: [] }, signal()).catch(() => undefined);
    expect(sbFail.calls[0]?.errorCode).toBe('llm_timeout');
  });
});
