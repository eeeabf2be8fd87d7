/**
 * The demo peer's TCP as a sender and receiver over a bad path: a seeded impairment hop between
 * the relay and the demo peer drops, duplicates and reorders datagrams both ways, and transfers
 * in both directions still arrive byte for byte. (The client-side counterpart against Linux is
 * session-impaired.test.ts; here both TCP ends are wgweb, the server end is the one under test.)
 *
 *   Session ──ws──▶ relay ──UDP──▶ hop (127.0.0.1: 3% loss, 1% duplication, 2% reordering) ──▶ DemoPeer
 *
 * Loopback only: no namespaces, no root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { formatEndpoint, parseIp } from '../../src/shared/ip-address.ts';
import { startImpairmentHop, type ImpairmentHop } from '../../harness/impairment-hop.ts';
import { deterministicBytes, deterministicSha256 } from '../../harness/deterministic-bytes.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

describe('the demo peer’s TCP over a lossy, duplicating, reordering path', () => {
  let relay: RelayHandle;
  let hop: ImpairmentHop;
  let session: Session;

  before(async () => {
    relay = await startRelay({ port: 0, logger: silentLogger, demo: true });
    const demo = relay.demo!;
    hop = await startImpairmentHop({ target: demo.endpoint, seed: 44, loss: 0.03, duplicate: 0.01, reorder: 0.02 });
    relay.policy.add(formatEndpoint(hop.endpoint));
    const { config } = parseWgQuickConfig(demo.register('impaired').config);
    config.peers[0].endpoint = hop.endpoint;
    session = await Session.start({ config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
    await session.waitForHandshake(30_000);
  });
  after(async () => {
    await session?.close();
    await hop?.close();
    await relay?.close();
  });

  test('a 6 MiB download from the demo’s HTTP server arrives intact', async () => {
    const n = 6 * 1024 * 1024;
    const r = await session.fetch(`http://10.44.0.1/bytes/${n}?seed=4`);
    const body = new Uint8Array(await r.arrayBuffer());
    assert.equal(body.length, n);
    assert.equal(createHash('sha256').update(body).digest('hex'), deterministicSha256(n, 4));
    assert.equal(r.headers.get('x-sha256'), deterministicSha256(n, 4));
  });

  test('a 3 MB upload arrives intact at the demo’s upload sink', async () => {
    const data = deterministicBytes(3_000_000, 5);
    const r = await session.fetch('http://10.44.0.1/upload', { method: 'POST', body: data });
    const j = (await r.json()) as { length: number; sha256: string };
    assert.deepEqual([j.length, j.sha256], [data.length, deterministicSha256(data.length, 5)]);
  });

  test('1 MB through TCP echo comes back byte for byte', async () => {
    const data = deterministicBytes(1_000_000, 6);
    const conn = await session.dialer.connectTcp(parseIp('fd44::1'), 7, {});
    const w = conn.writable.getWriter();
    void w.write(data).then(() => w.close());
    const h = createHash('sha256');
    let n = 0;
    const reader = conn.readable.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      h.update(r.value);
      n += r.value.length;
    }
    assert.equal(n, data.length);
    assert.equal(h.digest('hex'), deterministicSha256(data.length, 6));
  });

  test('the hop really did drop, duplicate and reorder both ways', () => {
    const s = hop.stats();
    assert.ok(s.toTarget.lost > 10 && s.toClient.lost > 10, JSON.stringify(s));
    assert.ok(s.toTarget.duplicated + s.toClient.duplicated > 5);
    assert.ok(s.toTarget.reordered + s.toClient.reordered > 5);
  });
});
