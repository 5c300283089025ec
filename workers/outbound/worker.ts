/** BullMQ workers for `outbound-<platform>` queues: send outbox rows, honour Retry-After. */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Platform } from '../../src/core/envelope.ts';
import { isSwitchboardError } from '../../src/core/errors.ts';
import { OutboundJobSchema } from '../../src/queue/jobs.ts';
import { outboundQueueName } from '../../src/queue/names.ts';
import { sendOutbox, type SendDeps } from './send-outbox.ts';

/** Worker settings. */
export interface OutboundWorkerOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
}

/** Starts consuming one platform's outbound queue. */
export function createOutboundWorker(platform: Platform, deps: SendDeps, options: OutboundWorkerOptions): Worker {
  const queue = outboundQueueName(platform);
  const worker = new Worker(
    queue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      const parsed = OutboundJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('invalid outbound job data');
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        const outcome = await sendOutbox(deps, parsed.data.outboxId, finalAttempt, signal ?? new AbortController().signal);
        deps.metrics.jobsTotal.inc({ queue, outcome: outcome.kind });
        if (outcome.kind === 'deferred' && token !== undefined) {
          // Wait for the booked pacing slot without holding a worker or spending an attempt.
          await job.moveToDelayed(Date.now() + outcome.waitMs, token);
          throw new DelayedError();
        }
        return outcome.kind;
      } catch (err) {
        if (err instanceof DelayedError) throw err;
        // The platform said when to come back: wait exactly that long, without spending an attempt.
        const retryAfterMs = isSwitchboardError(err) ? err.details.retryAfterMs : undefined;
        if (retryAfterMs !== undefined && token !== undefined) {
          await job.moveToDelayed(Date.now() + retryAfterMs, token);
          throw new DelayedError();
        }
        throw err;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(options.lockDurationMs / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => deps.log.error({ err, queue }, 'outbound worker error'));
  return worker;
}
