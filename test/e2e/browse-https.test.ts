/**
 * https:// intranet sites in the browse view (#13 item 3), headless Chromium against real servers
 * inside the namespace of a real wireguard-go peer; TLS is the tunnel worker's own client.
 *
 *   Chromium: app ──▶ tunnel worker (Session, TLS) ──ws──▶ relay ──UDP──▶ wireguard-go (namespace)
 *     ── 10.x.y.1:443   nginx-light, leaf of an internal CA (imported with wgweb.addTrustedCertificate):
 *                      a page with CSS, an SVG image, and a script fetching JSON three ways
 *                      (relative, `${location.protocol}//${location.host}/…`, absolute https://),
 *                      /login setting Secure cookies (one HttpOnly) and redirecting to /whoami
 *     ── 10.x.y.1:80    nginx, plain http: 301 to https://, except /whoami (what cookies arrive)
 *     ── 10.x.y.201:4443 openssl s_server -www, a self-signed appliance certificate nobody trusts
 *
 * - the https page and all its subresources load through the tunnel (scheme kept in the browse path)
 * - http://HOST/ redirects to https://HOST/, and the address bar follows
 * - Secure cookies are kept and sent over https, never over plain http; document.cookie shows the
 *   non-HttpOnly one
 * - an untrusted certificate stops at the certificate prompt over the frame (fingerprint as openssl
 *   prints it); Cancel shows the error page (TLS_CERT_UNTRUSTED, nothing loaded); "Trust for HOST"
 *   pins it and the page loads
 * - and what a real app needs besides (#14 item 5): a `Content-Disposition: attachment` download
 *   arrives with the right bytes (SHA-256), Back/Forward of the browse view keep the right page, a
 *   `Range` request gets 206 with the right slice (over plain http: nginx's /files/)
 * - an https page's own WebSockets (root-absolute from `location.host`, relative, absolute wss://)
 *   are wss:// through the tunnel (the `ws` package behind TLS on 10.x.y.1:9443), with the page's
 *   https Origin and the jar's cookie
 * - a synchronous XHR (which Chromium never hands to a Service Worker) runs asynchronously through
 *   the tunnel, as an asynchronous XHR of the same URLs does
 *
 * WGWEB_SCREENSHOTS=1 also saves docs/screenshots/browse-https-prompt.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FrameLocator, Page } from 'playwright-core';
import { binariesSkipReason, browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startNginxTls, type NginxTlsServer } from '../../harness/nginx-tls.ts';
import { startOpensslServer, type OpensslServer } from '../../harness/openssl-server.ts';
import { startWebSocketServer, type NsWebSocketServer } from '../../harness/ns-servers.ts';
import { TestPki, type TestCert } from '../../harness/test-pki.ts';
import { deterministicBytes, sha256Hex } from '../../harness/deterministic-bytes.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import type { BrowseResult } from '../../src/browser/browse/browse-host.ts';

const skip = browserSkipReason() ?? interopSkipReason(['nginx', 'openssl']) ?? binariesSkipReason(['nginx', 'openssl'], 'https in the browse view');

/** An HTML page (so the frame agent serves document.cookie in it) saying which cookies arrived. */
/** Served as an attachment (download) and by Range (206). */
const BLOB = deterministicBytes(300_000, 7);

const WHOAMI = 'location = /whoami { default_type text/html; return 200 "sid=$cookie_sid ui=$cookie_ui\\n"; }';

function pageFiles(host: string): Record<string, string | Uint8Array> {
  return {
    // video/mp4: not gzipped by nginx (gzip_types), so it answers Range requests.
    'clip.mp4': BLOB,
    // Synchronous and asynchronous XHR of the same two URLs: one the Service Worker answers by
    // itself (the interstitial), one it answers through the tunnel.
    'sync.html': '<!doctype html><title>Sync XHR</title><p id="sync">waiting</p><p id="after"></p><p id="async">waiting</p><script src="sync.js"></script>',
    'sync.js':
      'const urls = ["/__wgweb/outside?url=http%3A%2F%2F198.51.100.7%2F", "data.json"];\n' +
      'const said = (x) => x.status + " " + (/leaves the tunnel/.test(x.responseText) ? "interstitial" : /"ok"/.test(x.responseText) ? "data" : "other");\n' +
      // Opened synchronously: what the callback gets, and what is there right after send().
      'const sync = (url) => new Promise((done) => { const x = new XMLHttpRequest(); x.open("GET", url, false); x.onloadend = () => done(said(x)); x.send(); document.getElementById("after").textContent += said(x) + ";"; });\n' +
      'Promise.all(urls.map(sync)).then((r) => { document.getElementById("sync").textContent = r.join(", "); });\n' +
      'const later = (url) => new Promise((done) => { const x = new XMLHttpRequest(); x.open("GET", url); x.onloadend = () => done(said(x)); x.send(); });\n' +
      'Promise.all(urls.map(later)).then((r) => { document.getElementById("async").textContent = r.join(", "); });\n',
    'range.html': '<!doctype html><title>Range</title><p id="range">waiting</p><script src="range.js"></script>',
    'range.js':
      'fetch("clip.mp4", { headers: { Range: "bytes=1000-1999" } }).then(async (r) => {\n' +
      '  const b = new Uint8Array(await r.arrayBuffer());\n' +
      '  document.getElementById("range").textContent = [r.status, r.headers.get("content-range"), b.length, Array.from(b.subarray(0, 4)).join(".")].join(" ");\n' +
      '});\n',
    'index.html':
      '<!doctype html><html><head><meta charset="utf-8"><title>Secure intranet</title><link rel="stylesheet" href="/style.css"></head>' +
      '<body><h1 id="h">Secure intranet</h1><img id="logo" src="logo.svg" alt="logo"><p id="data">loading</p>' +
      '<a id="next" href="/page2.html">next</a> <a id="download" href="/download/report.bin">report</a><script src="app.js"></script></body></html>',
    'page2.html': '<!doctype html><title>Page two</title><p id="two">second https page</p>',
    'style.css': '#h { color: rgb(1, 2, 3); }',
    'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="7"><rect width="12" height="7" fill="teal"/></svg>',
    'data.json': '{"v":"ok"}',
    'app.js':
      'const get = (u) => fetch(u).then((r) => r.json()).then((j) => j.v, (e) => "failed " + e);\n' +
      `Promise.all([get("data.json"), get(location.protocol + "//" + location.host + "/data.json"), get("https://${host}/data.json")])` +
      '.then((v) => { document.getElementById("data").textContent = v.join(","); });\n',
  };
}

describe('https intranet sites in the browse view; downloads, history, Range and synchronous XHR', { skip }, () => {
  let peer: WgGoPeer;
  let pki: TestPki;
  let ca: TestCert;
  let appliance: TestCert;
  let nginx: NginxTlsServer;
  let openssl: OpensslServer;
  let wss: NsWebSocketServer;
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let frame: FrameLocator;
  let host: string;
  let applianceHost: string;

  before(async () => {
    await ensureUiBuilt();
    pki = await TestPki.create();
    peer = await startWireguardGoPeer({ name: 'bhttps', logLevel: 'error' });
    host = peer.tunnelAddress4!;
    applianceHost = `${host.split('.').slice(0, 3).join('.')}.201`;
    await peer.ns.exec('ip', ['addr', 'add', `${applianceHost}/32`, 'dev', peer.ifname]);
    ca = pki.ca('browse-ca', { cn: 'Browse Test CA' });
    const leaf = pki.leaf('browse-leaf', { issuer: ca, ips: [host] });
    appliance = pki.leaf('browse-appliance', { cn: 'printer.appliance.test', ips: [applianceHost] });
    nginx = await startNginxTls(peer, {
      cert: leaf,
      files: pageFiles(host),
      serverConfig: `location = /download/report.bin { rewrite ^ /clip.mp4 break; add_header Content-Disposition 'attachment; filename="report.bin"'; } location = /login { add_header Set-Cookie "sid=s3cret; Secure; HttpOnly; Path=/"; add_header Set-Cookie "ui=dark; Secure; Path=/"; return 302 /whoami; } ${WHOAMI}`,
      plainHttp: { port: 80, config: `${WHOAMI} location /files/ { rewrite ^/files/(.*)$ /$1 break; } location / { return 301 https://$host$request_uri; }` },
    });
    wss = await startWebSocketServer(peer, { port: 9443, tls: { certFile: leaf.chainFile, keyFile: leaf.keyFile } });
    openssl = await startOpensslServer({ site: peer, host: applianceHost, port: 4443, cert: appliance, args: ['-www'] });
    const client = await peer.addClient({});
    relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint)], logger: createLogger({ level: 'error' }) });
    ui = await openUi({ url: relay.url });
    page = ui.page;
    frame = page.frameLocator('wg-browse iframe.viewport');
    await ui.context.addInitScript(() => {
      (globalThis as unknown as { __name: <T>(f: T) => T }).__name = (f) => f;
    });
    await page.evaluate(() => localStorage.clear());
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page);
    await page.evaluate((pem) => window.wgweb.addTrustedCertificate(pem), ca.certPem);
  });
  after(async () => {
    await ui?.close();
    await openssl?.close();
    await wss?.close();
    await nginx?.close();
    await relay?.close();
    await peer?.close();
    await closeAllNamespaces();
    pki?.cleanup();
  });

  const browse = (url: string): Promise<BrowseResult> => page.evaluate((u) => window.wgweb.browse(u), url);
  const prompt = () => page.locator('wg-browse').getByTestId('certificate-prompt');

  test('an https page and its stylesheet, image and script fetches (relative, built from location, absolute https) load through the tunnel', async () => {
    const result = await browse(`https://${host}/`);
    assert.equal(result.status, 200);
    assert.equal(result.url, `https://${host}/`);
    assert.equal(result.title, 'Secure intranet');
    await frame.locator('#data').filter({ hasText: 'ok,ok,ok' }).waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('#h').evaluate((e) => getComputedStyle(e).color), 'rgb(1, 2, 3)');
    await frame.locator('#logo').evaluate((img: HTMLImageElement) => (img.complete ? undefined : new Promise((r) => img.addEventListener('load', r, { once: true }))));
    assert.equal(await frame.locator('#logo').evaluate((img: HTMLImageElement) => img.naturalWidth), 12);
    // The scheme lives in the browse path, so a relative link of the page stays https.
    assert.match(await frame.locator('#next').evaluate((a: HTMLAnchorElement) => a.href), /\/browse\/[a-z0-9]+\/https\/[\d.]+\/page2\.html$/);
    await frame.locator('#next').click();
    await frame.locator('#two').waitFor({ timeout: 60_000 });
    const bar = page.locator('wg-browse').getByLabel('Browse address');
    const want = `https://${host}/page2.html`;
    for (const deadline = Date.now() + 30_000; (await bar.inputValue()) !== want; ) {
      if (Date.now() > deadline) assert.fail(`the address bar shows ${await bar.inputValue()}, not ${want}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  test('http://HOST/ redirects to https://HOST/, and the frame follows into the https page', async () => {
    const result = await browse(`http://${host}/`);
    assert.equal(result.url, `https://${host}/`);
    assert.equal(result.status, 200);
    assert.equal(result.title, 'Secure intranet');
  });

  test('Secure cookies set over https come back over https only; page scripts see the non-HttpOnly one', async () => {
    const login = await browse(`https://${host}/login`);
    assert.equal(login.url, `https://${host}/whoami`);
    assert.equal((await frame.locator('body').textContent())?.trim(), 'sid=s3cret ui=dark');
    assert.equal(await frame.locator('body').evaluate(() => document.cookie), 'ui=dark');
    await browse(`http://${host}/whoami`);
    assert.equal((await frame.locator('body').textContent())?.trim(), 'sid= ui=', 'a Secure cookie never goes over plain http');
  });

  test('a Content-Disposition: attachment link downloads the file with the right bytes', async () => {
    await browse(`https://${host}/`);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), frame.locator('#download').click()]);
    assert.equal(download.suggestedFilename(), 'report.bin');
    const path = await download.path();
    assert.ok(path, await download.failure() ?? 'no file');
    assert.equal(sha256Hex(readFileSync(path)), sha256Hex(BLOB));
  });

  test('Back and Forward of the browse view return to the right pages', async () => {
    await browse(`https://${host}/`);
    await frame.locator('#next').click();
    await frame.locator('#two').waitFor({ timeout: 60_000 });
    const view = page.locator('wg-browse');
    await view.getByRole('button', { name: 'Back' }).click();
    await frame.locator('#h').waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('#two').count(), 0);
    await view.getByRole('button', { name: 'Forward' }).click();
    await frame.locator('#two').waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('#h').count(), 0);
  });

  test('a Range request gets 206 with exactly the requested slice', async () => {
    await browse(`http://${host}/files/range.html`);
    const want = `206 bytes 1000-1999/${BLOB.length} 1000 ${Array.from(BLOB.subarray(1000, 1004)).join('.')}`;
    await frame.locator('#range').filter({ hasText: want }).waitFor({ timeout: 60_000 }).catch(async () => assert.fail(`the page says ${await frame.locator('#range').textContent()}, not ${want}`));
  });

  test("an https page's WebSockets are wss:// through the tunnel: built from location.host, relative and absolute, with its Origin and cookie", async () => {
    const result = await browse(`https://${host}:9443/page`);
    assert.equal(result.title, 'WebSocket page');
    const viewport = await (await page.locator('wg-browse iframe.viewport').elementHandle())?.contentFrame();
    assert.ok(viewport);
    const echoes = await viewport.evaluate(async (absolute) => {
      const out: string[] = [];
      for (const url of [`ws://${location.host}/root-absolute`, 'relative', absolute]) {
        const ws = new WebSocket(url);
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error(`error before open: ${url}`));
        });
        out.push(await new Promise<string>((resolve) => {
          ws.onmessage = (e) => resolve(String(e.data));
          ws.send(`hello ${url}`);
        }));
        ws.close();
      }
      return out;
    }, `wss://${host}:9443/absolute`);
    assert.equal(echoes.length, 3);
    for (const e of echoes) assert.match(e, /^hello /);
    const opens = () => wss.events().filter((e) => e.event === 'ws-open') as unknown as { path: string; headers: Record<string, string> }[];
    for (let i = 0; opens().length < 3; i++) {
      if (i > 100) assert.fail(`handshakes seen: ${JSON.stringify(opens())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(opens().map((o) => o.path), ['/root-absolute', '/relative', '/absolute']);
    for (const o of opens()) {
      assert.equal(o.headers.origin, `https://${host}:9443`);
      // (Cookies are per host, not per port: the host's Secure cookies from /login go along too.)
      assert.match(o.headers.cookie ?? '', /(^|; )wsauth=ok($|;)/);
    }
  });

  test('an untrusted certificate stops at the prompt with its fingerprint: Cancel refuses the page, "Trust for HOST" pins it and loads it', async () => {
    const url = `https://${applianceHost}:4443/`;
    const refused = browse(url);
    await prompt().waitFor({ timeout: 60_000 });
    const text = (await prompt().textContent()) ?? '';
    assert.match(text, /printer\.appliance\.test/);
    assert.match(text, /self-signed/);
    const fingerprint = execFileSync('openssl', ['x509', '-in', appliance.certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).trim().split('=')[1];
    assert.equal((await page.locator('wg-browse').getByTestId('fingerprint').textContent())?.trim(), fingerprint);
    if (process.env.WGWEB_SCREENSHOTS) await page.locator('wg-browse').screenshot({ path: fileURLToPath(new URL('../../docs/screenshots/browse-https-prompt.png', import.meta.url)) });
    await prompt().getByRole('button', { name: 'Cancel' }).click();
    const r1 = await refused;
    assert.equal(r1.error?.code, 'TLS_CERT_UNTRUSTED', JSON.stringify(r1));
    assert.equal(await prompt().count(), 0);
    assert.doesNotMatch((await frame.locator('body').textContent()) ?? '', /s_server/, 'nothing of the server was shown');

    const trusted = browse(url);
    await prompt().waitFor({ timeout: 60_000 });
    await prompt().getByRole('button', { name: `Trust for ${applianceHost}` }).click();
    const r2 = await trusted;
    assert.equal(r2.status, 200, JSON.stringify(r2));
    assert.equal(r2.error, undefined);
    assert.match((await frame.locator('body').textContent()) ?? '', /s_server/);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    assert.ok(log.some((m) => m.startsWith('Pinned the certificate') && m.includes(applianceHost)), log.join('\n'));
    // The console's only complaint: the error page Cancel left (served with 502).
    assert.deepEqual(ui.errors.filter((e) => !/status of 502/.test(e)), []);
  });

  // Chromium never hands a *synchronous* XHR to the Service Worker (crbug.com/602051; WebKit
  // neither; WPT service-workers/fetch-request-xhr-sync): it would go to the browse origin's own
  // listener. The frame agent opens such requests asynchronously, so they go through the tunnel and
  // their callbacks fire (how jQuery's async:false callers, e.g. Transmission's web UI, read them);
  // code that reads the response right after send() sees nothing yet.
  test('a synchronous XHR runs asynchronously through the tunnel: its callbacks get the answer; nothing is there right after send()', async () => {
    await browse(`http://${host}/files/sync.html`);
    const async = frame.locator('#async');
    await async.filter({ hasText: '200 interstitial, 200 data' }).waitFor({ timeout: 60_000 }).catch(async () => assert.fail(`async XHR: ${await async.textContent()}`));
    const sync = frame.locator('#sync');
    await sync.filter({ hasText: '200 interstitial, 200 data' }).waitFor({ timeout: 60_000 }).catch(async () => assert.fail(`sync XHR: ${await sync.textContent()}`));
    assert.equal(await frame.locator('#after').textContent(), '0 other;0 other;');
  });
});
