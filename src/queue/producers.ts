/** Producers for the agent and outbound queues, with one place for job options. */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { SwitchboardError } from '../core/errors.ts';
import type { Platform } from '../core/envelope.ts';
import { AgentJobSchema, OutboundJobSchema } from './jobs.ts';
import { AGENT_QUEUE, outboundQueueName } from './names.ts';

/** Retry settings for every job. */
export interface JobPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
}

/** Enqueues work; job ids make re-enqueueing the same event or outbox row a no-op. */
export interface Producers {
  /** Queues the agent job for an inbound event (jobId = eventId). */
  enqueueAgent(eventId: string): Promise<void>;
  /** Queues sending an outbox row on its platform's queue (jobId = outboxId). */
  enqueueOutbound(platform: Platform, outboxId: string): Promise<void>;
  /**
   * Like enqueueAgent, for work Postgres says is unfinished: a finished (failed or completed) job
   * with the same id is removed first, since BullMQ ignores adds while a job id is still kept.
   */
  requeueAgent(eventId: string): Promise<void>;
  /** Like enqueueOutbound, replacing a finished job with the same id. */
  requeueOutbound(platform: Platform, outboxId: string): Promise<void>;
  /** The underlying queues, for metrics and tests. */
  queues(): Queue[];
  /** Closes the queues (not the shared connection). */
  close(): Promise<void>;
}

/** Job options shared by every queue: retries with exponential backoff, failed jobs kept for inspection. */
export function jobOptions(policy: JobPolicy, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Creates producers on one shared connection. */
export function createProducers(connection: Redis, prefix: string, policy: JobPolicy): Producers {
  const agentQueue = new Queue(AGENT_QUEUE, { connection, prefix });
  const outbound = new Map<Platform, Queue>();
  const outboundQueue = (platform: Platform): Queue => {
    let queue = outbound.get(platform);
    if (!queue) {
      queue = new Queue(outboundQueueName(platform), { connection, prefix });
      outbound.set(platform, queue);
    }
    return queue;
  };
  const add = async (queue: Queue, name: string, data: object, jobId: string): Promise<void> => {
    try {
      await queue.add(name, data, jobOptions(policy, jobId));
    } catch (err) {
      throw new SwitchboardError('queue_unavailable', 'Could not enqueue job', { context: { queue: queue.name, jobId } }, { cause: err });
    }
  };
  const requeue = async (queue: Queue, name: string, data: object, jobId: string): Promise<void> => {
    try {
      const existing = await queue.getJob(jobId);
      if (existing && ((await existing.isFailed()) || (await existing.isCompleted()))) await existing.remove();
    } catch (err) {
      throw new SwitchboardError('queue_unavailable', 'Could not inspect job', { context: { queue: queue.name, jobId } }, { cause: err });
    }
    await add(queue, name, data, jobId);
  };
  return {
    enqueueAgent: (eventId) => add(agentQueue, 'answer', AgentJobSchema.parse({ eventId }), eventId),
    enqueueOutbound: (platform, outboxId) =>
      add(outboundQueue(platform), 'send', OutboundJobSchema.parse({ outboxId }), outboxId),
    requeueAgent: (eventId) => requeue(agentQueue, 'answer', AgentJobSchema.parse({ eventId }), eventId),
    requeueOutbound: (platform, outboxId) =>
      requeue(outboundQueue(platform), 'send', OutboundJobSchema.parse({ outboxId }), outboxId),
    queues: () => [agentQueue, ...outbound.values()],
    close: async () => {
      await Promise.all([agentQueue.close(), ...[...outbound.values()].map((q) => q.close())]);
    },
  };
}
