/**
 * A relay restart must not stall the tunnel until WireGuard rekeys: when a relay session reopens
 * (a new UDP source port at the relay), the Session sends an authenticated keepalive at once, so
 * the peer roams to the new address (WireGuard paper §2.1) instead of sending into the old one.
 * And the status names the relay that carries the session and its history (#17 item 4): with two
 * relays, when the one in use drains (1012, as on SIGTERM), `status().relay` names the other, with
 * the move, its reason and the new relay's measured open time, and both relays' RTTs.
 * Real parts on loopback: a standalone DemoPeer (wgweb's own WireGuard peer), relays (in-process;
 * one stopped and started again on the same port), and a Session with `ws`.
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
import { waitUntil } from '../helpers/wait-until.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

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
    await waitUntil(() => peerSeen() === relay.stats().sessions[0]?.local, 'the demo peer to know our relay address', 20_000);
    const before = peerSeen();

    const events: { type: string; reason?: unknown; at: number }[] = [];
    session.onEvent((e) => events.push({ type: e.type, reason: e.detail?.reason, at: events.length }));
    await relay.close();
    relay = await startRelay({ ...relayOptions, port });
    await waitUntil(() => events.some((e) => e.type === 'relay-reconnected'), 'the relay session to reopen', 20_000);
    const reopened = events.findIndex((e) => e.type === 'relay-reconnected');
    const keepalive = events.findIndex((e) => e.type === 'keepalive-sent' && e.reason === 'endpoint-changed');
    assert.ok(keepalive >= 0, 'a keepalive went out because the endpoint changed');
    // The very next thing the session did after reopening: not whatever timer came due later.
    assert.ok(keepalive < reopened + 3, `the keepalive follows the reopen directly (events ${JSON.stringify(events.slice(reopened, reopened + 4))})`);
    const now = relay.stats().sessions[0]?.local;
    assert.ok(now && now !== before, 'the new relay session has a new UDP source port');
    await waitUntil(() => peerSeen() === now, 'the demo peer to roam to the new relay port', 20_000);
  } finally {
    await session.close();
    await relay.close();
    await demo.close();
  }
});

test('after the relay in use drains, status().relay names the other one and the history holds the start and the move (1012)', async () => {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  const options = { host: '127.0.0.1', port: 0, logger: silentLogger, browse: false as const, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] };
  const relays = [await startRelay(options), await startRelay(options)];
  const registration = demo.register('test');
  const session = await Session.start({ configText: registration.config, relayUrl: relays.map((r) => r.wsUrl), WebSocketImpl: WS });
  try {
    await session.waitForHandshake(15_000);
    const before = session.status().relay;
    assert.equal(before.history?.length, 1);
    assert.equal(before.history![0].reason, 'start');
    assert.equal(before.history![0].of, 2);
    assert.equal(before.history![0].url, before.url.replace(/\/$/, ''));
    const inUse = relays.find((r) => before.url.startsWith(r.wsUrl))!;
    const other = relays.find((r) => r !== inUse)!;

    await inUse.drain(5000);
    await waitUntil(() => session.status().relay.state === 'open' && session.status().relay.url.startsWith(other.wsUrl), 'the session to open through the other relay', 20_000);
    const after = session.status().relay;
    assert.equal(after.history?.length, 2, JSON.stringify(after.history));
    const move = after.history![1];
    assert.equal(move.reason, 'drained');
    assert.equal(move.closeCode, 1012);
    assert.ok(move.from?.startsWith(inUse.wsUrl), `moved from the drained relay (${move.from})`);
    assert.ok(move.url.startsWith(other.wsUrl));
    assert.equal(typeof move.rttMs, 'number', 'the new relay was measured as it opened');
    assert.ok(move.at >= before.history![0].at);
    assert.deepEqual(
      after.relays?.map((r) => r.url).sort(),
      relays.map((r) => r.wsUrl).sort(),
      'both relays are listed',
    );
    assert.ok(after.relays!.every((r) => typeof r.rttMs === 'number'), 'each with its measured open time');
  } finally {
    await session.close();
    for (const r of relays) await r.close();
    await demo.close();
  }
});
