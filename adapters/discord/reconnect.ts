/**
 * Jittered reconnect backoff for the gateway, and a gate that stops reconnects for good.
 *
 * @discordjs/ws reconnects (resume or re-identify) 500 ms after any close, every time. This
 * sharding strategy (discord.js option `ws.buildStrategy`) runs the same shards, but their
 * context strategy waits at the start of every reconnect: "full jitter" — a random time between
 * 0 and base × 2^(attempt-1), capped — reset once a connection reaches READY or RESUMED. The
 * hook is the session lookup a shard makes while idle, right before it opens a socket (the only
 * time an idle shard asks). Once the gate is closed (lease lost, budget spent, stop) that lookup
 * never returns, so a shard that was between sockets can never connect again — discord.js's own
 * 500 ms timer would otherwise reconnect after `destroy()`.
 */
import {
  SimpleContextFetchingStrategy,
  WebSocketShard,
  WebSocketShardEvents,
  WebSocketShardStatus,
  managerToFetchingStrategyOptions,
  type FetchingStrategyOptions,
  type IShardingStrategy,
  type SessionInfo,
  type WebSocketManager,
  type WebSocketShardDestroyOptions,
} from '@discordjs/ws';
import { Collection } from '@discordjs/collection';
import type { GatewaySendPayload } from 'discord.js';

/** Decides how long each reconnect waits. */
export interface ReconnectGate {
  /** Waits before a connection attempt: nothing the first time; never resolves once closed. */
  beforeConnect(): Promise<void>;
  /** A connection reached READY or RESUMED: the next reconnect starts from the base again. */
  connected(): void;
  /** No more connections through this gate. */
  close(): void;
}

/** Options of the gate. */
export interface ReconnectGateOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
  /** Told about each wait (attempt counts reconnects since the last good connection). */
  readonly onBackoff?: (delayMs: number, attempt: number) => void;
}

const never = (): Promise<void> => new Promise<void>(() => undefined);

/** Creates a gate with full-jitter exponential backoff. */
export function createReconnectGate(options: ReconnectGateOptions): ReconnectGate {
  const random = options.random ?? Math.random;
  let attempts = 0;
  let closed = false;
  return {
    beforeConnect: async () => {
      if (closed) return never();
      const attempt = attempts;
      attempts += 1;
      if (attempt > 0) {
        const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt - 1, 30));
        const delay = Math.floor(random() * ceiling);
        options.onBackoff?.(delay, attempt);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      if (closed) return never();
    },
    connected: () => {
      attempts = 0;
    },
    close: () => {
      closed = true;
    },
  };
}

/** Looks sessions up for one shard, waiting at the gate when the shard is about to connect. */
class GatedContextStrategy extends SimpleContextFetchingStrategy {
  readonly #gate: ReconnectGate;
  shard: WebSocketShard | undefined;

  constructor(manager: WebSocketManager, options: FetchingStrategyOptions, gate: ReconnectGate) {
    super(manager, options);
    this.#gate = gate;
  }

  override async retrieveSessionInfo(shardId: number): Promise<SessionInfo | null> {
    // An idle shard asks only at the start of a connection attempt.
    if (this.shard?.status === WebSocketShardStatus.Idle) await this.#gate.beforeConnect();
    return super.retrieveSessionInfo(shardId);
  }
}

type Forward = (event: string, payload: object) => void;
type ShardListen = (event: string, listener: (payload?: object) => void) => unknown;

/** SimpleShardingStrategy's behaviour, with gated reconnects. */
export class GatedShardingStrategy implements IShardingStrategy {
  readonly #manager: WebSocketManager;
  readonly #gate: ReconnectGate;
  readonly #shards = new Collection<number, WebSocketShard>();

  constructor(manager: WebSocketManager, gate: ReconnectGate) {
    this.#manager = manager;
    this.#gate = gate;
  }

  async spawn(shardIds: number[]): Promise<void> {
    const options = await managerToFetchingStrategyOptions(this.#manager);
    const forward = this.#manager.emit.bind(this.#manager) as unknown as Forward;
    for (const shardId of shardIds) {
      const context = new GatedContextStrategy(this.#manager, options, this.#gate);
      const shard = new WebSocketShard(context, shardId);
      context.shard = shard;
      const listen = shard.on.bind(shard) as unknown as ShardListen;
      for (const event of Object.values(WebSocketShardEvents)) {
        listen(event, (payload) => forward(event, { ...payload, shardId }));
      }
      listen(WebSocketShardEvents.Ready, () => this.#gate.connected());
      listen(WebSocketShardEvents.Resumed, () => this.#gate.connected());
      this.#shards.set(shardId, shard);
    }
  }

  async connect(): Promise<void> {
    await Promise.all(this.#shards.map((shard) => shard.connect()));
  }

  // Not the gate's end: the manager also destroys its shards before (re)spawning them on connect.
  async destroy(options?: Omit<WebSocketShardDestroyOptions, 'recover'>): Promise<void> {
    await Promise.all(this.#shards.map((shard) => shard.destroy(options)));
    this.#shards.clear();
  }

  async send(shardId: number, payload: GatewaySendPayload): Promise<void> {
    const shard = this.#shards.get(shardId);
    if (!shard) throw new RangeError(`Shard ${shardId} not found`);
    await shard.send(payload);
  }

  async fetchStatus(): Promise<Collection<number, WebSocketShardStatus>> {
    return this.#shards.mapValues((shard) => shard.status);
  }
}
