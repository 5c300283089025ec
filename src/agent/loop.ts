/**
 * The agent loop: ask the model, run the tools it asks for, feed results back, until it answers
 * in text or the step limit is reached.
 */
import { SwitchboardError } from '../core/errors.ts';
import type { LlmMessage, LlmProvider } from '../core/ports.ts';
import type { ToolContext, ToolRegistry } from './tools.ts';

/** What one agent run needs. */
export interface AgentRunInput {
  readonly provider: LlmProvider;
  readonly tools: ToolRegistry;
  readonly messages: readonly LlmMessage[];
  readonly maxSteps: number;
  readonly maxOutputTokens: number;
  readonly context: ToolContext;
  /** Called around each model call, for metrics. */
  readonly onModelCall?: (outcome: string, seconds: number) => void;
}

/** What an agent run produced. */
export interface AgentRunResult {
  readonly text: string;
  readonly steps: number;
  readonly toolCalls: number;
}

/** Runs the loop. Throws `agent_step_limit` when the model keeps calling tools past the limit. */
export async function runAgent(input: AgentRunInput): Promise<AgentRunResult> {
  const transcript: LlmMessage[] = [...input.messages];
  let toolCalls = 0;
  for (let step = 1; step <= input.maxSteps; step += 1) {
    const started = performance.now();
    let response;
    try {
      response = await input.provider.complete(
        { messages: transcript, tools: input.tools.specs(), maxOutputTokens: input.maxOutputTokens },
        input.context.signal,
      );
      input.onModelCall?.('ok', (performance.now() - started) / 1000);
    } catch (err) {
      input.onModelCall?.(err instanceof SwitchboardError ? err.code : 'internal', (performance.now() - started) / 1000);
      throw err;
    }
    if (response.toolCalls.length === 0) {
      return { text: response.text, steps: step, toolCalls };
    }
    transcript.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls });
    for (const call of response.toolCalls) {
      toolCalls += 1;
      const result = await input.tools.call(call.name, call.arguments, input.context);
      transcript.push({ role: 'tool', toolCallId: call.id, name: call.name, content: result.content });
    }
  }
  throw new SwitchboardError('agent_step_limit', 'The agent did not finish within its step limit', {
    retryable: false,
    context: { maxSteps: input.maxSteps, toolCalls },
  });
}
