/**
 * Headless Chromium for e2e tests: the Debian chromium through playwright-core, a fresh profile in
 * a temporary directory (removed on close), and console errors collected so a test can assert a
 * clean page.
 *
 * ```ts
 * const ui = await openUi();                 // builds dist/ui if stale, serves it, opens the page
 * t.after(() => ui.close());
 * await ui.page.getByRole('button', { name: 'Connect' }).click();
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from './requirements.ts';
import { serveStatic, type StaticServer } from './static-server.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
export const DIST_UI = join(REPO, 'dist', 'ui');

/** The flags the project runs Chromium with (see the developers' brief). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Chromium flags besides CHROMIUM_ARGS (e.g. `--host-resolver-rules` for test names on loopback). */
  extraArgs?: string[];
}

/** Launches Chromium with a fresh profile and opens one page. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'wgweb-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      viewport: options.viewport ?? { width: 1360, height: 900 },
      colorScheme: options.colorScheme ?? 'light',
      reducedMotion: 'reduce',
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Builds dist/ui when a source is newer than the last build (same check as `npm start`). */
export async function ensureUiBuilt(): Promise<void> {
  const { buildUi } = (await import(join(REPO, 'scripts', 'build.mjs'))) as { buildUi: (o?: { force?: boolean }) => Promise<boolean> };
  await buildUi();
}

export interface UiSession extends Browser {
  readonly server: StaticServer | undefined;
  readonly url: string;
}

/**
 * Opens the built UI and waits until `window.wgweb` is ready (the worker answered).
 * @param url serve from here instead (e.g. a relay started with startRelay, which also serves dist/ui).
 */
export async function openUi(options: LaunchOptions & { url?: string } = {}): Promise<UiSession> {
  await ensureUiBuilt();
  const server = options.url ? undefined : await serveStatic(DIST_UI);
  const url = options.url ?? server!.url;
  let browser: Browser;
  try {
    browser = await launchBrowser(options);
  } catch (e) {
    await server?.close();
    throw e;
  }
  try {
    await browser.page.goto(url);
    await browser.page.waitForFunction(() => typeof window.wgweb === 'object');
    await browser.page.evaluate(() => window.wgweb.ready);
  } catch (e) {
    await browser.close();
    await server?.close();
    throw e;
  }
  return {
    ...browser,
    server,
    url,
    async close() {
      await browser.close();
      await server?.close();
    },
  };
}

/** Starts the app over as on a first visit: clears localStorage, reloads, waits for the worker. */
export async function reloadFresh(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForFunction(() => typeof window.wgweb === 'object');
  await page.evaluate(() => window.wgweb.ready);
}

/** Options of {@link pollPage}. */
export interface PollPageOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between two calls (default 200 ms). */
  intervalMs?: number;
}

/**
 * Calls `fn` in the page until it returns a truthy value, awaiting it when it is async, and
 * resolves with that value; after `timeoutMs` it fails naming `what` and the last value seen.
 *
 * Use it instead of `page.waitForFunction` for async predicates: Playwright calls the predicate
 * in the page and stops at the first truthy result without awaiting it, and a Promise is truthy,
 * so a `waitForFunction` given an `async` predicate returns after the first call whatever it says.
 * (No named functions inside `fn`: tsx's __name helper does not exist in the page.)
 */
export async function pollPage<R, A>(page: Page, what: string, fn: (arg: A) => R | Promise<R>, arg?: A, options: PollPageOptions = {}): Promise<R> {
  const { timeoutMs = 60_000, intervalMs = 200 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.evaluate(fn as (arg: unknown) => Promise<R>, arg as unknown)) as R;
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; the page last said ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits (bounded, 60 s by default) until `window.wgweb.status()` says the tunnel is up. */
export async function waitForTunnelUp(page: Page, timeoutMs = 60_000): Promise<void> {
  await pollPage(page, 'the tunnel up', async () => (await window.wgweb.status())?.state === 'up', undefined, { timeoutMs });
}

/** Stops every Service Worker of the browser, as Chromium does to idle ones (CDP `ServiceWorker.stopAllWorkers`). */
export async function stopServiceWorkers(browser: Browser): Promise<void> {
  const cdp = await browser.context.newCDPSession(browser.page);
  try {
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
  } finally {
    await cdp.detach();
  }
}
