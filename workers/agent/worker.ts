/** The BullMQ worker for the `agent` queue: parses job data (ids only) and answers the event. */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AgentJobSchema } from '../../src/queue/jobs.ts';
import { AGENT_QUEUE } from '../../src/queue/names.ts';
import { answerEvent, type AnswerDeps } from './answer-event.ts';

/** Worker settings. */
export interface AgentWorkerOptions {
  readonly connection: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  readonly lockDurationMs: number;
}

/** Starts consuming the agent queue. */
export function createAgentWorker(deps: AnswerDeps, options: AgentWorkerOptions): Worker {
  const worker = new Worker(
    AGENT_QUEUE,
    async (job: Job, _token?: string, signal?: AbortSignal) => {
      const parsed = AgentJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('invalid agent job data');
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await answerEvent(deps, parsed.data.eventId, finalAttempt, signal ?? new AbortController().signal);
      deps.metrics.jobsTotal.inc({ queue: AGENT_QUEUE, outcome });
      return outcome;
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(options.lockDurationMs / 2)),
      maxStalledCount: 2,
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    deps.metrics.jobsTotal.inc({ queue: AGENT_QUEUE, outcome: 'retried' });
    deps.log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, code: (err as { code?: string }).code }, 'agent job attempt failed');
  });
  worker.on('error', (err) => deps.log.error({ err }, 'agent worker error'));
  return worker;
}
