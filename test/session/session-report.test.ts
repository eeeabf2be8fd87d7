/**
 * Session.quality() and Session.report() against real parts on loopback: a DemoPeer (wgweb's own
 * WireGuard peer with its web site), a relay, and a Session with `ws`. After a ping, a port check
 * and an HTTP request, the report holds each tool's last result, a quality sample that saw the
 * traffic and the ping RTT, the event log and status, and never the private key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DemoPeer } from '../../src/node/demo/demo-peer.ts';
import { startRelay } from '../../src/node/relay/main.ts';
import { silentLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import { renderReportHtml } from '../../src/session/report-html.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

test('after ping, a port check and a fetch, the report holds each result, the quality samples and no private key', async () => {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] });
  const registration = demo.register('report');
  const privateKey = /^PrivateKey = (.+)$/m.exec(registration.config)![1];
  // A long interval: this test takes its samples itself (sampleQuality), no timer races it.
  const session = await Session.start({ configText: registration.config, relayUrl: relay.wsUrl, WebSocketImpl: WS, relayBatching: false, qualityIntervalMs: 3_600_000 });
  try {
    await session.waitForHandshake(15_000);
    session.sampleQuality();
    assert.equal((await session.ping('10.44.0.1', { count: 2, intervalMs: 20 })).received, 2);
    assert.equal((await session.tcping('10.44.0.1', 80)).result, 'open');
    const response = await session.fetch('http://10.44.0.1/?secret=1');
    const body = await response.text();
    assert.ok(body.length > 0);
    session.sampleQuality();

    const quality = session.quality();
    assert.equal(quality.intervalMs, 3_600_000);
    const last = quality.samples.at(-1)!;
    assert.ok(last.rxBps > 0 && last.txBps > 0, 'the sample saw the traffic');
    assert.ok(last.pingRttMs !== undefined && last.pingRttMs >= 0, 'and the ping RTT');
    assert.equal(last.pingsSent, 2);
    assert.ok(last.handshakeAgeMs !== undefined && last.handshakeAgeMs >= 0);

    const report = session.report({ wgwebVersion: '0.1.0', kind: 'node', userAgent: 'test' });
    assert.deepEqual(report.tools.map((t) => [t.tool, t.ok]), [['ping', true], ['ports', true], ['http', true]]);
    assert.match(report.tools[2].summary, /^GET http:\/\/10\.44\.0\.1\/\?…: 200 /, 'the query string (possibly a credential) is not kept');
    assert.equal(report.status.state, 'up');
    assert.ok(report.events.some((e) => e.type === 'relay-open'));
    assert.equal(report.relays.length, 1);
    assert.ok(report.quality.samples.length >= 2);
    // Each live TCP connection with its stats (how an upload went: windows, RTT, send limits).
    const conns = report.counters.tcpConnections as { remote: string; bytesSent: number; sendLimitedMs: { cwnd: number; rwnd: number; app: number } }[];
    assert.ok(Array.isArray(conns), 'counters.tcpConnections lists the live connections');
    for (const c of conns) {
      assert.match(c.remote, /^10\.44\.0\.1:\d+$/);
      assert.deepEqual(Object.keys(c.sendLimitedMs), ['cwnd', 'rwnd', 'app']);
    }
    const json = JSON.stringify(report);
    const page = renderReportHtml(report);
    assert.equal(json.includes(privateKey), false, 'no private key in the JSON');
    assert.equal(page.includes(privateKey), false, 'no private key in the HTML');
    assert.match(report.config.text, /^PrivateKey = \(redacted\)$/m);
  } finally {
    await session.close();
    await relay.close();
    await demo.close();
  }
});

test('tunnel vs direct: the same download straight from the relay\'s /speed and through the tunnel, both positive, kept for the report', async () => {
  const demo = await DemoPeer.start({ sweepIntervalMs: 0 });
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] });
  const session = await Session.start({ configText: demo.register('compare').config, relayUrl: relay.wsUrl, WebSocketImpl: WS, relayBatching: false });
  try {
    await session.waitForHandshake(15_000);
    const bytes = 1024 * 1024;
    const r = await session.tunnelVsDirect(`http://10.44.0.1/bytes/${bytes}`, { bytes });
    assert.equal(r.direct.bytes, bytes);
    assert.equal(r.tunnel.bytes >= bytes, true);
    assert.ok(r.direct.bitsPerSecond > 0 && r.tunnel.bitsPerSecond > 0, JSON.stringify(r));
    assert.equal(r.percent, Math.round((r.tunnel.bitsPerSecond / r.direct.bitsPerSecond) * 1000) / 10);
    const record = session.toolResults().find((t) => t.tool === 'compare');
    assert.ok(record?.ok);
    assert.match(record!.summary, /^tunnel [\d.]+ [kMG]?bit\/s .* vs direct [\d.]+ [kMG]?bit\/s .*: the tunnel is [\d.]+% of direct$/);
    await assert.rejects(session.tunnelVsDirect('http://10.44.0.1/bytes/2000', { bytes: 4096 }), /gave 2000 bytes, fewer than the 4096/);
  } finally {
    await session.close();
    await relay.close();
    await demo.close();
  }
});
