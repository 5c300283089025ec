/** Choosing and building the LLM provider from configuration. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { isSwitchboardError, type SwitchboardError } from '../../src/core/errors.ts';
import { createLlmProvider, DEFAULT_MODELS, resolveLlmChoice } from '../../src/llm/create-provider.ts';
import { OFFLINE_LABEL } from '../../src/llm/offline.ts';
import { anthropicText, startAnthropicStandin, type AnthropicStandin } from '../standins/llm-anthropic.ts';
import { openAiError, startOpenAiStandin, type OpenAiStandin } from '../standins/llm-openai.ts';

const config = (env: Record<string, string>) => loadConfig({ env });

function configError(run: () => unknown): SwitchboardError {
  try {
    run();
  } catch (error) {
    if (isSwitchboardError(error, 'config_invalid')) return error;
    throw error;
  }
  throw new Error('expected config_invalid');
}

describe('resolveLlmChoice: auto', () => {
  it('falls back to offline when nothing is configured', () => {
    expect(resolveLlmChoice(config({}))).toEqual({ kind: 'offline', model: 'offline', hasApiKey: false });
  });

  it('prefers openai, then anthropic, then openai-compatible', () => {
    const all = { OPENAI_API_KEY: 'sk-o', ANTHROPIC_API_KEY: 'sk-a', LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'llama3.2' };
    expect(resolveLlmChoice(config(all)).kind).toBe('openai');
    const { OPENAI_API_KEY: _o, ...noOpenAi } = all;
    expect(resolveLlmChoice(config(noOpenAi)).kind).toBe('anthropic');
    const { ANTHROPIC_API_KEY: _a, ...compatibleOnly } = noOpenAi;
    expect(resolveLlmChoice(config(compatibleOnly))).toEqual({
      kind: 'openai-compatible',
      model: 'llama3.2',
      baseURL: 'http://127.0.0.1:11434/v1',
      hasApiKey: false,
    });
  });

  it('uses default models unless LLM_MODEL says otherwise', () => {
    expect(resolveLlmChoice(config({ OPENAI_API_KEY: 'k' })).model).toBe(DEFAULT_MODELS.openai);
    expect(resolveLlmChoice(config({ ANTHROPIC_API_KEY: 'k' })).model).toBe(DEFAULT_MODELS.anthropic);
    expect(resolveLlmChoice(config({ ANTHROPIC_API_KEY: 'k', LLM_MODEL: 'claude-opus-4-8' })).model).toBe('claude-opus-4-8');
  });

  it('ignores a lone LLM_API_KEY (no URL to send it to) and stays offline', () => {
    expect(resolveLlmChoice(config({ LLM_API_KEY: 'k' })).kind).toBe('offline');
  });

  it('requires LLM_MODEL for an OpenAI-compatible server', () => {
    const error = configError(() => resolveLlmChoice(config({ LLM_BASE_URL: 'http://127.0.0.1:8000/v1' })));
    expect(error.details.issues).toEqual([{ path: 'LLM_MODEL', message: expect.stringContaining('LLM_MODEL') }]);
  });
});

describe('resolveLlmChoice: explicit', () => {
  it('reports a missing key or URL as config_invalid instead of falling back to offline', () => {
    expect(configError(() => resolveLlmChoice(config({ LLM_PROVIDER: 'openai' }))).details.issues?.[0]?.path).toBe('OPENAI_API_KEY');
    expect(configError(() => resolveLlmChoice(config({ LLM_PROVIDER: 'anthropic', OPENAI_API_KEY: 'k' }))).details.issues?.[0]?.path).toBe(
      'ANTHROPIC_API_KEY',
    );
    const error = configError(() => createLlmProvider(config({ LLM_PROVIDER: 'openai-compatible', LLM_MODEL: 'm' })));
    expect(error.details.issues?.[0]?.path).toBe('LLM_BASE_URL');
    expect(error.message).toContain('LLM_PROVIDER=openai-compatible');
  });

  it('accepts LLM_API_KEY as the key of an explicitly chosen vendor', () => {
    expect(resolveLlmChoice(config({ LLM_PROVIDER: 'anthropic', LLM_API_KEY: 'k' }))).toMatchObject({ kind: 'anthropic', hasApiKey: true });
  });

  it('sends a vendor key only to that vendor’s own base URL, never to LLM_BASE_URL', () => {
    const choice = resolveLlmChoice(config({ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k', LLM_BASE_URL: 'http://127.0.0.1:9/v1' }));
    expect(choice.baseURL).toBe('https://api.openai.com/v1');
    expect(resolveLlmChoice(config({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' })).baseURL).toBe('http://127.0.0.1:9/v1');
  });

  it('honours LLM_PROVIDER=offline even when keys are present', () => {
    expect(resolveLlmChoice(config({ LLM_PROVIDER: 'offline', OPENAI_API_KEY: 'k' })).kind).toBe('offline');
  });
});

describe('createLlmProvider: wiring', () => {
  let openai: OpenAiStandin;
  let anthropic: AnthropicStandin;
  const saved = { org: process.env['OPENAI_ORG_ID'], project: process.env['OPENAI_PROJECT_ID'] };

  beforeAll(async () => {
    openai = await startOpenAiStandin({ apiKey: 'sk-o' });
    anthropic = await startAnthropicStandin({ apiKey: 'sk-a' });
    // Stray SDK environment variables must not leak into requests: config is the only source.
    process.env['OPENAI_ORG_ID'] = 'org-leak';
    process.env['OPENAI_PROJECT_ID'] = 'proj-leak';
  });
  afterAll(async () => {
    for (const [name, value] of [['OPENAI_ORG_ID', saved.org], ['OPENAI_PROJECT_ID', saved.project]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await openai.close();
    await anthropic.close();
  });

  const ask = { messages: [{ role: 'user' as const, content: 'hi' }], tools: [] };

  it('builds the offline provider by default', async () => {
    const provider = createLlmProvider(config({}));
    expect(provider.name).toBe('offline');
    expect((await provider.complete(ask, new AbortController().signal)).text.startsWith(OFFLINE_LABEL)).toBe(true);
  });

  it('builds openai from config: base URL, key, output limit, no retries, no env leakage', async () => {
    const provider = createLlmProvider(
      config({ OPENAI_API_KEY: 'sk-o', OPENAI_BASE_URL: openai.baseURL, LLM_MAX_OUTPUT_TOKENS: '77', LLM_TIMEOUT_MS: '5000' }),
    );
    expect(provider).toMatchObject({ name: 'openai', model: 'gpt-4o-mini' });
    await provider.complete(ask, new AbortController().signal);
    const sent = openai.chatRequests().at(-1);
    expect(sent?.headers['openai-organization']).toBeUndefined();
    expect(sent?.headers['openai-project']).toBeUndefined();
    expect((sent?.body as { max_completion_tokens?: number }).max_completion_tokens).toBe(77);
    const before = openai.chatRequests().length;
    openai.reply(openAiError(500));
    const error: unknown = await provider.complete(ask, new AbortController().signal).catch((e: unknown) => e);
    expect(isSwitchboardError(error, 'llm_unavailable')).toBe(true);
    expect(openai.chatRequests().length).toBe(before + 1);
  });

  it('applies LLM_TIMEOUT_MS', async () => {
    const provider = createLlmProvider(config({ OPENAI_API_KEY: 'sk-o', OPENAI_BASE_URL: openai.baseURL, LLM_TIMEOUT_MS: '150' }));
    openai.reply({ kind: 'hang', afterHeaders: false });
    const started = performance.now();
    const error: unknown = await provider.complete(ask, new AbortController().signal).catch((e: unknown) => e);
    expect(isSwitchboardError(error, 'llm_timeout')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('builds anthropic from config', async () => {
    const provider = createLlmProvider(config({ ANTHROPIC_API_KEY: 'sk-a', ANTHROPIC_BASE_URL: anthropic.baseURL, LLM_MAX_OUTPUT_TOKENS: '99' }));
    expect(provider).toMatchObject({ name: 'anthropic', model: DEFAULT_MODELS.anthropic });
    anthropic.reply(anthropicText('hello from the stand-in'));
    expect((await provider.complete(ask, new AbortController().signal)).text).toBe('hello from the stand-in');
    expect(anthropic.messageBodies().at(-1)?.max_tokens).toBe(99);
  });

  it('builds openai-compatible from LLM_BASE_URL and LLM_MODEL, keyless', async () => {
    const provider = createLlmProvider(config({ LLM_BASE_URL: openai.baseURL, LLM_MODEL: 'qwen2.5' }));
    expect(provider).toMatchObject({ name: 'openai-compatible', model: 'qwen2.5' });
    // The stand-in demands sk-o, so a keyless request is refused: proof no key was sent.
    const error: unknown = await provider.complete(ask, new AbortController().signal).catch((e: unknown) => e);
    expect(isSwitchboardError(error, 'llm_auth_failed')).toBe(true);
    expect(openai.chatRequests().at(-1)?.headers.authorization).toBeUndefined();
  });
});
