/**
 * A real browser for end-to-end tests: Debian's chromium driven by playwright-core.
 * Never run `npx playwright install` (it downloads a browser; this machine is offline).
 * Notes: /shared/notes/sdk-testability.md §8.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * `--no-sandbox` because tests run as root; the rest keep Chromium from reaching out to a closed
 * network (component updates, sync, QUIC probes, background fetches).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Debian chromium. Close it with `browser.close()`. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No browser at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
}

/** What a page did that a test may want to assert on. */
export interface PageObservations {
  /** Messages of alert/confirm/prompt dialogs (each one is dismissed). */
  readonly dialogs: string[];
  /** Uncaught exceptions in the page. */
  readonly pageErrors: string[];
  /** Console reports of Content-Security-Policy violations (inline script/style, foreign origins…). */
  readonly cspViolations: string[];
  /** Every console message of type error, for diagnostics. */
  readonly consoleErrors: string[];
  /** URLs of WebSockets the page opened, in order. */
  readonly webSockets: string[];
  /** Close events of those sockets, in order. */
  readonly closedWebSockets: string[];
}

/** Starts recording dialogs, page errors, CSP violations and WebSockets of a page. */
export function observePage(page: Page): PageObservations {
  const seen: PageObservations = {
    dialogs: [],
    pageErrors: [],
    cspViolations: [],
    consoleErrors: [],
    webSockets: [],
    closedWebSockets: [],
  };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (err) => seen.pageErrors.push(err.message));
  page.on('console', (message) => {
    const text = message.text();
    if (/Content[ -]Security[ -]Policy/i.test(text)) seen.cspViolations.push(text);
    if (message.type() === 'error') seen.consoleErrors.push(text);
  });
  page.on('websocket', (ws) => {
    // The URL carries a one-time ticket: keep only the path so nothing secret-looking is printed.
    const where = new URL(ws.url()).pathname;
    seen.webSockets.push(where);
    ws.on('close', () => seen.closedWebSockets.push(where));
  });
  return seen;
}
