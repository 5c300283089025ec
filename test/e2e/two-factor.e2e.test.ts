/**
 * Two-factor sign-in end to end in a real browser (Debian chromium via playwright-core) against the
 * whole product in-process: enrolment from the Account security panel (QR code, setup key,
 * confirmation, recovery codes shown once), the code step at sign-in, a reload kept by the refresh
 * cookie, a recovery-code sign-in on a second device, "sign out everywhere" reaching that device,
 * and the enrolment a workspace requires at sign-in. The tests run in order and build on each other.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../support/stack.ts';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { setRequired2faRoles } from '../../src/store/totp.ts';
import { launchBrowser, observePage, type PageObservations } from './browser.ts';

type Stack = Awaited<ReturnType<typeof startStack>>;

const EMAIL = 'grace.2fa@example.test';
const OWNER_EMAIL = 'owner.2fa@example.test';
const PASSWORD = 'correct horse battery staple 42';
const UI_TIMEOUT_MS = 10_000;
const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

describe('two-factor sign-in in a real browser', { timeout: 60_000 }, () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let second: BrowserContext | undefined;
  let page: Page;
  let phone: Page;
  let seen: PageObservations;
  let seenPhone: PageObservations;
  let secret = '';
  let recoveryCodes: string[] = [];

  const base = (): string => {
    if (!stack) throw new Error('stack did not start');
    return stack.baseUrl;
  };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
    await stack.createUser({ email: EMAIL, password: PASSWORD, displayName: 'Grace' });
    await stack.createUser({ email: OWNER_EMAIL, password: PASSWORD, role: 'owner', displayName: 'Olive' });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    seen = observePage(page);
    second = await browser.newContext({ viewport: { width: 420, height: 860 }, colorScheme: 'dark' });
    phone = await second.newPage();
    phone.setDefaultTimeout(UI_TIMEOUT_MS);
    seenPhone = observePage(phone);
  });

  afterAll(async () => {
    await context?.close();
    await second?.close();
    await browser?.close();
    await stack?.stop();
  });

  async function signInWithPassword(p: Page, email: string): Promise<void> {
    await p.locator('#login-form').waitFor();
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  it('signs in with a password and opens Account security: 2FA off, this device listed', async () => {
    await page.goto(`${base()}/`);
    await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
    await signInWithPassword(page, EMAIL);
    await page.locator('#connection-status[data-state="online"]').waitFor();
    await page.getByRole('button', { name: 'Account security' }).click();
    await page.locator('#security-view').waitFor();
    await page.locator('#tfa-status[data-state="off"]').waitFor();
    await page.locator('#sessions-list .session-item[data-current="true"]').waitFor();
    expect(await page.locator('#sessions-list .session-badge').textContent()).toBe('This device');
  });

  it('enrols: shows a QR code and the setup key, confirms a code, and shows 10 recovery codes once', async () => {
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = page.locator('#tfa-qr');
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    // The browser decoded it: an image with a width (string form: this file is not compiled with the DOM types).
    await expect.poll(() => page.evaluate<number>("document.querySelector('#tfa-qr').naturalWidth")).toBeGreaterThan(0);

    await page.getByText("Can't scan it? Enter the setup key by hand").click();
    const uri = (await page.locator('#tfa-uri').textContent()) ?? '';
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe('otpauth:');
    expect(decodeURIComponent(parsed.pathname)).toBe(`/Switchboard:${EMAIL}`);
    secret = parsed.searchParams.get('secret') ?? '';
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOT_DIR}two-factor-enrol.png`, fullPage: true });
    expect((await page.locator('#tfa-secret').textContent())?.replaceAll(' ', '')).toBe(secret);

    // A wrong code first: refused, nothing turned on.
    await page.getByLabel('Code from the app', { exact: true }).fill('000000' === (await totpCodeAt(secret, Date.now())) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(async () => (await page.locator('#tfa-error').textContent()) ?? '').toContain('did not work');

    await page.getByLabel('Code from the app', { exact: true }).fill(await totpCodeAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const list = page.locator('#tfa-recovery-list li');
    await page.locator('#tfa-recovery').waitFor();
    expect(await list.count()).toBe(10);
    recoveryCodes = await list.allTextContents();
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{6}(-[0-9a-z]{6}){3}$/);
    // The setup key is gone from the page once confirmed.
    expect(await page.locator('#tfa-uri').textContent()).toBe('');

    await page.screenshot({ path: `${SCREENSHOT_DIR}two-factor-recovery-codes.png`, fullPage: true });

    await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await expect.poll(async () => (await page.locator('#tfa-status').textContent()) ?? '').toContain('10 recovery codes left');
    expect(await page.locator('#tfa-status').getAttribute('data-state')).toBe('on');
    expect(await page.locator('#tfa-recovery-list li').count()).toBe(0);
  });

  it('signs out, and signing in again asks for a code: a wrong one is refused, the right one signs in', async () => {
    await page.getByRole('button', { name: 'Back to chat' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login-notice').waitFor();
    expect(await page.locator('#login-notice').textContent()).toContain('signed out');

    await signInWithPassword(page, EMAIL);
    await page.locator('#mfa-form').waitFor();
    expect(await page.locator('#login-form').isHidden()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOT_DIR}two-factor-code-step.png` });
    await page.getByLabel('Authentication code').fill('12345x');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await page.locator('#mfa-error').textContent()) ?? '').toContain('did not work');

    // The step after the confirmation's (codes work once; ±1 step of drift is accepted).
    await page.getByLabel('Authentication code').fill(await totpCodeAt(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#connection-status[data-state="online"]').waitFor();
  });

  it('keeps the session across a reload through the HttpOnly refresh cookie, invisible to scripts', async () => {
    const sockets = seen.webSockets.length;
    await page.reload();
    await page.locator('#connection-status[data-state="online"]').waitFor();
    expect(await page.locator('#login-view').isHidden()).toBe(true);
    expect(seen.webSockets.length).toBe(sockets + 1);
    expect(await page.evaluate<string>('document.cookie')).toBe('');
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    const cookies = await context?.cookies();
    expect(cookies?.map((c) => ({ name: c.name, path: c.path, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }))).toEqual([
      { name: '__Secure-sb_refresh', path: '/api/v1/auth', httpOnly: true, secure: true, sameSite: 'Strict' },
    ]);
  });

  it('two tabs reloading at the same moment share the cookie without tripping reuse detection', async () => {
    if (!stack || !context) throw new Error('stack did not start');
    const tab = await context.newPage();
    tab.setDefaultTimeout(UI_TIMEOUT_MS);
    try {
      await tab.goto(`${base()}/`);
      await tab.locator('#connection-status[data-state="online"]').waitFor();
      // Both tabs spend the same cookie at once; the Web Lock makes them take turns.
      await Promise.all([page.reload(), tab.reload()]);
      await page.locator('#connection-status[data-state="online"]').waitFor();
      await tab.locator('#connection-status[data-state="online"]').waitFor();
      const reuse = await stack.switchboard.services.db.query("SELECT 1 FROM audit_log WHERE action = 'auth.refresh_reuse'");
      expect(reuse.rowCount).toBe(0);
    } finally {
      await tab.close();
    }
  });

  it('signs in on a second device with a recovery code', async () => {
    await phone.goto(`${base()}/`);
    await phone.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
    await signInWithPassword(phone, EMAIL);
    await phone.locator('#mfa-form').waitFor();
    await phone.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await phone.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes[0] ?? '');
    await phone.getByRole('button', { name: 'Verify' }).click();
    await phone.locator('#connection-status[data-state="online"]').waitFor();
  });

  it('"Sign out everywhere" ends both devices: the other one is sent back to sign-in by its socket', async () => {
    await page.getByRole('button', { name: 'Account security' }).click();
    await expect.poll(() => page.locator('#sessions-list .session-item').count()).toBe(2);
    await page.screenshot({ path: `${SCREENSHOT_DIR}two-factor-account-security.png`, fullPage: true });
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.locator('#login-notice').waitFor();
    expect(await page.locator('#login-notice').textContent()).toContain('signed out everywhere');

    // The phone's socket was closed with 4001; its refresh is refused, so it shows the sign-in form.
    await phone.locator('#login-form').waitFor();
    expect(await phone.locator('#login-notice').textContent()).toContain('session has ended');
    expect(seenPhone.closedWebSockets.length).toBeGreaterThanOrEqual(1);

    // A reload no longer resumes anything.
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor({ state: 'attached' });
    await page.locator('#login-form').waitFor();
  });

  it('a used recovery code is refused', async () => {
    await signInWithPassword(phone, EMAIL);
    await phone.locator('#mfa-form').waitFor();
    await phone.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await phone.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes[0] ?? '');
    await phone.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await phone.locator('#mfa-error').textContent()) ?? '').toContain('did not work');
    expect(await phone.locator('#chat-view').isHidden()).toBe(true);
  });

  it('when the workspace requires 2FA for owners, an owner without it enrols during sign-in and lands in the chat', async () => {
    if (!stack) throw new Error('stack did not start');
    await setRequired2faRoles(stack.switchboard.services.db, stack.tenantId, ['owner']);
    await page.getByLabel('Email').fill('');
    await signInWithPassword(page, OWNER_EMAIL);
    await page.locator('#security-view').waitFor();
    expect(await page.locator('#security-title').textContent()).toBe('Set up two-factor sign-in');
    expect(await page.locator('#security-notice').textContent()).toContain('requires two-factor sign-in');
    expect(await page.locator('#sessions-section').isHidden()).toBe(true);
    await page.locator('#tfa-qr[src^="data:image/svg+xml"]').waitFor();
    await page.getByText("Can't scan it? Enter the setup key by hand").click();
    const ownerSecret = new URL((await page.locator('#tfa-uri').textContent()) ?? '').searchParams.get('secret') ?? '';
    await page.getByLabel('Code from the app', { exact: true }).fill(await totpCodeAt(ownerSecret, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#tfa-recovery').waitFor();
    expect(await page.locator('#tfa-recovery-list li').count()).toBe(10);
    await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await page.locator('#connection-status[data-state="online"]').waitFor();
    expect(await page.locator('#user-name').textContent()).toBe('Olive');

    // Required: the panel does not offer to turn it off.
    await page.getByRole('button', { name: 'Account security' }).click();
    await page.locator('#tfa-status[data-state="on"]').waitFor();
    expect(await page.locator('#tfa-disable-form').isHidden()).toBe(true);
  });

  it('ran without CSP violations, page errors or dialogs', () => {
    expect(seen.cspViolations).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    expect(seenPhone.cspViolations).toEqual([]);
    expect(seenPhone.pageErrors).toEqual([]);
  });
});
