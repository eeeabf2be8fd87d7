/**
 * WebSockets and server-sent events of a page in the browse view (#14 item 1), end to end: the
 * page's own `new WebSocket(...)` (the frame agent's replacement) connects through the Service
 * Worker's port, the app and the tunnel worker, to the `ws` server behind a real wireguard-go.
 *
 *   framed page (browse origin): new WebSocket(url) ─port─▶ Service Worker ─▶ app: BrowseBackend
 *     ─▶ tunnel worker: Session.webSocket ──▶ relay ──UDP──▶ wireguard-go (namespace) ──▶ ws server :8080
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { startWebSocketServer, type NsWebSocketServer } from '../../harness/ns-servers.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('WebSockets and server-sent events of pages in the browse view', { skip }, () => {
  let fx: SessionFixture;
  let server: NsWebSocketServer;
  let ui: UiSession;
  let page: Page;
  let httpBase: string;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2ebws', session: false, servers: [] });
    server = await startWebSocketServer(fx.peer);
    httpBase = server.url('/').replace(/^ws:/, 'http:').replace(/\/$/, '');
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await ui.context.addInitScript(() => {
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await server?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  async function viewportFrame(): Promise<Frame> {
    const handle = await page.locator('wg-browse iframe.viewport').elementHandle();
    const f = await handle?.contentFrame();
    assert.ok(f, 'the viewport has a frame');
    return f;
  }

  test("the page's own WebSocket reaches the intranet host through the tunnel: root-absolute, relative and absolute URLs, with its Origin and cookie", async () => {
    const result = await page.evaluate((u) => window.wgweb.browse(u), `${httpBase}/page`);
    assert.equal(result.title, 'WebSocket page');
    const f = await viewportFrame();
    const r = await f.evaluate(async (absolute) => {
      // As Jupyter does: the socket URL built from the page's own location.
      const urls = [`ws://${location.host}/root-absolute`, 'relative', absolute];
      const out: { url: string; sent: string; protocol: string; echo: string; states: number[]; close: [number, string, boolean]; isWs: boolean }[] = [];
      for (const url of urls) {
        const ws = new WebSocket(url, ['chat', 'other']);
        const states = [ws.readyState];
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error(`error before open: ${url}`));
        });
        states.push(ws.readyState);
        const echo = await new Promise<string>((resolve) => {
          ws.onmessage = (e) => resolve(String(e.data));
          ws.send(`hello ${url}`);
        });
        const close = await new Promise<[number, string, boolean]>((resolve) => {
          ws.onclose = (e) => resolve([e.code, e.reason, e.wasClean]);
          ws.send('close 4001 server says bye');
        });
        states.push(ws.readyState);
        out.push({ url: ws.url, sent: `hello ${url}`, protocol: ws.protocol, echo, states, close, isWs: ws instanceof WebSocket && WebSocket.OPEN === 1 });
      }
      return out;
    }, server.url('/absolute'));
    assert.equal(r.length, 3);
    // `url` reads as the page resolved it (on the browse origin), as a browser's WebSocket would.
    assert.match(r[1].url, /^ws:\/\/[^/]+\/browse\/[a-z0-9]+\/http\/[^/]+\/relative$/);
    for (const one of r) {
      assert.equal(one.protocol, 'chat');
      assert.equal(one.echo, one.sent);
      assert.deepEqual(one.states, [0, 1, 3]);
      assert.deepEqual(one.close, [4001, 'server says bye', true]);
      assert.equal(one.isWs, true);
    }
    // The server saw each path on its own host, with the intranet document's Origin and the jar's
    // HttpOnly cookie (set by /page), never the browse origin's.
    await waitFor('three handshakes', () => server.events().filter((e) => e.event === 'ws-open').length >= 3);
    const opens = server.events().filter((e) => e.event === 'ws-open') as unknown as { path: string; headers: Record<string, string> }[];
    assert.deepEqual(opens.map((o) => o.path), ['/root-absolute', '/relative', '/absolute']);
    for (const o of opens) {
      assert.equal(o.headers.origin, httpBase);
      assert.equal(o.headers.cookie, 'wsauth=ok');
    }
  });

  test('a refused upgrade is error then close 1006 in the page, as with a browser WebSocket', async () => {
    const f = await viewportFrame();
    const r = await f.evaluate(async () => {
      const seen: string[] = [];
      const ws = new WebSocket('/reject');
      ws.onerror = () => seen.push('error');
      const code = await new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
      let thrown = '';
      try {
        new WebSocket('ws://10.0.0.1/#fragment');
      } catch (e) {
        thrown = (e as DOMException).name;
      }
      return { seen, code, thrown };
    });
    assert.deepEqual(r, { seen: ['error'], code: 1006, thrown: 'SyntaxError' });
  });

  test('EventSource streams server-sent events through the Service Worker', async () => {
    const f = await viewportFrame();
    const words = await f.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const got: string[] = [];
          const es = new EventSource('/events');
          es.onmessage = (e) => {
            got.push(String(e.data));
            if (got.length === 3) {
              es.close();
              resolve(got);
            }
          };
          es.onerror = () => {
            es.close();
            reject(new Error(`EventSource failed after ${got.length} events`));
          };
        }),
    );
    assert.deepEqual(words, ['one', 'two', 'three']);
  });
});
