/**
 * The web chat end to end, in a real browser (Debian chromium via playwright-core) against the
 * whole product started in-process (API + workers, real Postgres and Redis, offline LLM provider).
 *
 * The tests in this file run in order on one page and build on each other: sign-in failure, sign-in,
 * PII redaction, hostile markup, an over-long message, a reload, sign-out. No fixed sleeps: every wait is for
 * something on the page.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../support/stack.ts';
import { launchBrowser, observePage, type PageObservations } from './browser.ts';

type Stack = Awaited<ReturnType<typeof startStack>>;

const EMAIL = 'ada.e2e@example.test';
const PASSWORD = 'correct horse battery staple 42';
const PII_TEXT = 'my email is alice@example.com and my card is 4111 1111 1111 1111';
const HOSTILE_TEXT = '<img src=x onerror=alert(1)>';
/** The agent (a worker behind a queue) gets this long to answer. */
const REPLY_TIMEOUT_MS = 15_000;
/** Anything the page shows without a round trip through the agent. */
const UI_TIMEOUT_MS = 10_000;
const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

describe('web chat in a real browser', { timeout: 60_000 }, () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let seen: PageObservations;

  const messages = (): Locator => page.locator('#messages');
  const agentMessages = (): Locator => page.locator('#messages [data-role="agent"]');
  const base = (): string => {
    if (!stack) throw new Error('stack did not start');
    return stack.baseUrl;
  };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    await stack.createUser({ email: EMAIL, password: PASSWORD });
    context = await browser.newContext({ viewport: { width: 1100, height: 850 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    seen = observePage(page);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.stop();
  });

  /** Types a message, sends it with Enter, and returns its bubble (located by its client id). */
  async function send(text: string): Promise<Locator> {
    const input = page.locator('#composer-input');
    await input.fill(text);
    await input.press('Enter');
    const clientId = await page.locator('#messages [data-role="user"]').last().getAttribute('data-client-id');
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    return page.locator(`#messages [data-role="user"][data-client-id="${clientId}"]`);
  }

  /** Sends a message, waits for its ack and for the agent's next reply; returns both bubbles. */
  async function exchange(text: string): Promise<{ mine: Locator; reply: Locator }> {
    const repliesBefore = await agentMessages().count();
    const mine = await send(text);
    await mine.and(page.locator('[data-state="sent"][data-message-id]')).waitFor({ timeout: UI_TIMEOUT_MS });
    await expect.poll(() => agentMessages().count(), { timeout: REPLY_TIMEOUT_MS }).toBeGreaterThan(repliesBefore);
    return { mine, reply: agentMessages().nth(repliesBefore) };
  }

  it('serves the page under a strict Content-Security-Policy', async () => {
    const response = await page.goto(`${base()}/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    // The module ran (it marks <html> when wired) and shows the sign-in form.
    await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('shows an error for a wrong password and stays on the sign-in form', async () => {
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('#login-error[role="alert"]');
    await expect.poll(async () => (await alert.textContent())?.trim() ?? '').not.toBe('');
    expect(await page.locator('#chat-view').isHidden()).toBe(true);
    expect(await page.getByLabel('Password').inputValue()).toBe('');
  });

  it('signs in and connects the socket', async () => {
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection-status[data-state="online"]').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await page.locator('#login-view').isHidden()).toBe(true);
    expect(seen.webSockets).toEqual(['/ws']);
    // The access token lives only in memory (the refresh token in an HttpOnly cookie).
    const stored = await page.evaluate(() => localStorage.length + sessionStorage.length);
    expect(stored).toBe(0);
  });

  it('shows the redacted text, the PII note and an agent reply that only saw placeholders', async () => {
    const { mine, reply } = await exchange(PII_TEXT);

    const replyText = (await reply.locator('.msg-text').textContent()) ?? '';
    const reflects = 'the offline agent reflects the (redacted) message it answered';
    expect(replyText, reflects).toContain('[EMAIL_ADDRESS]');
    expect(replyText, reflects).toContain('[CREDIT_CARD]');
    expect(replyText).not.toContain('alice@example.com');
    expect(replyText).not.toContain('4111');

    const note = mine.locator('.msg-note');
    await note.waitFor();
    const noteText = (await note.textContent()) ?? '';
    expect(noteText).toMatch(/redacted/i);
    expect(noteText).toContain('EMAIL_ADDRESS');
    expect(noteText).toContain('CREDIT_CARD');

    // The user's own bubble shows the text as stored, so the raw values are nowhere on the page.
    const logText = (await messages().textContent()) ?? '';
    expect(logText).not.toContain('alice@example.com');
    expect(logText).not.toContain('4111 1111 1111 1111');

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOT_DIR}webchat.png`, fullPage: true });
  });

  it('renders hostile markup as literal text, in both bubbles, and runs none of it', async () => {
    const { mine, reply } = await exchange(HOSTILE_TEXT);

    expect(await mine.locator('.msg-text').textContent()).toBe(HOSTILE_TEXT);
    expect(await reply.locator('.msg-text').textContent(), 'reflected by the agent, as text').toContain(HOSTILE_TEXT);
    expect(await messages().locator('img').count()).toBe(0);
    expect(seen.dialogs).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
  });

  it('refuses an over-long message with message_too_long and keeps the same socket working', async () => {
    const tooLong = 'a'.repeat(10_001);
    const input = page.locator('#composer-input');
    await input.fill(tooLong);
    await page.locator('#composer-count[data-state="over"]').waitFor();
    await page.getByRole('button', { name: 'Send' }).click();

    const error = page.locator('#composer-error[data-error-code="message_too_long"]');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(((await error.textContent()) ?? '').trim()).not.toBe('');
    // The refused text goes back into the composer for editing; no bubble stays pending.
    expect((await input.inputValue()).length).toBe(10_001);
    expect(await page.locator('#messages [data-state="pending"]').count()).toBe(0);

    const { reply } = await exchange('still here after the refusal');
    expect(await reply.locator('.msg-text').textContent(), 'the reply answers the new message').toContain(
      'still here after the refusal',
    );
    expect(await error.count()).toBe(0); // cleared by the next send
    expect(await page.locator('#connection-status').getAttribute('data-state')).toBe('online');
    expect(seen.webSockets).toEqual(['/ws']); // never reconnected
  });

  it('keeps the session across a reload (the HttpOnly refresh cookie) and shows the history again', async () => {
    await page.reload();
    await page.locator('#connection-status[data-state="online"]').waitFor();
    expect(await page.locator('#login-view').isHidden()).toBe(true);
    await expect.poll(() => messages().locator('article').count()).toBeGreaterThan(0);
    expect(seen.webSockets).toEqual(['/ws', '/ws']);
    // Nothing readable by scripts: the cookie is HttpOnly, the access token only in memory.
    expect(await page.evaluate<string>('document.cookie + String(localStorage.length + sessionStorage.length)')).toBe('0');
  });

  it('signs out: ends the session on the server, closes the socket and clears the conversation', async () => {
    const closedBefore = seen.closedWebSockets.length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.locator('#chat-view').isHidden()).toBe(true);
    expect(await messages().locator('article').count()).toBe(0);
    await expect.poll(() => seen.closedWebSockets.length).toBe(closedBefore + 1);
    // The server ended the session too: a reload does not sign the page back in.
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.locator('#chat-view').isHidden()).toBe(true);
  });

  it('ran without CSP violations, page errors or dialogs', () => {
    expect(seen.cspViolations).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });
});
