/**
 * bench/load-generator.ts against the real relay (in this process) and a UDP echo on loopback:
 * its datagrams must pass the relay's WireGuard shape check like real traffic, its sessions must
 * open and close cleanly, and a refusal must surface with the relay's close code.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { buildRelayUrl, RELAY_SUBPROTOCOL, RELAY_SUBPROTOCOLS, RELAY_SUBPROTOCOL_V3, wireguardMessageShape } from '../../src/shared/relay-protocol.ts';
import { FULL_DATAGRAM, LoadGenerator, MIXED_SIZES, transportDatagram } from '../../bench/load-generator.ts';

describe('transportDatagram', () => {
  test('is a WireGuard transport message of the asked size, tagged with the session index', () => {
    for (const size of [32, ...MIXED_SIZES]) {
      const d = transportDatagram(size, 7);
      assert.equal(d.length, size);
      assert.equal(wireguardMessageShape(d), 'transport');
      assert.equal(d.readUInt32LE(4), 7);
    }
  });

  test('refuses sizes that cannot be a transport message', () => {
    assert.throws(() => transportDatagram(31, 0), RangeError);
    assert.throws(() => transportDatagram(100.5, 0), RangeError);
  });
});

describe('LoadGenerator through the relay', () => {
  let relay: RelayHandle;
  let echo: dgram.Socket;
  let url: string;

  before(async () => {
    echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = echo.address().port;
    relay = await startRelay({ host: '127.0.0.1', port: 0, allow: [`127.0.0.1:${port}`], logger: createLogger({ level: 'silent' }) });
    url = buildRelayUrl(relay.wsUrl, { host: '127.0.0.1', port });
  });
  after(async () => {
    await relay?.close();
    echo?.close();
  });

  test('paced sessions are forwarded by the relay and none of their datagrams is dropped as not-WireGuard', async () => {
    const load = new LoadGenerator(() => url, RELAY_SUBPROTOCOL);
    try {
      await load.grow(3);
      assert.equal(load.sessions, 3);
      assert.equal(relay.stats().activeSessions, 3);
      const r = await load.paced({ perSessionPps: 50, durationMs: 200, warmupMs: 100 });
      assert.ok(r.received <= r.sent + 3 * 50, 'echoes never exceed what was sent');
      assert.equal(r.closedByServer, 0);
      const totals = relay.stats().totals;
      assert.ok(totals.datagramsToPeer > 0);
      assert.equal(totals.drops.notWireguard, 0);
      assert.equal(totals.drops.peerNotWireguard, 0);
    } finally {
      await load.close();
    }
    assert.equal(load.sessions, 0);
  });

  test('a saturated window keeps every session busy, and counts what came back', async () => {
    const load = new LoadGenerator(() => url, RELAY_SUBPROTOCOL);
    try {
      await load.grow(2);
      const r = await load.saturate({ window: 2, durationMs: 200, warmupMs: 100 });
      assert.ok(r.sent > 0);
      assert.equal(r.bytesSent, r.sent * FULL_DATAGRAM);
      assert.equal(r.bytesReceived, r.received * FULL_DATAGRAM);
    } finally {
      await load.close();
    }
  });

  test('offered [v3, v2, v1] as the client offers them, the relay selects wgweb.v3 and a window of 8 leaves in batches of several datagrams per message', async () => {
    const load = new LoadGenerator(() => url, RELAY_SUBPROTOCOLS);
    const before = relay.stats().totals.datagramsToPeer;
    try {
      await load.grow(2);
      assert.deepEqual(load.protocols, { [RELAY_SUBPROTOCOL_V3]: 2 });
      const r = await load.saturate({ window: 8, durationMs: 300, warmupMs: 100 });
      assert.ok(r.received > 0, 'echoes came back through the batched framing');
      assert.equal(r.bytesReceived, r.received * FULL_DATAGRAM, 'every record parsed to a whole datagram');
      assert.ok(r.messagesSent > 0 && r.sent / r.messagesSent > 1.5, `several datagrams per message up (${r.sent} in ${r.messagesSent})`);
      assert.ok(r.messagesReceived > 0 && r.received / r.messagesReceived > 1, `batches down too (${r.received} in ${r.messagesReceived})`);
      assert.equal(load.malformed, 0);
      const totals = relay.stats().totals;
      assert.ok(totals.datagramsToPeer - before >= r.sent, 'the relay forwarded each record as its own datagram');
      assert.equal(totals.drops.notWireguard, 0);
    } finally {
      await load.close();
    }
  });

  test('a refused session rejects grow() with the relay close code', async () => {
    const load = new LoadGenerator(() => buildRelayUrl(relay.wsUrl, { host: '127.0.0.1', port: 9 }), RELAY_SUBPROTOCOL);
    try {
      await assert.rejects(load.grow(1), /refused: 4001/);
    } finally {
      await load.close();
    }
  });
});
