/**
 * Traceroute through the tunnel against real kernels: wireguard-go's namespace forwards to a
 * router namespace, which forwards to the far host. Session.traceroute and `wgweb traceroute`
 * must name each hop, with UDP probes (the far host's kernel answers Port Unreachable) and ICMP
 * echoes, over IPv4 and IPv6; the routers past the peer must be the ones Debian `traceroute`
 * (UDP) and `traceroute -I` find from the peer's namespace with the same source address (the peer
 * is our extra first hop). A dnsmasq on the peer's tunnel address (the config's DNS =) answers
 * the PTR queries that name the hops.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (ns A, hop 1: .1, dnsmasq) ──link──▶ ns R (hop 2: .100)
 *       ──link──▶ ns B: 10.77.X.200 (the far host, hop 3)
 *
 * Our wireguard only accepts sources inside the peer's AllowedIPs (the tunnel networks), so the
 * router answers from an address there: its route back carries `src .100`, which Linux uses as
 * the source of the ICMP Time Exceeded it sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, createNamespace, linkNamespaces, type Namespace } from '../../harness/netns.ts';
import { startDnsmasq } from '../../harness/dnsmasq.ts';
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
    const r = await createNamespace({ name: 'trrouter' });
    const b = await createNamespace({ name: 'trfar' });
    const ar = await linkNamespaces(a, r);
    const rb = await linkNamespaces(r, b);
    router4 = fx.peer.tunnelAddress4!.replace(/\.1$/, '.100');
    far4 = fx.peer.tunnelAddress4!.replace(/\.1$/, '.200');
    router6 = fx.peer.tunnelAddress6!.replace(/::1$/, '::100');
    far6 = fx.peer.tunnelAddress6!.replace(/::1$/, '::200');
    const [net4, net6] = fx.peer.tunnelNetworks;
    // Linux rate-limits ICMP errors per destination (a burst of 6, then one per second:
    // net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit); these tests send dozens of probes to the
    // same client within seconds, so a limited router would turn into * by chance. Off in the test's
    // own namespaces, B included (its Port Unreachables).
    const unlimited = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0'];
    await a.exec('sysctl', ['-qw', ...unlimited]);
    await r.exec('sysctl', ['-qw', ...unlimited]);
    await b.exec('sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    await a.exec('ip', ['-6', 'route', 'add', `${far6}/128`, 'via', ar.addressB6]);
    await r.exec('ip', ['-6', 'addr', 'add', `${router6}/128`, 'dev', ar.ifB, 'nodad']);
    await r.exec('ip', ['-6', 'route', 'add', `${far6}/128`, 'via', rb.addressB6]);
    await r.exec('ip', ['-6', 'route', 'add', net6, 'via', ar.addressA6, 'src', router6]);
    await b.exec('ip', ['-6', 'addr', 'add', `${far6}/128`, 'dev', rb.ifB, 'nodad']);
    await b.exec('ip', ['-6', 'route', 'add', net6, 'via', rb.addressA6]);
    await a.exec('ip', ['route', 'add', `${far4}/32`, 'via', ar.addressB4]);
    await a.exec('ip', ['route', 'add', `${router4}/32`, 'via', ar.addressB4]);
    await r.exec('ip', ['addr', 'add', `${router4}/32`, 'dev', ar.ifB]);
    await r.exec('ip', ['route', 'add', `${far4}/32`, 'via', rb.addressB4]);
    await r.exec('ip', ['route', 'add', net4, 'via', ar.addressA4, 'src', router4]);
    await b.exec('ip', ['addr', 'add', `${far4}/32`, 'dev', rb.ifB]);
    await b.exec('ip', ['route', 'add', net4, 'via', rb.addressA4]);
    await startDnsmasq(a, fx.peer.tunnelAddress4!, [
      `--host-record=peer.trace.test,${fx.peer.tunnelAddress4},${fx.peer.tunnelAddress6}`,
      `--host-record=router.trace.test,${router4},${router6}`,
      `--host-record=far.trace.test,${far4},${far6}`,
    ]);
  });

  /** Each hop's probes as `kind from`, `*` for silence. */
  const answers = (t: TracerouteResult) => t.hops.map((h) => h.probes.map((p) => (p.kind === 'timeout' ? '*' : `${p.kind} ${p.from}`)));
  /** traceroute(8)'s hop addresses (-n, -q 1), `*` for silence. */
  const hopsOf = (stdout: string) => stdout.split('\n').slice(1).filter((l) => /^\s*\d+\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

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
