/**
 * "Try wgweb with nothing else installed", in a real browser: headless Chromium opens the UI the
 * relay serves, asks the same relay for a demo config (same-origin `fetch('/api/demo/config')`,
 * as the UI's "Try the demo" button will), connects through its Web Worker, and reaches the
 * demo peer's services. Both WireGuard ends are wgweb; no wireguard-go, no root.
 *
 *   Chromium page ─▶ worker ─ws─▶ relay (startRelay({ demo: true })) ─UDP─▶ DemoPeer
 *
 * (An end-to-end test kept with the other demo tests; it skips without Chromium like test/e2e.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkipReason } from '../../harness/requirements.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { ensureUiBuilt, openUi, type UiSession } from '../../harness/browser.ts';

describe('the demo peer from the browser app', { skip: browserSkipReason() }, () => {
  let relay: RelayHandle;
  let ui: UiSession;

  before(async () => {
    await ensureUiBuilt();
    relay = await startRelay({ port: 0, logger: silentLogger, demo: true });
    ui = await openUi({ url: relay.url });
  });
  after(async () => {
    await ui?.close();
    await relay?.close();
  });

  test('a config from /api/demo/config connects; ping, DNS and the site work; 1 MiB matches its SHA-256', async () => {
    const out = await ui.page.evaluate(async () => {
      const res = await fetch('/api/demo/config');
      const config = await res.text();
      await window.wgweb.connect(config);
      const ping = await window.wgweb.ping('fd44::1', 2);
      const page = await window.wgweb.fetch('http://intranet.demo/');
      const html = await page.text();
      const who = (await (await window.wgweb.fetch('http://intranet.demo/api/whoami')).json()) as { handshake: { session: string } };
      const big = await window.wgweb.fetch('http://intranet.demo/bytes/1M?seed=3');
      const bytes = await big.arrayBuffer();
      const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
      return {
        status: res.status,
        received: ping.received,
        welcome: html.includes('You made it through the tunnel'),
        session: who.handshake.session,
        length: bytes.byteLength,
        shaMatches: digest === big.headers.get('x-sha256'),
      };
    });
    assert.deepEqual(out, { status: 200, received: 2, welcome: true, session: 'established', length: 1 << 20, shaMatches: true });
    assert.equal(relay.demo!.info().registrations.count, 1);
    assert.deepEqual(ui.errors, []);
  });
});
