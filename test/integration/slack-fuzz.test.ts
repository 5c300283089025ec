/**
 * 1,000 malformed deliveries to /webhooks/slack/events (fast-check JSON, byte flips, truncations,
 * hostile values, deep nesting, wrong types; three in four correctly signed): no 5xx, nothing
 * stored. The real fixtures are delivered first, so a mutation that still forms a valid event
 * (same event_id) is a replay and must dedupe rather than store.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { fuzzWebhook } from '../contract/webhook-fuzz.ts';
import { slackAdapterFactory } from '../../adapters/slack/index.ts';
import { slackSignedHeaders, startSlackStandin, type SlackStandin } from '../standins/slack.ts';
import { dmEvent, eventCallback, mentionEvent, SLACK_BOT_ID, SLACK_BOT_USER, SLACK_TEAM } from '../standins/slack-fixtures.ts';

const SECRET = 'fuzz-signing-secret';
let standin: SlackStandin;
let stack: Stack;

beforeAll(async () => {
  standin = await startSlackStandin();
  standin.addBot({ token: 'xoxb-fuzz-token', teamId: SLACK_TEAM, teamName: 'Fuzz', botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID });
  stack = await startStack({
    adapterFactories: [slackAdapterFactory],
    env: { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-fuzz-token', SLACK_API_URL: standin.apiUrl, SLACK_API_RETRIES: '0' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

it('survives 1,000 malformed Events API deliveries without a 5xx and stores nothing', async () => {
  const url = `${stack.baseUrl}/webhooks/slack/events`;
  const storedCount = () => countRows(stack.switchboard.services.db, 'SELECT count(*) AS n FROM inbound_events');
  // Fixed ids, so the (seeded) mutations are the same on every run.
  const fixed = (n: number) => ({ ts: `1763812800.00010${n}`, event_ts: `1763812800.00010${n}`, channel: n === 2 ? 'C0FUZZ0002' : `D0FUZZ000${n}` });
  const fixtures = [
    JSON.stringify(eventCallback(dmEvent(fixed(1)), { eventId: 'Ev0FUZZ00001' })),
    JSON.stringify(eventCallback(mentionEvent({ ...fixed(2), thread_ts: '1700000000.000100' }), { eventId: 'Ev0FUZZ00002' })),
    JSON.stringify(
      eventCallback(dmEvent({ ...fixed(3), subtype: 'file_share', files: [{ id: 'F0FILE0001', name: 'a.pdf', mimetype: 'application/pdf', size: 10 }] }), {
        eventId: 'Ev0FUZZ00003',
      }),
    ),
    JSON.stringify({ token: 'x', challenge: 'abc', type: 'url_verification' }),
  ];
  // The real deliveries first: three messages stored.
  for (const body of fixtures) {
    const response = await fetch(url, { method: 'POST', headers: slackSignedHeaders(SECRET, body), body });
    expect(response.status).toBe(200);
  }
  await waitUntil(storedCount, (n) => n === 3, { what: 'the fixtures stored' });

  const { statuses } = await fuzzWebhook({ url, fixtures, sign: (body) => slackSignedHeaders(SECRET, body), storedCount });
  // Unsigned ones are refused; signed garbage is refused or acknowledged, never a server error.
  console.log('slack fuzz statuses', JSON.stringify(statuses));
  expect(statuses['401']).toBeGreaterThanOrEqual(250);
  expect(Object.keys(statuses).every((s) => ['200', '400', '401', '413'].includes(s))).toBe(true);
}, 60_000);
