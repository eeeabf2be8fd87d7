/**
 * A config with two [Peer]s where the relay refuses one endpoint (destination policy, 4001): only
 * that peer is down, with the relay's reason; the other peer keeps working, and the status says
 * which is which (issue #11 item 13). Real parts on loopback: a DemoPeer (wgweb's own WireGuard
 * peer), a relay whose --allow names only the demo's endpoint, and a Session with `ws`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { x25519 } from '@noble/curves/ed25519.js';
import { DemoPeer } from '../../src/node/demo/demo-peer.ts';
import { startRelay } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import type { SessionEvent } from '../../src/session/session-types.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { toBase64 } from '../../src/shared/bytes.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;
const REFUSED_ENDPOINT = '127.0.0.1:9';

test('a relay that refuses one of two peers fails only that peer, with the relay reason, and the other keeps working', async () => {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] });
  const registration = demo.register('two-peers');
  const otherKey = toBase64(x25519.getPublicKey(x25519.utils.randomSecretKey()));
  const config = `${registration.config}\n[Peer]\nPublicKey = ${otherKey}\nEndpoint = ${REFUSED_ENDPOINT}\nAllowedIPs = 10.99.0.0/24\n`;
  const events: SessionEvent[] = [];
  const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: WS, relayBatching: false });
  session.onEvent((e) => events.push(e));
  try {
    await session.waitForHandshake(15_000);
    const summary = await session.ping('10.44.0.1', { count: 2, intervalMs: 50 });
    assert.equal(summary.received, 2, 'the allowed peer answers pings');

    const status = session.status();
    assert.equal(status.state, 'up');
    assert.ok(Number.isFinite(status.relay.rttMs) && status.relay.rttMs! >= 0, 'the relay in use has its WebSocket open time (#18 item 9)');
    const [a, b] = status.peers;
    assert.equal(a.state, 'up');
    assert.equal(a.problem, undefined);
    assert.equal(b.publicKey, otherKey);
    assert.equal(b.state, 'down');
    assert.equal(b.relayState, 'closed');
    assert.equal(b.problem?.code, 'RELAY_REFUSED');
    assert.match(b.problem!.message, /not allowed|allow/i, 'the relay reason is shown for the refused peer');

    const failed = events.find((e) => e.type === 'relay-failed');
    assert.ok(failed, 'the refusal is in the event log');
    assert.match(failed.message, new RegExp(`${otherKey.slice(0, 8).replace(/[+/]/g, '\\$&')}.*${REFUSED_ENDPOINT}.*is down`));
    assert.deepEqual(failed.detail?.peers, [otherKey]);
    assert.equal(session.relayProblem(), undefined, 'the relay as a whole is not failing: the CLI watchdog must not end the command');

    await assert.rejects(session.ping('10.99.0.1', { count: 1 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'RELAY_REFUSED');
      assert.match(e.message, new RegExp(`cannot ping 10\\.99\\.0\\.1: it is routed to peer .*${REFUSED_ENDPOINT}.*down`));
      return true;
    }, 'traffic for the refused peer fails at once with the reason, not after a timeout');
    assert.equal((await session.ping('10.44.0.1', { count: 1 })).received, 1, 'the allowed peer still works afterwards');
  } finally {
    await session.close();
    await relay.close();
    await demo.close();
  }
});

test('a relay that refuses every peer still fails the session, and the status says why for each peer', async () => {
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: ['127.0.0.1:1'] });
  const key = (): string => toBase64(x25519.getPublicKey(x25519.utils.randomSecretKey()));
  const config = `[Interface]\nPrivateKey = ${toBase64(x25519.utils.randomSecretKey())}\nAddress = 10.5.0.2/32\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = 127.0.0.1:7\nAllowedIPs = 10.6.0.0/24\n\n[Peer]\nPublicKey = ${key()}\nEndpoint = ${REFUSED_ENDPOINT}\nAllowedIPs = 10.7.0.0/24\n`;
  const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: WS, relayBatching: false });
  try {
    await assert.rejects(session.waitForHandshake(15_000), { code: 'RELAY_REFUSED' });
    const status = session.status();
    assert.equal(status.state, 'down');
    assert.deepEqual(status.peers.map((p) => [p.state, p.problem?.code]), [['down', 'RELAY_REFUSED'], ['down', 'RELAY_REFUSED']]);
    assert.equal(session.relayProblem()?.code, 'RELAY_REFUSED', 'with every peer refused the relay is failing');
  } finally {
    await session.close();
    await relay.close();
  }
});
