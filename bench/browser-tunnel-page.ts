/**
 * What the browser bench modules that drive the app share: a relay process serving the built UI
 * (browse on, only `peer`'s endpoint allowed), headless Chromium on it, and the app connected to
 * `peer` with a new client, waiting until the tunnel is up.
 *
 *   relay process (--static dist/ui, browse) ◀─ws─ Chromium page (wgweb) ─▶ connect(client) ─▶ state 'up'
 */
import type { Page } from 'playwright-core';
import type { WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { DIST_UI, launchBrowser, waitForTunnelUp } from '../harness/browser.ts';
import { startRelayProcess } from '../harness/relay-process.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';

/** Starts the relay and the browser (their cleanups pushed on `cleanups`) and connects the app to `peer`. */
export async function openConnectedApp(peer: WgGoPeer, cleanups: (() => unknown)[]): Promise<Page> {
  const client = await peer.addClient();
  const relay = await startRelayProcess({ allow: [formatEndpoint(peer.endpoint)], args: ['--static', DIST_UI], browse: true, logLevel: 'error' });
  cleanups.push(() => relay.close());
  const browser = await launchBrowser();
  cleanups.push(() => browser.close());
  const page = browser.page;
  await page.goto(relay.url);
  await page.waitForFunction(() => typeof window.wgweb === 'object');
  await page.evaluate(() => window.wgweb.ready);
  await page.evaluate((config) => window.wgweb.connect(config), client.config);
  await waitForTunnelUp(page);
  return page;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
