/**
 * Which carrier a Session picks and how it reports it (#19 section 12): with the platform's
 * WebSocket (a browser: here `ws` installed as `globalThis.WebSocket`, Node's fetch for the body)
 * the default is the fetch stream, which carries the downstream once the relay offers it; with a
 * `WebSocketImpl` (Node's CLI) the default stays the WebSocket; a relay without the stream gives a
 * fallback with its reason in `status().relay.carrierFallback` and a `relay-carrier` event.
 * Real parts on loopback: a DemoPeer (wgweb's own WireGuard peer), an in-process relay, a Session.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DemoPeer } from '../../src/node/demo/demo-peer.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { waitUntil } from '../helpers/wait-until.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A demo peer and a relay (`fetchStream` on or off); returns the config and the relay. */
async function fixture(fetchStream: boolean): Promise<{ config: string; relay: RelayHandle }> {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  cleanups.push(() => demo.close());
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)], fetchStream });
  cleanups.push(() => relay.close());
  return { config: demo.register('test').config, relay };
}

/** Installs `ws` as the platform's WebSocket until the test ends, as in a browser worker. */
function asBrowser(): void {
  const g = globalThis as { WebSocket?: unknown };
  const had = Object.prototype.hasOwnProperty.call(g, 'WebSocket');
  const was = g.WebSocket;
  g.WebSocket = WebSocket;
  cleanups.push(() => {
    if (had) g.WebSocket = was;
    else delete g.WebSocket;
  });
}

test('with the platform WebSocket the default carrier is the fetch stream, and the downstream runs on it', async () => {
  const { config, relay } = await fixture(true);
  asBrowser();
  const session = await Session.start({ configText: config, relayUrl: relay.wsUrl });
  cleanups.push(() => session.close());
  const events: string[] = [];
  session.onEvent((e) => e.type === 'relay-carrier' && events.push(e.message));
  await session.waitForHandshake(15_000);
  await waitUntil(() => session.status().relay.carrier === 'fetch-stream', 'the stream to carry the downstream', 20_000);
  assert.equal(session.status().relay.carrierFallback, undefined);
  assert.equal(relay.stats().streams?.active, 1);
  assert.ok(events.some((m) => /fetch\(\) stream/.test(m)), events.join(' | '));
});

test('with a WebSocketImpl (Node) the default stays the WebSocket, and the stream is not asked for', async () => {
  const { config, relay } = await fixture(true);
  const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
  cleanups.push(() => session.close());
  await session.waitForHandshake(15_000);
  assert.equal(session.status().relay.carrier, 'websocket');
  assert.equal(session.status().relay.carrierFallback, undefined);
  assert.equal(relay.stats().streams?.offered, 0);
  assert.equal(relay.stats().streams?.opened, 0);
});

test("a relay without the stream: the WebSocket carries all, and status and the event log say why", async () => {
  const { config, relay } = await fixture(false);
  asBrowser();
  const session = await Session.start({ configText: config, relayUrl: relay.wsUrl });
  cleanups.push(() => session.close());
  const events: { level: string; message: string }[] = [];
  session.onEvent((e) => e.type === 'relay-carrier' && events.push({ level: e.level, message: e.message }));
  await session.waitForHandshake(15_000);
  assert.equal(session.status().relay.carrier, 'websocket');
  assert.equal(session.status().relay.carrierFallback?.code, 'not-offered');
  assert.match(events.at(-1)?.message ?? '', /WebSocket alone: the relay did not offer the fetch stream/);
  assert.equal(events.at(-1)?.level, 'info');
});
