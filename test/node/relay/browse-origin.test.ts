/**
 * The relay's browse origin listener over real HTTP on loopback: the bridge page only for the
 * app's own origin, the Service Worker with its scope header, nothing else served, and
 * `/api/browse` on the app's listener naming the origin.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrowseOrigin, type BrowseOriginHandle } from '../../../src/node/relay/browse-origin.ts';
import { startRelay } from '../../../src/node/relay/main.ts';
import { createLogger } from '../../../src/node/relay/log.ts';

const log = createLogger({ level: 'silent' });

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, options: { host?: string; method?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the browse origin listener', () => {
  let dir: string;
  let browse: BrowseOriginHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-browse-'));
    mkdirSync(join(dir, '__wgweb'));
    writeFileSync(join(dir, '__wgweb', 'browse-sw.js'), '/* sw */');
    writeFileSync(join(dir, '__wgweb', 'bridge.js'), '/* bridge */');
    writeFileSync(join(dir, 'secret.txt'), 'app file');
    browse = await startBrowseOrigin({ host: '127.0.0.1', port: 0, staticDirs: [dir], appOrigins: ['https://vpn.example.com'], log });
  });
  after(async () => {
    await browse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Service Worker script may control the whole origin and is always revalidated', async () => {
    const r = await get(browse.port, '/__wgweb/browse-sw.js');
    assert.equal(r.status, 200);
    assert.equal(r.body, '/* sw */');
    assert.equal(r.headers['service-worker-allowed'], '/');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal((await get(browse.port, '/__wgweb/bridge.js')).body, '/* bridge */');
  });

  test('the Service Worker script exists at exactly one URL: with a query it is not served (#11: a second registration)', async () => {
    for (const path of ['/__wgweb/browse-sw.js?x', '/__wgweb/browse-sw.js?', '/__wgweb/bridge.js?v=2']) {
      assert.equal((await get(browse.port, path)).status, 404, path);
    }
  });

  test('the bridge page can be framed only by an app origin the relay served /api/browse to, or a configured one; never by the browse origin itself', async () => {
    const before = await get(browse.port, '/__wgweb/bridge.html?app=http%3A%2F%2F127.0.0.1%3A8080');
    assert.equal(before.status, 403, 'another port of the same host is not the app until it asked for /api/browse');
    // The app's listener answers /api/browse for the app at 127.0.0.1:8080 (its Host header).
    const http = await import('node:http');
    const server = http.createServer((req, res) => void browse.routes(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const appPort = (server.address() as { port: number }).port;
    try {
      await get(appPort, '/api/browse', { host: '127.0.0.1:8080' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    const ok = await get(browse.port, '/__wgweb/bridge.html?app=http%3A%2F%2F127.0.0.1%3A8080');
    assert.equal(ok.status, 200);
    assert.match(ok.body, /<script src="\/__wgweb\/bridge\.js"><\/script>/);
    assert.equal(ok.headers['content-security-policy'], "default-src 'none'; script-src 'self'; frame-ancestors http://127.0.0.1:8080");
    const configured = await get(browse.port, '/__wgweb/bridge.html?app=https%3A%2F%2Fvpn.example.com', { host: 'browse.example.com' });
    assert.equal(configured.status, 200);
    // #11: a framed page (on the browse origin) framing the bridge as its "app" could hand the
    // Service Worker a port of its own.
    for (const app of [
      `http://127.0.0.1:${browse.port}`,
      'http://127.0.0.1:9999',
      'http://evil.example:8080',
      'http://127.0.0.1:8080/path',
      "http://127.0.0.1:8080 'unsafe-inline'",
      'javascript:alert(1)',
      '',
    ]) {
      const r = await get(browse.port, `/__wgweb/bridge.html?app=${encodeURIComponent(app)}`);
      assert.equal(r.status, 403, app);
    }
  });

  test('nothing else is served: not the app, not other files, not other methods', async () => {
    for (const path of ['/', '/secret.txt', '/index.html', '/browse/http/10.0.0.1/', '/__wgweb/../secret.txt', '/__wgweb/%2e%2e/secret.txt', '/__wgweb/frame-agent.js']) {
      const r = await get(browse.port, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /app file/);
    }
    assert.equal((await get(browse.port, '/__wgweb/browse-sw.js', { method: 'POST' })).status, 405);
  });

  test('GET /api/browse tells the app its browse origin, on the host the browser used', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      if (!browse.routes(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await get(port, '/api/browse', { host: `localhost:${port}` });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { origin: `http://localhost:${browse.port}` });
      assert.equal(r.headers['cache-control'], 'no-store');
      const odd = await get(port, '/api/browse', { host: 'bad host!' });
      assert.deepEqual(JSON.parse(odd.body), { origin: `http://127.0.0.1:${browse.port}` });
      assert.equal((await get(port, '/api/other')).status, 404);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a public origin (behind a proxy) is what /api/browse names', async () => {
    const b = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], publicOrigin: 'https://browse.example.com/', log });
    try {
      assert.equal(b.originFor('vpn.example.com'), 'https://browse.example.com');
    } finally {
      await b.close();
    }
    await assert.rejects(startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], publicOrigin: 'https://x/path', log }), RangeError);
  });
});

describe('startRelay runs the browse origin by default', () => {
  test('/api/browse on the relay names a live listener; browse: false turns both off', async () => {
    const relay = await startRelay({ port: 0, logger: log, warnIfNoRules: false });
    try {
      assert.ok(relay.browse);
      const r = await get(relay.port, '/api/browse');
      assert.deepEqual(JSON.parse(r.body), { origin: `http://127.0.0.1:${relay.browse.port}` });
      assert.notEqual(relay.browse.port, relay.port);
      assert.equal((await get(relay.browse.port, '/nothing')).status, 404);
    } finally {
      await relay.close();
    }
    const off = await startRelay({ port: 0, logger: log, warnIfNoRules: false, browse: false });
    try {
      assert.equal(off.browse, undefined);
      assert.equal((await get(off.port, '/api/browse')).status, 404);
    } finally {
      await off.close();
    }
  });
});
