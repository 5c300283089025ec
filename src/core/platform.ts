/**
 * The contract every chat-platform adapter (Slack, Discord, Telegram, …) implements, and the
 * ports it receives. Adapters import their SDK and `src/core`; everything else arrives here.
 */
import type { Router } from 'express';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { OutboundMessage, Platform } from './envelope.ts';
import type { InboundSink, OutboundAdapter } from './ports.ts';

/** One outbound budget: at most `burst` sends at once, then one per `intervalMs`. */
export interface PaceRule {
  readonly key: string;
  readonly intervalMs: number;
  readonly burst: number;
  /**
   * Shared budgets (per bot, per workspace): checked when a part is actually sent, never booked
   * ahead — a booking far in the future for one busy chat must not hold every other chat back.
   */
  readonly gateOnly?: boolean;
  /**
   * A sliding-window limit instead of a rate: at most `max` sends in any `ms` (Telegram's "20 per
   * minute in a group" allows a burst, then waits). Checked at send time only, like gateOnly.
   */
  readonly window?: { readonly max: number; readonly ms: number };
}

/** Credentials of an installation, as the adapter stores them (sealed by the vault at rest). */
export type InstallationCredentials = Readonly<Record<string, string>>;

/** A platform install (workspace, bot) as adapters see it. `externalId` is the envelope's installationId. */
export interface InstallationInfo {
  readonly externalId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly botUserId: string | null;
  readonly active: boolean;
}

/** Installations and their credentials; the store seals and opens them. */
export interface InstallationPort {
  find(platform: Platform, externalId: string): Promise<InstallationInfo | undefined>;
  credentials(platform: Platform, externalId: string): Promise<InstallationCredentials | undefined>;
  save(input: {
    platform: Platform;
    externalId: string;
    tenantId: string;
    name: string;
    botUserId?: string;
    credentials: InstallationCredentials;
  }): Promise<void>;
  revoke(platform: Platform, externalId: string): Promise<boolean>;
}

/** A lease that only one process holds at a time (socket-holding adapters: one gateway per bot). */
export interface Lease {
  /** Extends the lease; false when it was lost (another process took over). */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}

/** Distributed locks for adapters. */
export interface LockPort {
  /** Acquires `name` for `ttlMs`, or returns undefined when another process holds it. */
  acquire(name: string, ttlMs: number): Promise<Lease | undefined>;
}

/** A small persistent counter store (e.g. Discord's daily IDENTIFY budget). */
export interface CounterPort {
  /** Adds `by` to `name` (created with `ttlMs`) and returns the new value. */
  increment(name: string, ttlMs: number, by?: number): Promise<number>;
  get(name: string): Promise<number>;
}

/** What an adapter records in the audit log (ids, types and counts only). */
export type AdapterAudit = (entry: {
  tenantId?: string;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Readonly<Record<string, string | number | boolean | null>>;
}) => Promise<void>;

/** Everything an adapter receives. */
export interface PlatformAdapterDeps {
  readonly sink: InboundSink;
  readonly installations: InstallationPort;
  /** The tenant user linked to a platform identity, so participant rules apply. */
  readonly linkedUser: (platform: Platform, installationId: string, platformUserId: string) => Promise<string | undefined>;
  readonly locks: LockPort;
  readonly counters: CounterPort;
  readonly audit: AdapterAudit;
  readonly log: Logger;
  readonly clock: Clock;
  /** The tenant new installations belong to when nothing else says. */
  readonly defaultTenantId: string;
  /** Which parts this process runs: receivers (webhooks, gateways, polling) live in API processes. */
  readonly receive: boolean;
}

/** A health line for `switchboard doctor`. */
export interface AdapterStatus {
  readonly platform: Platform;
  readonly state: 'enabled' | 'disabled' | 'misconfigured';
  readonly detail: string;
}

/** A chat-platform adapter. */
export interface PlatformAdapter extends OutboundAdapter {
  /** Routes mounted at `/webhooks/<platform>`; `req.body` is the raw Buffer (verify signatures over it). */
  readonly webhooks?: Router;
  /** Routes mounted at `/oauth/<platform>` (install flows), with parsed query strings. */
  readonly oauth?: Router;
  /** The platform's longest message; replies are split to fit. */
  readonly maxMessageChars: number;
  /** The budgets a send to this conversation spends (global, per chat, per bot). */
  paceRules(message: OutboundMessage): PaceRule[];
  /** Starts receivers when `deps.receive`; connects clients. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): AdapterStatus;
}
