/**
 * The agent worker through the whole stack with the real openai SDK against a stand-in: a tool
 * call round trip, a 429 retried to success, a permanent error answered with an apology, and the
 * step limit. Each case checks what the person finally receives, and that it arrives once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../support/stack.ts';
import { countRows, waitUntil } from '../support/wait.ts';
import { getReplyToEvent } from '../../src/store/messages.ts';
import { readableText } from '../../src/pipeline/protect-text.ts';
import { startOpenAiStandin, openAiError, openAiText, openAiToolCalls, type OpenAiStandin } from '../standins/llm-openai.ts';

let stack: Stack;
let standin: OpenAiStandin;
let user: { userId: string; tenantId: string; displayName: string };

beforeAll(async () => {
  standin = await startOpenAiStandin();
  stack = await startStack({
    env: {
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: standin.baseURL,
      LLM_MODEL: 'standin',
      AGENT_MAX_STEPS: '3',
      JOB_ATTEMPTS: '3',
    },
  });
  const { id } = await stack.createUser({ email: 'agent@example.test', password: 'long enough password' });
  user = { userId: id, tenantId: stack.tenantId, displayName: 'agent' };
});
afterAll(async () => {
  await stack?.stop();
  await standin?.close();
});

async function ask(text: string): Promise<{ eventId: string; reply: string; status: string }> {
  const { db, webchat, vault } = stack.switchboard.services;
  const receipt = await webchat.submit(user, { clientMessageId: randomUUID(), text });
  await waitUntil(
    () => countRows(db, `SELECT count(*) AS n FROM inbound_events WHERE id = $1 AND status IN ('answered', 'failed')`, [receipt.eventId]),
    (n) => n === 1,
    { what: 'the event to close' },
  );
  const reply = await getReplyToEvent(db, receipt.eventId);
  const status = await db.query<{ status: string }>('SELECT status FROM inbound_events WHERE id = $1', [receipt.eventId]);
  return {
    eventId: receipt.eventId,
    reply: reply ? readableText(vault, reply, 'original') : '',
    status: status.rows[0]?.status ?? '',
  };
}

describe('agent loop', () => {
  it('runs a tool call round trip and answers with the final text', async () => {
    const before = standin.chatRequests().length;
    standin.reply(
      openAiToolCalls([{ id: 'call_1', name: 'current_time', arguments: { timeZone: 'Europe/Paris' } }]),
      openAiText('It is tea time in Paris.'),
    );
    const result = await ask('What time is it in Paris? Mail me at paris@example.com');
    expect(result).toMatchObject({ status: 'answered', reply: 'It is tea time in Paris.' });
    const bodies = standin.chatBodies().slice(before);
    expect(bodies).toHaveLength(2);
    // The model saw the redacted text, the tool spec, and then the tool's result.
    expect(JSON.stringify(bodies[0]?.messages)).toContain('[EMAIL_ADDRESS]');
    expect(JSON.stringify(bodies[0]?.messages)).not.toContain('paris@example.com');
    expect(JSON.stringify(bodies[0]?.tools)).toContain('current_time');
    const toolMessage = bodies[1]?.messages?.find((m) => m['role'] === 'tool');
    expect(toolMessage).toMatchObject({ tool_call_id: 'call_1' });
    expect(String(toolMessage?.['content'])).toContain('Europe/Paris');
  });

  it('retries a rate-limited model call and answers once', async () => {
    standin.reply(openAiError(429, { headers: { 'retry-after-ms': '50' } }), openAiText('Back after the limit.'));
    const result = await ask('Hello after a 429');
    expect(result).toMatchObject({ status: 'answered', reply: 'Back after the limit.' });
    expect(await countRows(stack.switchboard.services.db, 'SELECT count(*) AS n FROM messages WHERE reply_to_event_id = $1', [result.eventId])).toBe(1);
  });

  it('answers a permanent model error with an apology instead of silence', async () => {
    standin.reply(openAiError(400, { message: 'context too long' }));
    const result = await ask('This one breaks the model');
    expect(result.status).toBe('failed');
    expect(result.reply).toContain('llm_bad_request');
  });

  it('stops at the step limit', async () => {
    const call = () => openAiToolCalls([{ name: 'current_time', arguments: {} }]);
    standin.reply(call(), call(), call());
    const result = await ask('Loop forever');
    expect(result.status).toBe('failed');
    expect(result.reply).toContain('agent_step_limit');
  });

  it('feeds invalid tool arguments back to the model as an error, not a crash', async () => {
    const before = standin.chatRequests().length;
    standin.reply(
      openAiToolCalls([{ id: 'call_bad', name: 'current_time', arguments: { timeZone: 42, extra: true } }]),
      openAiText('Sorry, let me try that differently.'),
    );
    const result = await ask('Break the tool');
    expect(result.status).toBe('answered');
    const toolMessage = standin.chatBodies().slice(before)[1]?.messages?.find((m) => m['role'] === 'tool');
    expect(String(toolMessage?.['content'])).toMatch(/^Error: invalid arguments for current_time/);
  });
});
