/**
 * Conversation keys: one string that names a conversation on any platform, built from parts
 * that cannot collide (each part is percent-encoded, so ':' never appears inside one).
 */
import { SwitchboardError } from './errors.ts';
import { PlatformSchema, type Platform } from './envelope.ts';

/** The parts a conversation key is made of. */
export interface ConversationKeyParts {
  readonly platform: Platform;
  readonly installationId: string;
  readonly channelId: string;
  readonly threadId?: string;
}

/** Builds `platform:installation:channel[:thread]`. */
export function formatConversationKey(parts: ConversationKeyParts): string {
  const segments = [parts.platform, parts.installationId, parts.channelId];
  if (parts.threadId !== undefined) segments.push(parts.threadId);
  return segments.map((s) => encodeURIComponent(s)).join(':');
}

/** Parses a key made by `formatConversationKey`; throws `validation_failed` on anything else. */
export function parseConversationKey(key: string): ConversationKeyParts {
  const segments = key.split(':');
  if (segments.length < 3 || segments.length > 4 || segments.some((s) => s.length === 0)) {
    throw new SwitchboardError('validation_failed', 'Malformed conversation key');
  }
  const [platformRaw, installationId, channelId, threadId] = segments.map((s) => decodeURIComponent(s));
  const platform = PlatformSchema.safeParse(platformRaw);
  if (!platform.success || installationId === undefined || channelId === undefined) {
    throw new SwitchboardError('validation_failed', 'Malformed conversation key');
  }
  return threadId === undefined
    ? { platform: platform.data, installationId, channelId }
    : { platform: platform.data, installationId, channelId, threadId };
}
