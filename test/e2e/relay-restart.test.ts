/**
 * The relay goes away mid-session and comes back: the page's worker reconnects with backoff and
 * carries on with the same WireGuard session (roaming, WireGuard paper §2.1: wireguard-go learns
 * the relay's new UDP source port from our next authenticated packet), and the UI says so.
 *
 *   Chromium (page ⇄ worker) ──ws──▶ relay #1 ──UDP──▶ wireguard-go (namespace)
 *                             ──ws──▶ relay #2, same port, after a restart
 * And the same with the downstream on a fetch() stream (relayCarrier 'fetch-stream'): the new
 * connection gets a new stream from the restarted relay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { ensureUiBuilt, openUi, type UiSession } from '../../harness/browser.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';

const skip = browserSkipReason() ?? interopSkipReason();

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a relay restart in the middle of a browser session', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let second: RelayHandle | undefined;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'restart', session: false, servers: ['http'] });
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
  });
  after(async () => {
    await ui?.close();
    await second?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('the worker reconnects, the same WireGuard session carries on, and the event log shows the reconnect', async () => {
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    const before = await page.evaluate(() => window.wgweb.status());
    assert.equal(before?.state, 'up');
    const handshakeAt = before!.peers[0].latestHandshakeAt;
    const first = await page.evaluate((a) => window.wgweb.ping(a, 2), fx.peer.tunnelAddress4!);
    assert.equal(first.received, 2);

    const port = fx.relay.port;
    await fx.relay.close();
    await eventually('the UI to notice the lost relay', async () =>
      (await page.evaluate(() => window.wgweb.events().some((e) => e.type === 'relay-reconnecting'))) || undefined,
    );

    second = await startRelay({ port, allow: [formatEndpoint(fx.endpoint)], logger: createLogger({ level: 'error' }), demo: false });
    await eventually('the worker to reconnect', async () =>
      (await page.evaluate(() => window.wgweb.events().some((e) => e.type === 'relay-reconnected'))) || undefined,
    );
    await eventually('pings through the new relay', async () => {
      const r = await page.evaluate((a) => window.wgweb.ping(a, 1), fx.peer.tunnelAddress4!);
      return r.received === 1;
    });

    const after = await page.evaluate(() => window.wgweb.status());
    assert.equal(after?.state, 'up');
    assert.equal(after?.peers[0].latestHandshakeAt, handshakeAt, 'no new handshake was needed: the keys were still valid');
    const res = await page.evaluate(async (u) => (await window.wgweb.fetch(u)).status, fx.http.url('/hello.txt'));
    assert.equal(res, 200);
    await page.getByText(/Relay reconnected/).first().waitFor();
    assert.deepEqual(ui.errors, []);
  });

  test('with the downstream on a fetch() stream (#19): after a restart a new stream carries it, and a download arrives intact', async () => {
    await page.evaluate(() => window.wgweb.disconnect());
    await page.evaluate((config) => window.wgweb.connect(config, undefined, { relayCarrier: 'fetch-stream' }), fx.configText);
    const carrier = async (): Promise<string | undefined> => (await page.evaluate(() => window.wgweb.status()))?.relay.carrier;
    await eventually('the stream to run', async () => (await carrier()) === 'fetch-stream');
    const port = fx.relay.port;
    const reconnects = (): Promise<number> => page.evaluate(() => window.wgweb.events().filter((e) => e.type === 'relay-reconnecting').length);
    const seen = await reconnects();
    // The relay in use: the first test's restarted one, or the fixture's when run alone.
    await (second ?? fx.relay).close();
    await eventually('the UI to notice the lost relay', async () => (await reconnects()) > seen);
    second = await startRelay({ port, allow: [formatEndpoint(fx.endpoint)], logger: createLogger({ level: 'error' }), demo: false });
    await eventually('pings through the restarted relay', async () => {
      const r = await page.evaluate((a) => window.wgweb.ping(a, 1), fx.peer.tunnelAddress4!);
      return r.received === 1;
    });
    await eventually('a new stream to run', async () => (await carrier()) === 'fetch-stream');
    assert.equal(second.stats().streams?.active, 1, 'the restarted relay serves the stream');
    const size = 2 * 1024 * 1024 + 7;
    const got = await page.evaluate(async (u) => {
      const bytes = new Uint8Array(await (await window.wgweb.fetch(u)).arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return { length: bytes.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
    }, fx.http.url(`/bytes/${size}?seed=4`));
    assert.deepEqual(got, { length: size, sha256: deterministicSha256(size, 4) });
    assert.deepEqual(ui.errors, []);
  });
});
