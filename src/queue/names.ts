/** Queue names. BullMQ forbids ':' in queue names, so per-platform queues use '-'. */
import type { Platform } from '../core/envelope.ts';

/** The queue agent workers consume: one job per inbound event. */
export const AGENT_QUEUE = 'agent';

/** The queue of replies for one platform: one job per outbox row. */
export function outboundQueueName(platform: Platform): string {
  return `outbound-${platform}`;
}
