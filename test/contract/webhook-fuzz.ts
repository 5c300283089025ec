/**
 * Malformed-delivery fuzzing for a webhook endpoint: fast-check JSON, byte mutations and
 * truncations of real fixtures, wrong types — half of them correctly signed so the parser behind
 * the signature check is exercised too. None may produce a 5xx, and nothing may be stored.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

/** What fuzzing one endpoint needs. */
export interface WebhookFuzzOptions {
  readonly url: string;
  /** Real payloads (raw bodies) to mutate. */
  readonly fixtures: readonly string[];
  /** Headers that make a body correctly signed (or carry the secret) at the current time. */
  sign(body: string): Record<string, string>;
  /** Counts what a delivery could have stored (e.g. inbound events); must not change. */
  storedCount(): Promise<number>;
  readonly count?: number;
  readonly contentType?: string;
  /** Deliveries sent at once. */
  readonly concurrency?: number;
}

function mutate(fixture: string, seed: number): string {
  const rng = fc.sample(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { numRuns: 8, seed });
  const bytes = Buffer.from(fixture);
  switch (seed % 6) {
    case 0: // flip a few bytes
      for (const r of rng.slice(0, 3)) bytes[r % Math.max(1, bytes.length)] = r & 0xff;
      return bytes.toString('latin1');
    case 1: // truncate
      return fixture.slice(0, (rng[0] ?? 0) % Math.max(1, fixture.length));
    case 2: // replace a value with a hostile one
      return fixture.replace(/"[^"]*"/, JSON.stringify(['{'.repeat(50), -1e308, null, '\u0000'][(rng[0] ?? 0) % 4]));
    case 3: // deep nesting
      return `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    case 4: // duplicated keys and wrong types
      return fixture.replace(/^\{/, '{"type":7,"update_id":"x","event":[],');
    default: // binary noise
      return Buffer.from(rng.map((r) => r & 0xff)).toString('latin1');
  }
}

/** Sends `count` malformed deliveries (default 1,000) and asserts no 5xx and nothing stored. */
export async function fuzzWebhook(options: WebhookFuzzOptions): Promise<{ statuses: Record<string, number> }> {
  const count = options.count ?? 1_000;
  const generated = fc.sample(fc.jsonValue({ maxDepth: 5 }), { numRuns: Math.ceil(count / 2), seed: 7 }).map((v) => JSON.stringify(v) ?? 'null');
  const bodies: string[] = [];
  for (let i = 0; bodies.length < count; i += 1) {
    // Odd deliveries are mutations; (i - 1) / 2 walks every fixture and every mutation kind in turn.
    const n = (i - 1) / 2;
    const fixture = options.fixtures[Math.floor(n) % Math.max(1, options.fixtures.length)] ?? '{}';
    bodies.push(i % 2 === 0 ? (generated[i / 2] ?? '{}') : mutate(fixture, n));
  }
  const before = await options.storedCount();
  const statuses: Record<string, number> = {};
  const concurrency = options.concurrency ?? 16;
  for (let start = 0; start < bodies.length; start += concurrency) {
    await Promise.all(
      bodies.slice(start, start + concurrency).map(async (body, offset) => {
        const signed = (start + offset) % 4 !== 3;
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': options.contentType ?? 'application/json', ...(signed ? options.sign(body) : {}) },
          body,
        });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }),
    );
  }
  const serverErrors = Object.entries(statuses).filter(([status]) => Number(status) >= 500);
  expect(serverErrors, `statuses: ${JSON.stringify(statuses)}`).toEqual([]);
  expect(await options.storedCount()).toBe(before);
  return { statuses };
}
