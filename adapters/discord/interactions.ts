/**
 * The interactions endpoint, mounted at /webhooks/discord/interactions with the raw body.
 * Order: signature (Ed25519 over timestamp + raw body) and our 300 s window → 401; bounded JSON
 * and zod → 400; PING → PONG; `/ask` → its token sealed, the question committed through ingest,
 * then a deferred response (type 5) — the agent's reply follows through the interaction webhook.
 * Once the signature holds, every outcome is a 200 with a message Discord shows to the person
 * (never a 5xx for our own trouble: invariant 2); nothing is stored for anything but `/ask`.
 */
import { Router, type Request, type Response } from 'express';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../src/core/clock.ts';
import type { InboundCandidate } from '../../src/core/envelope.ts';
import type { IngestReceipt } from '../../src/core/ports.ts';
import type { Logger } from '../../src/core/logger.ts';
import { isSwitchboardError, toSwitchboardError } from '../../src/core/errors.ts';
import { parseJsonBounded } from '../../src/core/json.ts';
import { singleHeader, verifyInteraction } from './verify.ts';
import { CommandInteractionSchema, InteractionCallback, InteractionEnvelopeSchema, InteractionType, NO_MENTIONS } from './payloads.ts';
import { askQuestion, normalizeAskInteraction, type NormalizeContext } from './normalize.ts';
import type { InteractionTokenStore } from './interaction-tokens.ts';

const JSON_MAX_DEPTH = 32;
const EPHEMERAL = 64;

/** What the endpoint needs. */
export interface InteractionRouteDeps {
  readonly publicKey: KeyObject;
  readonly windowMs: number;
  readonly applicationId: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly tokens: InteractionTokenStore;
  readonly context: () => NormalizeContext;
  /** Links the author and hands the candidate to ingest; resolves once committed. */
  readonly accept: (candidate: InboundCandidate) => Promise<IngestReceipt>;
}

function notice(res: Response, content: string): void {
  res.status(200).json({ type: InteractionCallback.ChannelMessage, data: { content, flags: EPHEMERAL, allowed_mentions: NO_MENTIONS } });
}

function badRequest(res: Response, message: string): void {
  res.status(400).json({ error: { code: 'validation_failed', message } });
}

function refusalText(code: string): string {
  switch (code) {
    case 'pii_blocked':
      return 'This question was not accepted: it contains personal data that your workspace blocks.';
    case 'message_too_long':
      return 'This question is too long.';
    default:
      return 'Switchboard could not take this question right now. Please try again in a moment.';
  }
}

async function handleAsk(deps: InteractionRouteDeps, body: unknown, res: Response): Promise<void> {
  const parsed = CommandInteractionSchema.safeParse(body);
  if (!parsed.success) return badRequest(res, 'Malformed command interaction');
  const interaction = parsed.data;
  if (interaction.data.name !== 'ask') return notice(res, 'This command is not known here.');
  const context = deps.context();
  const candidate = normalizeAskInteraction(interaction, context);
  if (!candidate) return notice(res, 'This command cannot be used here.');
  if (askQuestion(interaction) === '') return notice(res, 'Ask a question: /ask question:<your question>');
  try {
    // Sealed before the commit, so the worker always finds it when the reply is ready.
    await deps.tokens.remember({ interactionId: interaction.id, token: interaction.token, tenantId: context.tenantId, nowMs: deps.clock.now() });
    const receipt = await deps.accept(candidate);
    deps.log.info({ interactionId: interaction.id, eventId: receipt.eventId, duplicate: receipt.duplicate }, 'discord /ask accepted');
    res.status(200).json({ type: InteractionCallback.DeferredChannelMessage });
  } catch (err) {
    const error = toSwitchboardError(err);
    deps.log.warn({ interactionId: interaction.id, code: error.code }, 'discord /ask not accepted');
    await deps.tokens.forget(interaction.id).catch(() => undefined);
    notice(res, refusalText(error.code));
  }
}

async function handle(deps: InteractionRouteDeps, req: Request, res: Response): Promise<void> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const verdict = verifyInteraction(
    deps.publicKey,
    { signature: singleHeader(req.headers['x-signature-ed25519']), timestamp: singleHeader(req.headers['x-signature-timestamp']), body: raw },
    deps.clock.now(),
    deps.windowMs,
  );
  if (verdict !== 'ok') {
    deps.log.info({ verdict }, 'discord interaction refused');
    res.status(401).json({ error: { code: 'unauthenticated', message: 'Invalid request signature' } });
    return;
  }
  let body: unknown;
  try {
    body = parseJsonBounded(raw.toString('utf8'), JSON_MAX_DEPTH);
  } catch (err) {
    return badRequest(res, isSwitchboardError(err) ? err.message : 'Malformed body');
  }
  const envelope = InteractionEnvelopeSchema.safeParse(body);
  if (!envelope.success) return badRequest(res, 'Malformed interaction');
  if (envelope.data.application_id !== deps.applicationId) return badRequest(res, 'Interaction for another application');
  switch (envelope.data.type) {
    case InteractionType.Ping:
      res.status(200).json({ type: InteractionCallback.Pong });
      return;
    case InteractionType.ApplicationCommand:
      return handleAsk(deps, body, res);
    case InteractionType.Autocomplete:
      res.status(200).json({ type: InteractionCallback.AutocompleteResult, data: { choices: [] } });
      return;
    case InteractionType.MessageComponent:
    case InteractionType.ModalSubmit:
      return notice(res, 'This action is not supported.');
    default:
      return badRequest(res, 'Unknown interaction type');
  }
}

/** The router for /webhooks/discord. */
export function createInteractionsRouter(deps: InteractionRouteDeps): Router {
  const router = Router();
  router.post('/interactions', (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.log.error({ code: toSwitchboardError(err).code }, 'discord interaction handler failed');
      if (!res.headersSent) notice(res, refusalText('internal'));
    });
  });
  return router;
}
