/**
 * A relay restart must not stall the tunnel until WireGuard rekeys: when a relay session reopens
 * (a new UDP source port at the relay), the Session sends an authenticated keepalive at once, so
 * the peer roams to the new address (WireGuard paper §2.1) instead of sending into the old one.
 * Real parts on loopback: a standalone DemoPeer (wgweb's own WireGuard peer), a relay that is
 * stopped and started again on the same port, and a Session with `ws`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DemoPeer } from '../../src/node/demo/demo-peer.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

async function waitUntil(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('after a relay restart the session sends a keepalive on reopen and the peer roams to the new relay port', async () => {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  const relayOptions = { host: '127.0.0.1', logger: silentLogger, browse: false as const, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] };
  let relay: RelayHandle = await startRelay({ ...relayOptions, port: 0 });
  const port = relay.port;
  const registration = demo.register('test');
  const session = await Session.start({ configText: registration.config, relayUrl: relay.wsUrl, WebSocketImpl: WS, relayBatching: false });
  try {
    await session.waitForHandshake(15_000);
    const peerSeen = (): string | undefined => demo.peer.loop.tunnel.stats().peers.find((p) => p.publicKey === registration.publicKey)?.endpoint && formatEndpoint(demo.peer.loop.tunnel.stats().peers.find((p) => p.publicKey === registration.publicKey)!.endpoint!);
    await waitUntil('the demo peer to know our relay address', () => peerSeen() === relay.stats().sessions[0]?.local);
    const before = peerSeen();

    const events: { type: string; reason?: unknown; at: number }[] = [];
    session.onEvent((e) => events.push({ type: e.type, reason: e.detail?.reason, at: events.length }));
    await relay.close();
    relay = await startRelay({ ...relayOptions, port });
    await waitUntil('the relay session to reopen', () => events.some((e) => e.type === 'relay-reconnected'));
    const reopened = events.findIndex((e) => e.type === 'relay-reconnected');
    const keepalive = events.findIndex((e) => e.type === 'keepalive-sent' && e.reason === 'endpoint-changed');
    assert.ok(keepalive >= 0, 'a keepalive went out because the endpoint changed');
    // The very next thing the session did after reopening: not whatever timer came due later.
    assert.ok(keepalive < reopened + 3, `the keepalive follows the reopen directly (events ${JSON.stringify(events.slice(reopened, reopened + 4))})`);
    const now = relay.stats().sessions[0]?.local;
    assert.ok(now && now !== before, 'the new relay session has a new UDP source port');
    await waitUntil('the demo peer to roam to the new relay port', () => peerSeen() === now);
  } finally {
    await session.close();
    await relay.close();
    await demo.close();
  }
});
