/**
 * One browser origin per intranet site (#14 item 3), in headless Chromium behind a real
 * wireguard-go peer: host A (the main site) and host B (the second host, another address of the
 * peer) are framed on two different browse origins (two of the relay's site ports), so a script of
 * A cannot read B's pages (through the browse space, absolutely, in a frame, by XHR), its
 * localStorage or its cookies, while a link still takes the frame to B, and B's CORS header still
 * lets A read what B shares with it.
 *
 *   app (relay) ─ bridge per site origin ─ Service Worker of that origin ─ viewport: http://A/ on origin P_A
 *                                                                                    http://B:8080/ on origin P_B
 *
 * Page scripts are played with `frame.evaluate`, which runs in the page's own world, as a
 * hostile script of A would.
 */
import { describe, test, before, after } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startIntranetSite, type IntranetSite } from '../../harness/intranet-site.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import type { BrowseResult } from '../../src/browser/browse/browse-host.ts';
import { siteLabel } from '../../src/shared/site-origin.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('one browser origin per intranet site', { skip }, () => {
  let peer: WgGoPeer;
  let site: IntranetSite;
  let client: WgClient;
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let siteOrigins: string[];

  before(async () => {
    await ensureUiBuilt();
    peer = await startWireguardGoPeer({ name: 'borigin', logLevel: 'error' });
    site = await startIntranetSite(peer);
    client = await peer.addClient();
    relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }), browse: { sites: 4 } });
    const appHost = new URL(relay.url).hostname;
    siteOrigins = relay.browse!.sitePorts.map((p) => `http://${appHost}:${p}`);
    ui = await openUi({ url: relay.url });
    page = ui.page;
    // tsx names the functions it compiles (esbuild keepNames); pages evaluated into need the helper.
    await ui.context.addInitScript(() => {
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
    await site?.close();
    await peer?.close();
    await closeAllNamespaces();
  });

  const browse = (url: string): Promise<BrowseResult> => page.evaluate((u) => window.wgweb.browse(u), url);
  async function viewportFrame(): Promise<Frame> {
    const handle = await page.locator('wg-browse iframe.viewport').elementHandle();
    const f = await handle?.contentFrame();
    assert.ok(f, 'the viewport has a frame');
    return f;
  }
  const sessionOf = (f: Frame): string => /\/browse\/([a-z0-9]+)\//.exec(f.url())?.[1] ?? '';
  const originOf = (f: Frame): string => new URL(f.url()).origin;

  test('each intranet site is framed on a browse origin of its own, and a link moves the frame to the other site\'s', async () => {
    assert.equal((await browse(`${site.second}/`)).title, 'Second host');
    const originB = originOf(await viewportFrame());
    assert.equal((await browse(`${site.main}/`)).title, 'Intranet home');
    const a = await viewportFrame();
    const originA = originOf(a);
    assert.ok(siteOrigins.includes(originA), `${originA} is a site origin`);
    assert.ok(siteOrigins.includes(originB), `${originB} is a site origin`);
    assert.notEqual(originA, originB);
    assert.notEqual(originA, new URL(page.url()).origin);
    // The same site comes back on the same origin.
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    assert.equal(originOf(await viewportFrame()), originA);
    // A link of A to B (rewritten into A's browse space) ends on B's origin, with B's page.
    await browse(`${site.main}/`);
    await (await viewportFrame()).locator('#second').click();
    const deadline = Date.now() + 20_000;
    let f = await viewportFrame();
    while (originOf(f) !== originB && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      f = await viewportFrame();
    }
    assert.equal(originOf(f), originB, `the frame moved to B's origin (it is at ${f.url()})`);
    await f.locator('h1', { hasText: 'Second intranet host' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByLabel('Browse address', { exact: true }).inputValue(), `${site.second}/`);
  });

  test('a script of site A cannot read site B\'s page: not through the browse space, not by absolute URL, not by XHR, not in a frame', async () => {
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const a = await viewportFrame();
    const session = sessionOf(a);
    assert.ok(session);
    const tries = await a.evaluate(
      async ([second, s]) => {
        const read = async (url: string): Promise<string> => {
          try {
            const r = await fetch(url);
            return `read ${r.status}: ${(await r.text()).slice(0, 200)}`;
          } catch (e) {
            return `blocked (${(e as Error).name})`;
          }
        };
        const xhr = (url: string): Promise<string> =>
          new Promise((resolve) => {
            const x = new XMLHttpRequest();
            x.open('GET', url);
            x.onload = () => resolve(`read ${x.status}: ${x.responseText.slice(0, 200)}`);
            x.onerror = () => resolve('blocked (error)');
            x.send();
          });
        return {
          browseSpace: await read(`/browse/${s}/http/${new URL(second).host}/secret`),
          absolute: await read(`${second}/secret`),
          noCors: await fetch(`${second}/secret`, { mode: 'no-cors' }).then(
            async (r) => `read ${r.type} ${r.status}: ${(await r.text()).slice(0, 200)}`,
            (e: Error) => `blocked (${e.name})`,
          ),
          xhr: await xhr(`/browse/${s}/http/${new URL(second).host}/secret`),
          // What B shares with A by CORS stays readable (the control: A's fetches do work).
          cors: await read(`${second}/cors`),
        };
      },
      [site.second, session] as const,
    );
    for (const [how, what] of Object.entries(tries)) {
      if (how === 'cors') continue;
      assert.doesNotMatch(what, /second-host-secret/, `${how}: ${what}`);
    }
    assert.match(tries.browseSpace, /^blocked/);
    assert.match(tries.absolute, /^blocked/);
    assert.match(tries.cors, /^read 200: \{"shared":"with the main site"\}/);

    // B's page in a frame of A: it loads (on B's origin), and A cannot look inside.
    const framed = await a.evaluate(async ([second, s]) => {
      const frame = document.createElement('iframe');
      frame.src = `/browse/${s}/http/${new URL(second).host}/secret`;
      const loaded = new Promise<void>((r) => frame.addEventListener('load', () => r(), { once: true }));
      document.body.append(frame);
      await Promise.race([loaded, new Promise((r) => setTimeout(r, 15_000))]);
      try {
        return `read: ${frame.contentDocument?.body?.innerText ?? 'no document'}`;
      } catch (e) {
        return `blocked (${(e as Error).name})`;
      }
    }, [site.second, session] as const);
    assert.doesNotMatch(framed, /second-host-secret/, framed);
    const child = a.childFrames().find((c) => c.url().includes('/secret'));
    assert.ok(child, 'the nested frame navigated');
    await child.locator('#secret').waitFor({ timeout: 20_000 });
    assert.notEqual(originOf(child), originOf(a), 'the nested frame runs on B\'s origin');
  });

  test('site B\'s localStorage and cookies are not site A\'s', async () => {
    assert.equal((await browse(`${site.second}/secret`)).title, 'Second secret');
    const b = await viewportFrame();
    // The control: B itself sees what it stored and its cookies (the jar's, through the agent).
    assert.equal(await b.evaluate(() => localStorage.getItem('second-secret')), 'S2');
    assert.match(await b.evaluate(() => document.cookie), /second_js=script-secret/);
    assert.match(await b.evaluate(() => document.cookie), /second_server=server-secret/);

    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const a = await viewportFrame();
    const seen = await a.evaluate(() => {
      const realm = document.createElement('iframe');
      document.body.append(realm);
      const fresh = realm.contentDocument;
      return {
        storage: JSON.stringify({ ...localStorage }),
        cookie: document.cookie,
        // A fresh realm's native document.cookie (the agent shadows only its own document's).
        freshCookie: fresh ? fresh.cookie : '',
      };
    });
    assert.doesNotMatch(seen.storage, /S2|second-secret/, seen.storage);
    assert.doesNotMatch(seen.cookie, /second_/, seen.cookie);
    assert.doesNotMatch(seen.freshCookie, /second_/, seen.freshCookie);
  });
  test('a pooled origin handed to another site is wiped first: the old site\'s localStorage, sessionStorage, IndexedDB and caches are gone', async () => {
    // One site port: the second site must take the first one's origin.
    const one = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }), browse: { sites: 1 } });
    const own = await openUi({ url: one.url });
    try {
      await own.context.addInitScript(() => {
        (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
      });
      const second = await peer.addClient();
      await own.page.evaluate((config) => window.wgweb.connect(config), second.config);
      await waitForTunnelUp(own.page);
      const go = (url: string): Promise<BrowseResult> => own.page.evaluate((u) => window.wgweb.browse(u), url);
      const frameNow = async (): Promise<Frame> => {
        const f = await (await own.page.locator('wg-browse iframe.viewport').elementHandle())?.contentFrame();
        assert.ok(f, 'the viewport has a frame');
        return f;
      };
      assert.equal((await go(`${site.main}/about`)).title, 'About');
      const a = await frameNow();
      const stored = await a.evaluate(async () => {
        localStorage.setItem('a-secret', 'A');
        sessionStorage.setItem('a-secret', 'A');
        await (await caches.open('a-cache')).put('/a', new Response('A'));
        await new Promise<void>((resolve, reject) => {
          const r = indexedDB.open('a-db');
          r.onupgradeneeded = () => r.result.createObjectStore('s');
          r.onsuccess = () => (r.result.close(), resolve());
          r.onerror = () => reject(r.error);
        });
        return { local: localStorage.getItem('a-secret'), caches: await caches.keys(), dbs: (await indexedDB.databases()).map((d) => d.name) };
      });
      // The control: A's storage is really there before the origin changes hands.
      assert.deepEqual(stored, { local: 'A', caches: ['a-cache'], dbs: ['a-db'] });

      assert.equal((await go(`${site.second}/`)).title, 'Second host');
      const b = await frameNow();
      assert.equal(originOf(b), originOf(a), 'the one pooled origin changed hands');
      const left = await b.evaluate(async () => ({
        local: localStorage.getItem('a-secret'),
        session: sessionStorage.getItem('a-secret'),
        caches: await caches.keys(),
        dbs: (await indexedDB.databases()).map((d) => d.name),
      }));
      assert.deepEqual(left, { local: null, session: null, caches: [], dbs: [] });
    } finally {
      await own.close();
      await one.close();
    }
  });

  test('without site origins (--browse-sites 0) every site shares the one browse origin, and the browse view says so', async () => {
    await ui.close();
    const shared = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }), browse: { sites: 0 } });
    try {
      ui = await openUi({ url: shared.url });
      page = ui.page;
      // Not connected: the frames show the tunnel-down page, on whichever origin frames each site.
      const origin = shared.browse!.originFor(new URL(shared.url).host);
      assert.equal((await browse(`${site.main}/about`)).error?.code, 'NOT_CONNECTED');
      assert.equal(originOf(await viewportFrame()), origin);
      assert.equal((await browse(`${site.second}/`)).error?.code, 'NOT_CONNECTED');
      assert.equal(originOf(await viewportFrame()), origin);
      await page.getByTestId('browse-shared-origin').waitFor({ timeout: 10_000 });
      assert.match(await page.getByTestId('browse-shared-origin').innerText(), /share one browser origin/);
    } finally {
      await ui.close();
      await shared.close();
    }
  });
});

/** A loopback port free right now (the wildcard template must name the browse port before it listens). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('one browser origin per intranet site under a wildcard name (--browse-domain)', { skip: browserSkipReason() }, () => {
  test('each intranet site is framed on <label>.<browse domain>, a stable name of its own', async () => {
    // Names under wgweb.test map to loopback in this Chromium only; Service Workers need a secure
    // context, which https gives a deployment and the flag below gives these plain-http test names.
    const browsePort = await freePort();
    const appPort = await freePort();
    const app = `http://app.wgweb.test:${appPort}`;
    const relay = await startRelay({
      port: appPort,
      allowOrigins: [app],
      logger: createLogger({ level: 'error' }),
      browse: { port: browsePort, siteDomain: `http://*.wgweb.test:${browsePort}`, appOrigins: [app] },
    });
    let wild: UiSession | undefined;
    try {
      const expected = (intranet: string): string => `http://${siteLabel(intranet)}.wgweb.test:${browsePort}`;
      // The flag takes exact origins (a wildcard was not honoured in our measurement).
      const secure = [app, expected('http://10.9.0.1'), expected('http://10.9.0.2:8080')].join(',');
      wild = await openUi({ url: `${app}/`, extraArgs: ['--host-resolver-rules=MAP *.wgweb.test 127.0.0.1', `--unsafely-treat-insecure-origin-as-secure=${secure}`] });
      const p = wild.page;
      await wild.context.addInitScript(() => {
        (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
      });
      const frameOrigin = async (): Promise<string> => {
        const f = await (await p.locator('wg-browse iframe.viewport').elementHandle())?.contentFrame();
        assert.ok(f, 'the viewport has a frame');
        return new URL(f.url()).origin;
      };
      // Not connected: each frame shows the tunnel-down page, on its site's own name.
      assert.equal((await p.evaluate((u) => window.wgweb.browse(u), 'http://10.9.0.1/')).error?.code, 'NOT_CONNECTED');
      assert.equal(await frameOrigin(), expected('http://10.9.0.1'));
      assert.equal((await p.evaluate((u) => window.wgweb.browse(u), 'http://10.9.0.2:8080/x')).error?.code, 'NOT_CONNECTED');
      assert.equal(await frameOrigin(), expected('http://10.9.0.2:8080'));
      assert.equal(await p.getByTestId('browse-shared-origin').count(), 0);
      // #11 re-run (item 7, wildcard mode): a page on a site name opens the browser's own
      // WebSocket (a fresh realm's) to the relay: no session may open.
      const f = await (await p.locator('wg-browse iframe.viewport').elementHandle())?.contentFrame();
      assert.ok(f);
      const refusedBefore = relay.stats().refused.ORIGIN_NOT_ALLOWED ?? 0;
      const states = await f.evaluate(async (ws) => {
        const realm = document.createElement('iframe');
        document.body.append(realm);
        const Native = (realm.contentWindow as unknown as { WebSocket: typeof WebSocket }).WebSocket;
        const one = async (url: string, proto: string): Promise<string> => {
          const s = new Native(url, proto);
          let opened = false;
          s.onopen = () => (opened = true);
          for (let i = 0; i < 100 && s.readyState !== WebSocket.CLOSED; i++) await new Promise((r) => setTimeout(r, 100));
          return `${location.origin} ${s.readyState === WebSocket.CLOSED ? 'closed' : 'open'}${opened ? ' after opening' : ''}`;
        };
        return [await one(`${ws}/wg?to=127.0.0.1%3A1`, 'wgweb.v1'), await one(`${ws}/speed?down=1000`, 'wgweb.speed.v1')];
      }, `ws://app.wgweb.test:${appPort}`);
      // Chromium closes them before the relay sees them here (the plain-http names are only treated
      // as secure); either way no session opens. The relay's own 4007 for a site name's Origin is
      // in test/node/relay/relay-abuse.test.ts and, through Chromium, in browse-attacks.
      const name = expected('http://10.9.0.2:8080');
      assert.deepEqual(states, [`${name} closed`, `${name} closed`]);
      assert.equal(relay.stats().openedSessions, 0);
      assert.ok((relay.stats().refused.ORIGIN_NOT_ALLOWED ?? 0) >= refusedBefore);
    } finally {
      await wild?.close();
      await relay.close();
    }
  });
});
