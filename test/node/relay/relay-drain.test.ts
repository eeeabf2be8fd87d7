/**
 * Graceful drain and failover on loopback: a draining relay answers /readyz 503, refuses new
 * sessions and closes its sessions with 1012; a RelayTransport with two relays moves to the other
 * at once and keeps forwarding.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import { RelayTransport, type RelayTransportState, type RelayWebSocketConstructor } from '../../../src/engine/relay-transport.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { markerOf, testRelay, transportMessage, udpPeer, waitUntil, wsClient, type UdpPeer } from './relay-fixtures.ts';

async function status(relay: RelayHandle, path: string): Promise<number> {
  return (await fetch(`${relay.url}${path.slice(1)}`)).status;
}

describe('SIGTERM drain (RelayHandle.drain) and failover to a second relay', () => {
  let peer: UdpPeer;
  let a: RelayHandle;
  let b: RelayHandle;
  before(async () => {
    peer = await udpPeer(4, true);
    a = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    b = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
  });
  after(async () => {
    await a.close();
    await b.close();
    await peer.close();
  });

  test('ready relays answer /healthz and /readyz 200', async () => {
    assert.equal(await status(a, '/healthz'), 200);
    assert.equal(await status(a, '/readyz'), 200);
  });

  test('the transport moves to the other relay on 1012 and the echo keeps flowing', async () => {
    const got: number[] = [];
    const states: [RelayTransportState, number | undefined][] = [];
    const t = new RelayTransport({
      relayUrl: [a.wsUrl, b.wsUrl],
      endpoint: `127.0.0.1:${peer.port}`,
      WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor,
      onDatagram: (d) => got.push(markerOf(d)),
      onState: (s, d) => states.push([s, d.closeCode]),
    });
    await waitUntil(() => t.state === 'open', 'open');
    const first = t.url.startsWith(a.wsUrl) ? a : b;
    const second = first === a ? b : a;
    await waitUntil(() => first.stats().activeSessions === 1, 'the session on the fastest relay');
    await waitUntil(() => second.stats().activeSessions === 0, 'the slower relay closed after the race');
    t.send(transportMessage(40, 1));
    await waitUntil(() => got.includes(1), 'echo through the first relay');

    const drained = first.drain(5000);
    assert.equal(first.ready, false);
    assert.equal(await status(first, '/readyz'), 503, '/readyz says draining');
    assert.equal(await status(first, '/healthz'), 200, 'still alive');
    assert.equal(await drained, 0, 'every session left');
    await waitUntil(() => t.state === 'open' && t.url.startsWith(second.wsUrl), 'moved to the second relay');
    assert.ok(states.some(([s, code]) => s === 'reconnecting' && code === RelayCloseCode.SERVICE_RESTART));
    t.send(transportMessage(40, 2));
    await waitUntil(() => got.includes(2), 'echo through the second relay');
    assert.equal(t.stats().relayMoves, 1);

    const refused = wsClient(`${first.wsUrl}?to=127.0.0.1:${peer.port}`);
    await assert.rejects(refused.opened, /HTTP 503/, 'a draining relay takes no new session');
    t.close();
  });
});
