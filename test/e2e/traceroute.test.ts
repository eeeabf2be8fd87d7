/**
 * Traceroute from a browser tab against a real chain of routers behind wireguard-go
 * (test/helpers/router-chain.ts): `window.wgweb.traceroute` with UDP and ICMP probes over IPv4 and
 * IPv6, each hop handed to the script's callback as it completes and named by dnsmasq's PTRs
 * through the tunnel; and the Traceroute card (Tools → Traceroute): a row per hop with names and
 * RTTs, the outcome line, and Stop on a walk that cannot finish.
 *
 *   Chromium (worker: WireGuard + TCP/IP) ──ws──▶ relay ──UDP──▶ wireguard-go (hop 1, dnsmasq)
 *       ──▶ router namespace (hop 2) ──▶ far host (hop 3)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';
import { CHAIN_NAMES, startRouterChain, type RouterChain } from '../helpers/router-chain.ts';

const skip = browserSkipReason() ?? interopSkipReason(['sysctl', 'dnsmasq']);
const SLOW = { timeout: 90_000 };

describe('traceroute in Chromium through a chain of routers behind wireguard-go', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let chain: RouterChain;

  before(async () => {
    fx = await startSessionFixture({ name: 'e2etrace', session: false, servers: [] });
    chain = await startRouterChain(fx.peer, 'etr');
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

  test('wgweb.traceroute: UDP and ICMP over IPv4 and IPv6 name every hop; onHop sees each as it completes', SLOW, async () => {
    for (const [far, method] of [[chain.far4, 'udp'], [chain.far6, 'udp'], [chain.far6, 'icmp'], [chain.far4, 'icmp']] as const) {
      const r = await page.evaluate(
        async ({ far, method }) => {
          const seen: string[] = [];
          const result = await window.wgweb.traceroute(far, { method, probesPerHop: 1, timeoutMs: 2000, maxHops: 8 }, (hop) => {
            const p = hop.probes[0];
            seen.push(p.kind === 'timeout' ? `${hop.ttl} *` : `${hop.ttl} ${p.name ?? '-'} ${p.from} ${p.kind}`);
          });
          return { seen, reached: result.reached, method: result.method, hops: result.hops.length };
        },
        { far, method },
      );
      const v4 = far === chain.far4;
      const last = method === 'udp' ? 'unreachable' : 'reply';
      assert.deepEqual(r, {
        seen: [
          `1 ${CHAIN_NAMES.peer} ${v4 ? chain.peer4 : chain.peer6} time-exceeded`,
          `2 ${CHAIN_NAMES.router} ${v4 ? chain.router4 : chain.router6} time-exceeded`,
          `3 ${CHAIN_NAMES.far} ${far} ${last}`,
        ],
        reached: true,
        method,
        hops: 3,
      }, `${method} to ${far}`);
    }
    const bad = await page.evaluate(() => window.wgweb.traceroute('10.0.0.1', { method: 'tcp' as 'udp' }).then(() => 'resolved', (e) => `${e.code}: ${e.message}`));
    assert.match(bad, /^USAGE: traceroute: method must be "udp" or "icmp"/);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    const line = `Traceroute ${chain.far4} (ICMP): reached in 3 hops: ${CHAIN_NAMES.peer} (${chain.peer4}) → ${CHAIN_NAMES.router} (${chain.router4}) → ${CHAIN_NAMES.far} (${chain.far4})`;
    assert.ok(log.includes(line), log.join('\n'));
  });

  test('the Traceroute card: a row per hop with name, address and RTTs, the outcome; Stop ends a walk that cannot finish', SLOW, async () => {
    await page.getByRole('tab', { name: 'Traceroute' }).click();
    const card = page.locator('wg-traceroute-tool');
    await card.getByLabel('Host', { exact: true }).fill(chain.far6);
    await card.getByLabel('Per hop', { exact: true }).fill('2');
    await card.getByRole('button', { name: 'Trace' }).click();
    await card.getByTestId('trace-outcome').filter({ hasText: 'reached in 3 hops' }).waitFor({ timeout: 30_000 });
    const rows = card.getByRole('table', { name: 'Hops' }).locator('tbody tr');
    const text = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.equal(text.length, 3, text.join('\n'));
    const ms = '[\\d.]+ ms';
    assert.match(text[0], new RegExp(`^1 ${CHAIN_NAMES.peer.replace(/\./g, '\\.')} \\(${chain.peer6}\\) ${ms} ${ms}$`));
    assert.match(text[1], new RegExp(`^2 ${CHAIN_NAMES.router.replace(/\./g, '\\.')} \\(${chain.router6}\\) ${ms} ${ms}$`));
    assert.match(text[2], new RegExp(`^3 ${CHAIN_NAMES.far.replace(/\./g, '\\.')} \\(${chain.far6}\\) ${ms} ${ms}$`));
    assert.match((await card.getByTestId('trace-outcome').textContent()) ?? '', /UDP from port 33434/);
    if (process.env.WGWEB_SCREENSHOTS) await card.screenshot({ path: fileURLToPath(new URL('../../docs/screenshots/traceroute-card.png', import.meta.url)) });

    // An address behind the peer that nothing routes beyond: every hop after the peer is silent,
    // so the walk would take maxHops × wait; Stop keeps the hops seen so far.
    await card.getByLabel('Host', { exact: true }).fill(chain.far4.replace(/\.200$/, '.250'));
    await card.getByLabel('Per hop', { exact: true }).fill('1');
    await card.getByLabel('Names').uncheck();
    await card.getByRole('button', { name: 'Trace' }).click();
    await rows.filter({ hasText: chain.peer4 }).waitFor({ timeout: 30_000 });
    await card.getByTestId('trace-probing').waitFor({ timeout: 10_000 });
    await card.getByRole('button', { name: 'Stop' }).click();
    await card.getByRole('button', { name: 'Trace' }).waitFor({ timeout: 10_000 });
    const after = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.match(after[0], new RegExp(`^1 ${chain.peer4.replace(/\./g, '\\.')} [\\d.]+ ms$`), 'numbers only with Names off');
    assert.ok(after.length >= 1 && after.length < 30, after.join('\n'));
    assert.equal(await card.getByTestId('trace-outcome').count(), 0, 'a stopped walk has no outcome line');
    assert.deepEqual(ui.errors, []);
  });
});
