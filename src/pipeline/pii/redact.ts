/** Replaces findings with typed placeholders such as `[EMAIL_ADDRESS]`. */
import { SwitchboardError } from '../../core/errors.ts';
import type { PiiEntityType, Span } from './types.ts';

/** The placeholder that stands in for a value of `type`. */
export function piiPlaceholder(type: PiiEntityType): string {
  return `[${type}]`;
}

/**
 * `text` with every finding replaced by its placeholder. Findings may come in any order;
 * overlapping ones (from another source than `scanPii`) are merged under the first placeholder.
 */
export function redactPii(text: string, findings: ReadonlyArray<Span & { readonly type: PiiEntityType }>): string {
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  for (const f of sorted) {
    if (!Number.isInteger(f.start) || !Number.isInteger(f.end) || f.start < 0 || f.end > text.length || f.start >= f.end) {
      throw new SwitchboardError('validation_failed', 'PII finding is outside the text', {
        context: { start: f.start, end: f.end, length: text.length },
      });
    }
    if (f.end <= cursor) continue;
    if (f.start >= cursor) {
      out += text.slice(cursor, f.start) + piiPlaceholder(f.type);
    }
    cursor = f.end;
  }
  return out + text.slice(cursor);
}
