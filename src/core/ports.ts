/**
 * The seams between Switchboard's parts. Adapters, LLM providers and calendar providers are
 * written against these interfaces and receive everything else by injection.
 */
import type { ConversationRef, InboundCandidate, OutboundMessage, Platform } from './envelope.ts';
import type { PaceRule } from './platform.ts';

// ── Inbound ─────────────────────────────────────────────────────────────────────────────────

/** What ingest tells an adapter about a message it accepted. */
export interface IngestReceipt {
  readonly eventId: string;
  readonly messageId: string;
  readonly conversationId: string;
  /** True when this platform event was seen before; nothing new was stored or queued. */
  readonly duplicate: boolean;
}

/** Where adapters hand normalized messages: validates, sanitizes, scans, commits, enqueues. */
export interface InboundSink {
  /** Accepts one message; resolves once it is committed to Postgres (enqueueing may follow). */
  accept(candidate: InboundCandidate): Promise<IngestReceipt>;
}

/** An adapter that receives platform events and hands them to an InboundSink. */
export interface InboundAdapter {
  readonly platform: Platform;
  /** Starts receiving (sockets, polling); webhook-only adapters mount routes instead. */
  start(): Promise<void>;
  /** Stops receiving and releases sockets. */
  stop(): Promise<void>;
}

// ── Outbound ────────────────────────────────────────────────────────────────────────────────

/** What a platform said when it accepted a reply. */
export interface SendResult {
  /** The platform's id of the sent message, when it has one. */
  readonly platformMessageId?: string;
}

/** An adapter that delivers replies to its platform. Throws SwitchboardError on failure. */
export interface OutboundAdapter {
  readonly platform: Platform;
  /** Renders and sends one reply; `send_rate_limited` with `retryAfterMs` steers a retry. */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
  /** Shows or clears a typing indicator while the agent works; best effort. `conversation` says where. */
  typing?(conversationId: string, state: 'start' | 'stop', conversation: ConversationRef): Promise<void>;
  /** The platform's longest message; longer replies are split into parts. Unlimited when absent. */
  readonly maxMessageChars?: number;
  /** The pacing budgets a send spends (see src/core/platform.ts PaceRule). None when absent. */
  paceRules?(message: OutboundMessage): readonly PaceRule[];
}

// ── LLM ─────────────────────────────────────────────────────────────────────────────────────

/** A tool call an LLM asked for; `arguments` is parsed JSON, still untrusted. */
export interface LlmToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: unknown;
}

/** One message of an LLM conversation, vendor-neutral. */
export type LlmMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string; readonly toolCalls?: readonly LlmToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly name: string; readonly content: string };

/** A tool the model may call, with a JSON Schema for its arguments. */
export interface LlmToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** One request to a model. */
export interface LlmRequest {
  readonly messages: readonly LlmMessage[];
  readonly tools: readonly LlmToolSpec[];
  readonly maxOutputTokens?: number;
}

/** A model's answer: text and/or tool calls. */
export interface LlmResponse {
  readonly text: string;
  readonly toolCalls: readonly LlmToolCall[];
  readonly finishReason: 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';
  readonly model: string;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

/**
 * A model vendor. Errors are SwitchboardErrors with codes llm_rate_limited (retryAfterMs when
 * known), llm_timeout, llm_bad_request, llm_auth_failed or llm_unavailable.
 */
export interface LlmProvider {
  /** Provider kind: openai, anthropic, openai-compatible, offline. */
  readonly name: string;
  /** The model it talks to. */
  readonly model: string;
  /** Sends one request; must stop promptly when `signal` aborts. */
  complete(request: LlmRequest, signal: AbortSignal): Promise<LlmResponse>;
}
