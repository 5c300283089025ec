/**
 * The sweeper re-enqueues work Postgres says is unfinished, including when BullMQ still keeps a
 * finished job under the same id (which would make a plain add a silent no-op).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { startStack, type Stack } from '../support/stack.ts';
import { waitUntil } from '../support/wait.ts';
import { sweepOnce } from '../../workers/maintenance/sweeper.ts';
import { AGENT_QUEUE } from '../../src/queue/names.ts';

let stack: Stack;

beforeAll(async () => {
  // API only: no agent worker, so the test decides what happens to the job.
  stack = await startStack({ role: 'api', env: { JOB_ATTEMPTS: '1' } });
});
afterAll(async () => {
  await stack?.stop();
});

it('replaces a failed job for an event that is still open', async () => {
  const { id } = await stack.createUser({ email: 'sweep@example.test', password: 'long enough password' });
  const { webchat, producers, db, metrics, log } = stack.switchboard.services;
  const receipt = await webchat.submit(
    { userId: id, tenantId: stack.tenantId, displayName: 'sweep' },
    { clientMessageId: randomUUID(), text: 'sweep me' },
  );
  const connection = { url: stack.config.REDIS_URL };
  const queue = new Queue(AGENT_QUEUE, { connection, prefix: stack.config.QUEUE_PREFIX });
  // A worker that dies on the job's only attempt, as a shutdown on the final attempt would.
  const failing = new Worker(
    AGENT_QUEUE,
    async () => {
      throw new Error('simulated crash');
    },
    { connection, prefix: stack.config.QUEUE_PREFIX },
  );
  try {
    await waitUntil(async () => (await queue.getJob(receipt.eventId))?.isFailed(), (failed) => failed === true, {
      what: 'the job to fail',
    });
    await failing.close();
    // A plain add with the same id is ignored while the failed job is kept.
    await producers.enqueueAgent(receipt.eventId);
    expect(await (await queue.getJob(receipt.eventId))?.getState()).toBe('failed');

    const swept = await sweepOnce({
      db,
      enqueueAgent: producers.requeueAgent,
      enqueueOutbound: producers.requeueOutbound,
      metrics,
      log,
      staleAfterMs: 0,
      outboxLeaseMs: 0,
    });
    expect(swept.events).toBe(1);
    const job = await queue.getJob(receipt.eventId);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    expect(job?.data).toEqual({ eventId: receipt.eventId });
  } finally {
    await failing.close();
    await queue.close();
  }
});
