/**
 * /metrics on a real relay: the Prometheus text parses, and its counters move with the traffic a
 * real session forwards, the refusals it makes and the sessions that end; /healthz and /readyz.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { sendBinary, testRelay, transportMessage, udpPeer, waitUntil, wsClient, type UdpPeer } from './relay-fixtures.ts';

type Samples = Map<string, number>;

/** Parses the Prometheus text format 0.0.4 into `name{a="b",...}` → value, checking every line. */
function parseMetrics(text: string): { samples: Samples; types: Map<string, string> } {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1], t[2]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    // Values are Go floats to Prometheus, so NaN and Inf in any letter case (prom-client writes `Nan`
    // for the event-loop lag before its first sample).
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]?[Ii]nf)( [0-9]+)?$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, /^[Nn]/.test(m[3]) ? NaN : Number(m[3].replace(/inf$/i, 'Infinity')));
  }
  return { samples, types };
}

async function scrape(url: string): Promise<{ samples: Samples; types: Map<string, string>; contentType: string }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return { ...parseMetrics(await res.text()), contentType: res.headers.get('content-type') ?? '' };
}

describe('/metrics on a loopback relay', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  test('is served on the main listener, in the Prometheus text format, with process metrics', async () => {
    assert.equal(relay.metricsUrl, `${relay.url}metrics`);
    const m = await scrape(relay.metricsUrl!);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(m.types.get('wgweb_relay_sessions'), 'gauge');
    assert.equal(m.types.get('wgweb_relay_datagrams_total'), 'counter');
    assert.equal(m.types.get('wgweb_relay_session_duration_seconds'), 'histogram');
    assert.ok(m.samples.has('process_resident_memory_bytes'));
    assert.equal(m.samples.get('wgweb_relay_ready'), 1);
  });

  test('counters move with a session, its datagrams, a refusal and its end', async () => {
    const before = (await scrape(relay.metricsUrl!)).samples;
    const c = wsClient(`${relay.wsUrl}?to=127.0.0.1:${peer.port}`);
    await c.opened;
    for (let i = 0; i < 5; i++) await sendBinary(c.ws, transportMessage(100, i));
    await sendBinary(c.ws, new Uint8Array(40)); // not WireGuard-shaped: dropped
    await waitUntil(() => c.messages.length === 5, 'five echoes');
    const during = (await scrape(relay.metricsUrl!)).samples;
    assert.equal(during.get('wgweb_relay_sessions'), 1);
    assert.equal(during.get('wgweb_relay_datagrams_total{direction="to_peer"}')! - (before.get('wgweb_relay_datagrams_total{direction="to_peer"}') ?? 0), 5);
    assert.equal(during.get('wgweb_relay_datagrams_total{direction="from_peer"}')! - (before.get('wgweb_relay_datagrams_total{direction="from_peer"}') ?? 0), 5);
    assert.equal(during.get('wgweb_relay_bytes_total{direction="to_peer"}')! - (before.get('wgweb_relay_bytes_total{direction="to_peer"}') ?? 0), 500);
    assert.equal(during.get('wgweb_relay_drops_total{reason="notWireguard"}'), 1);
    c.ws.close();
    await c.closed;
    await waitUntil(() => relay.stats().activeSessions === 0, 'the session ended');
    const refused = wsClient(`${relay.wsUrl}?to=127.0.0.1:1`);
    await refused.closed;
    const afterEnd = (await scrape(relay.metricsUrl!)).samples;
    assert.equal(afterEnd.get('wgweb_relay_sessions'), 0);
    assert.equal(afterEnd.get('wgweb_relay_session_duration_seconds_count'), 1);
    assert.equal(afterEnd.get('wgweb_relay_refusals_total{code="DESTINATION_NOT_ALLOWED"}'), 1);
    assert.equal(afterEnd.get('wgweb_relay_sessions_opened_total'), 1);
  });

  test('wgweb_relay_ready and /readyz drop to 0/503 while draining', async () => {
    await relay.drain(1000);
    assert.equal((await scrape(relay.metricsUrl!)).samples.get('wgweb_relay_ready'), 0);
    assert.equal((await fetch(`${relay.url}readyz`)).status, 503);
  });
});

describe('--metrics-listen', () => {
  test('serves /metrics, /healthz and /readyz on its own listener and nothing else; the main listener has no /metrics then', async () => {
    const relay = await testRelay({ metricsListen: { host: '127.0.0.1', port: 0 }, processMetrics: false });
    try {
      assert.match(relay.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.notEqual(new URL(relay.metricsUrl!).port, String(relay.port));
      const m = await scrape(relay.metricsUrl!);
      assert.equal(m.samples.get('wgweb_relay_sessions'), 0);
      assert.ok(!m.samples.has('process_resident_memory_bytes'));
      const base = relay.metricsUrl!.replace(/metrics$/, '');
      assert.equal((await fetch(`${base}healthz`)).status, 200);
      assert.equal((await fetch(`${base}readyz`)).status, 200);
      assert.equal((await fetch(`${base}`)).status, 404);
      assert.equal((await fetch(`${relay.url}metrics`)).status, 404);
    } finally {
      await relay.close();
    }
  });
});
