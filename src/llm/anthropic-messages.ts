/**
 * Pure translation between Switchboard's vendor-neutral LLM types and Anthropic's Messages API:
 * system prompt as a separate field, tool_use / tool_result blocks, and consecutive same-role
 * turns merged (the API requires user and assistant turns to alternate).
 */
import type {
  ContentBlockParam,
  Message,
  MessageParam,
  StopReason,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import type { LlmMessage, LlmResponse, LlmToolCall, LlmToolSpec } from '../core/ports.ts';
import { boundToolArguments } from './tool-arguments.ts';

/** The parts of a Messages request that come from the conversation. */
export interface AnthropicPrompt {
  /** All system messages, joined by blank lines; absent when there were none. */
  readonly system?: string;
  readonly messages: MessageParam[];
}

function blocksFor(message: Exclude<LlmMessage, { role: 'system' }>): ContentBlockParam[] {
  // The API rejects empty or whitespace-only text blocks, so such text is left out.
  const text = (content: string): ContentBlockParam[] =>
    content.trim() === '' ? [] : [{ type: 'text', text: content }];
  switch (message.role) {
    case 'user':
      return text(message.content);
    case 'assistant':
      return [
        ...text(message.content),
        ...(message.toolCalls ?? []).map(
          (call): ContentBlockParam => ({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments ?? {} }),
        ),
      ];
    case 'tool':
      return [
        {
          type: 'tool_result',
          tool_use_id: message.toolCallId,
          ...(message.content === '' ? {} : { content: message.content }),
        },
      ];
  }
}

/** Tool results must open a user turn; any text the turn also carries follows them. */
function toolResultsFirst(blocks: ContentBlockParam[]): ContentBlockParam[] {
  return [...blocks.filter((b) => b.type === 'tool_result'), ...blocks.filter((b) => b.type !== 'tool_result')];
}

/** Converts our messages to a Messages API prompt (see the file comment for the rules applied). */
export function toAnthropicPrompt(messages: readonly LlmMessage[]): AnthropicPrompt {
  const system: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; blocks: ContentBlockParam[] }> = [];
  for (const message of messages) {
    if (message.role === 'system') {
      system.push(message.content);
      continue;
    }
    const blocks = blocksFor(message);
    if (blocks.length === 0) continue;
    // Tool results travel in user turns on this API.
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  }
  return {
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    messages: turns.map((turn) => ({
      role: turn.role,
      content: turn.role === 'user' ? toolResultsFirst(turn.blocks) : turn.blocks,
    })),
  };
}

/** Converts our tool specs to Messages API tools (the JSON Schema goes in `input_schema`). */
export function toAnthropicTools(tools: readonly LlmToolSpec[]): Tool[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    // The API requires an object schema; our tool specs are object schemas by construction.
    input_schema: { type: 'object', ...tool.parameters },
  }));
}

function mapStopReason(reason: StopReason | null): LlmResponse['finishReason'] {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** Reads a Messages API answer into our response: text blocks joined, tool_use blocks as calls. */
export function fromAnthropicMessage(message: Message, fallbackModel: string): LlmResponse {
  const texts: string[] = [];
  const toolCalls: LlmToolCall[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, name: block.name, arguments: boundToolArguments(block.input ?? {}) });
    }
  }
  const usage = message.usage as Message['usage'] | undefined;
  return {
    text: texts.join(''),
    toolCalls,
    finishReason: toolCalls.length > 0 ? 'tool_calls' : mapStopReason(message.stop_reason),
    model: typeof message.model === 'string' && message.model !== '' ? message.model : fallbackModel,
    ...(usage ? { usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens } } : {}),
  };
}
