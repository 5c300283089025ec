/**
 * `switchboard demo`: a scripted conversation through the real web chat path (HTTP sign-in,
 * one-time ticket, WebSocket, ingest, queue, agent, outbox, socket delivery) in one process.
 * It prints, for each message, what the person sent, what was stored, what the LLM saw and the reply.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../core/logger.ts';
import { createSwitchboard } from '../main.ts';
import { createLlmProvider, createRecordingProvider } from '../llm/index.ts';
import { hashPassword } from '../auth/passwords.ts';
import { insertUser } from '../store/users.ts';
import { getMessage } from '../store/messages.ts';
import { openWebchat } from './webchat-client.ts';
import type { LlmMessage } from '../core/ports.ts';

/** The scripted messages. */
export const DEMO_SCRIPT: readonly string[] = [
  'Hello! What can you do for me?',
  'My email is alice@example.com and my card is 4111 1111 1111 1111. Can you update my billing?',
  'Call me on +1 (212) 555-0123; my SSN is 078-05-1126 and I logged in from 203.0.113.7.',
  '<img src=x onerror=alert(1)> is stored and shown as plain text.',
];

function demoDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = `${parsed.pathname.replace(/\/$/, '')}_demo`;
  return parsed.toString();
}

function lastUserContent(messages: readonly LlmMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m?.role === 'user') return m.content;
  }
  return '(none)';
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Runs the demo; exits non-zero if any step fails. */
export async function runDemo(): Promise<void> {
  const base = loadConfig();
  // Its own database and queue prefix, so the demo never touches real data.
  const config = loadConfig({
    env: {
      ...process.env,
      DATABASE_URL: demoDatabaseUrl(base.DATABASE_URL),
      QUEUE_PREFIX: '{switchboard-demo}',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
      DEV_BOOTSTRAP_OWNER: 'false',
    },
  });
  const llm = createRecordingProvider(createLlmProvider(config));
  const switchboard = await createSwitchboard({
    config,
    role: 'all',
    llm,
    log: createLogger({ level: config.LOG_LEVEL, destination: process.stderr }),
  });
  const { url, tenantId } = await switchboard.start();
  const { db } = switchboard.services;
  try {
    const email = `demo-${randomBytes(4).toString('hex')}@switchboard.local`;
    const password = randomBytes(18).toString('base64url');
    await insertUser(db, { tenantId, email, displayName: 'Demo user', role: 'member', passwordHash: await hashPassword(password) });
    const client = await openWebchat(url, email, password);

    out(`Switchboard demo — ${url} — LLM: ${llm.name} (${llm.model})`);
    const seenReplies = new Set<string>();
    out(`Signed in as ${email}; conversation ${client.conversationId}`);
    for (const [index, text] of DEMO_SCRIPT.entries()) {
      const id = client.send(text);
      const ack = await client.waitFor((f) => f.type === 'ack' && f.id === id);
      if (ack.type !== 'ack') throw new Error('unexpected frame');
      const reply = await client.waitFor(
        (f) => f.type === 'message' && f.message.role === 'agent' && !seenReplies.has(f.message.id),
        30_000,
      );
      if (reply.type !== 'message') throw new Error('unexpected frame');
      seenReplies.add(reply.message.id);
      const stored = await getMessage(db, ack.messageId);
      const call = llm.calls.at(-1);
      out();
      out(`── ${index + 1}. person → Switchboard`);
      out(`   sent:      ${JSON.stringify(text)}`);
      out(`   stored:    ${JSON.stringify(stored?.textRedacted)}`);
      out(
        `   PII:       ${ack.stored.piiTypes.length === 0 ? 'none' : ack.stored.piiTypes.join(', ')}${
          stored?.originalSealed ? ` — original sealed with AES-256-GCM (${stored.originalSealed.length} bytes, key ${switchboard.services.vault.keyIdOf(stored.originalSealed)})` : ''
        }`,
      );
      out(`   LLM saw:   ${JSON.stringify(call ? lastUserContent(call.request.messages) : '(no call)')}`);
      out(`   LLM input: ${call ? `${call.request.messages.length} context messages, ${call.request.tools.length} tool(s) offered` : 'none'}`);
      out('   reply:');
      for (const line of reply.message.text.split('\n')) out(`     │ ${line}`);
    }
    out();
    out('Every message above went through ingest (sanitize → PII scan → Postgres) and BullMQ, was');
    out('answered once by the agent worker, and came back through the outbox and the web chat socket.');
    client.close();
  } finally {
    await switchboard.stop();
  }
}
