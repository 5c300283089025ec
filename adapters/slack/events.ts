/**
 * The Events API endpoint, POST /webhooks/slack/events. The signature is checked over the raw
 * bytes first (401 when it fails: nothing is parsed, nothing stored); then the JSON is parsed with
 * a depth limit and zod; `url_verification` is answered with its challenge; an event is committed
 * through the dispatcher and only then acknowledged with 200. Retries (X-Slack-Retry-Num) and
 * replays inside the window carry the same event_id and dedupe in Postgres.
 */
import { Router, type Request, type Response } from 'express';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { parseJsonBounded } from '../../src/core/json.ts';
import { verifySlackRequest } from './verify.ts';
import { parseSlackEnvelope, SLACK_VERIFIED_BY } from './normalize.ts';
import type { SlackDispatcher } from './dispatch.ts';

/** What the endpoint needs. */
export interface EventsRouteDeps {
  readonly signingSecret: string;
  readonly dispatch: SlackDispatcher;
  readonly clock: Clock;
  readonly log: Logger;
  /** Depth limit for the parsed body. */
  readonly jsonMaxDepth: number;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

// A signed request we cannot use will not improve on retry: tell Slack not to retry it.
function refuse(res: Response, status: number, code: string): void {
  res.status(status).set('X-Slack-No-Retry', '1').json({ error: { code } });
}

/** Builds the router (mounted at /webhooks/slack, so the route is /events). */
export function createEventsRouter(deps: EventsRouteDeps): Router {
  const router = Router();
  router.post('/events', async (req, res) => {
    // No body at all still goes through the signature check (and fails it).
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifySlackRequest({
      signingSecret: deps.signingSecret,
      headers: { timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature') },
      rawBody: raw,
      nowMs: deps.clock.now(),
    });
    if (!verdict.ok) {
      deps.log.info({ reason: verdict.reason }, 'Slack request refused: signature check failed');
      res.status(401).json({ error: { code: 'unauthenticated' } });
      return;
    }
    let body: unknown;
    try {
      body = parseJsonBounded(raw.toString('utf8'), deps.jsonMaxDepth);
    } catch {
      refuse(res, 400, 'validation_failed');
      return;
    }
    const envelope = parseSlackEnvelope(body);
    if (envelope === undefined) {
      // Signed by Slack but not a shape we use (or a newer one): acknowledge so Slack does not retry.
      res.status(200).end();
      return;
    }
    if (envelope.kind === 'url_verification') {
      res.status(200).json({ challenge: envelope.challenge });
      return;
    }
    if (envelope.kind === 'other') {
      res.status(200).end();
      return;
    }
    const retry = header(req, 'x-slack-retry-num');
    try {
      const outcome = await deps.dispatch(envelope, SLACK_VERIFIED_BY.http);
      if (retry !== undefined) deps.log.debug({ eventId: envelope.eventId, retry: retry.slice(0, 4), outcome }, 'Slack retry handled');
      res.status(200).end();
    } catch (err) {
      // An outage (database down): not committed, so let Slack retry later rather than lose it.
      deps.log.error({ err, eventId: envelope.eventId }, 'Slack event could not be committed; Slack will retry');
      res.status(503).json({ error: { code: 'adapter_unavailable' } });
    }
  });
  return router;
}
