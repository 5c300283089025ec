/** Opaque page cursors for lists ordered by (created_at, id): base64url of the last row's pair. */
import { z } from 'zod';
import { SwitchboardError } from '../core/errors.ts';

const CursorSchema = z.tuple([z.iso.datetime(), z.uuid()]);

/** The position after which the next page starts. */
export interface TimeCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Encodes the last row of a page. */
export function encodeTimeCursor(last: TimeCursor): string {
  return Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString('base64url');
}

/** Decodes a cursor this API issued; anything else is `validation_failed`. */
export function decodeTimeCursor(raw: string): TimeCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = CursorSchema.safeParse(value);
  if (!parsed.success) {
    throw new SwitchboardError('validation_failed', 'Query failed validation', { issues: [{ path: 'cursor', message: 'invalid cursor' }] });
  }
  return { createdAt: new Date(parsed.data[0]), id: parsed.data[1] };
}

/** The cursor for the next page when the query fetched one row more than `limit`. */
export function nextTimeCursor(rows: readonly TimeCursor[], limit: number): string | null {
  const last = rows.slice(0, limit).at(-1);
  return rows.length > limit && last ? encodeTimeCursor(last) : null;
}
