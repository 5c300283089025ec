/** Builds what the model sees: the system prompt and the conversation's recent messages, per PII policy. */
import type { LlmMessage } from '../core/ports.ts';
import type { MessageRecord } from '../store/messages.ts';
import type { PiiAction } from '../store/tenants.ts';
import { readableText, type TextSealer } from '../pipeline/protect-text.ts';

/**
 * Maps stored messages to model messages. The model sees redacted text (typed placeholders)
 * unless the tenant's policy is 'log', which lets it see the original.
 */
export function buildModelContext(
  sealer: TextSealer,
  systemPrompt: string,
  history: readonly MessageRecord[],
  piiAction: PiiAction,
): LlmMessage[] {
  const want = piiAction === 'log' ? 'original' : 'redacted';
  const messages: LlmMessage[] = [{ role: 'system', content: systemPrompt }];
  // A window cut from a longer conversation may open with a reply; vendors (Anthropic) require a user turn first.
  const firstUser = history.findIndex((m) => m.direction === 'in');
  for (const message of firstUser < 0 ? [] : history.slice(firstUser)) {
    const content = readableText(sealer, message, want);
    messages.push(message.direction === 'in' ? { role: 'user', content } : { role: 'assistant', content });
  }
  return messages;
}
