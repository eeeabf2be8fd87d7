/**
 * The relay's front door on loopback: who gets a session, who is refused and with which close
 * code, what hostile upgrades get, static files, and shutdown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { buildRelayUrl, RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import { createLogger } from '../../../src/node/relay/log.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import {
  markerOf,
  rawClient,
  sendBinary,
  testRelay,
  transportMessage,
  udpPeer,
  upgradeRequest,
  waitUntil,
  wsClient,
  type UdpPeer,
} from './relay-fixtures.ts';

describe('refusals are close codes with a reason the browser can show', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({
      allow: [`127.0.0.1:${peer.port}`, `peer.test:${peer.port}`, '192.0.2.0/24:51820'],
      resolve: async (host) => {
        const table: Record<string, string[]> = { 'peer.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'], 'v6only.test': ['::1'] };
        const t = table[host];
        if (!t) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        return t.map(parseIp);
      },
    });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  async function closeOf(to: string, protocols?: string[]): Promise<{ code: number; reason: string }> {
    const c = wsClient(`${relay.wsUrl}?to=${encodeURIComponent(to)}`, protocols);
    return c.closed;
  }

  test('a destination outside the allow list: DESTINATION_NOT_ALLOWED (4001)', async () => {
    const r = await closeOf('192.0.2.7:51821');
    assert.equal(r.code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    assert.equal(r.reason, '192.0.2.7:51821 is not allowed by this relay');
  });

  test('the allowed address on another port: 4001', async () => {
    assert.equal((await closeOf(`127.0.0.1:${peer.port + 1 === 65536 ? 1 : peer.port + 1}`)).code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
  });

  test('a name resolving to a disallowed address: 4001 naming the name, never what it resolves to', async () => {
    const r = await closeOf('v6only.test:51820');
    assert.equal(r.code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    assert.equal(r.reason, 'v6only.test:51820 is not allowed by this relay');
  });

  test('a name that does not resolve: RESOLVE_FAILED (4002)', async () => {
    const r = await closeOf('nowhere.test:51820');
    assert.equal(r.code, RelayCloseCode.RESOLVE_FAILED);
    assert.match(r.reason, /cannot resolve nowhere\.test: no such host/);
  });

  test('a malformed or missing ?to=: BAD_REQUEST (4000)', async () => {
    for (const to of ['127.0.0.1', '127.0.0.1:99999', '[::1:5', 'a b:1', '127.1:51820']) {
      const r = await closeOf(to);
      assert.equal(r.code, RelayCloseCode.BAD_REQUEST, to);
      assert.match(r.reason, /bad endpoint/);
    }
    const c = wsClient(relay.wsUrl);
    const r = await c.closed;
    assert.equal(r.code, RelayCloseCode.BAD_REQUEST);
    assert.match(r.reason, /missing \?to=/);
  });

  test('a client that does not offer wgweb.v1: BAD_REQUEST naming the subprotocol', async () => {
    const r = await closeOf(`127.0.0.1:${peer.port}`, []);
    assert.equal(r.code, RelayCloseCode.BAD_REQUEST);
    assert.match(r.reason, /wgweb\.v1/);
    assert.equal((await closeOf(`127.0.0.1:${peer.port}`, ['chat'])).code, RelayCloseCode.BAD_REQUEST);
  });

  test('allowed by a host-name rule: the client may name the address or the name', async () => {
    for (const to of [`127.0.0.1:${peer.port}`, `peer.test:${peer.port}`, `other.test:${peer.port}`]) {
      const c = wsClient(buildRelayUrl(relay.url, to));
      await c.opened;
      assert.equal(c.protocol(), 'wgweb.v1');
      const marker = 700 + peer.received.length;
      await sendBinary(c.ws, transportMessage(32, marker));
      await waitUntil(() => peer.received.some((r) => markerOf(r.data) === marker), `datagram via ${to}`);
      c.ws.close();
      await c.closed;
    }
  });

  test('refusals are counted by name', () => {
    const refused = relay.stats().refused;
    assert.ok((refused.DESTINATION_NOT_ALLOWED ?? 0) >= 3);
    assert.ok((refused.RESOLVE_FAILED ?? 0) >= 1);
    assert.ok((refused.BAD_REQUEST ?? 0) >= 8);
  });

  test('the policy is mutable at runtime through the handle', async () => {
    const other = await udpPeer(4);
    assert.equal((await closeOf(`127.0.0.1:${other.port}`)).code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    const rule = relay.policy.add(`127.0.0.1:${other.port}`);
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${other.port}`));
    await c.opened;
    c.ws.close();
    await c.closed;
    relay.policy.remove(rule);
    assert.equal((await closeOf(`127.0.0.1:${other.port}`)).code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    await other.close();
  });
});

describe('session limits and floods', () => {
  test('beyond --max-sessions: TOO_MANY_SESSIONS (4003); a slot frees when a session ends', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxSessions: 2 });
    const url = buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`);
    const a = wsClient(url);
    const b = wsClient(url);
    await Promise.all([a.opened, b.opened]);
    const c = wsClient(url);
    const r = await c.closed;
    assert.equal(r.code, RelayCloseCode.TOO_MANY_SESSIONS);
    assert.match(r.reason, /full \(2 sessions\)/);
    a.ws.close();
    await a.closed;
    await waitUntil(() => relay.stats().activeSessions === 1, 'a slot to free');
    const d = wsClient(url);
    await d.opened;
    assert.equal(relay.stats().activeSessions, 2);
    b.ws.close();
    d.ws.close();
    await Promise.all([b.closed, d.closed]);
    await relay.close();
    await peer.close();
  });

  test('a handshake flood hits HTTP 503 at the connection cap instead of growing', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxSessions: 1 });
    // Cap = 1 + 16. Raw clients that never answer the relay's close frame stay counted until the
    // close timeout, which is exactly what a flood looks like.
    const raws = [];
    for (let i = 0; i < 17; i++) {
      const raw = await rawClient(relay.port, upgradeRequest(`/wg?to=127.0.0.1%3A${peer.port}`));
      assert.match(await raw.head, /^HTTP\/1\.1 101/);
      raws.push(raw);
    }
    const extra = await rawClient(relay.port, upgradeRequest(`/wg?to=127.0.0.1%3A${peer.port}`));
    assert.match(await extra.head, /^HTTP\/1\.1 503/);
    assert.equal(relay.stats().refused.OVERLOAD, 1);
    assert.equal(relay.stats().refused.TOO_MANY_SESSIONS, 16);
    for (const r of raws) r.socket.destroy();
    extra.socket.destroy();
    await relay.close();
    await peer.close();
  });

  test('slow half-sent requests do not keep others out', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    const slow = [];
    for (let i = 0; i < 50; i++) slow.push(await rawClient(relay.port, 'GET /wg?to=127.0.0.1%3A1 HTTP/1.1\r\nHost: x\r\nUpgr'));
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`));
    await c.opened;
    c.ws.close();
    await c.closed;
    for (const s of slow) s.socket.destroy();
    await relay.close();
    await peer.close();
  });

  test('a client that hangs up while its endpoint is being resolved leaves nothing behind', async () => {
    const peer = await udpPeer(4);
    let release: (a: IpAddress[]) => void = () => {};
    const relay = await testRelay({
      allow: [`127.0.0.1:${peer.port}`],
      resolve: () => new Promise((r) => (release = r)),
    });
    const raw = await rawClient(relay.port, upgradeRequest(`/wg?to=slow.test%3A${peer.port}`));
    await waitUntil(() => relay.stats().pendingSessions === 1, 'resolution to start');
    raw.socket.destroy();
    await raw.ended;
    release([parseIp('127.0.0.1')]);
    await waitUntil(() => relay.stats().pendingSessions === 0, 'resolution to finish');
    assert.equal(relay.stats().activeSessions, 0);
    assert.equal(relay.stats().openedSessions, 0);
    await relay.close();
    await peer.close();
  });
});

describe('hostile or stray HTTP', () => {
  let relay: RelayHandle;
  before(async () => {
    relay = await testRelay({ allow: ['127.0.0.1:1'] });
  });
  after(async () => {
    await relay.close();
  });

  const cases: [string, string, RegExp][] = [
    ['an upgrade on another path', upgradeRequest('/other?to=127.0.0.1%3A1'), /^HTTP\/1\.1 404/],
    ['an upgrade on /', upgradeRequest('/'), /^HTTP\/1\.1 404/],
    ['an upgrade without a key', upgradeRequest('/wg?to=127.0.0.1%3A1', { 'Sec-WebSocket-Key': undefined }), /^HTTP\/1\.1 400/],
    ['an upgrade with a malformed key', upgradeRequest('/wg?to=127.0.0.1%3A1', { 'Sec-WebSocket-Key': 'short' }), /^HTTP\/1\.1 400/],
    ['an upgrade with version 12', upgradeRequest('/wg?to=127.0.0.1%3A1', { 'Sec-WebSocket-Version': '12' }), /^HTTP\/1\.1 400/],
    ['an upgrade to something else', upgradeRequest('/wg?to=127.0.0.1%3A1', { Upgrade: 'h2c' }), /^HTTP\/1\.1 400/],
    ['a POST upgrade', upgradeRequest('/wg?to=127.0.0.1%3A1').replace(/^GET/, 'POST'), /^HTTP\/1\.1 400/],
    ['a plain GET of /wg', 'GET /wg HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 426/],
    ['garbage instead of HTTP', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n', /^HTTP\/1\.1 400/],
    ['a huge header', `GET / HTTP/1.1\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, /^HTTP\/1\.1 431/],
  ];
  for (const [what, request, expected] of cases) {
    test(`${what} → ${expected.source.slice(13)}`, async () => {
      const raw = await rawClient(relay.port, request);
      assert.match(await raw.head, expected);
      raw.socket.destroy();
    });
  }

  test('the relay still serves after all of that', async () => {
    const res = await fetch(`${relay.url}healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });
});

describe('static files', () => {
  let dir: string;
  let relay: RelayHandle;
  let routed = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-static-'));
    const dist = join(dir, 'dist');
    const pub = join(dir, 'public');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    mkdirSync(join(pub, 'sub'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<p>dist</p>');
    writeFileSync(join(dist, 'assets', 'main-AbCdEf12.js'), 'export {};');
    writeFileSync(join(pub, 'index.html'), '<p>public</p>');
    writeFileSync(join(pub, 'only-public.css'), 'p{}');
    writeFileSync(join(pub, 'demo.conf'), '[Interface]');
    writeFileSync(join(pub, 'icon.svg'), '<svg/>');
    writeFileSync(join(pub, 'data.bin'), 'x');
    writeFileSync(join(pub, 'sub', 'index.html'), '<p>sub</p>');
    writeFileSync(join(pub, '.secret'), 'secret');
    writeFileSync(join(dir, 'outside.txt'), 'outside');
    symlinkSync(join(dir, 'outside.txt'), join(pub, 'link.txt'));
    relay = await testRelay({
      staticDirs: [dist, pub],
      routes: (req, res) => {
        if (req.url !== '/api/demo/config') return false;
        routed++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"demo":true}');
        return true;
      },
    });
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request with the path sent exactly as written (no client-side normalisation). */
  function get(path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: relay.port, path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const rows: [string, number, string | undefined, string | undefined][] = [
    ['/', 200, 'text/html; charset=utf-8', '<p>dist</p>'],
    ['/index.html', 200, 'text/html; charset=utf-8', '<p>dist</p>'],
    ['/?x=1', 200, 'text/html; charset=utf-8', '<p>dist</p>'],
    ['/only-public.css', 200, 'text/css; charset=utf-8', 'p{}'],
    ['/assets/main-AbCdEf12.js', 200, 'text/javascript; charset=utf-8', 'export {};'],
    ['/demo.conf', 200, 'text/plain; charset=utf-8', '[Interface]'],
    ['/icon.svg', 200, 'image/svg+xml', '<svg/>'],
    ['/data.bin', 200, 'application/octet-stream', 'x'],
    ['/sub/', 200, 'text/html; charset=utf-8', '<p>sub</p>'],
    ['/missing.js', 404, undefined, undefined],
    ['/../outside.txt', 404, undefined, undefined],
    ['/../../../../etc/passwd', 404, undefined, undefined],
    ['/%2e%2e/outside.txt', 404, undefined, undefined],
    ['/sub/%2e%2e%2f%2e%2e%2foutside.txt', 404, undefined, undefined],
    ['/..%2f..%2fetc%2fpasswd', 404, undefined, undefined],
    ['/sub/..%5c..%5coutside.txt', 404, undefined, undefined],
    ['/.secret', 404, undefined, undefined],
    ['/%2esecret', 404, undefined, undefined],
    ['/index.html%00.txt', 404, undefined, undefined],
    ['/link.txt', 404, undefined, undefined],
    ['/%E0%A4%A', 400, undefined, undefined],
    ['/api/demo/config', 200, 'application/json', '{"demo":true}'],
  ];
  for (const [path, status, type, body] of rows) {
    test(`GET ${path} → ${status}${type ? ` ${type}` : ''}`, async () => {
      const r = await get(path);
      assert.equal(r.status, status);
      if (type) assert.equal(r.type, type);
      if (body !== undefined) assert.equal(r.body, body);
      if (status === 200 && path !== '/api/demo/config') assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.ok(!r.body.includes('root:'), 'never a system file');
    });
  }

  test('a directory without the slash redirects to it', async () => {
    const r = await get('/sub');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/sub/');
  });

  test('HEAD has the length and no body; other methods are 405', async () => {
    const h = await get('/index.html', 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], String('<p>dist</p>'.length));
    assert.equal(h.body, '');
    const p = await get('/index.html', 'POST');
    assert.equal(p.status, 405);
    assert.equal(p.headers.allow, 'GET, HEAD');
  });

  test('hashed assets are cached for good, everything else revalidates', async () => {
    assert.match((await get('/assets/main-AbCdEf12.js')).headers['cache-control'] ?? '', /immutable/);
    assert.equal((await get('/')).headers['cache-control'], 'no-cache');
  });

  test('the routes hook ran', () => assert.ok(routed >= 1));
});

describe('shutdown and logging', () => {
  test('close() ends every session with 1001 and stops listening', async () => {
    const peer = await udpPeer(4);
    const lines: string[] = [];
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
    const url = buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`);
    const clients = [wsClient(url), wsClient(url), wsClient(url)];
    await Promise.all(clients.map((c) => c.opened));
    const secret = transportMessage(64, 0xc0ffee);
    await sendBinary(clients[0].ws, secret);
    await waitUntil(() => peer.received.length === 1, 'a datagram');
    await relay.close();
    for (const c of clients) {
      const r = await c.closed;
      assert.equal(r.code, RelayCloseCode.GOING_AWAY);
      assert.equal(r.reason, 'relay shutting down');
    }
    assert.equal(relay.stats().activeSessions, 0);
    await assert.rejects(fetch(relay.url));
    await relay.close(); // idempotent

    const events = lines.map((l) => JSON.parse(l) as { msg: string; level: string });
    assert.ok(events.some((e) => e.msg === 'relay.listening'));
    assert.equal(events.filter((e) => e.msg === 'session.open').length, 3);
    assert.equal(events.filter((e) => e.msg === 'session.close').length, 3);
    // No payload bytes in the log, in any encoding.
    const all = lines.join('');
    assert.ok(!all.includes('c0ffee') && !all.includes('eeffc0') && !all.includes(Buffer.from(secret).toString('base64').slice(0, 16)));
    await peer.close();
  });

  test('an empty allow list is warned about at startup', async () => {
    const lines: string[] = [];
    const relay = await testRelay({ warnIfNoRules: true, logger: createLogger({ write: (l) => lines.push(l) }) });
    const warn = lines.map((l) => JSON.parse(l) as { msg: string; level: string; message?: string }).find((e) => e.msg === 'relay.no_allow_rules');
    assert.equal(warn?.level, 'warn');
    assert.match(warn?.message ?? '', /every session will be refused/);
    await relay.close();
  });

  test('a port already in use is a WgwebError naming the address', async () => {
    const first = await testRelay();
    await assert.rejects(testRelay({ port: first.port }), (e: unknown) => (e as { code?: string }).code === 'LISTEN_FAILED' && /already in use/.test((e as Error).message));
    await first.close();
  });
});
