/**
 * The provider used when no language model is configured. It never pretends to be a model: every
 * reply opens with OFFLINE_LABEL, says how to configure a real one, and reflects back what it got
 * (the last user message exactly as a model would have received it, i.e. after redaction, and
 * the size of the context), so a demo shows the whole pipeline working. Deterministic, no tools.
 */
import type { LlmMessage, LlmProvider, LlmRequest, LlmResponse } from '../core/ports.ts';
import { callerAbortError } from './timeout.ts';

/** The first line of every offline reply. */
export const OFFLINE_LABEL = '[offline responder — no language model is configured]';

/** The model name the offline provider reports. */
export const OFFLINE_MODEL = 'offline';

const HOW_TO_CONFIGURE = [
  'This reply comes from Switchboard itself, not from a language model. To connect one, set:',
  '  - OPENAI_API_KEY for OpenAI, or',
  '  - ANTHROPIC_API_KEY for Anthropic, or',
  '  - LLM_BASE_URL and LLM_MODEL (plus LLM_API_KEY if the server wants one) for an OpenAI-compatible server such as Ollama, vLLM or llama.cpp.',
  'LLM_PROVIDER (auto, openai, anthropic, openai-compatible, offline) chooses explicitly; LLM_MODEL picks the model.',
].join('\n');

function describeContext(request: LlmRequest): string {
  const counts = new Map<LlmMessage['role'], number>();
  for (const message of request.messages) counts.set(message.role, (counts.get(message.role) ?? 0) + 1);
  const parts = (['system', 'user', 'assistant', 'tool'] as const)
    .filter((role) => (counts.get(role) ?? 0) > 0)
    .map((role) => `${counts.get(role) ?? 0} ${role}`);
  const n = request.messages.length;
  const t = request.tools.length;
  return `Context received: ${n} message${n === 1 ? '' : 's'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''} and ${t} tool${t === 1 ? '' : 's'}.`;
}

/** Builds the offline reply text for a request; pure, so tests can compare exact output. */
export function offlineReplyText(request: LlmRequest): string {
  const lastUser = request.messages.findLast((m) => m.role === 'user');
  const echo =
    lastUser === undefined
      ? 'There was no user message in the request.'
      : `The last user message, exactly as a model would have received it:\n<<<\n${lastUser.content}\n>>>`;
  return [OFFLINE_LABEL, HOW_TO_CONFIGURE, describeContext(request), echo].join('\n\n');
}

/** The offline provider: labelled, deterministic, never calls tools. */
export function createOfflineProvider(): LlmProvider {
  return {
    name: 'offline',
    model: OFFLINE_MODEL,
    complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse> {
      if (signal.aborted) return Promise.reject(callerAbortError(signal, 'offline'));
      return Promise.resolve({ text: offlineReplyText(request), toolCalls: [], finishReason: 'stop', model: OFFLINE_MODEL });
    },
  };
}
