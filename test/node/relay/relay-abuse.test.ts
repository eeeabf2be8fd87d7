/**
 * What one client, or one hostile web page, can take from a relay: origin and Host checks
 * (cross-site use, DNS rebinding), per-client caps on sessions, upgrades in progress and TCP
 * connections, and an idle timeout that junk from the client cannot hold open. Real relay on
 * loopback, real `ws` clients and raw sockets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { rawClient, testRelay, transportMessage, udpPeer, upgradeRequest, waitUntil, wsClient, sendBinary, type UdpPeer } from './relay-fixtures.ts';
import WebSocket from 'ws';

function originClient(url: string, headers: Record<string, string>): ReturnType<typeof wsClient> {
  const ws = new WebSocket(url, 'wgweb.v1', { headers });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  opened.catch(() => {});
  return { ws, messages: [], opened, closed, protocol: () => ws.protocol };
}

/**
 * Connects until the relay answers `request` with a head, at most 10 s: a slot freed by a closed
 * connection comes back on the server's 'close', which a loaded machine may run after the next
 * connection is accepted (that one is then dropped unread, and the next try is served).
 */
async function servedOnce(port: number, request: string): Promise<{ head: string; close(): void }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await rawClient(port, request);
    const head = await Promise.race([c.head, c.ended.then(() => undefined)]);
    if (head !== undefined) return { head, close: () => c.socket.destroy() };
    assert.ok(Date.now() < deadline, 'no connection was served within 10 s of a slot being freed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('who may use the relay from a web page (Origin, Host)', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  let to: string;
  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], allowOrigins: ['https://vpn.example.com'] });
    to = `${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`;
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  test('a cross-site page is refused with ORIGIN_NOT_ALLOWED (4007), and nothing is relayed', async () => {
    // Also the relay's own browse origins (#11 re-run): a framed intranet page is not the app.
    const browse = [relay.browse!.originFor(`127.0.0.1:${relay.port}`), ...relay.browse!.sitePorts.map((p) => `http://127.0.0.1:${p}`)];
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', 'null', `http://localhost:${relay.port + 1}`, ...browse, 'https://x.browse.example.com']) {
      const c = originClient(to, { Origin: origin });
      const r = await c.closed;
      assert.equal(r.code, RelayCloseCode.ORIGIN_NOT_ALLOWED, origin);
      assert.match(r.reason, /may not use this relay/);
    }
    assert.equal(relay.stats().openedSessions, 0);
  });

  test('the relay’s own pages (same host:port, any loopback name) and --allow-origin are served', async () => {
    for (const [origin, host] of [
      [`http://127.0.0.1:${relay.port}`, `127.0.0.1:${relay.port}`],
      [`http://localhost:${relay.port}`, `localhost:${relay.port}`],
      ['https://vpn.example.com', 'vpn.example.com'],
    ]) {
      const c = originClient(to, { Origin: origin, Host: host });
      await c.opened;
      c.ws.close();
      await c.closed;
    }
  });

  test('no Origin (the CLI, curl) is allowed whatever Host it names', async () => {
    const c = originClient(to, { Host: 'my-relay.lan:8080' });
    await c.opened;
    c.ws.close();
    await c.closed;
  });

  test('DNS rebinding: a page same-origin with itself under a name the relay does not serve is refused', async () => {
    const c = originClient(to, { Origin: `http://rebind.example:${relay.port}`, Host: `rebind.example:${relay.port}` });
    assert.equal((await c.closed).code, RelayCloseCode.ORIGIN_NOT_ALLOWED);
  });

  test('/api/: a cross-site Origin or a foreign Host gets 403; the relay’s own page and the CLI get through', async () => {
    const api = `${relay.url}api/demo/info`;
    const status = async (headers: Record<string, string>): Promise<number> => {
      const raw = await rawClient(relay.port, `GET /api/demo/info HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`);
      const head = await raw.head;
      raw.socket.destroy();
      return Number(head.split(' ')[1]);
    };
    assert.equal(await status({ Host: `127.0.0.1:${relay.port}`, Origin: 'https://evil.example' }), 403);
    assert.equal(await status({ Host: `rebind.example:${relay.port}` }), 403, 'a rebound name, even without Origin');
    assert.equal(await status({ Host: `rebind.example:${relay.port}`, Origin: `http://rebind.example:${relay.port}` }), 403);
    const own = (await fetch(api)).status;
    assert.notEqual(own, 403, 'the CLI (no Origin) reaches the route');
    assert.equal(await status({ Host: `127.0.0.1:${relay.port}`, Origin: `http://127.0.0.1:${relay.port}` }), own, 'so does the relay’s own page');
  });

  test('DNS rebinding beyond /api/: /metrics and the UI under a rebound name get 403; the probes answer any name', async () => {
    // #11 re-run (item 8): a rebound page read /metrics (sessions, traffic) with the check on /api/ only.
    const get = async (path: string, host: string): Promise<{ status: number; text: string }> => {
      const raw = await rawClient(relay.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const head = await raw.head;
      raw.socket.destroy();
      return { status: Number(head.split(' ')[1]), text: head };
    };
    const rebound = `rebind.example:${relay.port}`;
    for (const path of ['/metrics', '/', '/index.html', '/nope', '/wg']) {
      const r = await get(path, rebound);
      assert.equal(r.status, 403, `${path} under a rebound name: ${r.text.split('\r\n')[0]}`);
    }
    assert.equal((await get('/metrics', `127.0.0.1:${relay.port}`)).status, 200, 'the relay’s own name still gets /metrics');
    assert.equal((await get('/metrics', 'vpn.example.com')).status, 200, 'so does an --allow-origin name');
    for (const path of ['/healthz', '/readyz']) assert.equal((await get(path, rebound)).status, 200, `${path} answers a load balancer under any name`);
  });
});

describe('per-client caps', () => {
  test('sessions per client address: beyond the cap CLIENT_LIMIT (4008); a slot frees when one ends', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxSessionsPerClient: 3 });
    const url = `${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`;
    const open = [];
    for (let i = 0; i < 3; i++) {
      const c = wsClient(url);
      await c.opened;
      open.push(c);
    }
    const fourth = wsClient(url);
    const r = await fourth.closed;
    assert.equal(r.code, RelayCloseCode.CLIENT_LIMIT);
    assert.match(r.reason, /your address holds 3 sessions/);
    assert.equal(relay.stats().activeSessions, 3);
    open[0].ws.close();
    await open[0].closed;
    await waitUntil(() => relay.stats().activeSessions === 2, 'the slot to free');
    const again = wsClient(url);
    await again.opened;
    for (const c of [...open.slice(1), again]) c.ws.close();
    await Promise.all([...open.slice(1), again].map((c) => c.closed));
    await relay.close();
    await peer.close();
  });

  test('refusals and failed setups give their slot back (no leak after many refusals)', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxSessionsPerClient: 2 });
    for (let i = 0; i < 10; i++) {
      const c = wsClient(`${relay.wsUrl}?to=192.0.2.1%3A1`);
      assert.equal((await c.closed).code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    }
    const raw = await rawClient(relay.port, upgradeRequest(`/wg?to=127.0.0.1%3A${peer.port}`));
    raw.socket.destroy();
    await raw.ended;
    await waitUntil(() => relay.stats().pendingSessions === 0 && relay.stats().activeSessions === 0, 'the raw client to be gone');
    const a = wsClient(`${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`);
    const b = wsClient(`${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`);
    await Promise.all([a.opened, b.opened]);
    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
    await relay.close();
    await peer.close();
  });

  test('upgrades in progress per client: beyond the cap HTTP 429 at once, other clients unaffected', async () => {
    const peer = await udpPeer(4);
    const waiting: ((a: IpAddress[]) => void)[] = [];
    const relay = await testRelay({
      allow: [`127.0.0.1:${peer.port}`],
      maxPendingPerClient: 2,
      resolve: () => new Promise((r) => waiting.push(r)),
    });
    const slow = [];
    for (let i = 0; i < 2; i++) slow.push(await rawClient(relay.port, upgradeRequest(`/wg?to=never.test%3A${peer.port}`)));
    await waitUntil(() => relay.stats().pendingSessions === 2, 'two resolutions to hang');
    const third = await rawClient(relay.port, upgradeRequest(`/wg?to=never.test%3A${peer.port}`));
    assert.match(await third.head, /^HTTP\/1\.1 429/);
    // Another client (X-Forwarded-For is ignored without --trust-proxy, so use ::1).
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/wg?to=127.0.0.1%3A${peer.port}`, 'wgweb.v1');
    ws.on('error', () => {});
    void ws;
    for (const w of waiting) w([parseIp('127.0.0.1')]);
    for (const s of [...slow, third]) s.socket.destroy();
    ws.terminate();
    await relay.close();
    await peer.close();
  });

  test('TCP connections per client address: beyond the cap a connection is dropped unread', async () => {
    const relay = await testRelay({ maxConnectionsPerClient: 5 });
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await rawClient(relay.port, 'GET / HTTP/1.1\r\nHost: x\r\n'));
    const sixth = await rawClient(relay.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sixth.ended;
    assert.equal(sixth.received().length, 0, 'nothing was answered');
    assert.equal(relay.stats().refused.CONNECTION_LIMIT, 1);
    held[0].socket.destroy();
    await held[0].ended;
    const next = await servedOnce(relay.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(next.head, /^HTTP\/1\.1 200/);
    for (const h of held) h.socket.destroy();
    next.close();
    await relay.close();
  });

  test('the browse listeners (shared origin and every site port) count one client\'s connections together', async () => {
    // #11 re-run (item 6): with a count per port one client held the cap on each of 17 ports.
    const relay = await testRelay({ maxConnectionsPerClient: 4, browse: { sites: 3 } });
    const b = relay.browse!;
    const ports = [b.port, ...b.sitePorts];
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await rawClient(ports[i % ports.length], 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    for (const port of ports) {
      const over = await rawClient(port, 'GET /__wgweb/browse-sw.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await over.ended;
      assert.equal(over.received().length, 0, `port ${port} (${ports.indexOf(port)}) answered a connection over the client's cap`);
    }
    const app = await rawClient(relay.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(await app.head, /^HTTP\/1\.1 200/, 'the app listener keeps its own count');
    app.socket.destroy();
    held[3].socket.destroy();
    await held[3].ended;
    const next = await servedOnce(ports[2], 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(next.head, /^HTTP\/1\.1 404/, 'a freed slot serves any browse port');
    for (const h of held) h.socket.destroy();
    next.close();
    await relay.close();
  });

  test('with --trust-proxy the client is the last X-Forwarded-For entry (the one the proxy added)', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxSessionsPerClient: 1, trustProxy: true });
    const url = `${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`;
    const viaProxy = (chain: string) => originClient(url, { 'X-Forwarded-For': chain });
    const a = viaProxy('198.51.100.1');
    await a.opened;
    const b = viaProxy('203.0.113.9, 198.51.100.2'); // a forged first entry does not matter
    await b.opened;
    const c = viaProxy('198.51.100.2, 198.51.100.1');
    assert.equal((await c.closed).code, RelayCloseCode.CLIENT_LIMIT);
    for (const x of [a, b]) x.ws.close();
    await Promise.all([a.closed, b.closed]);
    await relay.close();
    await peer.close();
  });
});

describe('idle timeout counts only what the peer answers', () => {
  test('WireGuard-shaped junk from the client, never answered, does not keep a session open', async () => {
    const peer = await udpPeer(4); // receives, never answers
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], idleTimeoutMs: 300 });
    const c = wsClient(`${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`);
    await c.opened;
    let closed = false;
    void c.closed.then(() => (closed = true));
    let n = 0;
    const deadline = performance.now() + 10_000;
    while (!closed && performance.now() < deadline) {
      await sendBinary(c.ws, transportMessage(32, n++ & 0xff)).catch(() => {});
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(closed, 'the session met its idle timeout while the junk kept coming');
    const r = await c.closed;
    assert.equal(r.code, RelayCloseCode.IDLE_TIMEOUT);
    assert.ok(peer.received.length > 0, 'the junk was forwarded: it is well-formed, only never answered');
    await relay.close();
    await peer.close();
  });

  test('a peer that answers keeps the session open past the idle timeout', async () => {
    const peer = await udpPeer(4, true); // echoes
    // A timeout ten times the send interval: a loaded machine may stall a few hundred ms (CI saw a
    // 300 ms timeout fire under load), which must not read as idleness here.
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], idleTimeoutMs: 1000 });
    const c = wsClient(`${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`);
    await c.opened;
    for (let i = 0; i < 40; i++) {
      await sendBinary(c.ws, transportMessage(32, i));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(relay.stats().activeSessions, 1, 'still open after ~4 idle timeouts of answered traffic');
    c.ws.close();
    await c.closed;
    await relay.close();
    await peer.close();
  });
});
