/**
 * Interaction tokens, kept between the `/ask` request (API process) and the agent's reply
 * (outbound worker, possibly another process). A token lets anyone post as the app in that
 * channel for 15 minutes, so it is a secret: it is sealed by the vault through the installations
 * port (invariant 5; never Postgres in clear, never Redis), under its own installation id
 * `interaction:<id>` (application ids are bare digits, so the two cannot collide). It expires
 * 14 minutes after we received it and is revoked — the sealed credentials dropped — once the
 * reply's last part is out. The reply finds it through `replyToPlatformMessageId`, which for an
 * interaction is `interaction:<id>` (see normalize.ts).
 */
import type { InstallationPort } from '../../src/core/platform.ts';
import { INTERACTION_TOKEN_TTL_MS } from './config.ts';

/** Stores and finds interaction tokens. */
export interface InteractionTokenStore {
  /**
   * Seals the token; false (nothing stored) when this interaction's token was already revoked —
   * its reply went out, so a redelivery must not bring the secret back.
   */
  remember(input: { interactionId: string; token: string; tenantId: string; nowMs: number }): Promise<boolean>;
  /** The token, while it is still usable. */
  recall(interactionId: string, nowMs: number): Promise<string | undefined>;
  forget(interactionId: string): Promise<void>;
}

/** The installation id an interaction token is sealed under. */
export function interactionTokenKey(interactionId: string): string {
  return `interaction:${interactionId}`;
}

/** Creates the store on top of the installations port. */
export function createInteractionTokenStore(installations: InstallationPort, applicationId: string): InteractionTokenStore {
  return {
    remember: async ({ interactionId, token, tenantId, nowMs }) => {
      const existing = await installations.find('discord', interactionTokenKey(interactionId));
      if (existing && !existing.active) return false;
      await installations.save({
        platform: 'discord',
        externalId: interactionTokenKey(interactionId),
        tenantId,
        name: '/ask interaction (token expires in 15 min)',
        credentials: { token, applicationId, expiresAt: String(nowMs + INTERACTION_TOKEN_TTL_MS) },
      });
      return true;
    },
    recall: async (interactionId, nowMs) => {
      const credentials = await installations.credentials('discord', interactionTokenKey(interactionId));
      const token = credentials?.['token'];
      const expiresAt = Number(credentials?.['expiresAt']);
      if (token === undefined || credentials?.['applicationId'] !== applicationId) return undefined;
      if (!Number.isFinite(expiresAt) || nowMs >= expiresAt) {
        await installations.revoke('discord', interactionTokenKey(interactionId));
        return undefined;
      }
      return token;
    },
    forget: async (interactionId) => {
      await installations.revoke('discord', interactionTokenKey(interactionId));
    },
  };
}
