/**
 * The diagnostic report and the quality history from a browser tab (issue #15 item 7): headless
 * Chromium connects through the relay to a real wireguard-go peer with a config that has a
 * PresharedKey, pings and fetches through the tunnel, reads `wgweb.quality()`, and saves the
 * report with the card's "Download report" buttons. The saved files hold the expected sections,
 * the tools' results and the quality samples, and neither the PrivateKey nor the PresharedKey.
 * Tunnel vs direct (issue #15 item 1): the same download from the relay's `/speed` and through the
 * tunnel, by script and through the card, both figures positive.
 *
 *   Chromium (worker: WireGuard + TCP) ──ws──▶ relay ──UDP──▶ wireguard-go ── HTTP :80
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import type { WgClient } from '../../harness/wireguard-go-peer.ts';
import type { DiagnosticReport } from '../../src/session/diagnostic-report.ts';

const skip = browserSkipReason() ?? interopSkipReason();

describe('the diagnostic report from the browser through a real wireguard-go peer', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let client: WgClient;
  let dir: string;

  before(async () => {
    fx = await startSessionFixture({ name: 'e2erep', session: false, servers: ['http'] });
    // A client of its own with a preshared key, so the report has both secrets to leave out.
    client = await fx.peer.addClient({ presharedKey: true, endpoint: fx.endpoint });
    dir = mkdtempSync(join(tmpdir(), 'wgweb-e2e-report-'));
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate((config) => window.wgweb.connect(config), client.config);
    await waitForTunnelUp(page, 30_000);
  });
  after(async () => {
    await ui?.close();
    await fx?.close();
    await closeAllNamespaces();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('wgweb.quality() fills with samples that saw the traffic; the card charts them with clock times', { timeout: 60_000 }, async () => {
    const peer = fx.peer.tunnelAddress4!;
    const summary = await page.evaluate((h) => window.wgweb.ping(h, 3), peer);
    assert.equal(summary.received, 3);
    const size = await page.evaluate(async (u) => (await (await window.wgweb.fetch(u)).arrayBuffer()).byteLength, fx.http.url('/bytes/200000'));
    assert.equal(size, 200_000);
    // One sample every 5 s: the first after the traffic is due within 5 s; a bounded wait that
    // says what it saw (waitForFunction would not await an async predicate).
    const deadline = Date.now() + 15_000;
    let q = (await page.evaluate(() => window.wgweb.quality()))!;
    while (!q.samples.some((s) => s.rxBps > 0)) {
      assert.ok(Date.now() < deadline, `no sample with traffic within 15 s: ${JSON.stringify(q)}`);
      await new Promise((r) => setTimeout(r, 250));
      q = (await page.evaluate(() => window.wgweb.quality()))!;
    }
    assert.equal(q.intervalMs, 5000);
    assert.ok(q.samples.some((s) => s.rxBps > 0), JSON.stringify(q.samples));
    const chart = page.getByTestId('quality-chart');
    await chart.waitFor({ timeout: 10_000 });
    assert.match((await chart.textContent()) ?? '', /\d\d:\d\d:\d\d/, 'the time axis shows clock times');
  });

  test('Download report saves one HTML page and the JSON: every section, the tool results, no key', { timeout: 60_000 }, async () => {
    const card = page.locator('wg-quality-panel');
    const [htmlDownload] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), card.getByTestId('report-html').click()]);
    assert.match(htmlDownload.suggestedFilename(), /^wgweb-report-\d{8}-\d{6}Z\.html$/);
    const htmlPath = join(dir, 'report.html');
    await htmlDownload.saveAs(htmlPath);
    const [jsonDownload] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), card.getByTestId('report-json').click()]);
    assert.match(jsonDownload.suggestedFilename(), /^wgweb-report-\d{8}-\d{6}Z\.json$/);
    const jsonPath = join(dir, 'report.json');
    await jsonDownload.saveAs(jsonPath);

    const html = readFileSync(htmlPath, 'utf8');
    const jsonText = readFileSync(jsonPath, 'utf8');
    for (const [name, secret] of [['PrivateKey', client.privateKey], ['PresharedKey', client.presharedKey!]] as const) {
      assert.equal(html.includes(secret), false, `the HTML holds the ${name}`);
      assert.equal(jsonText.includes(secret), false, `the JSON holds the ${name}`);
    }
    for (const id of ['config', 'relay-peers', 'tools', 'quality', 'events', 'counters']) assert.match(html, new RegExp(`<section id="${id}">`), id);
    assert.doesNotMatch(html, /<script|<link|<iframe|<img/i, 'self-contained, no script');
    assert.match(html, /^PresharedKey = \(redacted\)$/m);
    const report = JSON.parse(jsonText) as DiagnosticReport;
    assert.equal(report.runtime.kind, 'browser');
    assert.match(report.runtime.userAgent, /Chrome/);
    assert.match(report.runtime.wgwebVersion, /^\d+\.\d+\.\d+/, 'the build names its version');
    assert.equal(report.status.state, 'up');
    assert.deepEqual(report.tools.map((t) => t.tool), ['ping', 'http']);
    assert.ok(report.quality.samples.length >= 1);
    assert.ok(report.events.some((e) => e.type === 'relay-open'));
    // The same report by script.
    const byScript = await page.evaluate(async () => {
      const r = await window.wgweb.report();
      return { tools: r.report.tools.length, html: r.html.startsWith('<!doctype html>') };
    });
    assert.deepEqual(byScript, { tools: 2, html: true });
  });

  test('tunnel vs direct: by script and through the card, both rates positive and the tunnel as a percentage', { timeout: 90_000 }, async (t) => {
    const bytes = 2 * 1024 * 1024;
    const r = await page.evaluate(([u, n]) => window.wgweb.compare(u as string, { bytes: n as number }), [fx.http.url(`/bytes/${bytes}`), bytes] as const);
    t.diagnostic(`direct ${(r.direct.bitsPerSecond / 1e6).toFixed(1)} Mbit/s, tunnel ${(r.tunnel.bitsPerSecond / 1e6).toFixed(1)} Mbit/s, ${r.percent}%`);
    assert.equal(r.direct.bytes, bytes);
    assert.ok(r.tunnel.bytes >= bytes);
    assert.ok(r.direct.bitsPerSecond > 0 && r.tunnel.bitsPerSecond > 0 && r.percent > 0, JSON.stringify(r));
    const card = page.locator('wg-quality-panel');
    await card.getByLabel('Download URL inside the tunnel').fill(fx.http.url('/bytes/8388608'));
    await card.getByTestId('compare-run').click();
    const result = card.getByTestId('compare-percent');
    await result.waitFor({ timeout: 60_000 });
    assert.match((await result.textContent()) ?? '', /The tunnel reaches [\d.]+% of the direct rate \(8 MiB each way/);
    assert.match((await card.getByTestId('compare-direct').textContent()) ?? '', /^[\d.]+ [kMG]?bit\/s$/);
    assert.match((await card.getByTestId('compare-tunnel').textContent()) ?? '', /^[\d.]+ [kMG]?bit\/s$/);
    const report = await page.evaluate(async () => (await window.wgweb.report()).report.tools.find((x) => x.tool === 'compare'));
    assert.ok(report?.ok, 'the comparison is in the report');
  });
});
