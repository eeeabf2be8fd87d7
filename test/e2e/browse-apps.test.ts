/**
 * Real intranet applications in the browse view (#14 items 2 and 6), each from its Debian package,
 * served in the namespace of a real wireguard-go peer, used in headless Chromium as a user would:
 *
 *   lighttpd (Basic, Digest MD5/SHA-256)  the app's login dialog: wrong password, cancel, sign in; URL credentials
 *   Transmission web UI                    Basic auth through the dialog, then its RPC (sync XHR made async; 409 session id dance) lists a torrent
 *   Prometheus                             a query in its UI (/graph) shows the scraped series
 *   Jupyter Notebook                       open a notebook, run a cell through the kernel's WebSocket, see "42"
 *   Syncthing                              its AngularJS GUI reads the CSRF token from document.cookie
 *                                          (the jar) and sends it on its REST calls; shows this device
 *
 *   Chromium: app ──▶ tunnel worker ──ws──▶ relay ──UDP──▶ wireguard-go (namespace) ──▶ the apps on 10.x:port
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { FrameLocator, Page } from 'playwright-core';
import { binariesSkipReason, browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { AUTH_USER, startLighttpdAuth, type LighttpdAuthServer } from '../../harness/lighttpd-auth.ts';
import { SYNCTHING_DEVICE, TRANSMISSION_USER, startJupyter, startPrometheus, startSyncthing, startTransmission, type IntranetApp } from '../../harness/intranet-apps.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import type { BrowseResult } from '../../src/browser/browse/browse-host.ts';

const skip =
  browserSkipReason() ?? interopSkipReason() ?? binariesSkipReason(['lighttpd', 'jupyter-notebook', 'transmission-daemon', 'prometheus', 'syncthing', 'curl'], 'the browse view with real applications');

describe('real intranet applications in the browse view', { skip }, () => {
  let peer: WgGoPeer;
  let auth: LighttpdAuthServer;
  let jupyter: IntranetApp;
  let transmission: IntranetApp;
  let prometheus: IntranetApp;
  let syncthing: IntranetApp;
  let relay: RelayHandle;
  let ui: UiSession;
  let page: Page;
  let frame: FrameLocator;

  before(async () => {
    await ensureUiBuilt();
    peer = await startWireguardGoPeer({ name: 'apps', logLevel: 'error' });
    [auth, jupyter, transmission, prometheus, syncthing] = await Promise.all([startLighttpdAuth(peer), startJupyter(peer), startTransmission(peer), startPrometheus(peer), startSyncthing(peer)]);
    const client = await peer.addClient({});
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
    // The apps first, while the relay's listener keeps the event loop alive for their exits.
    await Promise.all([auth, jupyter, transmission, prometheus, syncthing].map((app) => app?.close()));
    await ui?.close();
    await relay?.close();
    await peer?.close();
    await closeAllNamespaces();
  });

  const browse = (url: string): Promise<BrowseResult> => page.evaluate((u) => window.wgweb.browse(u), url);
  const dialog = () => page.getByTestId('browse-login');
  async function signIn(username: string, password: string): Promise<void> {
    await dialog().waitFor({ timeout: 60_000 });
    await dialog().getByLabel('User name').fill(username);
    await dialog().getByLabel('Password').fill(password);
    await dialog().getByRole('button', { name: 'Sign in' }).click();
  }

  test('Basic: the login dialog names host and realm; a wrong password asks again, Cancel shows the 401 page, the right one the page', async () => {
    const url = auth.url('basic');
    let result = browse(url);
    await dialog().waitFor({ timeout: 60_000 });
    assert.match(await dialog().textContent() ?? '', new RegExp(`Sign in to http://${auth.host}:${auth.port}[\\s\\S]*basic realm`));
    if (process.env.WGWEB_SCREENSHOTS) await page.locator('wg-browse').screenshot({ path: fileURLToPath(new URL('../../docs/screenshots/browse-login.png', import.meta.url)) });
    await signIn(AUTH_USER.username, 'not the password');
    await dialog().getByText('was not accepted').waitFor({ timeout: 60_000 });
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    const refused = await result;
    assert.equal(refused.status, 401);
    assert.equal(await dialog().count(), 0);
    result = browse(url);
    await signIn(AUTH_USER.username, AUTH_USER.password);
    assert.equal((await result).status, 200);
    assert.equal((await frame.locator('body').textContent())?.trim(), 'secret /basic/index.txt');
    // The same protection space again: no dialog, the credentials go along (kept for this tab).
    const again = await browse(url);
    assert.equal(again.status, 200);
  });

  test('Digest SHA-256 through the dialog; Digest MD5 with credentials in the URL needs no dialog', async () => {
    const sha = browse(auth.url('digest-sha256'));
    await signIn(AUTH_USER.username, AUTH_USER.password);
    assert.equal((await sha).status, 200);
    assert.equal((await frame.locator('body').textContent())?.trim(), 'secret /digest-sha256/index.txt');
    const md5 = await browse(auth.url('digest-md5', AUTH_USER));
    assert.equal(md5.status, 200);
    assert.equal(md5.url, auth.url('digest-md5'), 'the address bar shows no credentials');
    assert.equal((await frame.locator('body').textContent())?.trim(), 'secret /digest-md5/index.txt');
  });

  // Transmission 3.00's web UI starts with *synchronous* XHR POSTs (transmission.js:
  // loadDaemonPrefs(async = false), through jQuery with a success callback). Chromium never hands
  // sync XHR to a Service Worker (crbug.com/602051); the frame agent opens them asynchronously
  // (browse-https.test.ts: "a synchronous XHR runs asynchronously"), so the 409 session-id dance
  // and the torrent list go through the tunnel.
  test('Transmission: log in with Basic auth, and its web UI lists the torrents over its RPC', async () => {
    // One torrent to list (a magnet link, paused: nothing leaves the namespace).
    const add = JSON.stringify({ method: 'torrent-add', arguments: { filename: 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=wgweb-e2e', paused: true } });
    const rpc = transmission.url('/transmission/rpc');
    const login = `${TRANSMISSION_USER.username}:${TRANSMISSION_USER.password}`;
    const first = await peer.ns.exec('curl', ['-s', '-u', login, '-D', '-', '-o', '/dev/null', rpc]);
    const id = /x-transmission-session-id: *(\S+)/i.exec(first.stdout)?.[1];
    assert.ok(id, first.stdout);
    await peer.ns.exec('curl', ['-sf', '-u', login, '-H', `X-Transmission-Session-Id: ${id}`, '-d', add, rpc]);

    const result = browse(transmission.url('/transmission/web/'));
    await signIn(TRANSMISSION_USER.username, TRANSMISSION_USER.password);
    assert.equal((await result).status, 200);
    await frame.locator('#filter-count').filter({ hasText: '1 Transfer' }).waitFor({ timeout: 30_000 });
    await frame.getByText('wgweb-e2e').first().waitFor({ timeout: 30_000 });
  });

  test('Prometheus: a query in its UI shows the series it scraped', async () => {
    const r = await browse(prometheus.url('/graph?g0.expr=up&g0.tab=1&g0.range_input=1h'));
    assert.equal(r.status, 200);
    await frame.getByText('wgweb-self').first().waitFor({ timeout: 90_000 });
    assert.match((await frame.locator('body').textContent()) ?? '', /job="wgweb-self"/);
  });

  test('Jupyter: a notebook opens, its kernel connects over WebSocket, a cell runs and shows its output', async () => {
    const r = await browse(jupyter.url('/notebooks/wgweb.ipynb'));
    assert.equal(r.status, 200);
    // The title is Jupyter's generic one until its script has loaded the notebook: wait for the name.
    await frame.locator('#notebook_name').filter({ hasText: 'wgweb' }).waitFor({ timeout: 120_000 });
    const handle = await page.locator('wg-browse iframe.viewport').elementHandle();
    const f = await handle!.contentFrame();
    assert.ok(f);
    await f.waitForFunction(
      () => {
        const j = (window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } }).Jupyter;
        return j?.notebook?.kernel?.is_connected() === true;
      },
      undefined,
      { timeout: 120_000, polling: 500 },
    );
    await f.evaluate(() => (window as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }).Jupyter.notebook.execute_all_cells());
    await frame.locator('.output_area .output_text').filter({ hasText: '42' }).waitFor({ timeout: 120_000 });
    assert.equal(await frame.getByText('Connection failed').count(), 0);
  });

  test("Syncthing: its GUI reads its CSRF token from document.cookie, and its REST calls show this device", async () => {
    const result = await browse(syncthing.url('/'));
    assert.equal(result.status, 200);
    // The device name comes from /rest/config, which syncthing answers only with the CSRF header
    // its script builds from the cookie it set (403 otherwise).
    await frame.getByText(SYNCTHING_DEVICE, { exact: true }).first().waitFor({ timeout: 60_000 });
  });
});
