/**
 * Port lists through the tunnel: `wgweb tcping HOST 80-82,7` and Session.tcpingPorts against the
 * kernel in wireguard-go's namespace, where port 80 serves HTTP (open), 81 has no listener
 * (closed: RST) and an nftables rule drops SYNs to 82 silently (filtered).
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (namespace: nft drop tcp dport 82) ── kernel TCP
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 60_000 };

describe('port lists: open, closed and filtered through the tunnel', { skip: interopSkipReason(['nft']) }, () => {
  let fx: SessionFixture;
  before(async () => {
    fx = await startSessionFixture({ name: 'ports', servers: ['http'] });
    const nft = (...args: string[]): Promise<unknown> => fx.peer.ns.exec('nft', args);
    await nft('add', 'table', 'inet', 'wgdiag');
    await nft('add', 'chain', 'inet', 'wgdiag', 'input', '{ type filter hook input priority 0; }');
    await nft('add', 'rule', 'inet', 'wgdiag', 'input', 'tcp', 'dport', '82', 'drop');
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  test('Session.tcpingPorts sorts each port into open, closed or filtered and reports each as it is decided', SLOW, async () => {
    const seen: number[] = [];
    const r = await fx.session.tcpingPorts(fx.peer.tunnelAddress4!, [80, 81, 82], { timeoutMs: 1500 }, (x) => seen.push(x.port));
    assert.deepEqual(r.open, [80]);
    assert.deepEqual(r.closed, [81]);
    assert.deepEqual(r.filtered, [82]);
    assert.deepEqual(r.results.map((x) => x.port), [80, 81, 82]);
    assert.deepEqual([...seen].sort(), [80, 81, 82]);
    assert.equal(r.skipped, 0);
  });

  test('a stopped check does not start the remaining ports', SLOW, async () => {
    const ac = new AbortController();
    const r = await fx.session.tcpingPorts(fx.peer.tunnelAddress6!, [82, 81, 83, 84, 85, 86], { concurrency: 1, timeoutMs: 1500 }, () => ac.abort(), ac.signal).catch((e) => e);
    // The first port is filtered (1.5 s); aborting after the first decided port stops the rest.
    if (r instanceof Error) assert.equal((r as { code?: string }).code, 'ABORTED');
    else assert.ok(r.skipped >= 4, `skipped ${r.skipped}`);
  });

  test('wgweb tcping HOST 80-82 prints a line per port and the ports by outcome', SLOW, async () => {
    const io = createMemoryIo();
    const code = await main(['tcping', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '-W', '1', fx.peer.tunnelAddress4!, '80-82'], io);
    assert.equal(code, 0, io.stderrText());
    const out = io.stdoutText();
    assert.match(out, /:80 is open: connected in/);
    assert.match(out, /:81 refused the connection/);
    assert.match(out, /:82: no answer within 1\.\d s \(filtered/);
    assert.match(out, /^--- 10\.77\.\d+\.1: 3 ports: 1 open \(80\), 1 closed \(81\), 1 filtered \(82\)$/m);
  });
});
