/**
 * Cross-process notifications over Redis pub/sub: "message M in conversation C is ready",
 * "the agent is typing in C". Ids only, never text; readers load content from Postgres.
 */
import { z } from 'zod';
import type { Redis } from 'ioredis';

/** Something that happened in a conversation. */
export const BusEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('message'), conversationId: z.uuid(), messageId: z.uuid() }),
  z.strictObject({ kind: z.literal('typing'), conversationId: z.uuid(), state: z.enum(['start', 'stop']) }),
  /** A session ended (sign-out, revocation, refresh-token reuse): its sockets close with 4001. */
  z.strictObject({ kind: z.literal('session_revoked'), sessionId: z.uuid() }),
  /** Every session of a user ended (sign out everywhere, disabled, deleted). */
  z.strictObject({ kind: z.literal('user_revoked'), userId: z.uuid() }),
]);
/** Something that happened in a conversation. */
export type BusEvent = z.infer<typeof BusEventSchema>;

/** Publishes and receives bus events for one platform channel. */
export interface Bus {
  /** Publishes; resolves to how many processes were listening. */
  publish(event: BusEvent): Promise<number>;
  /** Starts receiving; returns a function that stops. Malformed messages are dropped and reported. */
  subscribe(handler: (event: BusEvent) => void): Promise<() => Promise<void>>;
}

/** A bus on `${prefix}:bus:${channel}` with separate publisher and subscriber connections. */
export function createBus(
  publisher: Redis,
  createSubscriber: () => Redis,
  prefix: string,
  channel: string,
  onInvalid: (reason: string) => void,
): Bus {
  const name = `${prefix}:bus:${channel}`;
  return {
    publish: (event) => publisher.publish(name, JSON.stringify(BusEventSchema.parse(event))),
    subscribe: async (handler) => {
      const subscriber = createSubscriber();
      subscriber.on('message', (received: string, raw: string) => {
        if (received !== name) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          onInvalid('not JSON');
          return;
        }
        const event = BusEventSchema.safeParse(parsed);
        if (event.success) handler(event.data);
        else onInvalid('schema');
      });
      await subscriber.subscribe(name);
      return async () => {
        await subscriber.unsubscribe(name).catch(() => undefined);
        subscriber.disconnect();
      };
    },
  };
}
