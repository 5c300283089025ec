/**
 * Pure translation between Switchboard's vendor-neutral LLM types and OpenAI Chat Completions
 * (also spoken by Ollama, vLLM and llama.cpp). No I/O here, so it is easy to test and reuse.
 */
import type {
  ChatCompletion,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { LlmMessage, LlmResponse, LlmToolCall, LlmToolSpec } from '../core/ports.ts';
import { boundToolArguments, parseToolArguments } from './tool-arguments.ts';

/** Converts our messages to Chat Completions messages, assistant tool_calls and tool results included. */
export function toOpenAiMessages(messages: readonly LlmMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant': {
        const toolCalls = message.toolCalls ?? [];
        if (toolCalls.length === 0) return { role: 'assistant', content: message.content };
        return {
          role: 'assistant',
          // OpenAI expects null rather than "" when the turn was only tool calls.
          content: message.content === '' ? null : message.content,
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: JSON.stringify(call.arguments ?? {}) },
          })),
        };
      }
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    }
  });
}

/** Converts our tool specs to Chat Completions function tools. */
export function toOpenAiTools(tools: readonly LlmToolSpec[]): ChatCompletionFunctionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } },
  }));
}

/** Arguments are a JSON string per the spec; a few compatible servers send the object itself. */
function argumentsFrom(raw: unknown): unknown {
  return typeof raw === 'string' ? parseToolArguments(raw) : boundToolArguments(raw ?? {});
}

function mapFinishReason(reason: string | null | undefined, hasToolCalls: boolean): LlmResponse['finishReason'] {
  // Some OpenAI-compatible servers answer tool calls with finish_reason "stop"; the calls win.
  if (hasToolCalls) return 'tool_calls';
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

/** Reads the first choice of a completion into our response; `undefined` when there is none. */
export function fromOpenAiCompletion(completion: ChatCompletion, fallbackModel: string): LlmResponse | undefined {
  const choice = completion.choices[0];
  if (choice === undefined) return undefined;
  const toolCalls: LlmToolCall[] = (choice.message.tool_calls ?? []).map((call, index) => {
    // Some compatible servers omit ids; the follow-up tool message still needs one to refer to.
    const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${index}`;
    // Custom (free-text) tools are never offered by us; a server inventing one gets its raw input.
    if (call.type === 'custom') return { id, name: call.custom.name, arguments: argumentsFrom(call.custom.input) };
    return { id, name: call.function.name, arguments: argumentsFrom(call.function.arguments) };
  });
  const usage = completion.usage;
  return {
    text: choice.message.content ?? '',
    toolCalls,
    finishReason: mapFinishReason(choice.finish_reason, toolCalls.length > 0),
    model: typeof completion.model === 'string' && completion.model !== '' ? completion.model : fallbackModel,
    ...(usage ? { usage: { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens } } : {}),
  };
}
