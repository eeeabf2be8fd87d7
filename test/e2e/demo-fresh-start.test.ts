/**
 * A newcomer's first minute, as `npm start` gives it: the real `wgweb relay` command (demo peer on
 * by default on loopback), the page it serves, one click on "Try the demo", then the demo site,
 * ping, a DNS lookup of intranet.demo, and a pcapng capture that tshark can read; then the
 * connected app's layout at a laptop's and a phone's size, light and dark (#18).
 *
 *   Chromium page ─▶ worker ─▶ WebSocket ─▶ `wgweb relay` (child process) ─▶ UDP ─▶ demo peer
 *
 * Loopback only: no namespaces, no root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserSkipReason, findBinary } from '../../harness/requirements.ts';
import { openUi, type UiSession } from '../../harness/browser.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const skip = browserSkipReason();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('a fresh start: wgweb relay, the page, and "Try the demo"', { skip }, () => {
  let relay: ChildProcess;
  let ui: UiSession;
  let output = '';

  before(async () => {
    const port = await freePort();
    relay = spawn(process.execPath, [join(REPO, 'bin/wgweb.js'), 'relay', '--listen', `127.0.0.1:${port}`], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relay.stdout!.on('data', (d) => (output += d));
    relay.stderr!.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the relay did not start:\n${output}`)), 30_000);
      const check = (): void => {
        if (output.includes('demo peer')) {
          clearTimeout(timer);
          resolve();
        }
      };
      relay.stdout!.on('data', check);
      relay.once('exit', (code) => reject(new Error(`the relay exited with ${code}:\n${output}`)));
    });
    ui = await openUi({ url: `http://127.0.0.1:${port}/` });
  });

  after(async () => {
    await ui?.close();
    relay?.kill('SIGTERM');
  });

  test('the relay says where to go and that a demo peer runs', () => {
    assert.match(output, /wgweb relay listening on http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(output, /demo peer \(wgweb's own WireGuard\) on udp 127\.0\.0\.1:\d+/);
  });

  test('one click on "Try the demo" fills in a config and brings the tunnel up', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'Try the demo' }).click();
    // Poll from Node: waitForFunction would treat the async predicate's promise as truthy.
    const deadline = Date.now() + 30_000;
    while ((await page.evaluate(() => window.wgweb.status()))?.state !== 'up') {
      assert.ok(Date.now() < deadline, 'the tunnel came up within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const status = await page.evaluate(() => window.wgweb.status());
    assert.deepEqual(status?.peers[0].allowedIPs, ['10.44.0.0/24', 'fd44::/64']);
    assert.ok(status?.peers[0].latestHandshakeAt, 'a handshake completed');
    await page.getByText('Connected', { exact: true }).first().waitFor();
  });

  test('the demo site, ping and a DNS lookup of intranet.demo work through the tunnel, and the capture opens in tshark', async (t) => {
    const { page } = ui;
    await page.evaluate(() => window.wgweb.capture.start());

    const site = await page.evaluate(async () => {
      const r = await window.wgweb.fetch('http://intranet.demo/');
      return { status: r.status, text: await r.text() };
    });
    assert.equal(site.status, 200);
    assert.match(site.text, /intranet\.demo/);

    const ping = await page.evaluate(() => window.wgweb.ping('10.44.0.1', 3));
    assert.equal(ping.received, 3);
    const ping6 = await page.evaluate(() => window.wgweb.ping('fd44::1', 2));
    assert.equal(ping6.received, 2);

    const dns = await page.evaluate(() => window.wgweb.dns('intranet.demo', 'A'));
    assert.deepEqual(dns.addresses, ['10.44.0.1']);

    const capture = await page.evaluate(async () => {
      const { filename, bytes, packets } = await window.wgweb.capture.download();
      return { filename, packets, bytes: Array.from(bytes) };
    });
    assert.match(capture.filename, /\.pcapng$/);
    assert.ok(capture.packets >= 10, `captured ${capture.packets} packets`);

    const tshark = findBinary('tshark');
    if (!tshark) {
      if (process.env.CI === 'true') assert.fail('tshark is missing (CI installs it)');
      t.diagnostic('tshark not installed: the pcapng was not parsed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-pcapng-'));
    try {
      const file = join(dir, capture.filename);
      writeFileSync(file, Uint8Array.from(capture.bytes));
      const r = spawnSync(tshark, ['-r', file, '-T', 'fields', '-e', 'frame.protocols'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const frames = r.stdout.trim().split('\n');
      assert.equal(frames.length, capture.packets, 'tshark reads every packet');
      assert.ok(frames.some((f) => f.includes('icmp')), 'ICMP echo is in the capture');
      assert.ok(frames.some((f) => f.includes('icmpv6')), 'ICMPv6 echo is in the capture');
      assert.ok(frames.some((f) => f.includes('tcp')), 'the HTTP connection is in the capture');
      assert.ok(frames.some((f) => f.includes('dns')), 'the DNS query is in the capture');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('at 1280×800 and 390×844, light and dark: the status card uses the width, keys stay on one line, the SSH password field fits its card', async () => {
    const { page } = ui;
    const box = async (selector: string) => {
      const b = await page.locator(selector).first().boundingBox();
      assert.ok(b, `${selector} is on the page`);
      return b;
    };
    const status = await page.evaluate(() => window.wgweb.status());
    for (const [size, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const at = `${size} ${colorScheme}`;
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        await page.getByTestId('status-relay').waitFor({ timeout: 10_000 });
        // The status card: interface and peers on one side, the relay on the other. Beside each
        // other at 1280 px across the page's whole width (#18: the right column stayed empty);
        // stacked on a phone.
        const [wg, relay] = [await box('wg-status-panel .side >> nth=0'), await box('wg-status-panel .side >> nth=1')];
        const card = await box('wg-status-panel .card');
        const config = await box('wg-config-panel');
        if (size === 'desktop') {
          assert.ok(relay.x >= wg.x + wg.width && Math.abs(relay.y - wg.y) < 2, `${at}: the relay beside the interface`);
          assert.ok(card.width > 1.8 * config.width, `${at}: the card spans both columns (${card.width} vs ${config.width})`);
        } else assert.ok(relay.y >= wg.y + wg.height, `${at}: the relay below the peers`);
        // Public keys on one line (#18: three lines on a phone), the whole key still in the text.
        for (const id of ['status-public-key', 'interface-public-key']) {
          const key = page.getByTestId(id);
          assert.equal(await key.textContent(), status!.interface.publicKey, `${at}: ${id} holds the whole key`);
          const lineHeight = await key.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 20);
          const height = (await key.boundingBox())!.height;
          assert.ok(height < 1.5 * lineHeight, `${at}: ${id} is one line (${height} px, line ${lineHeight} px)`);
        }
        // The SSH tab's Password field: styled like the other fields and inside its card.
        await page.getByRole('tab', { name: 'SSH', exact: true }).click();
        const password = await box('#ssh-password');
        const user = await box('#ssh-user');
        const tools = await box('wg-tools .card');
        assert.equal(password.height, user.height, `${at}: the password field has the fields' height`);
        assert.ok(password.x + password.width <= tools.x + tools.width - 8, `${at}: the password field ends inside its card`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${at}: no sideways scrolling`);
        await page.getByRole('tab', { name: 'Ping', exact: true }).click();
      }
    }
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('the page logged no errors', () => {
    assert.deepEqual(ui.errors, []);
  });
});
