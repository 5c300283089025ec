/**
 * Tool-call arguments come from the model and are untrusted. Invalid JSON does NOT fail the call:
 * it becomes `{ __invalid_json: "<raw, truncated>" }`, which no tool's zod schema accepts, so the
 * agent loop reports a tool error to the model and lets it try again. Failing the whole LLM call
 * (llm_bad_request, not retryable) over one malformed argument string would lose the conversation.
 */

/** Longest raw argument text kept in `__invalid_json`. */
export const INVALID_JSON_KEEP_CHARS = 1000;

/** Deepest nesting accepted; deeper values parse but crash JSON.stringify and loggers later. */
export const MAX_ARGUMENT_DEPTH = 32;

/** The stand-in value for arguments that are not usable JSON. */
export interface InvalidToolArguments {
  readonly __invalid_json: string;
}

/** Builds the invalid-arguments marker, keeping at most INVALID_JSON_KEEP_CHARS of `raw`. */
export function invalidToolArguments(raw: string): InvalidToolArguments {
  return { __invalid_json: raw.length > INVALID_JSON_KEEP_CHARS ? `${raw.slice(0, INVALID_JSON_KEEP_CHARS)}…` : raw };
}

/** Nesting depth of a JSON value, measured without recursion; stops counting past `limit`. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined || item.value === null || typeof item.value !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth });
  }
  return false;
}

/** Keeps an already-parsed arguments value unless it is nested too deeply. */
export function boundToolArguments(value: unknown): unknown {
  return depthExceeds(value, MAX_ARGUMENT_DEPTH) ? invalidToolArguments('[nested too deeply]') : value;
}

/** Parses a model's argument string; blank means "no arguments" (`{}`), as some servers send. */
export function parseToolArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return invalidToolArguments(raw);
  }
  return depthExceeds(parsed, MAX_ARGUMENT_DEPTH) ? invalidToolArguments(raw) : parsed;
}
