/**
 * Traceroute through the tunnel against real kernels: wireguard-go's namespace forwards to a
 * router namespace, which forwards to the far host. Session.traceroute and `wgweb traceroute`
 * must name each hop, with UDP probes (the far host's kernel answers Port Unreachable) and ICMP
 * echoes, over IPv4 and IPv6; the routers past the peer must be the ones Debian `traceroute`
 * (UDP) and `traceroute -I` find from the peer's namespace with the same source address (the peer
 * is our extra first hop). A dnsmasq on the peer's tunnel address (the config's DNS =) answers
 * the PTR queries that name the hops (test/helpers/router-chain.ts).
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (ns A, hop 1: .1, dnsmasq) ──link──▶ ns R (hop 2: .100)
 *       ──link──▶ ns B: 10.77.X.200 (the far host, hop 3)
 *
 * Our wireguard only accepts sources inside the peer's AllowedIPs (the tunnel networks), so the
 * router answers from an address there (its route back carries `src`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, type Namespace } from '../../harness/netns.ts';
import { startRouterChain } from '../helpers/router-chain.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';
import type { TracerouteResult } from '../../src/session/session-types.ts';

const SLOW = { timeout: 60_000 };

describe('traceroute through the tunnel: a router namespace behind wireguard-go', { skip: interopSkipReason(['sysctl', 'traceroute', 'dnsmasq']) }, () => {
  let fx: SessionFixture;
  let a: Namespace;
  let router4: string;
  let far4: string;
  let router6: string;
  let far6: string;

  before(async () => {
    fx = await startSessionFixture({ name: 'trace', servers: [] });
    a = fx.peer.ns;
    ({ router4, far4, router6, far6 } = await startRouterChain(fx.peer, 'tr'));
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  /** Each hop's probes as `kind from`, `*` for silence. */
  const answers = (t: TracerouteResult) => t.hops.map((h) => h.probes.map((p) => (p.kind === 'timeout' ? '*' : `${p.kind} ${p.from}`)));
  /** traceroute(8)'s hop addresses (-n, -q 1), `*` for silence. */
  const hopsOf = (stdout: string) => stdout.split('\n').slice(1).filter((l) => /^\s*\d+\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);

  test('Session.traceroute with ICMP echoes names the peer, the router and the far host, one hop each, with RTTs', SLOW, async () => {
    const seen: number[] = [];
    const t = await fx.session.traceroute(far4, { method: 'icmp', probesPerHop: 2, timeoutMs: 2000 }, (h) => seen.push(h.ttl));
    assert.equal(t.reached, true, JSON.stringify(t.hops));
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(answers(t), [
      [`time-exceeded ${fx.peer.tunnelAddress4}`, `time-exceeded ${fx.peer.tunnelAddress4}`],
      [`time-exceeded ${router4}`, `time-exceeded ${router4}`],
      [`reply ${far4}`, `reply ${far4}`],
    ]);
    for (const h of t.hops) for (const p of h.probes) assert.ok(p.kind !== 'timeout' && p.rttMs >= 0);
  });

  test('UDP probes (the default) over IPv4: Time Exceeded from the peer and the router, Port Unreachable from the far host ends it', SLOW, async () => {
    const t = await fx.session.traceroute(far4, { probesPerHop: 2, timeoutMs: 2000 });
    assert.deepEqual([t.method, t.port, t.reached], ['udp', 33434, true], JSON.stringify(t.hops));
    assert.deepEqual(answers(t), [
      [`time-exceeded ${fx.peer.tunnelAddress4}`, `time-exceeded ${fx.peer.tunnelAddress4}`],
      [`time-exceeded ${router4}`, `time-exceeded ${router4}`],
      [`unreachable ${far4}`, `unreachable ${far4}`],
    ]);
    const last = t.hops[2].probes[0];
    assert.ok(last.kind === 'unreachable' && last.code === 3 && last.icmpVersion === 4, 'ICMP port unreachable');
  });

  test('UDP probes over IPv6: every hop named, ICMPv6 Port Unreachable (code 4) from the far host', SLOW, async () => {
    const t = await fx.session.traceroute(far6, { probesPerHop: 2, timeoutMs: 2000, maxHops: 10 });
    assert.deepEqual([t.family, t.method, t.reached], [6, 'udp', true], JSON.stringify(t.hops));
    assert.deepEqual(answers(t), [
      [`time-exceeded ${fx.peer.tunnelAddress6}`, `time-exceeded ${fx.peer.tunnelAddress6}`],
      [`time-exceeded ${router6}`, `time-exceeded ${router6}`],
      [`unreachable ${far6}`, `unreachable ${far6}`],
    ]);
    const last = t.hops[2].probes[1];
    assert.ok(last.kind === 'unreachable' && last.code === 4 && last.icmpVersion === 6, 'ICMPv6 port unreachable');
  });

  test('reverse DNS through the tunnel names every hop over IPv4 and IPv6 (dnsmasq PTRs); resolveNames: false leaves numbers', SLOW, async () => {
    const names = (t: TracerouteResult) => t.hops.map((h) => h.probes.map((p) => (p.kind === 'timeout' ? '*' : (p.name ?? '-'))).join(' '));
    const v4 = await fx.session.traceroute(far4, { probesPerHop: 1, timeoutMs: 2000 });
    assert.deepEqual(names(v4), ['peer.trace.test', 'router.trace.test', 'far.trace.test']);
    const v6 = await fx.session.traceroute(far6, { method: 'icmp', probesPerHop: 1, timeoutMs: 2000 });
    assert.deepEqual(names(v6), ['peer.trace.test', 'router.trace.test', 'far.trace.test']);
    const numeric = await fx.session.traceroute(far4, { probesPerHop: 1, timeoutMs: 2000, resolveNames: false });
    assert.deepEqual(names(numeric), ['-', '-', '-']);
  });

  test('over IPv6 with ICMP every hop is named: the peer, the router (Time Exceeded from inside AllowedIPs), the far host', SLOW, async () => {
    const t = await fx.session.traceroute(far6, { method: 'icmp', probesPerHop: 2, timeoutMs: 2000, maxHops: 10 });
    assert.equal(t.family, 6);
    assert.equal(t.reached, true, JSON.stringify(t.hops));
    assert.deepEqual(answers(t), [
      [`time-exceeded ${fx.peer.tunnelAddress6}`, `time-exceeded ${fx.peer.tunnelAddress6}`],
      [`time-exceeded ${router6}`, `time-exceeded ${router6}`],
      [`reply ${far6}`, `reply ${far6}`],
    ]);
  });

  for (const [label, flags, method] of [['traceroute -I', ['-I'], 'icmp'], ['traceroute (UDP)', [], 'udp']] as const) {
    for (const family of [4, 6] as const) {
      test(`the hops past the peer equal what Debian ${label} finds from the peer with the same source, IPv${family}`, SLOW, async () => {
        const [src, far] = family === 4 ? [fx.peer.tunnelAddress4!, far4] : [fx.peer.tunnelAddress6!, far6];
        const real = await a.exec('traceroute', [`-${family}`, ...flags, '-n', '-q', '1', '-w', '2', '-m', '10', '-s', src, far], { timeoutMs: 30_000 });
        assert.equal(real.code, 0, real.stdout + real.stderr);
        const theirs = hopsOf(real.stdout);
        const t = await fx.session.traceroute(far, { method, probesPerHop: 1, timeoutMs: 2000, maxHops: 10, resolveNames: false });
        const ours = t.hops.map((h) => (h.probes[0].kind === 'timeout' ? '*' : h.probes[0].from));
        assert.deepEqual(theirs, family === 4 ? [router4, far4] : [router6, far6], real.stdout);
        assert.deepEqual(ours.slice(1), theirs);
        assert.equal(ours[0], src);
      });
    }
  }

  test('wgweb traceroute prints a line per hop like traceroute (-n numbers, names by default, -I ICMP, UDP by default); -m 2 stops short of the host and exits 1', SLOW, async () => {
    const cli = async (...args: string[]) => {
      const io = createMemoryIo();
      const code = await main(['traceroute', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, ...args], io);
      return { code, out: io.stdoutText(), err: io.stderrText() };
    };
    const ok = await cli('-I', '-n', '-q', '2', '-w', '2', far4);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^traceroute to .* 30 hops max, ICMP echo$/m);
    const dots = (s: string) => s.replace(/\./g, '\\.');
    assert.match(ok.out, new RegExp(`^ 2  ${dots(router4)}  [\\d.]+ ms  [\\d.]+ ms$`, 'm'));
    assert.match(ok.out, new RegExp(`^ 3  ${dots(far4)}  [\\d.]+ ms  [\\d.]+ ms$`, 'm'));
    const udp = await cli('-q', '1', '-w', '2', far6);
    assert.equal(udp.code, 0, udp.out + udp.err);
    assert.match(udp.out, /^traceroute to .* 30 hops max, UDP to port 33434\+$/m);
    assert.match(udp.out, new RegExp(`^ 2  router\\.trace\\.test \\(${router6}\\)  [\\d.]+ ms$`, 'm'));
    assert.match(udp.out, new RegExp(`^ 3  far\\.trace\\.test \\(${far6}\\)  [\\d.]+ ms$`, 'm'));
    assert.equal((await cli('-I', '-U', far4)).code, 2, '-I and -U exclude each other');
    const short = await cli('-m', '2', '-q', '1', '-w', '1', '--json', far4);
    assert.equal(short.code, 1, short.out + short.err);
    const j = JSON.parse(short.out) as { reached: boolean; hops: unknown[] };
    assert.deepEqual([j.reached, j.hops.length], [false, 2]);
  });
});
