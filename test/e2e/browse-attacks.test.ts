/**
 * A hostile intranet page against the browse view (#11 items 2–5), in headless Chromium behind a
 * real wireguard-go peer: each test plays one attack the red team found, with variations, and
 * checks that the tab's browsing keeps working for the user afterwards.
 *
 *   app (relay origin) ─ bridge (browse origin) ─ Service Worker ─ viewport: http://MAIN/… ← the hostile page
 *                                                                          http://SECOND/… ← the victim host
 *
 * 2. session hijack: the page (and a popup it opens) frames the bridge itself, or scripts the app's
 *    own bridge, and offers the Service Worker a port of its own: the worker never takes it; later
 *    requests of the tab (a password POSTed to another host) never reach the page.
 * 3. a second Service Worker registration (`browse-sw.js?x`, scope /browse/) is refused; an
 *    unregistered worker makes wgweb.browse() report a page that did not load, and the next
 *    browse() works again (the app re-claims the origin).
 * 4. forged frame messages (cookie for another host, another host's URL, pushState to it) change
 *    neither the jar of the other host nor the address bar.
 * 5. an inline script first in <head> never sees the browser's cookies of the browse host.
 * The #11 re-run plays them again across per-site origins (site A against site B's bridge,
 * storage and cookies; Service Workers of A's own scripts; the browser's own WebSocket from A to
 * the relay, refused 4007).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startIntranetSite, type IntranetSite } from '../../harness/intranet-site.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, stopServiceWorkers, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import type { BrowseResult } from '../../src/browser/browse/browse-host.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('a hostile intranet page against the browse view', { skip }, () => {
  let peer: WgGoPeer;
  let site: IntranetSite;
  let client: WgClient;
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let browseOrigin: string;
  let appOrigin: string;

  before(async () => {
    await ensureUiBuilt();
    peer = await startWireguardGoPeer({ name: 'battack', logLevel: 'error' });
    site = await startIntranetSite(peer);
    client = await peer.addClient();
    relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
    page = ui.page;
    await ui.context.addInitScript(() => {
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    appOrigin = new URL(relay.url).origin;
    browseOrigin = relay.browse!.originFor(new URL(relay.url).host);
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
  const address = () => page.getByLabel('Browse address', { exact: true }).inputValue();
  async function viewportFrame(): Promise<Frame> {
    const handle = await page.locator('wg-browse iframe.viewport').elementHandle();
    const f = await handle?.contentFrame();
    assert.ok(f, 'the viewport has a frame');
    return f;
  }
  const sessionOf = (f: Frame): string => /\/browse\/([a-z0-9]+)\//.exec(f.url())?.[1] ?? '';
  /** A real browser window of the frame's origin (window.open of a fresh realm: the agent keeps the page's own window.open in the browse view). */
  async function popupOf(f: Frame): Promise<Page> {
    const popupOpened = ui.context.waitForEvent('page');
    await f.evaluate(() => {
      const realm = document.createElement('iframe');
      document.body.append(realm);
      void realm.contentWindow!.open('/__wgweb/outside?url=http%3A%2F%2Fexample.invalid%2F', '_blank');
    });
    const popup = await popupOpened;
    await popup.waitForLoadState();
    return popup;
  }
  /** The Service Worker registrations the frame's origin holds, as "scope script" lines. */
  const registrationsOf = (f: Frame): Promise<string[]> =>
    f.evaluate(async () =>
      (await navigator.serviceWorker.getRegistrations())
        .map((r) => {
          const script = (r.active ?? r.waiting ?? r.installing)?.scriptURL;
          return `${new URL(r.scope).pathname} ${script ? new URL(script).pathname + new URL(script).search : '-'}`;
        })
        .sort(),
    );

  test('2: a framed page (or its popup) cannot provide the backend of the tab\'s session', async () => {
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const f = await viewportFrame();
    const session = sessionOf(f);
    assert.ok(session);
    // The relay serves the bridge to the app's origin only: not to the browse origin itself.
    const status = await f.evaluate(async ([o, s]) => (await fetch(`/__wgweb/bridge.html?app=${encodeURIComponent(o)}&session=${s}`)).status, [browseOrigin, session]);
    assert.equal(status, 403);

    const popup = await popupOf(f);
    const attack = async ([o, s, app]: string[]): Promise<string[]> => {
      const w = window as unknown as { __stolen: unknown[] };
      w.__stolen ??= [];
      const steal = (): MessagePort => {
        const ch = new MessageChannel();
        ch.port1.onmessage = (e) => w.__stolen.push(e.data);
        return ch.port2;
      };
      const offer = (target: Window | null): string => {
        try {
          const controller = (target as (Window & typeof globalThis) | null)?.navigator.serviceWorker.controller;
          if (!controller) return 'no worker';
          controller.postMessage({ wgweb: 'browse', type: 'port' }, [steal()]);
          return 'offered';
        } catch (e) {
          return (e as Error).name;
        }
      };
      const out: string[] = [];
      // The bridge framed by the popup, as the browse origin and as if it were the app.
      for (const a of [o, app]) {
        const fr = document.createElement('iframe');
        fr.src = `/__wgweb/bridge.html?app=${encodeURIComponent(a)}&session=${s}`;
        document.body.append(fr);
        await new Promise((r) => setTimeout(r, 1500));
        out.push(offer(fr.contentWindow));
        // And the port the way the app hands it to a bridge.
        try {
          fr.contentWindow?.postMessage({ wgweb: 'browse', type: 'port' }, '*', [steal()]);
        } catch {
          // cross-origin error page
        }
      }
      // A page that merely takes the bridge's URL.
      history.replaceState(null, '', `/__wgweb/bridge.html?app=${encodeURIComponent(app)}&session=${s}`);
      out.push(offer(window));
      // The app's own bridge, scripted through the opener (same origin as this page), if the
      // browser lets a page find it (Chromium does not index frames inside a shadow root).
      const top = (window.opener as Window | null)?.top;
      out.push(`app frames: ${top?.length ?? 'no opener'}`);
      for (let i = 0; top && i < top.length; i++) {
        try {
          if (top[i].location.pathname === '/__wgweb/bridge.html') out.push(`app bridge: ${offer(top[i])}`);
        } catch {
          // the viewport's children, cross-origin frames
        }
      }
      return out;
    };
    const tried = await popup.evaluate(attack, [browseOrigin, session, appOrigin]);
    assert.ok(tried.includes('offered'), `a port was offered from a page with the bridge's URL: ${tried.join(', ')}`);

    // The user goes on: a password posted to the second host, a page of the first.
    const before = site.events().length;
    assert.equal((await browse(`${site.second}/`)).error, undefined);
    const g = await viewportFrame();
    assert.equal(await g.evaluate(async () => (await fetch('/', { method: 'POST', body: 'password=hunter2' })).status >= 200), true);
    assert.equal((await browse(`${site.main}/docs/`)).title, 'Docs');
    assert.ok(site.events().slice(before).some((e) => e.site === 'second' && e.method === 'POST'), 'the POST reached the second host through the tunnel');
    // Stopped and restarted, the worker binds the app's next port, still not the page's.
    await stopServiceWorkers(ui);
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    await popup.evaluate(attack, [browseOrigin, session, appOrigin]);
    assert.equal((await browse(`${site.second}/`)).error, undefined);
    assert.deepEqual(await popup.evaluate(() => (window as unknown as { __stolen: unknown[] }).__stolen), [], 'no request of the tab reached the page');
    await popup.close();
  });

  test('3: a second browse Service Worker cannot be registered; a page that did not load is reported, then browsing recovers', async () => {
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const f = await viewportFrame();
    await f.evaluate(async () => {
      for (const [script, scope] of [
        ['/__wgweb/browse-sw.js?x', '/browse/'],
        ['/__wgweb/browse-sw.js', '/browse/'],
        ['/__wgweb/browse-sw.js', '/browse/x/'],
        ['/__wgweb/browse-sw.js?x', '/'],
      ]) {
        await navigator.serviceWorker.register(script, { scope }).catch(() => undefined);
      }
    });
    const registrations = () => registrationsOf(f);
    const deadline = Date.now() + 10_000;
    let regs = await registrations();
    while (regs.length > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      regs = await registrations();
    }
    assert.deepEqual(regs, ['/ /__wgweb/browse-sw.js']);
    const docs = await browse(`${site.main}/docs/`);
    assert.equal(docs.title, 'Docs', JSON.stringify([docs, ui.errors.slice(-5)]));
    assert.equal(docs.error, undefined);

    // The page removes the browse view's own worker: the next page does not load, and says so…
    await (await viewportFrame()).evaluate(async () => {
      for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    });
    const broken = await browse(`${site.main}/about`);
    assert.equal(broken.error?.code, 'BROWSE_NOT_SERVED', JSON.stringify(ui.errors.slice(-5)));
    // …and the one after works again: the app loaded the bridge again, which re-registered.
    const repaired = await browse(`${site.main}/about`);
    assert.equal(repaired.error, undefined);
    assert.equal(repaired.title, 'About');
    // Reloading wgweb works too.
    await page.reload();
    await page.waitForFunction(() => typeof window.wgweb === 'object');
    await page.evaluate(() => window.wgweb.ready);
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page);
    assert.equal((await browse(`${site.main}/docs/`)).title, 'Docs');
  });

  test('4: forged frame messages speak only for the host the frame shows', async () => {
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const f = await viewportFrame();
    const session = sessionOf(f);
    const secondPath = `/browse/${session}/http/${new URL(site.second).host}/`;
    await f.evaluate(
      async ([path, origin]) => {
        const url = `${origin}${path}`;
        for (const token of ['', '0123456789abcdef0123456789abcdef']) {
          parent.postMessage({ wgweb: 'browse-frame', type: 'cookie', url, title: 'x', cookie: 'planted=1; Path=/', token }, '*');
          parent.postMessage({ wgweb: 'browse-frame', type: 'url', url, title: 'Second host', token }, '*');
          parent.postMessage({ wgweb: 'browse-frame', type: 'loaded', url, title: 'Second host', token }, '*');
        }
        // The page's own agent reports this URL change, with the page's real token.
        history.pushState(null, '', path);
        document.cookie = 'planted2=1; Path=/';
        await new Promise((r) => setTimeout(r, 500));
      },
      [secondPath, browseOrigin],
    );
    assert.equal(await address(), `${site.main}/about`, 'the address bar still names the host the frame shows');
    const before = site.events().length;
    assert.equal((await browse(`${site.second}/`)).error, undefined);
    const seen = site.events().slice(before).filter((e) => e.site === 'second');
    assert.ok(seen.length > 0);
    for (const e of seen) assert.doesNotMatch(e.cookie ?? '', /planted/, `the second host got ${e.cookie}`);
    // The first host's own document.cookie write did land, for the first host.
    assert.equal((await browse(`${site.main}/cookies`)).error, undefined);
    assert.match(site.events().filter((e) => e.site === 'main' && e.path === '/cookies').at(-1)?.cookie ?? '', /planted2=1/);
  });

  test('5: the frame agent runs before any page script: an inline script never sees the browse host\'s own cookies', async () => {
    await ui.context.addCookies([{ name: 'localapp', value: 'secret', domain: new URL(browseOrigin).hostname, path: '/' }]);
    try {
      const r = await browse(`${site.main}/early`);
      assert.equal(r.title, 'Early');
      const early = await (await viewportFrame()).evaluate(() => (window as unknown as { __early: { cookie: string; proto: string; store: string } }).__early);
      assert.doesNotMatch(early.cookie, /localapp/);
      assert.doesNotMatch(String(early.proto), /localapp/);
      assert.equal(early.store, 'undefined');
    } finally {
      await ui.context.clearCookies();
    }
  });
  test('#11 re-run, per-site origins: a site page against another site\'s origin, the relay and the Service Worker scope', async () => {
    assert.equal((await browse(`${site.second}/`)).error, undefined);
    const originB = new URL((await viewportFrame()).url()).origin;
    assert.equal((await browse(`${site.main}/about`)).title, 'About');
    const a = await viewportFrame();
    const originA = new URL(a.url()).origin;
    const session = sessionOf(a);
    assert.notEqual(originA, originB, 'the two sites are on two site origins');
    assert.notEqual(originA, browseOrigin);

    // 2: the relay frames the bridge for the app only: never for this site, the other site, or
    // this site's port under another loopback name.
    const portA = new URL(originA).port;
    const statuses = await a.evaluate(async (apps) => {
      const out: number[] = [];
      for (const app of apps) out.push((await fetch(`/__wgweb/bridge.html?app=${encodeURIComponent(app)}`)).status);
      return out;
    }, [originA, originB, browseOrigin, `http://localhost:${portA}`, `http://[::1]:${portA}`]);
    assert.deepEqual(statuses, [403, 403, 403, 403, 403]);
    // A (from a popup of its origin, which outlives the frame) frames B's bridge as if it were
    // the app, and offers what it framed a port of its own.
    const popup = await popupOf(a);
    assert.equal(new URL(popup.url()).origin, originA);
    const framed = await popup.evaluate(async ([b, app, s]) => {
      const w = window as unknown as { __stolenB: unknown[] };
      w.__stolenB = [];
      const out: string[] = [];
      for (const src of [`${b}/__wgweb/bridge.html?app=${encodeURIComponent(app)}&session=${s}`, `${b}/__wgweb/bridge.html?app=${encodeURIComponent(location.origin)}&session=${s}`]) {
        const fr = document.createElement('iframe');
        fr.src = src;
        document.body.append(fr);
        await new Promise((r) => setTimeout(r, 1500));
        const ch = new MessageChannel();
        ch.port1.onmessage = (e) => w.__stolenB.push(e.data);
        fr.contentWindow?.postMessage({ wgweb: 'browse', type: 'port' }, '*', [ch.port2]);
        try {
          out.push(fr.contentWindow?.location.href ?? 'none');
        } catch {
          out.push('cross-origin');
        }
      }
      return out;
    }, [originB, appOrigin, session]);
    assert.deepEqual(framed, ['cross-origin', 'cross-origin']);

    // 3: Service Workers of its own on its origin: the browse worker at another scope, the
    // origin's other scripts (whose directory scope would shadow the bridge's URL).
    await a.evaluate(async () => {
      for (const [script, scope] of [
        ['/__wgweb/bridge.js', '/__wgweb/'],
        ['/__wgweb/frame-agent.js', '/__wgweb/'],
        ['/__wgweb/browse-sw.js', '/__wgweb/'],
        ['/__wgweb/browse-sw.js#x', '/'],
        ['/browse/x/sw.js', '/browse/'],
      ]) {
        await navigator.serviceWorker.register(script, { scope }).catch(() => undefined);
      }
    });
    assert.deepEqual(await registrationsOf(a), ['/ /__wgweb/browse-sw.js'], 'none of those registered');
    {
      await stopServiceWorkers(ui);
      // The restarted worker asks for a port: the app's fresh bridge load is still the browse
      // worker's to see (no narrower scope took /__wgweb/).
      const r = await browse(`${site.main}/about`);
      assert.equal(r.error, undefined, JSON.stringify(r));
      assert.equal(r.title, 'About');
    }

    // 7: the page's own WebSocket (a fresh realm's, the browser's) to the relay is refused: a
    // site origin is not the app's.
    const relayWs = relay.wsUrl;
    const closes = await a.evaluate(async (ws) => {
      const realm = document.createElement('iframe');
      document.body.append(realm);
      const Native = (realm.contentWindow as unknown as { WebSocket: typeof WebSocket }).WebSocket;
      const one = (url: string, proto: string): Promise<string> =>
        new Promise((resolve) => {
          const s = new Native(url, proto);
          const timer = setTimeout(() => resolve('no close within 10 s'), 10_000);
          s.onclose = (e) => {
            clearTimeout(timer);
            resolve(`${e.code}`);
          };
        });
      return [
        await one(`${ws}?to=127.0.0.1%3A1`, 'wgweb.v1'),
        await one(`${ws.replace(/\/wg$/, '/speed')}?down=1000`, 'wgweb.speed.v1'),
        await one(`ws://${location.host}/wg?to=127.0.0.1%3A1`, 'wgweb.v1'),
      ];
    }, relayWs);
    assert.deepEqual(closes, ['4007', '4007', '1006']);

    // 4: messages claiming the other site, at its real origin.
    const bPath = `/browse/${session}/http/${new URL(site.second).host}/`;
    await a.evaluate(
      async ([url]) => {
        for (const token of ['', '0123456789abcdef0123456789abcdef']) {
          parent.postMessage({ wgweb: 'browse-frame', type: 'cookie', url, title: 'x', cookie: 'plantedB=1; Path=/', token }, '*');
          parent.postMessage({ wgweb: 'browse-frame', type: 'url', url, title: 'Second host', token }, '*');
          top?.postMessage({ wgweb: 'browse-frame', type: 'loaded', url, title: 'Second host', token }, '*');
        }
        await new Promise((r) => setTimeout(r, 500));
      },
      [`${originB}${bPath}`],
    );
    assert.equal(await address(), `${site.main}/about`, 'the address bar still names the site the frame shows');

    // Storage: what A stores, B does not find (localStorage, IndexedDB, Cache Storage).
    await a.evaluate(async () => {
      localStorage.setItem('fromA', '1');
      await caches.open('fromA').then((c) => c.put('/fromA', new Response('a')));
      await new Promise<void>((resolve, reject) => {
        const r = indexedDB.open('fromA', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('s');
        r.onsuccess = () => {
          r.result.close();
          resolve();
        };
        r.onerror = () => reject(r.error);
      });
    });

    // The user goes on: B gets a password; nothing of it reaches A's page, and B sees no planted cookie.
    const before = site.events().length;
    assert.equal((await browse(`${site.second}/`)).error, undefined);
    const b = await viewportFrame();
    assert.equal(new URL(b.url()).origin, originB);
    const seenB = await b.evaluate(async () => ({
      local: localStorage.getItem('fromA'),
      caches: await caches.keys(),
      idb: (await indexedDB.databases()).map((d) => d.name),
    }));
    assert.deepEqual(seenB, { local: null, caches: [], idb: [] }, 'B finds nothing A stored');
    assert.ok(await b.evaluate(async () => (await fetch('/', { method: 'POST', body: 'password=hunter2' })).status >= 200));
    const seen = site.events().slice(before).filter((e) => e.site === 'second');
    assert.ok(seen.some((e) => e.method === 'POST'), 'the POST reached B through the tunnel');
    for (const e of seen) assert.doesNotMatch(e.cookie ?? '', /plantedB/, `B got ${e.cookie}`);
    assert.equal((await browse(`${site.main}/docs/`)).title, 'Docs', 'A still browses');
    const a2 = await viewportFrame();
    assert.deepEqual(await popup.evaluate(() => (window as unknown as { __stolenB: unknown[] }).__stolenB), [], 'nothing of the tab reached A');
    await popup.close();
    // Only the browse worker is registered on A's origin once browsing went on (the bridge re-claims).
    const deadline = Date.now() + 10_000;
    let regs: string[] = [];
    for (;;) {
      regs = await registrationsOf(a2);
      if (regs.length === 1 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(regs, ['/ /__wgweb/browse-sw.js']);
  });
});
