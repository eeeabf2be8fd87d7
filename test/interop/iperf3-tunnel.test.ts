/**
 * iperf3 through the tunnel: wgweb's Session (our WireGuard + TCP) runs iperf3 tests against a
 * stock `iperf3 -s` (Debian iperf3) listening on wireguard-go's tunnel address in its namespace,
 * and the figures agree with the server's own JSON report (`-J`) within 10 %.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (namespace) ── kernel TCP ── iperf3 -s -1 -J
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { ErrorCode } from '../../src/shared/errors.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };

describe('iperf3 through the tunnel against a stock iperf3 server', { skip: interopSkipReason(['iperf3']) }, () => {
  let fx: SessionFixture;
  before(async () => {
    fx = await startSessionFixture({ name: 'iperf', servers: [] });
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  /** `iperf3 -s -1 -J` on the peer's tunnel address: one test, then its report. */
  function serveOnce(port: number): Promise<Record<string, any>> {
    let out = '';
    const proc = fx.peer.ns.spawn('iperf3', ['-s', '-1', '-J', '-B', fx.peer.tunnelAddress4!, '-p', String(port)], {
      onLine: (line, stream) => {
        if (stream === 'stdout') out += `${line}\n`;
      },
    });
    return proc.exited.then(() => JSON.parse(out) as Record<string, any>);
  }

  async function listening(port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await fx.peer.ns.exec('ss', ['-Htln', `sport = :${port}`], { check: false });
      if (r.stdout.trim()) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`iperf3 -s did not listen on ${port}`);
  }

  function within(actual: number, expected: number, what: string): void {
    const off = Math.abs(actual - expected) / expected;
    assert.ok(off <= 0.1, `${what}: ${actual} vs the server's ${expected} (${(off * 100).toFixed(1)} % apart)`);
  }

  test('a 3 s upload: our sender and receiver lines agree with what the server measured', SLOW, async (t) => {
    const report = serveOnce(5201);
    await listening(5201);
    const intervals: number[] = [];
    const phases: string[] = [];
    const r = await fx.session.iperf3(fx.peer.tunnelAddress4!, { seconds: 3 }, (p) => {
      phases.push(p.type);
      if (p.type === 'interval') intervals.push(p.interval.bitsPerSecond);
    });
    const server = await report;
    const received = server.end.sum_received.bytes as number;
    assert.deepEqual([...new Set(phases)], ['connected', 'streams', 'started', 'interval', 'ended']);
    assert.equal(intervals.length, 3);
    assert.ok(intervals.every((b) => b > 0), `every interval moved data: ${intervals}`);
    assert.ok(r.sender.bytes > 100_000, `sent ${r.sender.bytes}`);
    t.diagnostic(`iperf3 upload: sent ${r.sender.bytes}, server received ${received}, ${(r.sender.bitsPerSecond / 1e6).toFixed(1)} Mbit/s, retransmits ${r.sender.retransmits}`);
    within(r.sender.bytes, received, 'sender bytes');
    within(r.receiver.bitsPerSecond, server.end.sum_received.bits_per_second, 'receiver rate');
    assert.equal(typeof r.sender.retransmits, 'number', 'our TCP counts retransmits');
  });

  test('a 5 s reverse test over 2 parallel streams: what we received agrees with what the server sent', SLOW, async (t) => {
    const report = serveOnce(5202);
    await listening(5202);
    const r = await fx.session.iperf3(fx.peer.tunnelAddress4!, { seconds: 5, reverse: true, streams: 2, port: 5202 });
    const server = await report;
    assert.equal(server.start.test_start.num_streams, 2);
    assert.equal(server.start.test_start.reverse, 1);
    assert.equal(r.senderSide, 'server');
    t.diagnostic(`iperf3 reverse: received ${r.receiver.bytes}, server sent ${server.end.sum_sent.bytes}`);
    // The server counts what its kernel accepted, some of which was still queued at the end.
    within(r.receiver.bytes, server.end.sum_sent.bytes, 'received bytes');
    assert.equal(r.sender.bytes, server.end.sum_sent.bytes);
  });

  test('a port with no iperf3 server is refused', SLOW, async () => {
    await assert.rejects(fx.session.iperf3(fx.peer.tunnelAddress4!, { seconds: 1, port: 5209 }), (e: { code?: string }) => e.code === ErrorCode.CONNECTION_REFUSED);
  });

  // The CLI runs as the fixture's second client (configFile()), so the fixture Session keeps its keys.
  test('wgweb iperf3 HOST:PORT prints a line per second and iperf3\'s sender and receiver lines', SLOW, async () => {
    const report = serveOnce(5203);
    await listening(5203);
    const io = createMemoryIo();
    const code = await main(['iperf3', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '-t', '2', `${fx.peer.tunnelAddress4}:5203`], io);
    const out = io.stdoutText();
    assert.equal(code, 0, io.stderrText());
    await report;
    assert.match(out, /^Connecting to host 10\.77\.\d+\.1, port 5203$/m);
    // One line per interval; a loaded machine ends an interval a little late ("1.00-2.02 sec").
    assert.equal(out.match(/^\s+\d\.\d\d-\d\.\d\d\s+sec\s+[\d.]+ [KMG]?i?B\s+[\d.]+ [kMG]?bit\/s\s+\d+$/gm)?.length, 2, out);
    assert.match(out, /sec .* sender$/m);
    assert.match(out, /sec .* receiver$/m);
  });
});
