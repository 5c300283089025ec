/** The LLM layer's public surface: the factory, the providers, and the helpers other layers use. */
export { createLlmProvider, resolveLlmChoice, DEFAULT_MODELS } from './create-provider.ts';
export type { CreateLlmProviderDeps, LlmChoice, LlmProviderKind } from './create-provider.ts';
export { createOpenAiProvider, createChatCompletionsProvider, OPENAI_DEFAULT_BASE_URL } from './openai.ts';
export type { ChatCompletionsProviderOptions, OpenAiProviderOptions } from './openai.ts';
export { createOpenAiCompatibleProvider } from './openai-compatible.ts';
export type { OpenAiCompatibleProviderOptions } from './openai-compatible.ts';
export { createAnthropicProvider, ANTHROPIC_DEFAULT_BASE_URL } from './anthropic.ts';
export type { AnthropicProviderOptions } from './anthropic.ts';
export { createOfflineProvider, offlineReplyText, OFFLINE_LABEL, OFFLINE_MODEL } from './offline.ts';
export { createRecordingProvider, RECORDING_LIMIT } from './recording.ts';
export type { RecordedLlmCall, RecordingProvider } from './recording.ts';
export { parseRetryAfterMs, codeForStatus, toLlmError } from './errors.ts';
export { withLlmDeadline, callerAbortError } from './timeout.ts';
export { parseToolArguments, INVALID_JSON_KEEP_CHARS, MAX_ARGUMENT_DEPTH } from './tool-arguments.ts';
export type { InvalidToolArguments } from './tool-arguments.ts';
