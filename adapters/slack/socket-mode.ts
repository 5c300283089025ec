/**
 * Socket Mode (`@slack/socket-mode`): one process per app holds the WebSocket, behind a lease
 * renewed every third of its TTL. Standbys retry the lease on the same beat and take over when it
 * lapses (holder crashed) or is released (holder stopped). An `events_api` envelope is acked only
 * after the dispatcher committed it; without an ack Slack redelivers, and event_id dedupes.
 */
import { createHash } from 'node:crypto';
import { SocketModeClient } from '@slack/socket-mode';
import type { Logger } from '../../src/core/logger.ts';
import type { Lease, LockPort } from '../../src/core/platform.ts';
import { parseSlackEnvelope, SLACK_VERIFIED_BY } from './normalize.ts';
import type { SlackDispatcher } from './dispatch.ts';
import { slackLogger } from './web-client.ts';

/** What the runner needs. */
export interface SocketModeDeps {
  readonly appToken: string;
  readonly apiUrl: string;
  readonly apiTimeoutMs: number;
  readonly apiRetries: number;
  readonly leaseMs: number;
  readonly locks: LockPort;
  readonly dispatch: SlackDispatcher;
  readonly log: Logger;
}

/** The runner's state, for status lines and tests. */
export type SocketModeState = 'stopped' | 'standby' | 'connecting' | 'connected';

/** A Socket Mode receiver with leader election. */
export interface SocketModeRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): SocketModeState;
}

interface SlackSocketEvent {
  readonly ack: (response?: Record<string, unknown>) => Promise<void>;
  readonly type: string;
  readonly body: unknown;
  readonly envelope_id?: string;
}

/** Creates the runner (nothing connects until `start`). */
export function createSocketModeRunner(deps: SocketModeDeps): SocketModeRunner {
  // One lease per app, named by a digest of the app token (never the token itself).
  const lockName = `slack:socket:${createHash('sha256').update(deps.appToken).digest('hex').slice(0, 24)}`;
  const beatMs = Math.max(200, Math.floor(deps.leaseMs / 3));
  let state: SocketModeState = 'stopped';
  let lease: Lease | undefined;
  let client: SocketModeClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> = Promise.resolve();
  const stopped = (): boolean => state === 'stopped';

  const onEvent = async (event: SlackSocketEvent): Promise<void> => {
    if (event.type !== 'events_api') {
      await event.ack().catch(() => undefined);
      return;
    }
    const envelope = parseSlackEnvelope(event.body);
    try {
      if (envelope?.kind === 'event') await deps.dispatch(envelope, SLACK_VERIFIED_BY.socket);
      await event.ack();
    } catch (err) {
      // Not committed: no ack, so Slack redelivers the envelope.
      deps.log.error({ err, envelopeId: event.envelope_id?.slice(0, 100) }, 'Slack Socket Mode event not committed; left unacknowledged');
    }
  };

  const disconnect = async (): Promise<void> => {
    const current = client;
    client = undefined;
    if (current) {
      current.removeAllListeners('slack_event');
      await current.disconnect().catch((err: unknown) => deps.log.warn({ err }, 'Slack Socket Mode disconnect failed'));
    }
  };

  const connect = async (): Promise<void> => {
    state = 'connecting';
    const socket = new SocketModeClient({
      appToken: deps.appToken,
      logger: slackLogger(deps.log, 'slack-socket-mode'),
      clientOptions: { slackApiUrl: deps.apiUrl, timeout: deps.apiTimeoutMs, retryConfig: { retries: deps.apiRetries } },
    });
    socket.on('slack_event', (event: SlackSocketEvent) => {
      void onEvent(event);
    });
    client = socket;
    await socket.start();
    if (client === socket) state = 'connected';
  };

  const beat = async (): Promise<void> => {
    if (state === 'stopped') return;
    try {
      if (lease) {
        if (await lease.extend()) return;
        deps.log.warn('Slack Socket Mode lease lost to another process; disconnecting');
        lease = undefined;
        await disconnect();
        state = 'standby';
        return;
      }
      lease = await deps.locks.acquire(lockName, deps.leaseMs);
      if (!lease) {
        state = 'standby';
        return;
      }
      deps.log.info('Slack Socket Mode lease acquired; connecting');
      try {
        await connect();
      } catch (err) {
        // Could not connect: give the lease up so another process (or the next beat) tries.
        deps.log.warn({ err }, 'Slack Socket Mode connection failed');
        await disconnect();
        await lease?.release().catch(() => undefined);
        lease = undefined;
        // stop() may have run meanwhile.
        if (!stopped()) state = 'standby';
      }
    } catch (err) {
      // Redis unreachable: keep what we have and try again on the next beat.
      deps.log.warn({ err }, 'Slack Socket Mode lease check failed');
    }
  };

  // Beats never overlap: the next one is scheduled when the previous one finished.
  const runBeat = (): void => {
    beating = beat().finally(() => {
      if (state === 'stopped') return;
      timer = setTimeout(runBeat, beatMs);
      timer.unref();
    });
  };

  return {
    start: async () => {
      if (state !== 'stopped') return;
      state = 'standby';
      runBeat();
      // Wait for the first attempt, but never let a slow Slack hold up the process start.
      await Promise.race([beating, new Promise((resolve) => setTimeout(resolve, deps.apiTimeoutMs).unref())]);
    },
    stop: async () => {
      state = 'stopped';
      clearTimeout(timer);
      await disconnect();
      await Promise.race([beating.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, deps.apiTimeoutMs).unref())]);
      await disconnect();
      await lease?.release().catch(() => undefined);
      lease = undefined;
    },
    state: () => state,
  };
}
