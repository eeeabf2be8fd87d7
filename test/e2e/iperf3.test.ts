/**
 * Throughput from a browser tab: headless Chromium runs iperf3 through the worker's tunnel
 * against a stock `iperf3 -s` behind wireguard-go, by script (`window.wgweb.iperf3`) and through
 * the Tools card (live chart, iperf3's lines), and the figures agree with the server's own report.
 *
 *   Chromium (worker: WireGuard + TCP) ──ws──▶ relay ──UDP──▶ wireguard-go ── iperf3 -s -1 -J
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const skip = browserSkipReason() ?? interopSkipReason(['iperf3']);

describe('iperf3 from the browser through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2eiperf', session: false, servers: [] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  /** Starts `iperf3 -s -1 -J`; `report` settles with its JSON once it has served one test. */
  async function serveOnce(port: number): Promise<{ report: Promise<Record<string, any>> }> {
    let out = '';
    const proc = fx.peer.ns.spawn('iperf3', ['-s', '-1', '-J', '-B', fx.peer.tunnelAddress4!, '-p', String(port)], {
      onLine: (line, stream) => {
        if (stream === 'stdout') out += `${line}\n`;
      },
    });
    for (let i = 0; i < 100; i++) {
      const r = await fx.peer.ns.exec('ss', ['-Htln', `sport = :${port}`], { check: false });
      if (r.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    // Wrapped: an async function returning the promise itself would wait for the server to exit.
    return { report: proc.exited.then(() => JSON.parse(out) as Record<string, any>) };
  }

  test('wgweb.iperf3 uploads for 3 s: iperf3\'s lines, one interval a second, the server\'s own figure as receiver', { timeout: 120_000 }, async (t) => {
    const { report } = await serveOnce(5201);
    const r = await page.evaluate((h) => window.wgweb.iperf3(h, { seconds: 3 }), fx.peer.tunnelAddress4!);
    const server = await report;
    const received = server.end.sum_received.bytes as number;
    t.diagnostic(`browser upload: sender ${(r.sender.bitsPerSecond / 1e6).toFixed(2)} Mbit/s (${r.sender.bytes} B), server received ${received} B in ${server.end.sum_received.seconds} s`);
    assert.deepEqual(r.progress.filter((p, i, a) => a.indexOf(p) === i), ['connected', 'streams', 'started', 'interval', 'ended']);
    assert.equal(r.intervals.length, 3);
    assert.ok(r.sender.bytes > 0);
    // The receiver line is what the server counted. (Agreement within 10 % is checked from Node,
    // test/interop/iperf3-tunnel.test.ts: a loaded headless tab runs its timers late.)
    assert.equal(r.receiver.bytes, received);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    assert.ok(log.some((m) => /^iperf3 10\.77\.\d+\.1:5201 \(3 s\): sender [\d.]+ [kMG]?bit\/s/.test(m)), log.join('\n'));
  });

  test('the Throughput card runs a reverse test with a live chart and iperf3\'s sender and receiver lines', { timeout: 120_000 }, async () => {
    const { report } = await serveOnce(5202);
    await page.getByRole('tab', { name: 'Throughput' }).click();
    await page.getByLabel('iperf3 server').fill(fx.peer.tunnelAddress4!);
    await page.getByLabel('Port').filter({ visible: true }).last().fill('5202');
    await page.getByLabel('Seconds').fill('3');
    await page.getByLabel('Streams').fill('2');
    await page.getByLabel('Reverse (server sends)').check();
    await page.getByRole('button', { name: 'Start' }).click();
    // Live: the first interval's bar appears before the test is over.
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await page.locator('wg-iperf3-tool svg.chart rect').first().waitFor({ timeout: 30_000 });
    assert.ok(await page.getByRole('button', { name: 'Stop' }).isVisible(), 'still running when the first bar is drawn');
    await page.getByRole('status', { name: 'iperf3 summary' }).waitFor({ timeout: 60_000 });
    const server = await report;
    assert.equal(server.start.test_start.reverse, 1);
    assert.equal(server.start.test_start.num_streams, 2);
    const lines = (await page.getByLabel('iperf3 report').textContent()) ?? '';
    assert.match(lines, /sender$/m);
    assert.match(lines, /receiver$/m);
    assert.equal(await page.locator('wg-iperf3-tool svg.chart rect').count(), 3);
    if (process.env.WGWEB_SHOT_DIR) await page.screenshot({ path: `${process.env.WGWEB_SHOT_DIR}/iperf3-card.png`, fullPage: true });
  });
});
