/**
 * The teaching views end to end: headless Chromium loads the UI from the real relay, connects to a
 * real wireguard-go in a network namespace, pings and fetches a page; then the handshake timeline
 * shows the initiation (148 bytes) and response (92 bytes) with their indexes, the packet list shows
 * the ICMP and TCP packets, and the pcapng from `window.wgweb.capture.download()` opens in tshark
 * (or, outside CI without tshark, in the test's own strict reader) with the same packets.
 * An https fetch to openssl s_server in the namespace (TLS 1.3, a leaf of a CA the page imports):
 * the packet list names the ClientHello (SNI) and ServerHello (version, suite), the timeline the
 * certificate's subject and issuer, and the pcapng's TLS keys let tshark decrypt the request.
 *
 *   Chromium (page ⇄ worker: WireGuard + TCP/IP + capture) ──ws──▶ relay ──UDP──▶ wireguard-go (namespace)
 *
 * WGWEB_SCREENSHOTS=1 also saves both views to docs/screenshots/ (handshake-timeline*.png,
 * packet-list*.png).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { readPcapng, tsharkFields, tsharkPath, tsharkSkipReason } from '../helpers/pcapng-reader.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import { TestPki } from '../../harness/test-pki.ts';
import { startOpensslServer, type OpensslServer } from '../../harness/openssl-server.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const skip = browserSkipReason() ?? interopSkipReason(['openssl']);

describe('teaching views through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let pki: TestPki;
  let tls: OpensslServer;
  let caPem: string;
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-e2e-pcap-'));

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'teach', session: false, servers: ['http', 'dns'] });
    pki = await TestPki.create();
    const ca = pki.ca('teach-ca', { cn: 'Teaching Intranet CA' });
    caPem = ca.certPem;
    // server.wgweb.test is the fixture DNS name of the peer's tunnel address.
    const leaf = pki.leaf('teach-leaf', { issuer: ca, cn: 'server.wgweb.test', dns: ['server.wgweb.test'] });
    tls = await startOpensslServer({ site: fx.peer, host: fx.peer.tunnelAddress4!, port: 443, cert: leaf, args: ['-tls1_3', '-alpn', 'http/1.1', '-www'] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
  });
  after(async () => {
    await ui?.close();
    await tls?.close();
    await fx?.close();
    pki?.cleanup();
    await closeAllNamespaces();
    rmSync(dir, { recursive: true, force: true });
  });

  async function shot(name: string, selector: string): Promise<void> {
    if (!process.env.WGWEB_SCREENSHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.locator(selector).screenshot({ path: `${SHOTS}${name}.png` });
  }

  test('connect, ping and fetch through the tunnel with the capture recording', async () => {
    const status = await page.evaluate(() => window.wgweb.capture.status());
    assert.equal(status.running, true, 'the capture records from page load');
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
    const ping = await page.evaluate((a) => window.wgweb.ping(a, 3), fx.peer.tunnelAddress4!);
    assert.equal(ping.received, 3);
    const text = await page.evaluate(async (u) => (await window.wgweb.fetch(u)).text(), fx.http.url('/'));
    assert.match(text, /hello\.txt/);
  });

  test('the timeline shows the initiation (148 B) and the response (92 B) with indexes and timings', async () => {
    await page.getByRole('tab', { name: 'Handshake' }).click();
    const timeline = page.locator('wg-handshake-timeline');
    const initiation = timeline.locator('li[data-type="handshake-initiation-sent"]').first();
    const response = timeline.locator('li[data-type="handshake-response-received"]').first();
    await response.waitFor();
    assert.equal(await initiation.getAttribute('data-direction'), 'out');
    assert.equal(await response.getAttribute('data-direction'), 'in');
    assert.equal(await initiation.getByTestId('size').textContent(), '148 B');
    assert.equal(await response.getByTestId('size').textContent(), '92 B');
    const initText = (await initiation.textContent()) ?? '';
    const respText = (await response.textContent()) ?? '';
    assert.match(initText, /Handshake Initiation/);
    const sender = /sender (0x[0-9a-f]{8})/.exec(initText)?.[1];
    assert.ok(sender, initText);
    // The response is addressed to our initiation's sender index.
    assert.match(respText, new RegExp(`receiver ${sender}`));
    assert.match(respText, /round trip \d/);
    assert.match(respText, /\+\d+(\.\d+)? (ms|s)/);
    // Keys derived, and the keepalive that confirms the session to the responder.
    await timeline.locator('li[data-type="session-established"]').first().waitFor();
    const confirm = timeline.locator('li[data-type="keepalive-sent"]').first();
    assert.equal(await confirm.getByTestId('size').textContent(), '32 B');
    assert.match((await timeline.getByTestId('handshake-took').textContent()) ?? '', /Handshake done in \d/);
    await shot('handshake-timeline', 'wg-learn');
  });

  test('the packet list shows the ICMP and TCP packets, with flags', async () => {
    await page.getByRole('tab', { name: 'Packets' }).click();
    const list = page.locator('wg-packet-list');
    await list.locator('.tr .proto.ICMP').first().waitFor();
    await list.locator('.tr .proto.TCP').first().waitFor();
    const rows = await page.evaluate(() => window.wgweb.capture.packets());
    const icmp = rows.filter((r) => r.summary.protocol === 'ICMP');
    assert.equal(icmp.filter((r) => r.direction === 'out' && r.summary.icmp?.type === 8).length, 3, 'three echo requests out');
    assert.equal(icmp.filter((r) => r.direction === 'in' && r.summary.icmp?.type === 0).length, 3, 'three echo replies in');
    const syn = rows.find((r) => r.direction === 'out' && r.summary.tcp?.flagNames.join() === 'SYN');
    assert.ok(syn, 'our SYN');
    assert.equal(syn.summary.dstPort, 80);
    assert.equal(syn.summary.dst, fx.peer.tunnelAddress4);
    assert.ok(rows.some((r) => r.direction === 'in' && r.summary.tcp?.flagNames.join() === 'SYN,ACK'), 'the SYN-ACK');
    assert.ok(rows.some((r) => r.summary.tcp?.payloadLength && /HTTP|GET/.test(r.summary.info) === false), 'data segments');
    // Frame numbers increase with time.
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].index > rows[i - 1].index && rows[i].at >= rows[i - 1].at);

    // The filter box narrows the list; a row opens its detail pane with a hex dump.
    await list.getByLabel('Filter packets').fill('tcp syn');
    await list.getByTestId('capture-count').filter({ hasText: /^\d+ of \d+ packets/ }).waitFor();
    await list.locator('.tr .proto.ICMP').first().waitFor({ state: 'detached' });
    assert.equal(await list.locator('.tr').count(), 2, 'SYN and SYN-ACK');
    await list.locator('.tr').first().click();
    await list.getByLabel('Hex dump').waitFor();
    assert.match((await list.locator('.detail').textContent()) ?? '', /TCP.*flags SYN/);
    await shot('packet-list-detail', 'wg-learn');
    await list.getByLabel('Filter packets').fill('');
    await list.getByRole('button', { name: 'Close' }).click();
    await list.locator('.tr').nth(3).waitFor();
    await shot('packet-list', 'wg-learn');
    if (process.env.WGWEB_SCREENSHOTS) {
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await shot('packet-list-dark', 'wg-learn');
      await page.getByRole('tab', { name: 'Handshake' }).click();
      await shot('handshake-timeline-dark', 'wg-learn');
      await page.getByRole('button', { name: 'Switch to light theme' }).click();
      await page.getByRole('tab', { name: 'Packets' }).click();
    }
  });

  test('an https fetch: the packet list names ClientHello (SNI) and ServerHello (version, suite), the timeline the certificate; the pcapng keys decrypt it in tshark', async () => {
    await page.evaluate((pem) => window.wgweb.addTrustedCertificate(pem), caPem);
    const text = await page.evaluate(async (u) => (await window.wgweb.fetch(u, { timeoutMs: 30_000 })).text(), 'https://server.wgweb.test/');
    assert.match(text, /s_server/);

    const rows = await page.evaluate(() => window.wgweb.capture.packets('tls'));
    const hello = rows.find((r) => r.direction === 'out' && r.summary.tls?.messages[0] === 'Client Hello');
    assert.ok(hello, JSON.stringify(rows.map((r) => r.summary.info)));
    assert.equal(hello.summary.dstPort, 443);
    assert.match(hello.summary.info, /^Client Hello \(SNI=server\.wgweb\.test, TLS 1\.3\/1\.2, ALPN http\/1\.1\)/);
    const serverHello = rows.find((r) => r.direction === 'in' && r.summary.tls?.messages[0] === 'Server Hello');
    assert.ok(serverHello, JSON.stringify(rows.map((r) => r.summary.info)));
    assert.match(serverHello.summary.info, /^Server Hello \(TLS 1\.3, TLS_AES_128_GCM_SHA256\)/);
    assert.ok(rows.some((r) => /Application Data \(encrypted/.test(r.summary.info)), 'encrypted records are named too');

    // The list shows the rows, filtered with the tls word.
    await page.getByRole('tab', { name: 'Packets' }).click();
    const list = page.locator('wg-packet-list');
    await list.getByLabel('Filter packets').fill('tls');
    await list.locator('.tr .proto.TLS').first().waitFor();
    await list.locator('.tr', { hasText: 'Client Hello (SNI=server.wgweb.test' }).first().click();
    await list.getByLabel('Hex dump').waitFor();
    assert.match((await list.locator('.detail').textContent()) ?? '', /Client Hello.*SNI server\.wgweb\.test, offers TLS 1\.3, TLS 1\.2, ALPN http\/1\.1/s);
    await shot('packet-list-tls', 'wg-learn');
    await list.getByRole('button', { name: 'Close' }).click();
    await list.getByLabel('Filter packets').fill('');

    // The timeline: the certificate is encrypted on the wire in TLS 1.3, but the worker knows it.
    await page.getByRole('tab', { name: 'Handshake' }).click();
    const timeline = page.locator('wg-handshake-timeline');
    const cert = timeline.locator('li[data-type="tls-certificate-verified"]').last();
    await cert.waitFor();
    const certText = (await cert.textContent()) ?? '';
    assert.match(certText, /Certificate: CN=server\.wgweb\.test/);
    assert.match(certText, /issued by CN=Teaching Intranet CA/);
    assert.match(certText, /verified/);
    assert.match((await timeline.locator('li[data-type="tls-client-hello"]').last().textContent()) ?? '', /TLS ClientHello to server\.wgweb\.test \(SNI server\.wgweb\.test\)/);
    assert.match((await timeline.locator('li[data-type="tls-server-hello"]').last().textContent()) ?? '', /TLS ServerHello: TLS 1\.3, TLS_AES_128_GCM_SHA256/);
    assert.match((await timeline.locator('li[data-type="tls-established"]').last().textContent()) ?? '', /TLS established \(ALPN http\/1\.1\)/);
    if (process.env.WGWEB_SCREENSHOTS) {
      await timeline.locator('li[data-type="tls-client-hello"]').last().scrollIntoViewIfNeeded();
      await shot('handshake-timeline-tls', 'wg-learn');
    }
    // Back to the packet list, where the next tests work.
    await page.getByRole('tab', { name: 'Packets' }).click();

    // The download carries the TLS keys (Decryption Secrets Block): tshark decrypts the request.
    const tshark = tsharkPath();
    if (!tshark) {
      if (process.env.CI === 'true') assert.fail('tshark is missing (CI installs it)');
      console.log('# tshark not installed: the TLS decryption was not checked');
      return;
    }
    const file = await page.evaluate(async () => {
      const f = await window.wgweb.capture.download('port 443');
      let bin = '';
      for (let i = 0; i < f.bytes.length; i += 0x8000) bin += String.fromCharCode(...f.bytes.subarray(i, i + 0x8000));
      return btoa(bin);
    });
    const path = join(dir, 'https.pcapng');
    writeFileSync(path, Buffer.from(file, 'base64'));
    const r = spawnSync(tshark, ['-r', path, '-Y', 'http.request', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name', '-e', 'http.request.method', '-e', 'http.host'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /GET\tserver\.wgweb\.test/, `tshark decrypted no request: ${r.stdout}${r.stderr}`);
    const sni = spawnSync(tshark, ['-r', path, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name'], { encoding: 'utf8', timeout: 120_000 });
    assert.match(sni.stdout, /server\.wgweb\.test/);
    assert.deepEqual(ui.errors, []);
  });

  test('the Download .pcapng button saves a file the reader opens', async () => {
    const list = page.locator('wg-packet-list');
    const [download] = await Promise.all([page.waitForEvent('download'), list.getByRole('button', { name: 'Download .pcapng' }).click()]);
    assert.match(download.suggestedFilename(), /^wgweb-\d{8}-\d{6}\.pcapng$/);
    const saved = join(dir, 'button.pcapng');
    await download.saveAs(saved);
    const parsed = readPcapng(new Uint8Array(readFileSync(saved)));
    assert.ok(parsed.packets.length >= 10, `${parsed.packets.length} packets`);
    assert.ok(parsed.packets.some((p) => p.flags === 1) && parsed.packets.some((p) => p.flags === 2), 'both directions');
  });

  test('more than 10,000 packets: the ring keeps the newest, the list renders only the rows in view', async () => {
    const size = 16 * 1024 * 1024;
    const got = await page.evaluate(async (u) => (await (await window.wgweb.fetch(u)).arrayBuffer()).byteLength, fx.http.url(`/bytes/${size}?seed=3`));
    assert.equal(got, size);
    const status = await page.evaluate(() => window.wgweb.capture.status());
    assert.equal(status.packets, 10_000, JSON.stringify(status));
    assert.ok(status.evicted > 0);
    assert.equal(status.firstIndex, status.evicted + 1);
    const list = page.locator('wg-packet-list');
    await list.getByTestId('capture-count').filter({ hasText: /^10,000 packets/ }).waitFor();
    const rendered = await list.locator('.tr').count();
    assert.ok(rendered > 5 && rendered < 80, `${rendered} rows in the DOM`);
    // Scroll to the top: the oldest held frame shows up (late ACKs may still push the ring on).
    await list.locator('.table').evaluate((el) => (el.scrollTop = 0));
    let top = { shown: 0, oldest: -1 };
    for (let i = 0; i < 100 && top.shown !== top.oldest; i++) {
      await new Promise((r) => setTimeout(r, 100));
      top = {
        shown: Number(await list.locator('.tr').first().getAttribute('data-index')),
        oldest: (await page.evaluate(() => window.wgweb.capture.status())).firstIndex,
      };
    }
    assert.equal(top.shown, top.oldest, 'the first row is the oldest packet held');
    await list.getByRole('button', { name: /Jump to latest/ }).click();
    assert.deepEqual(ui.errors, []);
  });

  test('the pcapng download opens in tshark (or a strict reader) with the same packets', async () => {
    // Late ACKs of the 16 MiB transfer may still push the ring on (for a long while on a loaded
    // machine): stop recording first, so the file and the list are cut from the same packets.
    await page.evaluate(() => window.wgweb.capture.stop());
    const file = await page.evaluate(async () => {
      const f = await window.wgweb.capture.download();
      let bin = '';
      for (let i = 0; i < f.bytes.length; i += 0x8000) bin += String.fromCharCode(...f.bytes.subarray(i, i + 0x8000));
      return { filename: f.filename, packets: f.packets, isBytes: f.bytes instanceof Uint8Array, base64: btoa(bin) };
    });
    assert.equal(file.isBytes, true);
    assert.match(file.filename, /^wgweb-\d{8}-\d{6}\.pcapng$/);
    const bytes = new Uint8Array(Buffer.from(file.base64, 'base64'));
    const rows = await page.evaluate(() => window.wgweb.capture.packets());
    const parsed = readPcapng(bytes);
    assert.ok(parsed.packets.length >= rows.length, 'the file holds every listed packet (and any newer)');
    assert.equal(parsed.interfaces[0].linkType, 101);
    assert.match(parsed.interfaces[0].description ?? '', new RegExp(fx.peer.publicKey.replace(/[+/=]/g, '\\$&')));
    const path = join(dir, file.filename);
    writeFileSync(path, bytes);
    const reason = tsharkSkipReason();
    if (reason) {
      console.log(`# ${reason}; checked with the test's own pcapng reader only`);
      return;
    }
    const fields = tsharkFields(path, ['frame.number', 'ip.src', 'ip.dst', 'frame.len', 'frame.packet_flags_direction', 'frame.protocols', 'frame.comment']);
    assert.equal(fields.length, parsed.packets.length);
    for (let i = 0; i < rows.length; i++) {
      const [n, src, dst, len, dir, protocols, comment] = fields[i];
      const r = rows[i];
      assert.equal(Number(n), i + 1);
      assert.equal(Number(len), r.length, `frame ${n} length`);
      assert.equal(dir, r.direction === 'in' ? '0x00000001' : '0x00000002');
      assert.match(comment, new RegExp(`^${r.direction === 'in' ? 'from' : 'to'} peer `));
      if (r.summary.version === 4) {
        assert.equal(src, r.summary.src);
        assert.equal(dst, r.summary.dst);
      }
      if (r.summary.protocol === 'TCP') assert.match(protocols, /^raw:ip(v6)?:tcp/);
      if (r.summary.protocol === 'ICMP') assert.match(protocols, /^raw:ip:icmp/);
    }
    assert.deepEqual(ui.errors, []);
  });
});
