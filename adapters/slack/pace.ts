/**
 * Slack's outbound budgets for the pacer. chat.postMessage allows about one message per second
 * per channel (short bursts tolerated; we never count on them) and has an unpublished
 * workspace-wide ceiling, which we keep well away from with a per-workspace budget of our own.
 */
import type { OutboundMessage } from '../../src/core/envelope.ts';
import type { PaceRule } from '../../src/core/platform.ts';

/** One message per second per channel. */
export const SLACK_CHANNEL_INTERVAL_MS = 1000;
/** Per workspace: 20 messages per second, bursts of 20. */
export const SLACK_WORKSPACE_INTERVAL_MS = 50;
const SLACK_WORKSPACE_BURST = 20;

/** The budgets one reply part spends. */
export function slackPaceRules(message: OutboundMessage): PaceRule[] {
  const team = encodeURIComponent(message.installationId);
  return [
    { key: `slack:channel:${team}:${encodeURIComponent(message.conversation.channelId)}`, intervalMs: SLACK_CHANNEL_INTERVAL_MS, burst: 1 },
    { key: `slack:workspace:${team}`, intervalMs: SLACK_WORKSPACE_INTERVAL_MS, burst: SLACK_WORKSPACE_BURST, gateOnly: true },
  ];
}
