#!/usr/bin/env node
// Regenerates README's screenshots of the app from the current UI (issue #18):
//
//   npm run screenshots                 build if stale, take every shot in SHOTS
//   npm run screenshots -- --only NAME  only the shots whose file name contains NAME
//
//   build (scripts/build.mjs) ─▶ `wgweb relay --listen 127.0.0.1:<free port>` (demo peer on, as on
//   loopback by default) ─▶ Chromium (Debian /usr/bin/chromium via playwright-core, fresh profile)
//   ─▶ per size × colour scheme: "Try the demo", wait for the tunnel, ping, browse the demo site
//   ─▶ docs/screenshots/<name>.png ─▶ close the browser, SIGTERM the relay, remove the profile.
//
// Only the viewport is captured (not the full page) so the PNGs stay small and show what a user
// sees first. Everything runs on loopback; nothing is left running, also when a step fails.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(REPO, 'docs', 'screenshots');

/** The two sizes issue #18 asks for: a laptop and a phone (iPhone 12–14 CSS pixels). */
export const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

/** The views, in the order one session reaches them (each needs the ones before it). */
export const VIEWS = ['config', 'connected', 'ping', 'browse'];

/**
 * Which shots are taken: few on purpose (README shows them; the repository carries them). Every
 * view at the desktop size in light; the status and the browse view in dark; on the phone the
 * config and the status in light, the status in dark.
 */
export const SHOTS = [
  { view: 'config', size: 'desktop', scheme: 'light' },
  { view: 'connected', size: 'desktop', scheme: 'light' },
  { view: 'ping', size: 'desktop', scheme: 'light' },
  { view: 'browse', size: 'desktop', scheme: 'light' },
  { view: 'connected', size: 'desktop', scheme: 'dark' },
  { view: 'browse', size: 'desktop', scheme: 'dark' },
  { view: 'config', size: 'phone', scheme: 'light' },
  { view: 'connected', size: 'phone', scheme: 'light' },
  { view: 'connected', size: 'phone', scheme: 'dark' },
];

/** The file name of a shot: app-<view>[-phone][-dark].png. */
export function shotName({ view, size, scheme }) {
  return `app-${view}${size === 'phone' ? '-phone' : ''}${scheme === 'dark' ? '-dark' : ''}.png`;
}

/** Parses the command line; throws a TypeError with the usage on anything unknown. */
export function parseArgs(argv) {
  const options = { only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only' && i + 1 < argv.length) options.only = argv[++i];
    else throw new TypeError(`screenshots: unknown argument ${argv[i]} (usage: npm run screenshots [-- --only NAME])`);
  }
  return options;
}

/** The runs to make: one browser per size × scheme, with the views wanted in it. */
export function plan(only) {
  const runs = new Map();
  for (const shot of SHOTS) {
    if (only && !shotName(shot).includes(only)) continue;
    const key = `${shot.size}/${shot.scheme}`;
    if (!runs.has(key)) runs.set(key, { size: shot.size, scheme: shot.scheme, viewport: SIZES[shot.size], views: [] });
    runs.get(key).views.push(shot.view);
  }
  return [...runs.values()];
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `wgweb relay` on a free loopback port; resolves once its demo peer runs. */
async function startRelay() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO, 'bin/wgweb.js'), 'relay', '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not start within 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', () => {
      if (output.includes('demo peer')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited with ${code}:\n${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.exitCode === null && child.kill('SIGTERM') };
}

/** Scrolls `el` to the top of the viewport, just below the app's sticky header. */
function scrollBelowHeader(el) {
  el.scrollIntoView({ block: 'start' });
  window.scrollBy(0, -64);
}

async function until(page, predicate, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(predicate))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One browser at one size and scheme, walking through the views and saving the wanted ones. */
async function runOne(chromium, url, run) {
  const profile = mkdtempSync(join(tmpdir(), 'wgweb-shots-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: run.viewport,
    colorScheme: run.scheme,
    reducedMotion: 'reduce',
  });
  const saved = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url);
    await page.getByRole('button', { name: 'Try the demo' }).click();
    const shoot = async (view) => {
      if (!run.views.includes(view)) return;
      const name = shotName({ view, size: run.size, scheme: run.scheme });
      await page.screenshot({ path: join(OUT_DIR, name), animations: 'disabled', caret: 'hide' });
      saved.push(name);
    };
    // "Try the demo" connects at once; the config view is the top of the page once it is loaded.
    await until(page, async () => (await window.wgweb.status())?.state === 'up', 'the demo tunnel to come up');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shoot('config');
    // The status card (peers, handshake, transfer) at the top of the viewport.
    await page.locator('wg-status-panel').evaluate(scrollBelowHeader);
    await shoot('connected');
    if (run.views.includes('ping')) {
      await page.getByRole('tab', { name: 'Ping' }).click();
      await page.getByLabel('Address', { exact: true }).fill('10.44.0.1');
      await page.getByRole('button', { name: 'Ping', exact: true }).click();
      await page.getByRole('status', { name: 'Summary' }).waitFor({ timeout: 30_000 });
      await page.locator('wg-tools').evaluate(scrollBelowHeader);
      await shoot('ping');
    }
    if (run.views.includes('browse')) {
      await page.evaluate(() => window.wgweb.browse('http://intranet.demo/'));
      await page.locator('wg-browse').evaluate(scrollBelowHeader);
      await shoot('browse');
    }
  } finally {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  return saved;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const runs = plan(options.only);
  if (runs.length === 0) throw new TypeError(`screenshots: no shot matches ${options.only}`);
  const { buildAll } = await import('./build.mjs');
  await buildAll();
  const { chromium } = await import('playwright-core');
  mkdirSync(OUT_DIR, { recursive: true });
  const relay = await startRelay();
  try {
    for (const run of runs) {
      for (const name of await runOne(chromium, relay.url, run)) console.log(`docs/screenshots/${name}`);
    }
  } finally {
    relay.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
