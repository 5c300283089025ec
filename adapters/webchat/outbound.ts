/**
 * The web chat's outbound side. A reply is "sent" when every API process has been told over the
 * bus; the process holding the person's socket loads it from Postgres and pushes it. A person who
 * is offline sees it in their history on reconnect.
 */
import type { OutboundAdapter } from '../../src/core/ports.ts';

/** The bus operations the web chat needs (ids only). */
export interface WebchatBus {
  publish(
    event:
      | { kind: 'message'; conversationId: string; messageId: string }
      | { kind: 'typing'; conversationId: string; state: 'start' | 'stop' },
  ): Promise<number>;
}

/** Creates the web chat's OutboundAdapter. */
export function createWebchatOutbound(bus: WebchatBus): OutboundAdapter {
  return {
    platform: 'webchat',
    send: async (message) => {
      await bus.publish({ kind: 'message', conversationId: message.conversationId, messageId: message.messageId });
      return { platformMessageId: message.messageId };
    },
    typing: async (conversationId, state) => {
      await bus.publish({ kind: 'typing', conversationId, state });
    },
  };
}
