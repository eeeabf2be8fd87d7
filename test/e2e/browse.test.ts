/**
 * The browse view end to end: headless Chromium browses a small intranet web site that only
 * exists behind a real wireguard-go peer, every request of the framed site (navigation, CSS,
 * image, script, fetch/XHR, form POST) answered by the browse origin's Service Worker through the
 * page's tunnel worker.
 *
 *   Chromium: app (relay origin) ──comlink──▶ tunnel worker ──ws──▶ relay ──UDP──▶ wireguard-go (namespace)
 *             frame (browse origin) ─▶ Service Worker ─▶ app (MessagePort) ─┘        ├─ 10.77.X.1:80    main site
 *                                                                                   ├─ 10.77.X.200:8080 second host (extra address)
 *                                                                                   └─ DNS :53 (intranet.wgweb.test)
 *
 * WGWEB_SCREENSHOTS=1 also saves the browse view to docs/screenshots/browse-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startDnsServer, type NsDnsServer } from '../../harness/ns-servers.ts';
import { startIntranetSite, type IntranetSite } from '../../harness/intranet-site.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, stopServiceWorkers, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
async function shot(page: Page, name: string): Promise<void> {
  if (!process.env.WGWEB_SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.locator('wg-browse').screenshot({ path: `${SHOTS}${name}.png` });
}

const skip = browserSkipReason() ?? interopSkipReason();

describe('the browse view through a real wireguard-go peer', { skip }, () => {
  let peer: WgGoPeer;
  let dns: NsDnsServer;
  let site: IntranetSite;
  let client: WgClient;
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let frame: FrameLocator;

  before(async () => {
    await ensureUiBuilt();
    peer = await startWireguardGoPeer({ name: 'browse', logLevel: 'error' });
    site = await startIntranetSite(peer);
    dns = await startDnsServer(peer, { records: { 'intranet.wgweb.test': { A: [peer.tunnelAddress4!] } } });
    client = await peer.addClient({ dns: [peer.tunnelAddress4!] });
    relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
    page = ui.page;
    await ui.context.addInitScript(() => {
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    frame = page.frameLocator('wg-browse iframe.viewport');
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
    await site?.close();
    await dns?.close();
    await peer?.close();
    await closeAllNamespaces();
  });

  /** The address bar's text. */
  const address = () => page.getByLabel('Browse address', { exact: true }).inputValue();
  /** Waits until the address bar shows `url` (the frame agent reports every navigation). */
  const addressIs = (url: string) =>
    page.waitForFunction(
      (u) => {
        const input = document.querySelector('wg-app')?.shadowRoot?.querySelector('wg-browse')?.shadowRoot?.querySelector('input');
        return (input as HTMLInputElement | null)?.value === u;
      },
      url,
      { timeout: 30_000 },
    );
  async function viewportFrame(): Promise<Frame> {
    const handle = await page.locator('wg-browse iframe.viewport').elementHandle();
    const f = await handle?.contentFrame();
    assert.ok(f, 'the viewport has a frame');
    return f;
  }

  test('a page renders from inside the tunnel: document, stylesheet and image, with the address bar and title', async () => {
    const result = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    assert.equal(result.url, `${site.main}/`);
    assert.equal(result.title, 'Intranet home');
    assert.equal(result.status, 200);
    assert.equal(result.error, undefined);
    assert.equal(await frame.locator('h1').textContent(), 'Intranet home');
    assert.equal(await address(), `${site.main}/`);
    const f = await viewportFrame();
    // The stylesheet applied (a root-absolute <link>), the image decoded (binary body intact).
    assert.equal(await f.evaluate(() => getComputedStyle(document.querySelector('h1')!).color), 'rgb(12, 34, 56)');
    await f.waitForFunction(() => (document.getElementById('logo') as HTMLImageElement).complete);
    assert.equal(await f.evaluate(() => (document.getElementById('logo') as HTMLImageElement).naturalWidth), 2);
    assert.equal(await f.evaluate(() => (document.getElementById('logo') as HTMLImageElement).naturalHeight), 3);
    // The frame lives on a browse origin of its own (one of the relay's site ports, #14 item 3),
    // under the browse path of the intranet URL.
    const appHost = new URL(relay.url).hostname;
    const siteOrigins = relay.browse!.sitePorts.map((p) => `http://${appHost}:${p}`);
    assert.ok(siteOrigins.includes(new URL(f.url()).origin), `${f.url()} is on a site origin`);
    assert.match(f.url(), new RegExp(`/browse/[a-z0-9]{16}/http/${new URL(site.main).host.replace(/\./g, '\\.')}/$`));
    assert.notEqual(new URL(f.url()).origin, new URL(page.url()).origin);
    await page.getByTestId('browse-title').filter({ hasText: 'Intranet home' }).waitFor();
    await shot(page, 'browse');
  });

  test('relative links, and a script that fetches JSON root-absolute, relative, absolute, by XHR and by POST', async () => {
    await frame.locator('#rel').click();
    await addressIs(`${site.main}/docs/`);
    for (const id of ['out-root', 'out-relative', 'out-absolute', 'out-xhr']) {
      await frame.locator(`#${id}`).filter({ hasText: 'alpha,beta,gamma' }).waitFor({ timeout: 30_000 });
    }
    await frame.locator('#out-post').filter({ hasText: 'tunnel yes' }).waitFor({ timeout: 30_000 });
    // The site's own /browse/ route (like Jira's /browse/KEY-1) is not mistaken for the browse space.
    const f = await viewportFrame();
    assert.deepEqual(await f.evaluate(async () => (await fetch('/browse/KEY-1')).json()), { issue: 'KEY-1' });
    await frame.locator('#page2').click();
    await addressIs(`${site.main}/docs/page2.html`);
    assert.equal(await frame.locator('h1').textContent(), 'Page 2');
  });

  test('root-absolute and absolute links to the same intranet origin stay in the tunnel, with an intranet Referer', async () => {
    await frame.locator('#home').click();
    await addressIs(`${site.main}/`);
    await frame.locator('#root').click();
    await addressIs(`${site.main}/docs/page2.html`);
    await frame.locator('#home').click();
    await addressIs(`${site.main}/`);
    await frame.locator('#abs').click();
    await addressIs(`${site.main}/about`);
    // The server saw where the user came from in its own terms, never the browse origin.
    assert.equal(await frame.locator('#referer').textContent(), `${site.main}/`);
  });

  test('a media element seeks: Chromium asks the tunnel for the byte range it needs and has data there', async () => {
    assert.equal((await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/media`)).title, 'Media');
    const f = await viewportFrame();
    const seen = await f.evaluate(async () => {
      const a = document.getElementById('tone') as HTMLAudioElement;
      const when = (event: string, ready: () => boolean, what: string): Promise<void> =>
        new Promise((resolve, reject) => {
          if (ready()) return resolve();
          const timer = setTimeout(() => reject(new Error(`${what} within 20 s (readyState ${a.readyState}, error ${a.error?.code ?? 'none'})`)), 20_000);
          a.addEventListener(event, () => (clearTimeout(timer), resolve()), { once: true });
          a.addEventListener('error', () => (clearTimeout(timer), reject(new Error(`media error ${a.error?.code}`))), { once: true });
        });
      await when('loadedmetadata', () => a.readyState >= 1, 'no metadata');
      const duration = a.duration;
      a.currentTime = 110;
      await when('seeked', () => !a.seeking, 'no seek');
      await when('canplay', () => a.readyState >= 3, 'no data at 110 s');
      return { duration, time: a.currentTime };
    });
    assert.ok(Math.abs(seen.duration - 120) < 0.5, `duration ${seen.duration}`);
    assert.ok(seen.time >= 109.9, `playing position ${seen.time}`);
    // 110 s into 16000-byte-per-second PCM is byte 1 760 044: the seek fetched from about there, not from 0.
    const starts = site
      .events()
      .filter((e) => e.path === '/media/tone.wav' && e.range)
      .map((e) => Number(/^bytes=(\d+)-/.exec(e.range ?? '')?.[1] ?? -1));
    assert.ok(starts.some((s) => s > 1_500_000 && s <= 1_760_044), `Range starts seen: ${starts.join(', ')}`);
  });

  test('a page that rewrites its address as it starts (history.replaceState) still reports its document status', async () => {
    const result = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/app`);
    assert.equal(result.url, `${site.main}/app?view=graph&range=1h`);
    assert.equal(result.status, 200);
    assert.equal(await address(), `${site.main}/app?view=graph&range=1h`);
  });

  test('302 with a relative Location and 301 with an absolute one are followed inside the tunnel', async () => {
    const r1 = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/old-docs`);
    assert.equal(r1.url, `${site.main}/docs/`);
    assert.equal(r1.title, 'Docs');
    const r2 = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/moved`);
    assert.equal(r2.url, `${site.main}/docs/page2.html`);
    assert.equal(await address(), `${site.main}/docs/page2.html`);
  });

  test('a cookie login: POST, Set-Cookie on a 303, the session sent back; logout clears it', async () => {
    const start = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/account`);
    assert.equal(start.url, `${site.main}/login?next=/account`, 'not signed in: redirected to the form');
    await frame.locator('#user').fill('alice');
    await frame.locator('#password').fill('secret');
    await frame.locator('#submit').click();
    await addressIs(`${site.main}/account`);
    assert.equal(await frame.locator('#who').textContent(), 'Signed in as alice');
    assert.equal(await frame.locator('#theme').textContent(), 'theme: dark');
    // The intranet cookies live in the app's jar, never in the browser's own cookie store; the
    // page's scripts see the jar's non-HttpOnly ones as document.cookie (not the HttpOnly session).
    const f = await viewportFrame();
    assert.equal(await f.evaluate(() => document.cookie), 'theme=dark');
    const appCookies = await ui.context.cookies();
    assert.deepEqual(appCookies.filter((c) => c.name === 'session' || c.name === 'theme'), []);
    await page.getByTestId('browse-status').filter({ hasText: /2 cookies for this host/ }).waitFor();
    await shot(page, 'browse-login');
    // A script's document.cookie write lands in the jar and goes to the server; HttpOnly stays safe.
    await f.evaluate(() => {
      document.cookie = 'fromjs=42; Path=/';
      document.cookie = 'session=stolen; Path=/';
    });
    assert.equal(await f.evaluate(() => document.cookie), 'theme=dark; fromjs=42');
    await page.getByTestId('browse-status').filter({ hasText: /3 cookies for this host/ }).waitFor();
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/cookies`);
    const sent = (JSON.parse((await frame.locator('body').textContent()) ?? '{}') as { cookie: string }).cookie;
    assert.match(sent, /fromjs=42/);
    assert.match(sent, /session=[0-9a-f]{24}/, 'the HttpOnly session was not overwritten by the script');
    assert.doesNotMatch(sent, /stolen/);
    // A fresh load still knows the user (the jar sends the session).
    const again = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/account`);
    assert.equal(again.title, 'Account');
    await frame.locator('#logout').click();
    await addressIs(`${site.main}/login`);
    const after = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/account`);
    assert.equal(after.url, `${site.main}/login?next=/account`);
  });

  test('a link to a second intranet host (another address behind the same peer) works, without the first host\'s cookies', async () => {
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/login`);
    await frame.locator('#user').fill('bob');
    await frame.locator('#password').fill('secret');
    await frame.locator('#submit').click();
    await addressIs(`${site.main}/account`);
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    await frame.locator('#second').click();
    await addressIs(`${site.second}/`);
    assert.equal(await frame.locator('h1').textContent(), 'Second intranet host');
    assert.equal(await frame.locator('#cookies').textContent(), 'none');
    await frame.locator('#back').click();
    await addressIs(`${site.main}/`);
    // A navigation a script starts to an absolute intranet URL stays in the tunnel too.
    await frame.locator('#root').click();
    await addressIs(`${site.main}/docs/page2.html`);
    await frame.locator('#jsnav').click();
    await addressIs(`${site.second}/`);
    assert.equal(await frame.locator('h1').textContent(), 'Second intranet host');
  });

  test('host names resolve through the tunnel\'s DNS', async () => {
    const r = await page.evaluate(() => window.wgweb.browse('http://intranet.wgweb.test/'));
    assert.equal(r.title, 'Intranet home');
    assert.equal(r.url, 'http://intranet.wgweb.test/');
    assert.equal(await frame.locator('h1').textContent(), 'Intranet home');
  });

  test('links that leave the tunnel open an interstitial that says so, and open outside only on request', async () => {
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    await frame.locator('#outside').click();
    await frame.locator('h1').filter({ hasText: 'This link leaves the tunnel' }).waitFor({ timeout: 30_000 });
    const button = frame.locator('a[data-wgweb-outside]');
    assert.equal(await button.getAttribute('href'), site.outside);
    assert.equal(await button.getAttribute('target'), '_blank');
    assert.match((await button.getAttribute('rel')) ?? '', /noopener/);
    assert.match((await frame.locator('body').textContent()) ?? '', /AllowedIPs/);
    await page.getByTestId('browse-status').filter({ hasText: 'outside the tunnel' }).waitFor();
    await shot(page, 'browse-outside');
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    await frame.locator('#https').click();
    await frame.locator('a[data-wgweb-outside]').waitFor();
    // https is carried like http now (the worker's TLS): only an address outside AllowedIPs leaves.
    assert.equal(await frame.locator('a[data-wgweb-outside]').getAttribute('href'), 'https://198.51.100.7/');
    assert.match((await frame.locator('body').textContent()) ?? '', /AllowedIPs/);
  });

  test('bodies stream: the first part of a slow page shows (with the progress bar) before the rest exists', async () => {
    await page.evaluate((u) => void window.wgweb.browse(u), `${site.main}/stream`);
    await frame.locator('#part1').waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('#part2').count(), 0);
    assert.match((await page.getByTestId('browse-progress').getAttribute('class')) ?? '', /\bon\b/);
    await page.getByTestId('browse-status').filter({ hasText: /Loading…/ }).waitFor();
    await shot(page, 'browse-loading');
    // Release the second half through the tunnel (window.wgweb.fetch), then the page completes.
    await page.evaluate(async (u) => (await window.wgweb.fetch(u)).text(), `${site.main}/release`);
    await frame.locator('#part2').waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () => !/\bon\b/.test(document.querySelector('wg-app')?.shadowRoot?.querySelector('wg-browse')?.shadowRoot?.querySelector('[data-testid="browse-progress"]')?.className ?? ''),
    );
  });

  test('isolation: the framed site cannot reach the app page, its storage or its cookies', async () => {
    await page.evaluate(() => {
      document.cookie = 'appsecret=1; path=/';
      localStorage.setItem('wgweb.test-secret', 'app-only');
    });
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/about`);
    const f = await viewportFrame();
    const probe = await f.evaluate(() => {
      const out: Record<string, string> = {};
      try {
        out.parentDocument = String(window.parent.document.title);
      } catch (e) {
        out.parentDocument = (e as Error).name;
      }
      try {
        out.parentWgweb = typeof (window.parent as unknown as { wgweb?: unknown }).wgweb;
      } catch (e) {
        out.parentWgweb = (e as Error).name;
      }
      try {
        window.top!.location.href = 'about:blank#framebusted';
        out.topNavigation = 'allowed';
      } catch (e) {
        out.topNavigation = (e as Error).name;
      }
      out.localStorage = String(localStorage.getItem('wgweb.test-secret'));
      out.cookie = document.cookie;
      out.origin = location.origin;
      return out;
    });
    assert.equal(probe.parentDocument, 'SecurityError');
    assert.equal(probe.parentWgweb, 'SecurityError');
    assert.equal(probe.localStorage, 'null');
    assert.notEqual(probe.topNavigation, 'allowed');
    assert.doesNotMatch(page.url(), /framebusted/, 'the framed page cannot navigate the app away');
    // document.cookie shows the intranet jar's script cookies, never the app host's own.
    assert.doesNotMatch(probe.cookie, /appsecret/);
    assert.notEqual(probe.origin, new URL(page.url()).origin);
    // The intranet server never got the app's cookie (nor anything of the browse origin's).
    await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/cookies`);
    const body = JSON.parse((await frame.locator('body').textContent()) ?? '{}') as { cookie: string | null };
    assert.doesNotMatch(body.cookie ?? '', /appsecret/);
    for (const e of site.events()) assert.doesNotMatch(e.cookie ?? '', /appsecret/, `${e.path} got the app's cookie`);
    // Referers the intranet saw are intranet URLs, never the browse or app origin.
    for (const e of site.events()) {
      if (e.referer) assert.ok(!e.referer.includes('127.0.0.1'), `${e.path} got Referer ${e.referer}`);
    }
    await page.evaluate(() => localStorage.removeItem('wgweb.test-secret'));
  });

  test('new windows stay in the browse view: target=_blank links and forms, window.open of relative and absolute intranet URLs (#14)', async () => {
    const pagesBefore = ui.context.pages().length;
    for (const [id, want] of [
      ['#blank', `${site.main}/about`],
      ['#open', `${site.main}/docs/`],
      ['#submit', `${site.main}/about`],
      ['#open-second', `${site.second}/`],
    ]) {
      await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/blank`);
      await frame.locator(id).click();
      await addressIs(want).catch(async (e: Error) => {
        throw new Error(`${id}: the address bar shows ${await address()}, not ${want} (${e.message})`);
      });
    }
    assert.equal(ui.context.pages().length, pagesBefore, 'no browser tab was opened');
  });

  test('in-frame error pages: the host refuses, DNS fails; each with the worker\'s code', async () => {
    const refused = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}:81/`);
    assert.equal(refused.error?.code, 'CONNECTION_REFUSED');
    await frame.locator('h1').filter({ hasText: 'The host refused the connection' }).waitFor();
    await shot(page, 'browse-error');
    const nx = await page.evaluate(() => window.wgweb.browse('http://nothing.wgweb.test/'));
    assert.equal(nx.error?.code, 'DNS_NXDOMAIN');
    await frame.locator('h1').filter({ hasText: 'No such host' }).waitFor();
    const bad = await page.evaluate(() => window.wgweb.browse('ftp://x/').then(() => 'resolved', (e) => (e as { code: string }).code));
    assert.equal(bad, 'USAGE');
  });

  test('the Service Worker may be stopped at any time: the next request gets a new port from the app', async () => {
    await stopServiceWorkers(ui);
    const r = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/docs/`);
    assert.equal(r.title, 'Docs');
    await frame.locator('#out-root').filter({ hasText: 'alpha,beta,gamma' }).waitFor({ timeout: 30_000 });
  });

  test('a second wgweb tab has its own session: its frames never use the first tab\'s tunnel or cookies', async () => {
    const other = await ui.context.newPage();
    try {
      await other.goto(relay.url);
      await other.waitForFunction(() => typeof window.wgweb === 'object');
      await other.evaluate(() => window.wgweb.ready);
      // Not connected in this tab: its frame must not be served by the first tab's tunnel.
      const r = await other.evaluate((u) => window.wgweb.browse(u), `${site.main}/account`);
      assert.equal(r.error?.code, 'NOT_CONNECTED');
      // And the first tab still browses, signed in as before.
      const mine = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/account`);
      assert.equal(mine.title, 'Account');
    } finally {
      await other.close();
    }
  });

  test('the tunnel down: a clear page in the frame, and browsing works again after reconnecting', async () => {
    await page.evaluate(() => window.wgweb.disconnect());
    const down = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    assert.equal(down.error?.code, 'NOT_CONNECTED');
    await frame.locator('h1').filter({ hasText: 'The tunnel is down' }).waitFor();
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page);
    const up = await page.evaluate((u) => window.wgweb.browse(u), `${site.main}/`);
    assert.equal(up.title, 'Intranet home');
    // Only what the tests provoked on purpose: error pages (HTTP 502) and the framebusting attempt.
    assert.deepEqual(
      ui.errors.filter((e) => !/Failed to load resource|allow-top-navigation/.test(e)),
      [],
    );
  });
});
