/**
 * Chooses and builds the LLM provider from configuration. LLM_PROVIDER=auto picks, in order:
 * openai (OPENAI_API_KEY set), anthropic (ANTHROPIC_API_KEY set), openai-compatible (LLM_BASE_URL
 * set), else offline. A provider chosen explicitly without what it needs is a config_invalid error,
 * never a silent fall-back to offline.
 */
import type { Config } from '../../config/load.ts';
import type { Clock } from '../core/clock.ts';
import { SwitchboardError } from '../core/errors.ts';
import type { LlmProvider } from '../core/ports.ts';
import { ANTHROPIC_DEFAULT_BASE_URL, createAnthropicProvider } from './anthropic.ts';
import { createOfflineProvider, OFFLINE_MODEL } from './offline.ts';
import { createOpenAiCompatibleProvider } from './openai-compatible.ts';
import { createOpenAiProvider, OPENAI_DEFAULT_BASE_URL } from './openai.ts';

/** The provider kinds createLlmProvider can build. */
export type LlmProviderKind = 'offline' | 'openai' | 'anthropic' | 'openai-compatible';

/**
 * Default model per vendor when LLM_MODEL is unset (openai-compatible has none: LLM_MODEL is required).
 * Not claude-sonnet-4-5: SDK 1.12 lists it as deprecated and console.warns on every call.
 */
export const DEFAULT_MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-sonnet-4-6' } as const;

/** What configuration resolves to; secret-free, so `switchboard doctor` and logs may print it. */
export interface LlmChoice {
  readonly kind: LlmProviderKind;
  readonly model: string;
  /** Absent for offline. */
  readonly baseURL?: string;
  readonly hasApiKey: boolean;
}

function missing(kind: LlmProviderKind, path: string, message: string): SwitchboardError {
  return new SwitchboardError('config_invalid', `LLM_PROVIDER=${kind}: ${message}`, {
    issues: [{ path, message }],
  });
}

function pickKind(config: Config): LlmProviderKind {
  if (config.LLM_PROVIDER !== 'auto') return config.LLM_PROVIDER;
  if (config.OPENAI_API_KEY !== undefined) return 'openai';
  if (config.ANTHROPIC_API_KEY !== undefined) return 'anthropic';
  if (config.LLM_BASE_URL !== undefined) return 'openai-compatible';
  return 'offline';
}

/**
 * Keys: the vendor's own variable first, LLM_API_KEY as the fall-back. Base URLs: vendors read
 * only their own *_BASE_URL, so a vendor key is never sent to a URL meant for a local server.
 */
function apiKeyFor(kind: LlmProviderKind, config: Config): string | undefined {
  if (kind === 'openai') return config.OPENAI_API_KEY ?? config.LLM_API_KEY;
  if (kind === 'anthropic') return config.ANTHROPIC_API_KEY ?? config.LLM_API_KEY;
  if (kind === 'openai-compatible') return config.LLM_API_KEY;
  return undefined;
}

/** Resolves configuration to a provider choice; throws config_invalid when something required is missing. */
export function resolveLlmChoice(config: Config): LlmChoice {
  const kind = pickKind(config);
  const hasApiKey = apiKeyFor(kind, config) !== undefined;
  switch (kind) {
    case 'offline':
      return { kind, model: OFFLINE_MODEL, hasApiKey: false };
    case 'openai':
      if (!hasApiKey) throw missing(kind, 'OPENAI_API_KEY', 'set OPENAI_API_KEY (or LLM_API_KEY)');
      return {
        kind,
        model: config.LLM_MODEL ?? DEFAULT_MODELS.openai,
        baseURL: config.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL,
        hasApiKey,
      };
    case 'anthropic':
      if (!hasApiKey) throw missing(kind, 'ANTHROPIC_API_KEY', 'set ANTHROPIC_API_KEY (or LLM_API_KEY)');
      return {
        kind,
        model: config.LLM_MODEL ?? DEFAULT_MODELS.anthropic,
        baseURL: config.ANTHROPIC_BASE_URL ?? ANTHROPIC_DEFAULT_BASE_URL,
        hasApiKey,
      };
    case 'openai-compatible':
      if (config.LLM_BASE_URL === undefined) {
        throw missing(kind, 'LLM_BASE_URL', 'set LLM_BASE_URL to the server, e.g. http://127.0.0.1:11434/v1');
      }
      if (config.LLM_MODEL === undefined) {
        throw missing(kind, 'LLM_MODEL', 'set LLM_MODEL to a model the server has, e.g. llama3.2');
      }
      return { kind, model: config.LLM_MODEL, baseURL: config.LLM_BASE_URL, hasApiKey };
  }
}

/** Optional collaborators; the clock dates `retry-after` HTTP dates. */
export interface CreateLlmProviderDeps {
  readonly clock?: Clock;
}

/** Builds the configured provider (SDK clients with maxRetries 0 and timeout LLM_TIMEOUT_MS). */
export function createLlmProvider(config: Config, deps: CreateLlmProviderDeps = {}): LlmProvider {
  const choice = resolveLlmChoice(config);
  const apiKey = apiKeyFor(choice.kind, config);
  const common = {
    model: choice.model,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
  switch (choice.kind) {
    case 'offline':
      return createOfflineProvider();
    case 'openai':
      return createOpenAiProvider({ ...common, apiKey: apiKey ?? '', ...(choice.baseURL ? { baseURL: choice.baseURL } : {}) });
    case 'anthropic':
      return createAnthropicProvider({ ...common, apiKey: apiKey ?? '', ...(choice.baseURL ? { baseURL: choice.baseURL } : {}) });
    case 'openai-compatible':
      return createOpenAiCompatibleProvider({
        ...common,
        baseURL: choice.baseURL ?? '',
        ...(apiKey === undefined ? {} : { apiKey }),
      });
  }
}
