/** A message as first-party chat clients (the web chat) show it. */
import { z } from 'zod';

/** A message as the web chat shows it. `text` is raw: clients must insert it as text, never HTML. */
export const ChatMessageSchema = z.strictObject({
  id: z.uuid(),
  conversationId: z.uuid(),
  role: z.enum(['user', 'agent']),
  text: z.string(),
  createdAt: z.iso.datetime(),
  clientMessageId: z.string().optional(),
  /** PII types found in this message and what was done, so the person can see the redaction. */
  pii: z.strictObject({ types: z.array(z.string()), action: z.enum(['log', 'redact', 'block']) }).optional(),
});
/** A message as the web chat shows it. */
export type ChatMessage = z.infer<typeof ChatMessageSchema>;
