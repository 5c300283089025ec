/**
 * The web chat service as people reach it: every message a person sends (REST `POST /messages`
 * and the socket's `send` frame both call `submit`) spends a token from their bucket first, and
 * every socket they open must get a slot under the per-user connection cap (`admit`).
 */
import { SwitchboardError } from '../core/errors.ts';
import type { WebchatService } from '../http/webchat-service.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { SocketCap } from './socket-cap.ts';
import type { ViolationReporter } from './violations.ts';

/** A person as the socket server and REST routes know them (ids only matter here). */
interface Person {
  readonly userId: string;
  readonly tenantId: string;
}

/** The limits the wrapper applies. */
export interface WebchatLimits {
  readonly messages: TokenBucket;
  readonly sockets: SocketCap;
  readonly reporter: ViolationReporter;
}

/** The service with limits, and the socket server's admission hook. */
export type LimitedWebchatService = WebchatService & {
  admit(user: Person): Promise<() => void>;
};

// Refusals are audited at most once per user and limit in this window (the metric counts each).
const AUDIT_ONCE_MS = 60_000;

/** Wraps the web chat service with the per-user message bucket and socket cap. */
export function limitWebchat(service: WebchatService, limits: WebchatLimits): LimitedWebchatService {
  return {
    ...service,
    submit: async (user, input) => {
      const decision = await limits.messages.take(user.userId);
      if (!decision.allowed) {
        await limits.reporter.report('messages', user.userId, AUDIT_ONCE_MS, {
          tenantId: user.tenantId,
          actorType: 'user',
          actorId: user.userId,
          action: 'rate_limit.exceeded',
          targetType: 'user',
          targetId: user.userId,
          details: { limit: 'messages' },
        });
        throw new SwitchboardError('rate_limited', 'You are sending messages too fast; slow down', {
          retryAfterMs: decision.retryAfterMs,
          context: { limit: 'messages' },
        });
      }
      return service.submit(user, input);
    },
    admit: async (user) => {
      const admission = await limits.sockets.admit(user.userId);
      if (admission.admitted) return admission.release;
      await limits.reporter.report('ws_connections', user.userId, AUDIT_ONCE_MS, {
        tenantId: user.tenantId,
        actorType: 'user',
        actorId: user.userId,
        action: 'rate_limit.exceeded',
        targetType: 'user',
        targetId: user.userId,
        details: { limit: 'ws_connections' },
      });
      throw new SwitchboardError('rate_limited', 'Too many open connections', {
        retryAfterMs: admission.retryAfterMs,
        context: { limit: 'ws_connections' },
      });
    },
  };
}
