/**
 * A page script's WebSocket through the tunnel, end to end: `window.wgweb.webSocket()` returns a
 * PortWebSocket whose connection runs in the worker (RFC 6455 over wgweb's TCP/IP), through the
 * relay and a real wireguard-go, to the `ws` package's server in the namespace.
 *
 *   page: PortWebSocket ⇄ MessagePort ⇄ worker: Session.webSocket ──ws──▶ relay ──UDP──▶
 *       wireguard-go (namespace) ── kernel TCP ── ws server :8080 (harness/servers/websocket-echo.ts)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { startWebSocketServer, type NsWebSocketServer } from '../../harness/ns-servers.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('WebSockets from a page script through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let server: NsWebSocketServer;
  let ui: UiSession;
  let page: Page;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2ews', session: false, servers: ['dns'] });
    server = await startWebSocketServer(fx.peer);
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await server?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('the page opens a tunnel WebSocket, echoes text and binary, and closes cleanly', async () => {
    const result = await page.evaluate(async (url) => {
      const log: string[] = [];
      const ws = window.wgweb.webSocket(url, ['chat']);
      ws.binaryType = 'arraybuffer';
      const states = [ws.readyState];
      // (No named function expressions inside evaluate: tsx's __name helper does not exist in the page.)
      const waiters: ((e: MessageEvent) => void)[] = [];
      ws.onmessage = (e) => waiters.shift()?.(e as MessageEvent);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error('error before open'));
      });
      states.push(ws.readyState);
      log.push(`protocol=${ws.protocol}`);
      let m = new Promise<MessageEvent>((resolve) => waiters.push(resolve));
      ws.send('hello from the page ☃');
      const text = (await m).data as string;
      m = new Promise<MessageEvent>((resolve) => waiters.push(resolve));
      const bytes = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
      ws.send(bytes);
      const echoed = new Uint8Array((await m).data as ArrayBuffer);
      let same = echoed.length === bytes.length;
      for (let i = 0; same && i < bytes.length; i++) same = echoed[i] === bytes[i];
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean; type: string }>((resolve) => {
        ws.onclose = (e) => {
          const c = e as CloseEvent;
          resolve({ code: c.code, reason: c.reason, wasClean: c.wasClean, type: c.constructor.name });
        };
      });
      ws.close(1000, 'page done');
      states.push(ws.readyState);
      const close = await closed;
      states.push(ws.readyState);
      return { log, text, echoedLength: echoed.length, same, close, states, bufferedAmount: ws.bufferedAmount };
    }, server.url('/from-page'));
    assert.deepEqual(result.log, ['protocol=chat']);
    assert.equal(result.text, 'hello from the page ☃');
    assert.equal(result.echoedLength, 200_000);
    assert.equal(result.same, true);
    assert.deepEqual(result.close, { code: 1000, reason: 'page done', wasClean: true, type: 'CloseEvent' });
    assert.deepEqual(result.states, [0, 1, 2, 3]);
    assert.equal(result.bufferedAmount, 0);
    await waitFor('the server to see the page close with 1000', () => server.events().some((e) => e.event === 'ws-close' && e.code === 1000 && e.reason === 'page done'));
    const open = server.events().find((e) => e.event === 'ws-open' && e.path === '/from-page');
    assert.ok(open, 'the server saw the handshake on the path the page asked for');
  });

  test('a refused upgrade reaches the page as error then close 1006, and bad arguments throw like new WebSocket()', async () => {
    const r = await page.evaluate(async (url) => {
      const seen: string[] = [];
      const ws = window.wgweb.webSocket(url);
      ws.onerror = () => seen.push('error');
      const code = await new Promise<number>((resolve) => (ws.onclose = (e) => resolve((e as CloseEvent).code)));
      let thrown = '';
      try {
        window.wgweb.webSocket('ftp://10.0.0.1/');
      } catch (e) {
        thrown = `${(e as DOMException).name}`;
      }
      return { seen, code, thrown };
    }, server.url('/reject'));
    assert.deepEqual(r, { seen: ['error'], code: 1006, thrown: 'SyntaxError' });
  });
});
