/**
 * Safe JSON parsing for trust boundaries: deeply nested JSON parses fine but crashes
 * JSON.stringify and recursive walkers later, so depth is checked right after parsing.
 */
import { SwitchboardError } from './errors.ts';

/** The nesting depth of a parsed JSON value (iterative: a hostile value cannot blow the stack). */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item || item.value === null || typeof item.value !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Object.values(item.value as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth });
    }
  }
  return max;
}

/** Throws `json_too_deep` when `value` nests deeper than `limit`. */
export function assertJsonDepth(value: unknown, limit: number): void {
  if (jsonDepth(value, limit) > limit) {
    throw new SwitchboardError('json_too_deep', `JSON nests deeper than ${limit} levels`, { context: { limit } });
  }
}

/** Parses JSON text and checks its depth; malformed text is `validation_failed`. */
export function parseJsonBounded(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SwitchboardError('validation_failed', 'Body is not valid JSON');
  }
  assertJsonDepth(value, maxDepth);
  return value;
}
