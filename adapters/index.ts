/**
 * Every chat-platform adapter, in one list the composition root reads. An adapter is enabled
 * when its credentials are configured; each entry says how to tell and how to build it.
 */
import type { Config } from '../config/load.ts';
import type { Platform } from '../src/core/envelope.ts';
import type { PlatformAdapter, PlatformAdapterDeps } from '../src/core/platform.ts';
import { slackAdapterFactory } from './slack/index.ts';
import { discordAdapterFactory } from './discord/index.ts';
import { telegramAdapterFactory } from './telegram/index.ts';

/** How the composition root finds and builds one platform's adapter. */
export interface PlatformAdapterFactory {
  readonly platform: Exclude<Platform, 'webchat'>;
  /** Whether the platform's credentials are configured (the adapter is then enabled). */
  isConfigured(config: Config): boolean;
  /** Builds the adapter; throws `config_invalid` naming what is missing or wrong. */
  create(config: Config, deps: PlatformAdapterDeps): PlatformAdapter;
}

/** The platform adapters this build ships. */
export const PLATFORM_ADAPTERS: readonly PlatformAdapterFactory[] = [slackAdapterFactory, discordAdapterFactory, telegramAdapterFactory];
