/**
 * The contract every platform adapter passes (run from each adapter's own test file with its
 * harness): fixtures normalize to valid candidates, conversation keys round-trip, the bot's own and
 * other bots' messages are ignored, forged or replayed deliveries are refused, and rendering never
 * throws on empty, huge or hostile text.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InboundCandidateSchema, type InboundCandidate, type Platform } from '../../src/core/envelope.ts';
import { formatConversationKey, parseConversationKey } from '../../src/core/conversation-key.ts';

/** A delivery as it arrives over HTTP (or a socket): headers and the exact raw body. */
export interface RawDelivery {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What an adapter's test file supplies. */
export interface AdapterContractHarness {
  readonly platform: Exclude<Platform, 'webchat'>;
  /** Real-shaped payloads that must become messages. */
  readonly messages: ReadonlyArray<{ readonly name: string; readonly payload: unknown }>;
  /** Payloads that must be ignored: the bot's own messages, other bots', edits/joins if unsupported. */
  readonly ignored: ReadonlyArray<{ readonly name: string; readonly payload: unknown }>;
  /** The adapter's pure normalizer: payload → candidate, or undefined to ignore. */
  normalize(payload: unknown): InboundCandidate | undefined;
  /** The adapter's pure renderer: reply text → platform text (or parts). */
  render(text: string): string | readonly string[];
  /** The platform's limit per message. */
  readonly maxMessageChars: number;
  /** Checks rendered output is safe for the platform (no live mentions, escaped markup). */
  assertRenderedSafe(rendered: string, source: string): void;
  /** Verification over a raw delivery at a time; absent for socket-only platforms. */
  readonly verification?: {
    sign(body: string, nowMs: number): RawDelivery;
    verify(delivery: RawDelivery, nowMs: number): boolean;
    /** Whether the platform signs a timestamp (then stale deliveries must be refused). */
    readonly timestamped: boolean;
    /**
     * Whether the body is signed. Platforms that send a static shared secret instead (Telegram)
     * cannot detect a changed body; their replay protection is dedupe on the event id.
     */
    readonly signsBody?: boolean;
  };
}

const HOSTILE = [
  '',
  ' ',
  '<script>alert(1)</script>',
  '<!channel> <!here> <!everyone> @everyone @here <@U123> <@&456>',
  '*bold* _it_ ~strike~ `code` ```block``` [link](javascript:alert(1)) <https://evil|click>',
  '&lt;b&gt; & < > " \' \\ \u0000 \u202e',
  '😀'.repeat(3000),
  'x'.repeat(50_000),
];

/** Registers the contract tests for one adapter. */
export function describeAdapterContract(harness: AdapterContractHarness): void {
  describe(`${harness.platform} adapter contract`, () => {
    it.each(harness.messages.map((m) => [m.name, m.payload] as const))('normalizes %s to a valid candidate', (_name, payload) => {
      const candidate = harness.normalize(payload);
      expect(candidate).toBeDefined();
      const parsed = InboundCandidateSchema.safeParse(candidate);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(candidate?.platform).toBe(harness.platform);
      expect(candidate?.author.isSelf).toBe(false);
      expect(candidate?.author.isBot).toBe(false);
    });

    it.each(harness.messages.map((m) => [m.name, m.payload] as const))('%s: the conversation key round-trips', (_name, payload) => {
      const candidate = harness.normalize(payload);
      if (!candidate) throw new Error('not normalized');
      const parts = parseConversationKey(candidate.conversation.key);
      expect(parts.platform).toBe(harness.platform);
      expect(parts.installationId).toBe(candidate.installationId);
      expect(parts.channelId).toBe(candidate.conversation.channelId);
      expect(parts.threadId).toBe(candidate.conversation.threadId);
      expect(formatConversationKey(parts)).toBe(candidate.conversation.key);
    });

    it.each(harness.ignored.map((m) => [m.name, m.payload] as const))('ignores %s', (_name, payload) => {
      expect(harness.normalize(payload)).toBeUndefined();
    });

    it('never throws on arbitrary payloads', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 6 }), (payload) => {
          const candidate = harness.normalize(payload);
          if (candidate !== undefined) expect(InboundCandidateSchema.safeParse(candidate).success).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it.each(HOSTILE.map((text) => [text.slice(0, 40), text] as const))('renders %j safely within limits', (_label, text) => {
      const rendered = harness.render(text);
      const parts = typeof rendered === 'string' ? [rendered] : rendered;
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(harness.maxMessageChars);
        harness.assertRenderedSafe(part, text);
      }
    });

    const verification = harness.verification;
    if (verification) {
      const now = Date.UTC(2026, 10, 22, 12, 0, 0);
      const body = JSON.stringify({ contract: true, n: 1 });

      it('accepts a correctly signed delivery', () => {
        expect(verification.verify(verification.sign(body, now), now)).toBe(true);
      });

      it('refuses a forged body (when signed), a forged signature and a missing signature', () => {
        const signed = verification.sign(body, now);
        if (verification.signsBody !== false) {
          expect(verification.verify({ ...signed, body: body.replace('1', '2') }, now)).toBe(false);
        }
        const forgedHeaders = Object.fromEntries(
          Object.entries(signed.headers).map(([k, v]) => [k, v.length > 8 ? `${v.slice(0, -4)}0000` : v]),
        );
        expect(verification.verify({ headers: forgedHeaders, body }, now)).toBe(false);
        expect(verification.verify({ headers: {}, body }, now)).toBe(false);
      });

      if (verification.timestamped) {
        it('refuses replays outside the 300 s window, in both directions', () => {
          const signed = verification.sign(body, now);
          expect(verification.verify(signed, now + 300_000)).toBe(true);
          expect(verification.verify(signed, now + 301_000)).toBe(false);
          expect(verification.verify(signed, now - 301_000)).toBe(false);
        });
      }
    }
  });
}
