/** Time and randomness, injected so expiry, retention and rate limits are testable. */
import { randomUUID } from 'node:crypto';

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can move by hand. */
export function createManualClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}

/** A source of unique ids. */
export type IdSource = () => string;

/** Random UUID v4 ids. */
export const randomIds: IdSource = () => randomUUID();
