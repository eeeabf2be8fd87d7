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
import { DEFAULT_SITE_LISTENERS, startBrowseOrigin, type BrowseOriginHandle } from '../../../src/node/relay/browse-origin.ts';
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

  test('every answer has nosniff and no Referer; refusals also run nothing and cannot be framed (#11 item 9)', async () => {
    const answers = [
      await get(browse.port, '/'),
      await get(browse.port, '/__wgweb/browse-sw.js'),
      await get(browse.port, '/__wgweb/bridge.html?app=http%3A%2F%2Fevil.example'),
      await get(browse.port, '/__wgweb/browse-sw.js', { method: 'POST' }),
    ];
    assert.deepEqual(answers.map((r) => r.status), [404, 200, 403, 405]);
    for (const r of answers) {
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
    for (const r of answers.slice(2)) assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    assert.equal(answers[1].headers['content-security-policy'], undefined, "the Service Worker's script carries no CSP: it would bind the worker's own fetches");
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
      assert.deepEqual(JSON.parse(r.body), { origin: `http://localhost:${browse.port}`, sites: browse.sitePorts.map((p) => `http://localhost:${p}`) });
      assert.equal(r.headers['cache-control'], 'no-store');
      const odd = await get(port, '/api/browse', { host: 'bad host!' });
      assert.equal(JSON.parse(odd.body).origin, `http://127.0.0.1:${browse.port}`);
      assert.equal((await get(port, '/api/other')).status, 404);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a public origin (behind a proxy) is what /api/browse names', async () => {
    const b = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], publicOrigin: 'https://browse.example.com/', log });
    try {
      assert.equal(b.originFor('vpn.example.com'), 'https://browse.example.com');
      assert.deepEqual(b.sitePorts, [], 'users behind the proxy could not reach loopback ports');
    } finally {
      await b.close();
    }
    await assert.rejects(startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], publicOrigin: 'https://x/path', log }), RangeError);
  });
});

/** Serves browse.routes (the app listener's /api/browse) for one request from `host`. */
async function askApiBrowse(b: BrowseOriginHandle, host: string): Promise<{ origin: string; sites?: string[]; siteTemplate?: string }> {
  const http = await import('node:http');
  const server = http.createServer((req, res) => void b.routes(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    return JSON.parse((await get((server.address() as { port: number }).port, '/api/browse', { host })).body);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('one browse origin per intranet site (#14 item 3)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-browse-sites-'));
    mkdirSync(join(dir, '__wgweb'));
    writeFileSync(join(dir, '__wgweb', 'browse-sw.js'), '/* sw */');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a pool of site listeners on the same host: /api/browse names them with the host the browser used', async () => {
    const b = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], sites: 3, log });
    try {
      assert.equal(b.sitePorts.length, 3);
      assert.equal(new Set([b.port, ...b.sitePorts]).size, 4);
      const answer = await askApiBrowse(b, 'localhost:8080');
      assert.deepEqual(answer, { origin: `http://localhost:${b.port}`, sites: b.sitePorts.map((p) => `http://localhost:${p}`) });
      for (const port of b.sitePorts) {
        const sw = await get(port, '/__wgweb/browse-sw.js');
        assert.equal(sw.status, 200);
        assert.equal(sw.headers['service-worker-allowed'], '/');
        assert.equal((await get(port, '/__wgweb/bridge.html?app=http%3A%2F%2Flocalhost%3A8080', { host: `localhost:${port}` })).status, 200);
      }
    } finally {
      await b.close();
    }
  });

  test('no browse origin is ever an app: a site listener, the shared origin or a site name cannot frame the bridge', async () => {
    const b = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], sites: 2, appOrigins: [], log });
    const d = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], siteDomain: 'https://*.browse.example.com', appOrigins: ['https://vpn.example.com', 'https://x1.browse.example.com'], log });
    try {
      // The site listeners' origins asked /api/browse (as if a page had): still not apps.
      for (const p of [b.port, ...b.sitePorts]) await askApiBrowse(b, `127.0.0.1:${p}`);
      for (const port of [b.port, ...b.sitePorts]) {
        for (const app of [b.port, ...b.sitePorts]) {
          const r = await get(port, `/__wgweb/bridge.html?app=${encodeURIComponent(`http://127.0.0.1:${app}`)}`);
          assert.equal(r.status, 403, `${app} framing the bridge of ${port}`);
        }
      }
      assert.equal((await get(d.port, '/__wgweb/bridge.html?app=https%3A%2F%2Fvpn.example.com', { host: 'x1.browse.example.com' })).status, 200);
      assert.equal((await get(d.port, '/__wgweb/bridge.html?app=https%3A%2F%2Fx1.browse.example.com', { host: 'x2.browse.example.com' })).status, 403, 'a site name, even when configured as an app');
    } finally {
      await b.close();
      await d.close();
    }
  });

  test('with a wildcard browse domain, /api/browse gives the template and no loopback pool runs', async () => {
    const d = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], siteDomain: 'HTTPS://*.Browse.Example.com', publicOrigin: 'https://browse.example.com', log });
    try {
      assert.deepEqual(d.sitePorts, []);
      assert.deepEqual(await askApiBrowse(d, 'vpn.example.com'), { origin: 'https://browse.example.com', siteTemplate: 'https://*.browse.example.com' });
    } finally {
      await d.close();
    }
  });

  test('bad site options are refused with what to write', async () => {
    for (const siteDomain of ['https://browse.example.com', 'https://a.*.example.com', '*.example.com', 'https://*.example.com/path']) {
      await assert.rejects(startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], siteDomain, log }), /https:\/\/\*\.browse\.example\.com/, siteDomain);
    }
    for (const sites of [-1, 65, 1.5]) await assert.rejects(startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], sites, log }), RangeError, String(sites));
  });

  test('sites: 0 keeps the single shared origin', async () => {
    const b = await startBrowseOrigin({ host: '127.0.0.1', staticDirs: [dir], sites: 0, log });
    try {
      assert.deepEqual(await askApiBrowse(b, '127.0.0.1:8080'), { origin: `http://127.0.0.1:${b.port}` });
    } finally {
      await b.close();
    }
  });
});

describe('startRelay runs the browse origin by default', () => {
  test('/api/browse on the relay names a live listener; browse: false turns both off', async () => {
    const relay = await startRelay({ port: 0, logger: log, warnIfNoRules: false });
    try {
      assert.ok(relay.browse);
      const r = await get(relay.port, '/api/browse');
      assert.deepEqual(JSON.parse(r.body), { origin: `http://127.0.0.1:${relay.browse.port}`, sites: relay.browse.sitePorts.map((p) => `http://127.0.0.1:${p}`) });
      assert.equal(relay.browse.sitePorts.length, DEFAULT_SITE_LISTENERS);
      assert.equal((await get(relay.browse.sitePorts[0], '/nothing')).status, 404);
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
