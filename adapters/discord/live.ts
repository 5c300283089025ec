/**
 * Everything that needs discord.js at run time — the REST client, sending, gateway sessions, the
 * command registration — behind one module the adapter imports lazily: discord.js takes about
 * 1.5 s to load, which a process without Discord configured should never pay, and which a
 * configured one pays on first use rather than before it can serve.
 */
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { DiscordSettings } from './config.ts';
import type { IdentifyBudget } from './identify-budget.ts';
import type { InteractionTokenStore } from './interaction-tokens.ts';
import { createDiscordRest, registerAskCommand, toSendError } from './rest.ts';
import { createDiscordOutbound, type DiscordOutbound } from './outbound.ts';
import { createGatewaySession, type GatewayEvents, type GatewaySession } from './gateway.ts';

/** What the live parts need. */
export interface LivePartsDeps {
  readonly settings: DiscordSettings;
  readonly tokens: InteractionTokenStore;
  readonly budget: IdentifyBudget;
  readonly clock: Clock;
  readonly log: Logger;
  readonly random?: () => number;
}

/** The SDK-backed parts of the adapter. */
export interface LiveParts {
  readonly outbound: DiscordOutbound;
  openSession(events: GatewayEvents): GatewaySession;
  /** Registers `/ask`; failures are logged, never thrown. */
  registerCommands(): Promise<void>;
}

/** Builds the SDK-backed parts. */
export function createLiveParts(deps: LivePartsDeps): LiveParts {
  const { settings, log } = deps;
  const rest = createDiscordRest(settings);
  return {
    outbound: createDiscordOutbound({ rest, applicationId: settings.applicationId, tokens: deps.tokens, clock: deps.clock, log }),
    openSession: (events) =>
      createGatewaySession({ settings, budget: deps.budget, log, events, ...(deps.random ? { random: deps.random } : {}) }),
    registerCommands: async () => {
      try {
        await registerAskCommand(rest, settings.applicationId);
        log.info('discord /ask registered');
      } catch (err) {
        const error = toSendError(err);
        log.warn({ code: error.code, status: error.details.context?.['status'] ?? null }, 'discord /ask registration failed');
      }
    },
  };
}
