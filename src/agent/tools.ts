/**
 * The tool registry: each tool declares a zod schema for its arguments (LLM output is untrusted,
 * invariant 4), a JSON Schema for the model, and a handler that returns text for the model.
 */
import { z } from 'zod';
import type { LlmToolSpec } from '../core/ports.ts';
import type { Clock } from '../core/clock.ts';

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  readonly tenantId: string;
  readonly conversationId: string;
  readonly signal: AbortSignal;
}

/** A tool the agent may call. */
export interface AgentTool<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly schema: Schema;
  run(args: z.infer<Schema>, context: ToolContext): Promise<string>;
}

/** Tools by name, and their specs for the model. */
export interface ToolRegistry {
  specs(): LlmToolSpec[];
  /** Runs a call; unknown tools and invalid arguments become an error text for the model, not a crash. */
  call(name: string, args: unknown, context: ToolContext): Promise<{ ok: boolean; content: string }>;
}

/** Longest tool result sent back to a model. */
const TOOL_RESULT_MAX_CHARS = 8_000;

/** Builds a registry from tools; names must be unique. */
export function createToolRegistry(tools: readonly AgentTool[]): ToolRegistry {
  const byName = new Map<string, AgentTool>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`Duplicate tool name ${tool.name}`);
    byName.set(tool.name, tool);
  }
  return {
    specs: () =>
      [...byName.values()].map((tool) => ({
        name: tool.name,
        description: tool.description,
        parameters: z.toJSONSchema(tool.schema) as Record<string, unknown>,
      })),
    call: async (name, args, context) => {
      const tool = byName.get(name);
      if (!tool) return { ok: false, content: `Error: there is no tool named "${name.slice(0, 64)}".` };
      const parsed = tool.schema.safeParse(args);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        return { ok: false, content: `Error: invalid arguments for ${name}: ${problems}`.slice(0, TOOL_RESULT_MAX_CHARS) };
      }
      const content = await tool.run(parsed.data, context);
      return { ok: true, content: content.slice(0, TOOL_RESULT_MAX_CHARS) };
    },
  };
}

/** A tool that tells the current date and time in a given IANA time zone. */
export function currentTimeTool(clock: Clock): AgentTool {
  const schema = z.strictObject({
    timeZone: z.string().min(1).max(64).default('UTC').describe('IANA time zone, e.g. Europe/Paris'),
  });
  return {
    name: 'current_time',
    description: 'Returns the current date and time in the given IANA time zone.',
    schema,
    run: async (args) => {
      const { timeZone } = schema.parse(args);
      const now = new Date(clock.now());
      try {
        const local = new Intl.DateTimeFormat('en-CA', {
          timeZone,
          dateStyle: 'full',
          timeStyle: 'long',
        }).format(now);
        return `${local} (${timeZone}); ISO UTC ${now.toISOString()}`;
      } catch {
        return `Error: unknown time zone "${timeZone}". Current time in UTC is ${now.toISOString()}.`;
      }
    },
  };
}
