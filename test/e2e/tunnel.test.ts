/**
 * The browser app end to end: headless Chromium loads the UI from the real relay, the worker's
 * Session handshakes through the relay with a real wireguard-go in a network namespace, and the
 * kernel's servers answer on the far side.
 *
 *   Chromium (page ⇄ worker: WireGuard + TCP/IP) ──ws──▶ relay (127.0.0.1, serves dist/ui)
 *       ──UDP──▶ wireguard-go (namespace) ── 10.77.X.1 / fd77:X::1: HTTP :80, DNS :53
 *
 * Everything is driven through `window.wgweb` and checked both in its results and in what the UI
 * shows. WGWEB_SCREENSHOTS=1 also saves the connected states to docs/screenshots/.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp, pollPage } from '../../harness/browser.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
async function shot(page: Page, name: string): Promise<void> {
  if (!process.env.WGWEB_SCREENSHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

const skip = browserSkipReason() ?? interopSkipReason();

describe('the browser app through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2e', session: false, servers: ['http', 'dns'] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
  });
  after(async () => {
    await ui?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('a script connects; the handshake completes and the status panel shows it like wg show', async () => {
    const status = await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    assert.equal(status.interface.publicKey, fx.client.publicKey);
    assert.equal(status.interface.cipher, 'wasm', "the worker compiled the WebAssembly AEAD under the relay's CSP (#19 item 4)");
    await waitForTunnelUp(page);
    // The browsers' default carrier (#19 section 12): the downstream on a fetch() body from the
    // relay that served the page (its CSP allows it); it attaches right after the WebSocket opens.
    await pollPage(page, 'the fetch-stream carrier attached', async () => (await window.wgweb.status())?.relay.carrier === 'fetch-stream', undefined, { timeoutMs: 30_000, intervalMs: 100 });
    assert.equal((await page.evaluate(() => window.wgweb.status()))?.relay.carrierFallback, undefined);
    await fx.peer.waitForHandshake(fx.client.publicKey);

    const now = await page.evaluate(() => window.wgweb.status());
    assert.equal(now?.peers.length, 1);
    assert.equal(now?.peers[0].publicKey, fx.peer.publicKey);
    assert.ok((now?.peers[0].latestHandshakeAt ?? 0) > 0);

    // The UI reflects what the script did: badge, config in the editor, the peer in the status panel.
    await page.getByTestId('state').filter({ hasText: 'Connected' }).waitFor();
    assert.equal(await page.getByLabel('wg-quick config', { exact: true }).inputValue(), fx.configText);
    const panel = page.getByTestId('status');
    assert.match((await panel.textContent()) ?? '', new RegExp(fx.peer.publicKey.replace(/[+/=]/g, '\\$&')));
    await page.getByTestId('latest-handshake').filter({ hasText: / ago$|just now/ }).waitFor();
    // The session's own events reach the page on the subscription's port, not with connect's result.
    await pollPage(page, 'the event log tells the story (the app\'s line and the session\'s)', () => window.wgweb.events().length >= 2, undefined, { timeoutMs: 10_000 });
  });

  test('ping over IPv4 and IPv6 returns every reply with its RTT', async () => {
    for (const address of [fx.peer.tunnelAddress4!, fx.peer.tunnelAddress6!]) {
      const r = await page.evaluate((a) => window.wgweb.ping(a, 3), address);
      assert.equal(r.transmitted, 3);
      assert.equal(r.received, 3, JSON.stringify(r));
      assert.deepEqual(r.replies.map((x) => x.seq), [1, 2, 3]);
      assert.ok(r.replies.every((x) => 'rttMs' in x && x.from === address));
    }
  });

  test('DNS through the tunnel, and TCP open and refused ports', async () => {
    const a = await page.evaluate(() => window.wgweb.dns('server.wgweb.test', 'A'));
    assert.deepEqual(a.addresses, [fx.peer.tunnelAddress4]);
    const aaaa = await page.evaluate(() => window.wgweb.dns('server.wgweb.test', 'AAAA'));
    assert.deepEqual(aaaa.addresses, [fx.peer.tunnelAddress6]);
    const nx = await page.evaluate(() => window.wgweb.dns('nothing.wgweb.test').then(() => 'resolved', (e) => e.code));
    assert.equal(nx, 'DNS_NXDOMAIN');
    const open = await page.evaluate((h) => window.wgweb.tcping(h, 80), fx.peer.tunnelAddress4!);
    assert.equal(open.result, 'open');
    const closed = await page.evaluate((h) => window.wgweb.tcping(h, 81), fx.peer.tunnelAddress4!);
    assert.equal(closed.result, 'refused');
  });

  test('fetch gives a standard Response whose body streams from the worker intact', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const url = fx.http.url(`/bytes/${size}?seed=7`);
    const got = await page.evaluate(async (u) => {
      const r = await window.wgweb.fetch(u);
      const bytes = new Uint8Array(await r.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return {
        isResponse: r instanceof Response,
        status: r.status,
        url: r.url,
        length: bytes.length,
        sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
        header: r.headers.get('x-sha256'),
      };
    }, url);
    assert.equal(got.isResponse, true);
    assert.equal(got.status, 200);
    assert.equal(got.url, url);
    assert.equal(got.length, size);
    assert.equal(got.sha256, deterministicSha256(size, 7));
    assert.equal(got.header, got.sha256);

    const json = await page.evaluate(async (u) => (await window.wgweb.fetch(u, { headers: { 'x-wgweb-test': 'yes' } })).json(), fx.http.url('/json'));
    assert.equal((json as { method: string }).method, 'GET');
    assert.match(JSON.stringify(json), /x-wgweb-test/);

    const posted = await page.evaluate(
      async (u) => (await window.wgweb.fetch(u, { method: 'POST', body: 'hello through the tunnel' })).json(),
      fx.http.url('/upload'),
    );
    assert.equal((posted as { length: number }).length, 'hello through the tunnel'.length);
  });

  test('the tools in the UI: ping, then an HTTP request shown as JSON and as rendered HTML', async () => {
    await page.getByRole('tab', { name: 'Ping' }).click();
    await page.getByLabel('Address', { exact: true }).fill(fx.peer.tunnelAddress4!);
    await page.getByLabel('Count', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.getByRole('status', { name: 'Summary' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('list', { name: 'Replies' }).getByRole('listitem').count(), 3);
    await shot(page, 'connected');
    if (process.env.WGWEB_SCREENSHOTS) {
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await shot(page, 'connected-dark');
      await page.getByRole('button', { name: 'Switch to light theme' }).click();
    }

    await page.getByRole('tab', { name: 'HTTP' }).click();
    await page.getByLabel('URL', { exact: true }).fill(fx.http.url('/json'));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('http-status').filter({ hasText: '200' }).waitFor({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'JSON' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'JSON' }).getAttribute('aria-selected'), 'true');
    await shot(page, 'http-json');

    await page.getByLabel('URL', { exact: true }).fill(fx.http.url('/'));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('tab', { name: 'Rendered' }).waitFor({ timeout: 30_000 });
    const frame = page.locator('wg-http-body iframe');
    assert.equal(await frame.getAttribute('sandbox'), '');
    const heading = await page.frameLocator('wg-http-body iframe').locator('body').textContent();
    assert.match(heading ?? '', /hello\.txt/);
    await shot(page, 'http-html');

    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    assert.ok(log.some((m) => /^HTTP GET http:\/\/.*\/json: 200/.test(m)), log.join('\n'));
  });

  test('the DNS and TCP port tools in the UI: a record, NXDOMAIN as an answer, a failure with its message, an open port', async () => {
    await page.getByRole('tab', { name: 'DNS' }).click();
    const dns = page.locator('wg-dns-tool');
    await dns.getByLabel('Name', { exact: true }).fill('server.wgweb.test');
    await dns.getByRole('button', { name: 'Look up' }).click();
    await dns.getByRole('status').filter({ hasText: fx.peer.tunnelAddress4! }).waitFor({ timeout: 30_000 });
    await dns.getByLabel('Name', { exact: true }).fill('nothing.wgweb.test');
    await dns.getByRole('button', { name: 'Look up' }).click();
    await dns.getByRole('status').filter({ hasText: 'NXDOMAIN' }).waitFor({ timeout: 30_000 });
    assert.match((await dns.getByRole('status').textContent()) ?? '', /nothing\.wgweb\.test does not exist/);
    // A server outside the tunnel's AllowedIPs is refused before anything is sent.
    await dns.getByLabel('Server', { exact: true }).fill('192.0.2.1');
    await dns.getByRole('button', { name: 'Look up' }).click();
    await dns.getByRole('alert').waitFor({ timeout: 30_000 });
    assert.equal(await dns.getByRole('status').count(), 0, 'the failed lookup cleared the previous result');
    await dns.getByLabel('Server', { exact: true }).fill('');

    await page.getByRole('tab', { name: 'TCP ports' }).click();
    const tcp = page.locator('wg-tcping-tool');
    await tcp.getByLabel('Host', { exact: true }).fill(fx.peer.tunnelAddress4!);
    await tcp.getByLabel('Ports', { exact: true }).fill('80');
    await tcp.getByRole('button', { name: 'Check port' }).click();
    await tcp.getByRole('status').filter({ hasText: '1 open (80)' }).waitFor({ timeout: 30_000 });
    assert.equal(await tcp.getByRole('button', { name: 'Check port' }).isEnabled(), true, 'the button is back after the run');
  });

  test('disconnect closes the session; the UI returns to its resting state', async () => {
    await page.evaluate(() => window.wgweb.disconnect());
    assert.equal(await page.evaluate(() => window.wgweb.status()), null);
    await page.getByTestId('state').filter({ hasText: 'Disconnected' }).waitFor();
    const code = await page.evaluate(() => window.wgweb.ping('10.77.0.1').then(() => 'resolved', (e) => e.code));
    assert.equal(code, 'NOT_CONNECTED');
    assert.deepEqual(ui.errors, []);
  });

  /** A 4 MiB download through wgweb.fetch with its SHA-256 checked, then a 1 MiB upload the server counts (the carrier tests). */
  async function downloadAndUploadIntact(seed: number): Promise<void> {
    const size = 4 * 1024 * 1024 + 5;
    const got = await page.evaluate(async (u) => {
      const r = await window.wgweb.fetch(u);
      const bytes = new Uint8Array(await r.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return { length: bytes.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
    }, fx.http.url(`/bytes/${size}?seed=${seed}`));
    assert.deepEqual(got, { length: size, sha256: deterministicSha256(size, seed) });
    const posted = await page.evaluate(async (u) => {
      const body = new Uint8Array(1024 * 1024 + 3).map((_, i) => (i * 7) & 0xff);
      return (await window.wgweb.fetch(u, { method: 'POST', body })).json();
    }, fx.http.url('/upload'));
    assert.equal((posted as { length: number }).length, 1024 * 1024 + 3);
  }

  test('the same tunnel over WebSocketStream (#19): status names the carrier, ping, a download and an upload arrive intact', async () => {
    const status = await page.evaluate((config) => window.wgweb.connect(config, undefined, { relayCarrier: 'websocketstream' }), fx.configText);
    assert.equal(status.relay.carrier, 'websocketstream', 'Chromium has WebSocketStream');
    await waitForTunnelUp(page);
    const ping = await page.evaluate((a) => window.wgweb.ping(a, 2), fx.peer.tunnelAddress4!);
    assert.equal(ping.received, 2);
    await downloadAndUploadIntact(9);
    await page.evaluate(() => window.wgweb.disconnect());
    assert.deepEqual(ui.errors, []);
  });

  test('the default carrier, the downstream on a fetch() stream (#19): status names it, the event log says so, a download and an upload arrive intact', async () => {
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
    // The stream attaches right after the WebSocket opens (its id is the relay's first message).
    await pollPage(page, 'the fetch-stream carrier attached', async () => (await window.wgweb.status())?.relay.carrier === 'fetch-stream', undefined, { timeoutMs: 30_000, intervalMs: 100 });
    await downloadAndUploadIntact(10);
    assert.equal((await page.evaluate(() => window.wgweb.status()))?.relay.carrier, 'fetch-stream', 'the stream carried it to the end');
    const carrierEvents = await page.evaluate(() => window.wgweb.events().filter((e) => e.type === 'relay-carrier').map((e) => e.message));
    assert.ok(carrierEvents.some((m) => /fetch\(\) stream/.test(m)), `the event log names the carrier: ${carrierEvents.join(' | ')}`);
    await page.evaluate(() => window.wgweb.disconnect());
    assert.deepEqual(ui.errors, []);
  });

  test("relayCarrier 'websocket' keeps the whole session on the WebSocket: status names it, a download and an upload arrive intact", async () => {
    const status = await page.evaluate((config) => window.wgweb.connect(config, undefined, { relayCarrier: 'websocket' }), fx.configText);
    assert.equal(status.relay.carrier, 'websocket');
    await waitForTunnelUp(page);
    await downloadAndUploadIntact(11);
    const now = await page.evaluate(() => window.wgweb.status());
    assert.equal(now?.relay.carrier, 'websocket');
    assert.equal(now?.relay.carrierFallback, undefined, 'chosen, not fallen back');
    await page.evaluate(() => window.wgweb.disconnect());
    assert.deepEqual(ui.errors, []);
  });
});
