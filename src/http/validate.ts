/** zod parsing of request bodies into `validation_failed` errors with paths, never echoing values. */
import type { z } from 'zod';
import { SwitchboardError } from '../core/errors.ts';

/** Parses `body` with `schema` or throws `validation_failed` listing each problem's path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new SwitchboardError('validation_failed', 'Request body failed validation', {
    issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/** Parses a query string strictly (unknown parameters refused), like bodies. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  throw new SwitchboardError('validation_failed', 'Query parameters failed validation', {
    issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}
