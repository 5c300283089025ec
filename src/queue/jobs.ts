/**
 * Job payloads. Redis holds ids only — never message text, PII or tokens (invariant 3) — and
 * both producers and consumers parse them with these schemas.
 */
import { z } from 'zod';

/** An agent job: answer this inbound event. */
export const AgentJobSchema = z.strictObject({ eventId: z.uuid() });
/** An agent job. */
export type AgentJob = z.infer<typeof AgentJobSchema>;

/** An outbound job: send this outbox row. */
export const OutboundJobSchema = z.strictObject({ outboxId: z.uuid() });
/** An outbound job. */
export type OutboundJob = z.infer<typeof OutboundJobSchema>;
