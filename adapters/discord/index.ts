/** The Discord adapter's factory, as adapters/index.ts lists it. */
import type { PlatformAdapterFactory } from '../index.ts';
import { discordSettings, isDiscordConfigured } from './config.ts';
import { createDiscordAdapter } from './adapter.ts';

/** Enabled when DISCORD_BOT_TOKEN is set; builds the gateway, interactions and outbound adapter. */
export const discordAdapterFactory: PlatformAdapterFactory = {
  platform: 'discord',
  isConfigured: isDiscordConfigured,
  create: (config, deps) => createDiscordAdapter(discordSettings(config), deps),
};
