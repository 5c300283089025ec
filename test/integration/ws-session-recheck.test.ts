/**
 * Sockets re-check their session on every heartbeat: a session revoked in Postgres whose bus
 * event never arrived (lost publish, Redis blip) still closes its sockets with 4001.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { openWebchat } from '../../src/cli/webchat-client.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { WS_HEARTBEAT_MS: '1000' } });
});
afterAll(async () => {
  await stack?.stop();
});

it('closes a socket with 4001 after its session is revoked without any notification', async () => {
  const { id } = await stack.createUser({ email: 'recheck@example.test', password: 'long enough password' });
  const client = await openWebchat(stack.baseUrl, 'recheck@example.test', 'long enough password');
  const other = await openWebchat(stack.baseUrl, 'recheck@example.test', 'long enough password');
  // Revoke only the first socket's session, straight in the database: no bus event is published.
  const sessions = await stack.switchboard.services.db.query<{ id: string }>(
    'SELECT id FROM sessions WHERE user_id = $1 ORDER BY created_at LIMIT 1',
    [id],
  );
  await stack.switchboard.services.db.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'admin' WHERE id = $1`, [sessions.rows[0]!.id]);
  const started = Date.now();
  expect(await client.closed()).toBe(4001);
  expect(Date.now() - started).toBeLessThan(5_000);
  // The other session's socket stays open and working.
  const sent = other.send('still here');
  await other.waitFor((f) => f.type === 'ack' && f.id === sent);
  other.close();
});
