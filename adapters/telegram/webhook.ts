/**
 * The webhook endpoint, POST /webhooks/telegram. The secret token header is checked first, over
 * nothing but the header (401 when missing, 403 when wrong: nothing is parsed, nothing stored).
 * Then the raw body is parsed with a depth limit and zod, the update is committed through the
 * dispatcher, and only then answered 200 (with an empty body: a JSON body would be read by
 * Telegram as a method call). A verified delivery we cannot use is acknowledged too, since
 * re-sending it cannot help; only an outage (not committed) answers 503 so Telegram retries, and
 * the retry dedupes on (bot, update_id).
 */
import { Router, type Request } from 'express';
import type { Logger } from '../../src/core/logger.ts';
import { parseJsonBounded } from '../../src/core/json.ts';
import { TELEGRAM_SECRET_HEADER, verifyTelegramSecret } from './verify.ts';
import { TELEGRAM_VERIFIED_BY, updateIdOf } from './normalize.ts';
import type { TelegramDispatcher } from './dispatch.ts';

/** What the endpoint needs. */
export interface WebhookRouteDeps {
  readonly secret: string;
  readonly dispatch: TelegramDispatcher;
  readonly log: Logger;
  /** Depth limit for the parsed body. */
  readonly jsonMaxDepth: number;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Builds the router (mounted at /webhooks/telegram, so the route is /). */
export function createWebhookRouter(deps: WebhookRouteDeps): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const verdict = verifyTelegramSecret(deps.secret, header(req, TELEGRAM_SECRET_HEADER));
    if (!verdict.ok) {
      deps.log.info({ reason: verdict.reason }, 'Telegram webhook refused: secret token check failed');
      const status = verdict.reason === 'missing_secret' ? 401 : 403;
      res.status(status).json({ error: { code: status === 401 ? 'unauthenticated' : 'forbidden' } });
      return;
    }
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let body: unknown;
    try {
      body = parseJsonBounded(raw.toString('utf8'), deps.jsonMaxDepth);
    } catch (err) {
      deps.log.info({ code: err instanceof Error ? err.name : 'unknown' }, 'Telegram webhook body unreadable; acknowledged and dropped');
      res.status(200).end();
      return;
    }
    const updateId = updateIdOf(body);
    if (updateId === undefined) {
      deps.log.info('Telegram webhook body is not an update; acknowledged and dropped');
      res.status(200).end();
      return;
    }
    try {
      const outcome = await deps.dispatch(body, TELEGRAM_VERIFIED_BY.webhook);
      deps.log.debug({ updateId, outcome }, 'Telegram update handled');
      res.status(200).end();
    } catch (err) {
      // Not committed (database down, bot identity not known yet): Telegram retries later.
      deps.log.error({ err, updateId }, 'Telegram update could not be committed; Telegram will retry');
      res.status(503).json({ error: { code: 'adapter_unavailable' } });
    }
  });
  return router;
}
