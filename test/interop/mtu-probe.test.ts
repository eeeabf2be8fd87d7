/**
 * Path MTU through the tunnel against real kernels: behind wireguard-go, its namespace forwards
 * to a host in a second namespace over a link with MTU 1300, so a Don't Fragment packet larger
 * than 1300 makes the peer's kernel answer ICMP "fragmentation needed" (IPv4) / Packet Too Big
 * (IPv6) back through the tunnel. Session.mtu, `wgweb mtu` and `wgweb ping -M do|dont -s` must
 * find and report it; a host on the peer itself carries the whole tunnel MTU.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (ns A: wg MTU 1420, forwarding)
 *       ──link MTU 1300──▶ ns B: 10.77.X.200 / fd77:X::200 (the far host)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, createNamespace, linkNamespaces } from '../../harness/netns.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 60_000 };
const LINK_MTU = 1300;

describe('path MTU through the tunnel: a 1300-byte link behind wireguard-go', { skip: interopSkipReason() }, () => {
  let fx: SessionFixture;
  let far4: string;
  let far6: string;

  before(async () => {
    fx = await startSessionFixture({ name: 'mtu', servers: [] });
    const a = fx.peer.ns;
    const b = await createNamespace({ name: 'mtufar' });
    const link = await linkNamespaces(a, b);
    // The far host takes addresses inside the tunnel's networks, so the client's AllowedIPs
    // already route them into the tunnel; ns A routes them over the small link.
    far4 = fx.peer.tunnelAddress4!.replace(/\.1$/, '.200');
    far6 = fx.peer.tunnelAddress6!.replace(/::1$/, '::200');
    const [net4, net6] = fx.peer.tunnelNetworks;
    await a.exec('ip', ['link', 'set', link.ifA, 'mtu', String(LINK_MTU)]);
    await b.exec('ip', ['link', 'set', link.ifB, 'mtu', String(LINK_MTU)]);
    await a.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    await a.exec('ip', ['route', 'add', `${far4}/32`, 'via', link.addressB4]);
    await a.exec('ip', ['-6', 'route', 'add', `${far6}/128`, 'via', link.addressB6]);
    await b.exec('ip', ['addr', 'add', `${far4}/32`, 'dev', link.ifB]);
    await b.exec('ip', ['-6', 'addr', 'add', `${far6}/128`, 'dev', link.ifB, 'nodad']);
    await b.exec('ip', ['route', 'add', net4, 'via', link.addressA4]);
    await b.exec('ip', ['-6', 'route', 'add', net6, 'via', link.addressA6]);
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  test('Session.mtu over IPv4: the router reports 1300, the search confirms it and advises MTU = 1300', SLOW, async () => {
    const seen: string[] = [];
    const r = await fx.session.mtu(far4, {}, (s) => seen.push(`${s.size}:${s.outcome}`));
    assert.equal(r.pathMtu, LINK_MTU, JSON.stringify(r.steps));
    assert.equal(r.largestPayload, LINK_MTU - 28);
    assert.equal(r.reportedMtu, LINK_MTU);
    assert.equal(r.limitedByInterface, false);
    assert.equal(r.interfaceMtu, 1420);
    const told = r.steps.find((s) => s.outcome === 'too-big');
    assert.equal(told?.from, fx.peer.tunnelAddress4, 'the peer kernel (the router) reported it');
    assert.equal(seen.length, r.steps.length);
    assert.ok(r.steps.length <= 6, `${r.steps.length} probes: the reported MTU is tried at once`);
    assert.match(r.advice, /at most 1300-byte packets .* MTU = 1300/);
  });

  test('Session.mtu over IPv6: Packet Too Big 1300', SLOW, async () => {
    const r = await fx.session.mtu(far6);
    assert.equal(r.pathMtu, LINK_MTU, JSON.stringify(r.steps));
    assert.equal(r.largestPayload, LINK_MTU - 48);
    assert.equal(r.family, 6);
  });

  test('a host on the peer itself carries the whole tunnel MTU', SLOW, async () => {
    const r = await fx.session.mtu(fx.peer.tunnelAddress4!);
    assert.deepEqual([r.pathMtu, r.limitedByInterface, r.steps.length], [1420, true, 1]);
  });

  test('wgweb ping -M do -s: over the link MTU the router says so; -M dont lets it be fragmented; -s sizes the reply', SLOW, async () => {
    const cli = async (...args: string[]) => {
      const io = createMemoryIo();
      const code = await main(['ping', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '-c', '1', '-W', '3', ...args], io);
      return { code, out: io.stdoutText(), err: io.stderrText() };
    };
    const big = await cli('-M', 'do', '-s', String(LINK_MTU - 27), far4);
    assert.equal(big.code, 1, big.out + big.err);
    assert.match(big.out, /^PING .*: 1273 data bytes$/m);
    assert.match(big.out, new RegExp(`icmp_seq=1: packet-too-big from ${fx.peer.tunnelAddress4!.replace(/\./g, '\\.')} \\(ICMPv4 code 4, mtu=1300\\)`));
    const fits = await cli('-M', 'do', '-s', String(LINK_MTU - 28), far4);
    assert.equal(fits.code, 0, fits.out + fits.err);
    assert.match(fits.out, new RegExp(`^1280 bytes from ${far4.replace(/\./g, '\\.')}: icmp_seq=1 `, 'm'));
    const fragmented = await cli('-M', 'dont', '-s', '1400', far4);
    assert.equal(fragmented.code, 0, fragmented.out + fragmented.err);
    assert.match(fragmented.out, /^1408 bytes from /m);
    const local = await cli('-M', 'do', '-s', '1500', far4);
    assert.match(local.out, /icmp_seq=1: local error: message too long, mtu=1420/);
  });

  test('wgweb mtu HOST prints each size tried and the path MTU', SLOW, async () => {
    const io = createMemoryIo();
    const code = await main(['mtu', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, far4], io);
    assert.equal(code, 0, io.stdoutText() + io.stderrText());
    const out = io.stdoutText();
    assert.match(out, /^\s*1392 bytes \(1420-byte packet\): too big, mtu 1300 from /m);
    assert.match(out, /^\s*1272 bytes \(1300-byte packet\): passes, reply in [\d.]+ ms$/m);
    assert.match(out, new RegExp(`^--- ${far4.replace(/\./g, '\\.')}: path MTU 1300 \\(1272 data bytes \\+ 28 of headers; tunnel MTU 1420; reported: 1300\\)$`, 'm'));
  });
});
