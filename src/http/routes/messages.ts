/** `POST /messages`: send a web chat message over REST (the same path as the socket's `send`). */
import { Router } from 'express';
import { z } from 'zod';
import type { Authenticator } from '../../auth/principal.ts';
import { requireAuth, userPrincipalOf } from '../auth-middleware.ts';
import { parseBody } from '../validate.ts';
import type { WebchatService } from '../webchat-service.ts';

const SendBodySchema = z.strictObject({
  id: z.uuid(),
  text: z.string().min(1).max(100_000),
});

/** The REST route for sending messages as the signed-in user. */
export function createMessageRoutes(deps: { authenticators: readonly Authenticator[]; webchat: WebchatService }): Router {
  const router = Router();
  router.post('/messages', requireAuth(deps.authenticators, 'chat:send'), async (req, res) => {
    const body = parseBody(SendBodySchema, req.body);
    const user = userPrincipalOf(req);
    const receipt = await deps.webchat.submit(
      { userId: user.userId, tenantId: user.tenantId, displayName: user.displayName },
      { clientMessageId: body.id, text: body.text },
    );
    res.status(receipt.duplicate ? 200 : 202).json({
      id: body.id,
      messageId: receipt.messageId,
      conversationId: receipt.conversationId,
      duplicate: receipt.duplicate,
      stored: { text: receipt.storedText, piiTypes: receipt.piiTypes },
    });
  });
  return router;
}
