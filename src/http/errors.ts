/** Maps every error to a safe JSON response in one place: code and message, never stacks, SQL or PII. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../core/logger.ts';
import { SwitchboardError, isSwitchboardError } from '../core/errors.ts';

interface BodyParserError {
  type?: string;
  status?: number;
}

function fromBodyParser(err: unknown): SwitchboardError | undefined {
  const type = (err as BodyParserError | null)?.type;
  if (type === 'entity.too.large') return new SwitchboardError('payload_too_large', 'Request body too large');
  if (type === 'entity.parse.failed') return new SwitchboardError('validation_failed', 'Body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new SwitchboardError('invalid_encoding', 'Unsupported body encoding');
  }
  return undefined;
}

/** The final error handler. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = isSwitchboardError(err) ? err : (fromBodyParser(err) ?? new SwitchboardError('internal', 'Something went wrong'));
    if (error.status >= 500) log.error({ err, code: error.code, path: req.path }, 'request failed');
    if (error.details.retryAfterMs !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.details.retryAfterMs / 1000))));
    }
    res.status(error.status).json(error.toJSON());
  };
}

/** 404 for anything under /api that no route answered. */
export const apiNotFound: RequestHandler = (_req, _res, next) => {
  next(new SwitchboardError('not_found', 'No such endpoint'));
};
