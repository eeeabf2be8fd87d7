import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/shared/bytes.ts';
import { PACKET_HEADROOM, PACKET_TAILROOM } from '../../src/shared/packet-room.ts';
import { formatIp, parseIp, parsePrefix } from '../../src/shared/ip-address.ts';
import { NetInterface } from '../../src/netstack/net-interface.ts';
import { MessageTooLongError } from '../../src/netstack/socket/icmp-socket.ts';
import { Icmpv4Packet, Icmpv4Repr } from '../../src/netstack/wire/icmpv4.ts';
import { Icmpv6Packet, Icmpv6Repr } from '../../src/netstack/wire/icmpv6.ts';
import { IpProtocol } from '../../src/netstack/wire/ip-protocol.ts';
import { Ipv4Packet } from '../../src/netstack/wire/ipv4.ts';
import { Ipv6Packet, fragmentIpv6 } from '../../src/netstack/wire/ipv6.ts';
import { UdpPacket, UdpRepr } from '../../src/netstack/wire/udp.ts';
import { kernelPacket, kernelPackets } from '../vectors/netstack/kernel-packets.ts';
import { RecordingTcp, echoRequest, icmpPacket, ipPacket, link, makeInterface, readSent, seededRandom, tcpSegment, udpPacket } from './net-test-kit.ts';

// The kernel side of the captures is 10.77.0.1 / fd77::1; the peer is 10.77.0.2 / fd77::2.
const K4 = parseIp('10.77.0.1');
const P4 = parseIp('10.77.0.2');
const K6 = parseIp('fd77::1');
const P6 = parseIp('fd77::2');
const BYTES_0_31 = Uint8Array.from({ length: 32 }, (_, i) => i);

/** Compares two IPv4 packets, ignoring the identification and therefore the header checksum. */
function sameIpv4ButId(ours: Uint8Array, kernel: Uint8Array): void {
  assert.equal(toHex(ours.subarray(0, 4)), toHex(kernel.subarray(0, 4)), 'version, TOS, total length');
  assert.equal(toHex(ours.subarray(6, 10)), toHex(kernel.subarray(6, 10)), 'flags, TTL, protocol');
  assert.equal(toHex(ours.subarray(12)), toHex(kernel.subarray(12)), 'addresses and payload');
  assert.ok(Ipv4Packet.view(ours)!.verifyChecksum());
}

/** Compares two IPv6 packets, ignoring the flow label (Linux sets one per flow, RFC 6437). */
function sameIpv6ButFlowLabel(ours: Uint8Array, kernel: Uint8Array): void {
  assert.equal(ours[0], kernel[0]);
  assert.equal(ours[1] & 0xf0, kernel[1] & 0xf0);
  assert.equal(toHex(ours.subarray(4)), toHex(kernel.subarray(4)));
}

describe('NetInterface construction', () => {
  test('needs at least one address, each 4 or 16 bytes', () => {
    assert.throws(() => new NetInterface({ addresses: [] }), /at least one address/);
    assert.throws(() => new NetInterface({ addresses: [{ address: new Uint8Array(5), prefixLength: 8 }] }), RangeError);
    assert.throws(() => new NetInterface(undefined as never), TypeError);
  });

  test('checks the MTU: 68 to 65535, and at least 1280 with an IPv6 address', () => {
    assert.throws(() => makeInterface(['10.0.0.1/24'], { mtu: 67 }), RangeError);
    assert.throws(() => makeInterface(['10.0.0.1/24', 'fd00::1/64'], { mtu: 1279 }), /1280/);
    assert.equal(makeInterface(['10.0.0.1/24'], { mtu: 576 }).mtu, 576);
    assert.equal(makeInterface(['10.0.0.1/24']).mtu, 1420);
  });

  test('builds its TCP layer from a factory that receives the interface', () => {
    let seen: NetInterface | undefined;
    const net = makeInterface(['10.0.0.1/24'], { tcp: (n) => ((seen = n), new RecordingTcp()) });
    assert.equal(seen, net);
    assert.ok(net.tcp instanceof RecordingTcp);
  });
});

describe('source address selection', () => {
  const net = makeInterface(['10.0.0.2/24', '192.168.7.2/24', 'fd00::2/64', 'fd01::2/64']);

  test('picks the address whose prefix holds the destination', () => {
    assert.equal(formatIp(net.sourceAddressFor(parseIp('192.168.7.99'))!), '192.168.7.2');
    assert.equal(formatIp(net.sourceAddressFor(parseIp('fd01::9'))!), 'fd01::2');
  });

  test('falls back to the first address of the same family', () => {
    assert.equal(formatIp(net.sourceAddressFor(parseIp('1.1.1.1'))!), '10.0.0.2');
    assert.equal(formatIp(net.sourceAddressFor(parseIp('2001:db8::1'))!), 'fd00::2');
  });

  test('has none for a family without an address, and sending there says what to configure', () => {
    const v4only = makeInterface(['10.0.0.2/24']);
    assert.equal(v4only.sourceAddressFor(parseIp('fd00::1')), undefined);
    assert.throws(() => v4only.udpBind().send(parseIp('fd00::1'), 53, new Uint8Array(1)), /no IPv6 address: add one to Address =/);
  });
});

describe('answering pings (the Node listening peer must answer them)', () => {
  test('answers an IPv4 echo request exactly as Linux did (except the IP ID)', () => {
    const net = makeInterface(['10.77.0.1/24']);
    net.receive(echoRequest(P4, K4, 0x4242, 7, BYTES_0_31), 0);
    const out = net.poll(0);
    assert.equal(out.length, 1);
    sameIpv4ButId(out[0], kernelPacket('icmpv4-echo-reply'));
    assert.equal(net.stats().echoRepliesSent, 1);
  });

  test('answers an ICMPv6 echo request exactly as Linux did (except the flow label)', () => {
    const net = makeInterface(['fd77::1/64']);
    net.receive(echoRequest(P6, K6, 0x4242, 7, BYTES_0_31), 0);
    const out = net.poll(0);
    assert.equal(out.length, 1);
    sameIpv6ButFlowLabel(out[0], kernelPacket('icmpv6-echo-reply'));
  });

  test('answers a real ping(8) request from the kernel, with a valid checksum and the same data', () => {
    for (const [name, addr] of [['icmpv4-echo-request', '10.77.0.2/24'], ['icmpv6-echo-request', 'fd77::2/64']] as const) {
      const net = makeInterface([addr]);
      const req = kernelPacket(name);
      net.receive(req, 0);
      const [reply] = net.poll(0);
      const s = readSent(reply);
      assert.equal(s.ttl, 64);
      assert.equal(toHex(s.dst), toHex(s.version === 4 ? K4 : K6));
      if (s.version === 4) {
        const r = Icmpv4Repr.parse(Icmpv4Packet.view(s.upper)!);
        assert.ok(r.ok && r.value.kind === 'echo-reply');
        assert.deepEqual(r.value.data, Ipv4Packet.view(req)!.payload.subarray(8));
      } else {
        const r = Icmpv6Repr.parse(Icmpv6Packet.view(s.upper)!, s.src, s.dst);
        assert.ok(r.ok && r.value.kind === 'echo-reply');
        assert.deepEqual(r.value.data, Ipv6Packet.view(req)!.payload.subarray(8));
      }
    }
  });

  test('answers from the address the request was sent to, among several', () => {
    const net = makeInterface(['10.0.0.1/24', '10.9.9.1/24']);
    net.receive(echoRequest(parseIp('10.0.0.7'), parseIp('10.9.9.1'), 1, 1, new Uint8Array(4)), 0);
    assert.equal(formatIp(readSent(net.poll(0)[0]).src), '10.9.9.1');
  });

  test('answers a fragmented 3000-byte ping with a fragmented reply that reassembles to the same data', () => {
    const a = makeInterface(['10.0.0.1/24'], {}, 1);
    const b = makeInterface(['10.0.0.2/24'], {}, 2);
    const ping = a.icmpEcho();
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i * 13);
    ping.sendEcho(parseIp('10.0.0.2'), { sequence: 1, payload: data }, 0);
    let fragments = 0;
    link(a, b, 0, (_, p) => void (readSent(p).fragment && fragments++));
    assert.equal(fragments, 6, '3 fragments each way at MTU 1420');
    const ev = ping.recv();
    assert.ok(ev?.kind === 'reply');
    assert.deepEqual(ev.data, data);
    assert.equal(b.stats().reassembled, 1);
  });

  test('does not answer requests to another host or to a multicast address, and counts them', () => {
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    net.receive(echoRequest(parseIp('10.0.0.7'), parseIp('10.0.0.99'), 1, 1, new Uint8Array(0)), 0);
    net.receive(echoRequest(parseIp('10.0.0.7'), parseIp('224.0.0.1'), 1, 1, new Uint8Array(0)), 0);
    net.receive(echoRequest(parseIp('10.0.0.7'), parseIp('255.255.255.255'), 1, 1, new Uint8Array(0)), 0);
    net.receive(echoRequest(parseIp('fd00::7'), parseIp('ff02::1'), 1, 1, new Uint8Array(0)), 0);
    assert.deepEqual(net.poll(0), []);
    assert.deepEqual(net.stats().drops, { 'ipv4-not-for-us': 1, 'ipv4-multicast': 2, 'ipv6-multicast': 1 });
  });

  test('never answers a source that cannot be a host (0.0.0.0, loopback, multicast, ::, our own address)', () => {
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    for (const s of ['0.0.0.0', '127.0.0.1', '224.1.2.3', '255.255.255.255', '10.0.0.1']) net.receive(echoRequest(parseIp(s), parseIp('10.0.0.1'), 1, 1, new Uint8Array(0)), 0);
    for (const s of ['::', '::1', 'ff02::1', 'fd00::1']) net.receive(echoRequest(parseIp(s), parseIp('fd00::1'), 1, 1, new Uint8Array(0)), 0);
    assert.deepEqual(net.poll(0), []);
    assert.deepEqual(net.stats().drops, { 'ipv4-bad-source': 5, 'ipv6-bad-source': 4 });
  });
});

describe('UDP between two interfaces linked in memory', () => {
  for (const [fam, addrA, addrB] of [['IPv4', '10.0.0.1/24', '10.0.0.2/24'], ['IPv6', 'fd00::1/64', 'fd00::2/64']] as const) {
    test(`a datagram goes out and an answer comes back (${fam})`, () => {
      const a = makeInterface([addrA], {}, 1);
      const b = makeInterface([addrB], {}, 2);
      const client = a.udpBind();
      const server = b.udpBind(5353);
      assert.ok(client.localPort >= 49152 && client.localPort <= 65535, 'ephemeral port');
      let readable = 0;
      server.onReadable = () => readable++;
      client.send(parsePrefix(addrB).address, 5353, new TextEncoder().encode('query'));
      link(a, b, 10);
      assert.equal(readable, 1);
      const q = server.recv()!;
      assert.equal(new TextDecoder().decode(q.data), 'query');
      assert.equal(q.port, client.localPort);
      assert.equal(formatIp(q.address), formatIp(parsePrefix(addrA).address));
      assert.equal(formatIp(q.localAddress), formatIp(parsePrefix(addrB).address));
      assert.equal(q.receivedAt, 10);
      server.send(q.address, q.port, new TextEncoder().encode('answer'));
      link(a, b, 11);
      assert.equal(new TextDecoder().decode(client.recv()!.data), 'answer');
      assert.equal(client.recv(), undefined);
    });

    test(`a 20000-byte datagram is fragmented and reassembled (${fam})`, () => {
      const a = makeInterface([addrA], {}, 1);
      const b = makeInterface([addrB], {}, 2);
      const big = Uint8Array.from({ length: 20000 }, (_, i) => (i * 7) & 0xff);
      const server = b.udpBind(9);
      a.udpBind().send(parsePrefix(addrB).address, 9, big);
      const sizes: number[] = [];
      link(a, b, 0, (_, p) => sizes.push(p.length));
      assert.ok(sizes.every((s) => s <= 1420));
      assert.equal(sizes.length, 15);
      assert.deepEqual(server.recv()!.data, big);
    });
  }

  test('rejects oversized datagrams, bad ports and closed sockets with clear errors', () => {
    const a = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    const s = a.udpBind();
    assert.throws(() => s.send(parseIp('10.0.0.2'), 53, new Uint8Array(65508)), /at most 65507/);
    assert.throws(() => s.send(parseIp('fd00::2'), 53, new Uint8Array(65520)), /at most 65519/);
    assert.throws(() => s.send(parseIp('10.0.0.2'), 0, new Uint8Array(1)), RangeError);
    assert.throws(() => s.send(new Uint8Array(5), 53, new Uint8Array(1)), RangeError);
    s.close();
    assert.throws(() => s.send(parseIp('10.0.0.2'), 53, new Uint8Array(1)), TypeError);
  });

  test('binding a taken port fails; closing frees it', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const s = a.udpBind(53);
    assert.throws(() => a.udpBind(53), /already bound/);
    assert.throws(() => a.udpBind(65536), RangeError);
    s.close();
    assert.equal(a.udpBind(53).localPort, 53);
  });

  test('ephemeral ports are random, distinct, and found even when most are taken', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const ports = new Set<number>();
    for (let i = 0; i < 16384; i++) ports.add(a.udpBind().localPort);
    assert.equal(ports.size, 16384);
    assert.throws(() => a.udpBind(), /no free ephemeral UDP port/);
  });

  test('UDP to a closed port gets ICMP port unreachable exactly as Linux sends it (IPv4)', () => {
    const net = makeInterface(['10.77.0.1/24']);
    net.receive(udpPacket(P4, K4, 33434, 9, new TextEncoder().encode('probe')), 0);
    const out = net.poll(0);
    assert.equal(out.length, 1);
    sameIpv4ButId(out[0], kernelPacket('icmpv4-port-unreachable'));
    assert.equal(net.stats().drops['udp-port-closed'], 1);
  });

  test('UDP to a closed port gets ICMPv6 port unreachable exactly as Linux sends it', () => {
    const net = makeInterface(['fd77::1/64']);
    net.receive(udpPacket(P6, K6, 33434, 9, new TextEncoder().encode('probe')), 0);
    sameIpv6ButFlowLabel(net.poll(0)[0], kernelPacket('icmpv6-port-unreachable'));
  });

  test('port unreachable messages are rate limited (10 per second, burst 10)', () => {
    const net = makeInterface(['10.0.0.1/24']);
    for (let i = 0; i < 25; i++) net.receive(udpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1000, 9, new Uint8Array(1)), 0);
    assert.equal(net.poll(0).length, 10);
    for (let i = 0; i < 25; i++) net.receive(udpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1000, 9, new Uint8Array(1)), 500);
    assert.equal(net.poll(500).length, 5);
    const s = net.stats();
    assert.equal(s.icmpErrorsSent, 15);
    assert.equal(s.icmpErrorsRateLimited, 35);
    assert.equal(s.drops['udp-port-closed'], 50);
  });

  test('a full receive queue drops the excess and counts it', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const s = a.udpBind(7, { queueLength: 2 });
    for (let i = 0; i < 5; i++) a.receive(udpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 7, new Uint8Array([i])), 0);
    assert.deepEqual([s.recv()!.data[0], s.recv()!.data[0], s.recv()], [0, 1, undefined]);
    assert.deepEqual(s.stats(), { sent: 0, received: 2, dropped: 3, errors: 0 });
  });

  test('a queued datagram and a queued echo reply are their own copies: the packet\'s memory may be reused once receive returns', () => {
    // The fetch-stream carrier reads the next body bytes into the same memory (#19 section 17).
    const a = makeInterface(['10.0.0.1/24']);
    const s = a.udpBind(7);
    const packet = udpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 7, new Uint8Array([1, 2, 3]));
    a.receive(packet, 0);
    packet.fill(0xee);
    assert.deepEqual([...s.recv()!.data], [1, 2, 3]);
    const echo = a.icmpEcho({ identifier: 77 });
    const reply = icmpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), { kind: 'echo-reply', identifier: 77, sequence: 1, data: new Uint8Array([4, 5, 6]) });
    a.receive(reply, 0);
    reply.fill(0xee);
    const got = echo.recv();
    assert.equal(got?.kind, 'reply');
    assert.deepEqual([...(got as { data: Uint8Array }).data], [4, 5, 6]);
  });

  test('bad UDP datagrams are dropped by reason', () => {
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    net.udpBind(7);
    const good = udpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 7, new Uint8Array([1, 2, 3]));
    const badSum = good.slice();
    badSum[28] ^= 1;
    net.receive(badSum, 0);
    const short = ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), IpProtocol.Udp, new Uint8Array(7));
    net.receive(short, 0);
    const longLen = good.slice();
    longLen[25] = 200; // UDP length beyond the IP payload
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), IpProtocol.Udp, longLen.subarray(20)), 0);
    const v6 = udpPacket(parseIp('fd00::2'), parseIp('fd00::1'), 1, 7, new Uint8Array([1]));
    v6[46] = 0;
    v6[47] = 0;
    net.receive(v6, 0);
    assert.deepEqual(net.stats().drops, { 'udp-bad-checksum': 1, 'udp-truncated': 2, 'udp-missing-checksum': 1 });
    assert.deepEqual(net.poll(0), [], 'no ICMP errors for broken datagrams');
  });
});

describe('ICMP errors are routed to the socket that caused them', () => {
  test('a UDP socket learns that the port was unreachable, from whom and for where', () => {
    const a = makeInterface(['10.0.0.1/24'], {}, 1);
    const b = makeInterface(['10.0.0.2/24'], {}, 2);
    const s = a.udpBind();
    let readable = 0;
    s.onReadable = () => readable++;
    s.send(parseIp('10.0.0.2'), 53, new Uint8Array(10));
    link(a, b, 0);
    const e = s.recvError()!;
    assert.equal(readable, 1);
    assert.equal(e.kind, 'unreachable');
    assert.equal(e.portUnreachable, true);
    assert.equal(e.code, 3);
    assert.equal(formatIp(e.reporter), '10.0.0.2');
    assert.equal(formatIp(e.address), '10.0.0.2');
    assert.equal(e.port, 53);
    assert.equal(s.recv(), undefined, 'errors do not mix with datagrams');
  });

  test('the same over IPv6', () => {
    const a = makeInterface(['fd00::1/64'], {}, 1);
    const b = makeInterface(['fd00::2/64'], {}, 2);
    const s = a.udpBind();
    s.send(parseIp('fd00::2'), 53, new Uint8Array(10));
    link(a, b, 0);
    const e = s.recvError()!;
    assert.equal(e.icmpVersion, 6);
    assert.equal(e.portUnreachable, true);
  });

  test('only the socket whose port sent the datagram hears about it', () => {
    const a = makeInterface(['10.0.0.1/24'], {}, 1);
    const b = makeInterface(['10.0.0.2/24'], {}, 2);
    const s1 = a.udpBind(1111);
    const s2 = a.udpBind(2222);
    s2.send(parseIp('10.0.0.2'), 53, new Uint8Array(1));
    link(a, b, 0);
    assert.equal(s1.recvError(), undefined);
    assert.equal(s2.recvError()?.port, 53);
  });

  test("Don't Fragment per request: do refuses over the path MTU with it, dont clears DF and fragments, want sets DF when it fits", () => {
    const a = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    const ping = a.icmpEcho();
    const to = parseIp('10.0.0.2');
    ping.sendEcho(to, { sequence: 1, payload: new Uint8Array(1392), pmtuDiscovery: 'do' }, 0);
    const [full] = a.poll(0);
    assert.equal(full.length, 1420);
    assert.equal(Ipv4Packet.unchecked(full).dontFragment, true);
    assert.throws(
      () => ping.sendEcho(to, { sequence: 2, payload: new Uint8Array(1393), pmtuDiscovery: 'do' }, 0),
      (e: unknown) => e instanceof MessageTooLongError && e.mtu === 1420 && /1421-byte packet/.test(e.message),
    );
    assert.throws(() => ping.sendEcho(parseIp('fd00::2'), { sequence: 3, payload: new Uint8Array(1373), pmtuDiscovery: 'do' }, 0), MessageTooLongError);
    assert.deepEqual(a.poll(0), [], 'nothing was sent for a refused request');
    ping.sendEcho(to, { sequence: 4, payload: new Uint8Array(100), pmtuDiscovery: 'dont' }, 0);
    assert.equal(Ipv4Packet.unchecked(a.poll(0)[0]).dontFragment, false);
    ping.sendEcho(to, { sequence: 5, payload: new Uint8Array(1393), pmtuDiscovery: 'dont' }, 0);
    assert.equal(a.poll(0).length, 2, 'fragmented here');
    ping.sendEcho(to, { sequence: 6, payload: new Uint8Array(100) }, 0);
    assert.equal(Ipv4Packet.unchecked(a.poll(0)[0]).dontFragment, true);
    assert.throws(() => ping.sendEcho(to, { sequence: 7, pmtuDiscovery: 'maybe' as 'do' }, 0), RangeError);
  });

  test('an echo request carries the TTL / hop limit asked for (traceroute), the default 64 otherwise, and refuses 0 or 256', () => {
    const a = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    const ping = a.icmpEcho();
    ping.sendEcho(parseIp('10.0.0.2'), { sequence: 1, ttl: 3 }, 0);
    ping.sendEcho(parseIp('fd00::2'), { sequence: 2, ttl: 7 }, 0);
    ping.sendEcho(parseIp('10.0.0.2'), { sequence: 3 }, 0);
    const [v4, v6, plain] = a.poll(0);
    assert.equal(Ipv4Packet.unchecked(v4).ttl, 3);
    assert.equal(Ipv6Packet.unchecked(v6).hopLimit, 7);
    assert.equal(Ipv4Packet.unchecked(plain).ttl, 64);
    assert.throws(() => ping.sendEcho(parseIp('10.0.0.2'), { sequence: 4, ttl: 0 }, 0), RangeError);
    assert.throws(() => ping.sendEcho(parseIp('10.0.0.2'), { sequence: 5, ttl: 256 }, 0), RangeError);
  });

  test('a UDP datagram carries the TTL / hop limit asked for (traceroute -U), and a Time Exceeded quoting it names the router and the probe port', () => {
    const a = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    const udp = a.udpBind(40000);
    udp.send(parseIp('10.0.0.9'), 33434, new Uint8Array(32), { ttl: 2 });
    udp.send(parseIp('fd00::9'), 33435, new Uint8Array(32), { ttl: 5 });
    udp.send(parseIp('10.0.0.9'), 33436, new Uint8Array(32));
    const [v4, v6, plain] = a.poll(0);
    assert.equal(Ipv4Packet.unchecked(v4).ttl, 2);
    assert.equal(Ipv6Packet.unchecked(v6).hopLimit, 5);
    assert.equal(Ipv4Packet.unchecked(plain).ttl, 64);
    assert.throws(() => udp.send(parseIp('10.0.0.9'), 33437, new Uint8Array(1), { ttl: 0 }), RangeError);
    a.receive(icmpPacket(parseIp('10.0.0.254'), parseIp('10.0.0.1'), { kind: 'time-exceeded', code: 0, quote: v4.subarray(0, 28) }), 10);
    a.receive(icmpPacket(parseIp('fd00::fe'), parseIp('fd00::1'), { kind: 'time-exceeded', code: 0, quote: v6.subarray(0, 48) }), 11);
    const e4 = udp.recvError();
    const e6 = udp.recvError();
    assert.deepEqual([e4?.kind, formatIp(e4!.reporter), formatIp(e4!.address), e4?.port, e4?.receivedAt], ['time-exceeded', '10.0.0.254', '10.0.0.9', 33434, 10]);
    assert.deepEqual([e6?.kind, formatIp(e6!.reporter), formatIp(e6!.address), e6?.port, e6?.icmpVersion], ['time-exceeded', 'fd00::fe', 'fd00::9', 33435, 6]);
  });

  test('an echo socket gets time exceeded from a router, with the router address and the sequence', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const ping = a.icmpEcho();
    ping.sendEcho(parseIp('192.0.2.9'), { sequence: 42 }, 1000);
    const [request] = a.poll(1000);
    const router = parseIp('10.0.0.254');
    a.receive(icmpPacket(router, parseIp('10.0.0.1'), { kind: 'time-exceeded', code: 0, quote: request.subarray(0, 28) }), 1500);
    const ev = ping.recv();
    assert.ok(ev?.kind === 'error');
    assert.equal(ev.type, 'time-exceeded');
    assert.equal(formatIp(ev.reporter), '10.0.0.254');
    assert.equal(formatIp(ev.destination), '192.0.2.9');
    assert.equal(ev.sequence, 42);
    assert.equal(ev.sentAt, 1000);
    assert.equal(ev.receivedAt, 1500);
  });

  test('an echo socket gets ICMPv6 destination unreachable (address unreachable)', () => {
    const a = makeInterface(['fd00::1/64']);
    const ping = a.icmpEcho();
    ping.sendEcho(parseIp('fd00::99'), { sequence: 3 }, 0);
    const [request] = a.poll(0);
    a.receive(icmpPacket(parseIp('fd00::fe'), parseIp('fd00::1'), { kind: 'destination-unreachable', code: 3, quote: request }), 0);
    const ev = ping.recv();
    assert.ok(ev?.kind === 'error');
    assert.equal(ev.type, 'unreachable');
    assert.equal(ev.code, 3);
    assert.equal(ev.icmpVersion, 6);
  });

  test('echo replies go to the socket with their identifier only', () => {
    const a = makeInterface(['10.0.0.1/24'], {}, 1);
    const b = makeInterface(['10.0.0.2/24'], {}, 2);
    const p1 = a.icmpEcho({ identifier: 1 });
    const p2 = a.icmpEcho({ identifier: 2 });
    p2.sendEcho(parseIp('10.0.0.2'), { sequence: 9 }, 0);
    link(a, b, 5);
    assert.equal(p1.recv(), undefined);
    const r = p2.recv();
    assert.ok(r?.kind === 'reply');
    assert.equal(r.sequence, 9);
    assert.equal(r.ttl, 64);
    assert.equal(r.receivedAt - r.sentAt!, 5);
    assert.throws(() => a.icmpEcho({ identifier: 2 }), /already in use/);
  });

  test('errors about packets we did not send, or with unreadable quotes, are dropped and counted', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const foreign = udpPacket(parseIp('10.0.0.5'), parseIp('10.0.0.6'), 1, 2, new Uint8Array(0));
    a.receive(icmpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 3, nextHopMtu: 0, quote: foreign }), 0);
    a.receive(icmpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 3, nextHopMtu: 0, quote: new Uint8Array(10) }), 0);
    const ours = udpPacket(parseIp('10.0.0.1'), parseIp('10.0.0.6'), 4444, 2, new Uint8Array(0));
    a.receive(icmpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 3, nextHopMtu: 0, quote: ours }), 0);
    assert.deepEqual(a.stats().drops, { 'icmp-error-not-ours': 1, 'icmp-bad-quote': 1, 'icmp-error-unmatched': 1 });
    assert.deepEqual(a.poll(0), [], 'never an ICMP error about an ICMP error');
  });
});

describe('path MTU discovery (RFC 1191, RFC 8201)', () => {
  test('fragmentation needed lowers the path MTU for that destination, and the next datagram fits it', () => {
    const a = makeInterface(['10.0.0.1/24']);
    const s = a.udpBind();
    s.send(parseIp('192.0.2.1'), 9, new Uint8Array(1300));
    const [first] = a.poll(0);
    assert.equal(readSent(first).dontFragment, true, 'DF on our own datagrams');
    a.receive(icmpPacket(parseIp('10.0.0.254'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 4, nextHopMtu: 1000, quote: first.subarray(0, 28) }), 0);
    assert.equal(a.pathMtu(parseIp('192.0.2.1')), 1000);
    assert.equal(a.pathMtu(parseIp('192.0.2.2')), 1420, 'other destinations keep the link MTU');
    const err = s.recvError()!;
    assert.equal(err.kind, 'packet-too-big');
    assert.equal(err.mtu, 1000);
    s.send(parseIp('192.0.2.1'), 9, new Uint8Array(1300));
    const again = a.poll(0);
    assert.equal(again.length, 2);
    assert.ok(again.every((p) => p.length <= 1000));
  });

  test('a pre-RFC 1191 router (MTU 0) makes us guess the next plateau below the packet size', () => {
    const a = makeInterface(['10.0.0.1/24']);
    a.udpBind().send(parseIp('192.0.2.1'), 9, new Uint8Array(1372)); // 1400-byte packet
    const [p] = a.poll(0);
    a.receive(icmpPacket(parseIp('10.0.0.254'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 4, nextHopMtu: 0, quote: p.subarray(0, 28) }), 0);
    assert.equal(a.pathMtu(parseIp('192.0.2.1')), 1006);
  });

  test('ICMPv6 packet too big never lowers below 1280, and the learned MTU expires after 10 minutes', () => {
    const a = makeInterface(['fd00::1/64']);
    a.udpBind().send(parseIp('2001:db8::1'), 9, new Uint8Array(1350));
    const [p] = a.poll(0);
    a.receive(icmpPacket(parseIp('fd00::fe'), parseIp('fd00::1'), { kind: 'packet-too-big', mtu: 600, quote: p.subarray(0, 1232) }), 0);
    assert.equal(a.pathMtu(parseIp('2001:db8::1'), 0), 1280);
    assert.equal(a.pathMtu(parseIp('2001:db8::1'), 600_000), 1420);
  });

  test('the TCP layer hears packet too big with the MTU and its own ports', () => {
    const tcp = new RecordingTcp();
    const a = makeInterface(['10.0.0.1/24'], { tcp });
    const seg = tcpSegment(parseIp('10.0.0.1'), parseIp('192.0.2.1'), 40000, 443, 0x10, new Uint8Array(1380));
    tcp.outbox.push({ src: parseIp('10.0.0.1'), dst: parseIp('192.0.2.1'), segment: seg });
    const [p] = a.poll(0);
    a.receive(icmpPacket(parseIp('10.0.0.254'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: 4, nextHopMtu: 1300, quote: p.subarray(0, 28) }), 7);
    assert.equal(tcp.errors.length, 1);
    const e = tcp.errors[0];
    assert.equal(e.kind, 'packet-too-big');
    assert.equal(e.mtu, 1300);
    assert.equal(e.srcPort, 40000);
    assert.equal(e.dstPort, 443);
    assert.equal(formatIp(e.src), '10.0.0.1');
    assert.equal(formatIp(e.dst), '192.0.2.1');
    assert.equal(formatIp(e.reporter), '10.0.0.254');
  });
});

describe('the TCP hook', () => {
  test('a segment with room before it becomes its IP packet where it lies (no copy); one without room, or needing fragments, is copied (#19)', () => {
    for (const [local, remote, header] of [['10.0.0.1', '192.0.2.1', 20], ['fd00::1', '2001:db8::1', 40]] as const) {
      const tcp = new RecordingTcp();
      const net = makeInterface(['10.0.0.1/24', 'fd00::1/64'], { tcp });
      const seg = tcpSegment(parseIp(local), parseIp(remote), 40000, 443, 0x18, new Uint8Array(1000).fill(9));
      const headroom = PACKET_HEADROOM + header;
      const roomy = new Uint8Array(headroom + seg.length + PACKET_TAILROOM);
      roomy.set(seg, headroom);
      const inPlace = roomy.subarray(headroom, headroom + seg.length);
      tcp.outbox.push({ src: parseIp(local), dst: parseIp(remote), segment: inPlace, headroom });
      tcp.outbox.push({ src: parseIp(local), dst: parseIp(remote), segment: seg.slice() });
      tcp.outbox.push({ src: parseIp(local), dst: parseIp(remote), segment: inPlace.slice(), headroom: headroom - 1 });
      const [built, copied, short] = net.poll(0);
      assert.ok(built!.buffer === roomy.buffer, `${local}: the packet is in the segment's buffer`);
      assert.equal(built!.byteOffset, headroom - header, `${local}: its header right before the segment`);
      assert.equal(toHex(built!.subarray(header)), toHex(seg), `${local}: the segment untouched`);
      assert.ok(copied!.buffer !== seg.buffer && short!.buffer !== roomy.buffer, `${local}: without the room, a copy`);
      const unnumbered = (p: Uint8Array): string => (header === 20 ? toHex(p.subarray(0, 4)) + toHex(p.subarray(6, 10)) + toHex(p.subarray(12)) : toHex(p));
      assert.equal(unnumbered(copied!), unnumbered(built!), `${local}: the same packet either way (but the IPv4 identification and checksum)`);
      // The copies come with the tunnel's room around them too.
      assert.ok(copied!.byteOffset >= PACKET_HEADROOM && copied!.buffer.byteLength - copied!.byteOffset - copied!.length >= PACKET_TAILROOM);
    }
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.0.0.1/24'], { tcp, mtu: 1280 });
    const seg = tcpSegment(parseIp('10.0.0.1'), parseIp('192.0.2.1'), 40000, 443, 0x18, new Uint8Array(1300));
    const roomy = new Uint8Array(36 + seg.length + 32);
    roomy.set(seg, 36);
    tcp.outbox.push({ src: parseIp('10.0.0.1'), dst: parseIp('192.0.2.1'), segment: roomy.subarray(36, 36 + seg.length), headroom: 36 });
    const frags = net.poll(0);
    assert.ok(frags.length === 2 && frags.every((f) => f.buffer !== roomy.buffer), 'a segment above the MTU is fragmented into packets of their own');
  });

  test('segments with a valid checksum reach the TCP layer with their addresses', () => {
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64'], { tcp });
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 6, tcpSegment(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1234, 80, 0x02)), 3);
    net.receive(ipPacket(parseIp('fd00::2'), parseIp('fd00::1'), 6, tcpSegment(parseIp('fd00::2'), parseIp('fd00::1'), 1234, 80, 0x02)), 4);
    assert.equal(tcp.received.length, 2);
    assert.equal(formatIp(tcp.received[0].src), '10.0.0.2');
    assert.equal(formatIp(tcp.received[1].dst), 'fd00::1');
    assert.equal(tcp.received[1].now, 4);
    assert.equal(tcp.received[0].segment.length, 20);
  });

  test('a corrupted segment, a short one, and a bad data offset never reach it', () => {
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.0.0.1/24'], { tcp });
    const seg = tcpSegment(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1234, 80, 0x18, new Uint8Array([1, 2, 3]));
    const bad = seg.slice();
    bad[21] ^= 4;
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 6, bad), 0);
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 6, seg.subarray(0, 19)), 0);
    const off = seg.slice();
    off[12] = 15 << 4;
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 6, off), 0);
    assert.equal(tcp.received.length, 0);
    assert.deepEqual(net.stats().drops, { 'tcp-bad-checksum': 1, 'tcp-truncated': 1, 'tcp-bad-header-length': 1 });
  });

  test('without a TCP layer, segments are dropped and counted', () => {
    const net = makeInterface(['10.0.0.1/24']);
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 6, tcpSegment(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 2, 2)), 0);
    assert.deepEqual(net.stats().drops, { 'tcp-no-handler': 1 });
  });

  test('outgoing segments are wrapped in IP with DF, TTL 64 and a fresh ID; foreign sources are refused', () => {
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64'], { tcp });
    const s4 = tcpSegment(parseIp('10.0.0.1'), parseIp('10.0.0.2'), 80, 1234, 0x12);
    const s6 = tcpSegment(parseIp('fd00::1'), parseIp('fd00::2'), 80, 1234, 0x12);
    tcp.outbox.push({ src: parseIp('10.0.0.1'), dst: parseIp('10.0.0.2'), segment: s4 });
    tcp.outbox.push({ src: parseIp('10.0.0.1'), dst: parseIp('10.0.0.2'), segment: s4 });
    tcp.outbox.push({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), segment: s6 });
    tcp.outbox.push({ src: parseIp('10.0.0.9'), dst: parseIp('10.0.0.2'), segment: s4 });
    const raw = net.poll(0);
    const out = raw.map(readSent);
    assert.equal(out.length, 3);
    assert.deepEqual(out[0].upper, s4);
    assert.equal(out[0].dontFragment, true);
    assert.equal(out[0].ttl, 64);
    assert.notEqual(Ipv4Packet.view(raw[0])!.identification, Ipv4Packet.view(raw[1])!.identification);
    assert.equal(out[2].version, 6);
    assert.equal(out[2].ttl, 64);
    assert.deepEqual(out[2].upper, s6);
    assert.deepEqual(net.stats().drops, { 'tcp-tx-bad-source': 1 });
  });

  test('pollAt follows the TCP layer, the reassembly timer and queued packets', () => {
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.0.0.1/24'], { tcp });
    assert.equal(net.pollAt(), Infinity);
    tcp.wakeAt = 5000;
    assert.equal(net.pollAt(), 5000);
    const frag = ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 17, new Uint8Array(16), { moreFragments: true, dontFragment: false });
    net.receive(frag, 100);
    assert.equal(net.pollAt(), 5000);
    tcp.wakeAt = Infinity;
    assert.equal(net.pollAt(), 30_100);
    net.receive(echoRequest(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 1, new Uint8Array(0)), 200);
    assert.equal(net.pollAt(), 200, 'a queued reply is due at once');
    net.poll(200);
    assert.equal(net.pollAt(), 30_100);
  });
});

describe('reassembly inside the interface', () => {
  test('the real kernel 3000-byte UDP datagram arrives whole, in order and out of order (IPv4)', () => {
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
      const net = makeInterface(['10.77.0.2/24']);
      const s = net.udpBind(5353);
      const frags = kernelPackets('udp-ipv4-fragments');
      for (const i of order) net.receive(frags[i], 0);
      const d = s.recv()!;
      assert.equal(d.data.length, 3000, order.join());
      assert.ok(d.data.every((b, i) => b === (i & 0xff)));
      assert.equal(d.port, 40000);
    }
  });

  test('the real kernel 3000-byte UDP packet arrives whole (IPv6)', () => {
    const net = makeInterface(['fd77::2/64']);
    const s = net.udpBind(5353);
    for (const f of kernelPackets('udp-ipv6-fragments').reverse()) net.receive(f, 0);
    const d = s.recv()!;
    assert.equal(d.data.length, 3000);
    assert.ok(d.data.every((b, i) => b === (i & 0xff)));
  });

  test('an overlapping fragment discards the datagram (RFC 5722)', () => {
    const net = makeInterface(['10.77.0.2/24']);
    const s = net.udpBind(5353);
    const [f0, f1, f2] = kernelPackets('udp-ipv4-fragments');
    const overlap = ipPacket(K4, P4, 17, Ipv4Packet.view(f1)!.payload.subarray(0, 16), {
      identification: Ipv4Packet.view(f1)!.identification, dontFragment: false, moreFragments: true, fragmentOffset: 1392,
    });
    net.receive(f0, 0);
    net.receive(overlap, 0);
    net.receive(f1, 0);
    net.receive(f2, 0);
    assert.equal(s.recv(), undefined);
    assert.deepEqual(net.stats().drops, { 'ipv4-fragment-overlap': 1, 'ipv4-fragment-of-discarded': 2 });
  });

  test('a lone first fragment times out into ICMP time exceeded, exactly as Linux sends it (IPv4)', () => {
    const kernel = kernelPacket('icmpv4-reassembly-time-exceeded');
    const fragment = Ipv4Packet.view(kernel)!.payload.subarray(8); // the quoted first fragment
    const net = makeInterface(['10.77.0.1/24']);
    net.receive(fragment, 1000);
    assert.equal(net.pollAt(), 31_000);
    assert.deepEqual(net.poll(30_999), []);
    const out = net.poll(31_000);
    assert.equal(out.length, 1);
    sameIpv4ButId(out[0], kernel);
    assert.equal(net.stats().drops['ipv4-reassembly-timeout'], 1);
  });

  test('a lone first fragment times out into ICMPv6 time exceeded, exactly as Linux sends it', () => {
    const kernel = kernelPacket('icmpv6-reassembly-time-exceeded');
    const fragment = Ipv6Packet.view(kernel)!.payload.subarray(8);
    const net = makeInterface(['fd77::1/64']);
    net.receive(fragment, 0);
    sameIpv6ButFlowLabel(net.poll(30_000)[0], kernel);
  });

  test('a timed-out datagram without its first fragment expires silently', () => {
    const net = makeInterface(['10.77.0.2/24']);
    net.receive(kernelPackets('udp-ipv4-fragments')[2], 0);
    assert.deepEqual(net.poll(30_000), []);
    assert.equal(net.stats().drops['ipv4-reassembly-timeout'], 1);
  });

  test('an IPv6 atomic fragment (offset 0, M = 0) is processed at once (RFC 6946)', () => {
    const net = makeInterface(['fd00::1/64']);
    const s = net.udpBind(7);
    const udp = udpPacket(parseIp('fd00::2'), parseIp('fd00::1'), 1, 7, new Uint8Array([5])).subarray(40);
    net.receive(ipPacket(parseIp('fd00::2'), parseIp('fd00::1'), 44, new Uint8Array([17, 0, 0, 0, 0, 0, 0, 9, ...udp])), 0);
    assert.deepEqual([...s.recv()!.data], [5]);
  });

  test('too many concurrent reassemblies evict the oldest', () => {
    const net = makeInterface(['10.0.0.1/24'], { reassembly: { maxReassemblies: 2 } });
    for (let id = 0; id < 3; id++) {
      net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 17, new Uint8Array(8), { identification: id, moreFragments: true, dontFragment: false }), 0);
    }
    assert.equal(net.stats().drops['ipv4-reassembly-evicted'], 1);
  });
});

describe('other protocols and malformed packets', () => {
  test('an unknown protocol gets ICMP protocol unreachable (v4) or parameter problem pointing at Next Header (v6)', () => {
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    net.receive(ipPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 253, new Uint8Array(4)), 0);
    net.receive(ipPacket(parseIp('fd00::2'), parseIp('fd00::1'), 253, new Uint8Array(4)), 0);
    const [v4, v6] = net.poll(0).map(readSent);
    const m4 = Icmpv4Repr.parse(Icmpv4Packet.view(v4.upper)!);
    assert.ok(m4.ok && m4.value.kind === 'destination-unreachable');
    assert.equal(m4.value.code, 2);
    const m6 = Icmpv6Repr.parse(Icmpv6Packet.view(v6.upper)!, v6.src, v6.dst);
    assert.ok(m6.ok && m6.value.kind === 'parameter-problem');
    assert.equal(m6.value.code, 1);
    assert.equal(m6.value.pointer, 6);
    assert.deepEqual(net.stats().drops, { 'ipv4-unknown-protocol': 1, 'ipv6-unknown-next-header': 1 });
  });

  test('Neighbor Discovery and router solicitations are dropped as unhandled ICMPv6', () => {
    const net = makeInterface(['fd00::1/64']);
    net.receive(icmpPacket(parseIp('fd00::2'), parseIp('fd00::1'), { kind: 'other', type: 135, code: 0, word: 0, data: new Uint8Array(16) }), 0);
    assert.deepEqual(net.stats().drops, { 'icmpv6-unhandled-type': 1 });
  });

  test('broken IP packets are dropped by reason and never answered', () => {
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64']);
    const good = echoRequest(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, 1, new Uint8Array(8));
    const badSum = good.slice();
    badSum[8] = 1; // TTL changed without fixing the checksum
    net.receive(badSum, 0);
    net.receive(good.subarray(0, 30), 0);
    net.receive(new Uint8Array(0), 0);
    net.receive(new Uint8Array([0x50, 0, 0, 0]), 0);
    const icmpBad = good.slice();
    icmpBad[30] ^= 1;
    net.receive(icmpBad, 0);
    net.receive(kernelPacket('icmpv6-echo-request').subarray(0, 50), 0);
    assert.deepEqual(net.poll(0), []);
    assert.deepEqual(net.stats().drops, {
      'ipv4-bad-checksum': 1,
      'ipv4-truncated': 1,
      'ip-empty': 1,
      'ip-bad-version': 1,
      'icmp-bad-checksum': 1,
      'ipv6-truncated': 1,
    });
    assert.equal(net.stats().received, 6);
  });

  test('a maximal reassembled ICMPv6 echo request whose reply cannot be fragmented is dropped, not thrown', () => {
    const a = makeInterface(['fd00::1/64'], {}, 1);
    const b = makeInterface(['fd00::2/64'], {}, 2);
    // 65527 bytes of ICMPv6 is the most a fragmented packet can carry (65535 minus the Fragment
    // header): its reply still fits. A 65535-byte message reassembles, but no reply can carry it.
    const request = new Uint8Array(65535 - 8);
    Icmpv6Repr.emit({ kind: 'echo-request', identifier: 1, sequence: 1, data: request.subarray(8) }, request, parseIp('fd00::1'), parseIp('fd00::2'));
    const frags = fragmentIpv6({ src: parseIp('fd00::1'), dst: parseIp('fd00::2'), nextHeader: 58, payloadLength: 0 }, 58, request, 1420, 7);
    for (const f of frags) b.receive(f, 0);
    assert.equal(b.stats().reassembled, 1);
    const replies = b.poll(0);
    assert.ok(replies.length > 0, 'the reply fits once fragmented');
    for (const p of replies) a.receive(p, 0);
    assert.equal(a.stats().reassembled, 1);
    const big = new Uint8Array(65535);
    Icmpv6Repr.emit({ kind: 'echo-request', identifier: 1, sequence: 2, data: big.subarray(8) }, big, parseIp('fd00::1'), parseIp('fd00::2'));
    // Hand-built fragments carrying 65535 bytes of ICMPv6 (more than fragmentIpv6 allows a sender).
    for (let off = 0; off < big.length; off += 1368) {
      const chunk = big.subarray(off, Math.min(off + 1368, big.length));
      const more = off + chunk.length < big.length;
      const f = ipPacket(parseIp('fd00::1'), parseIp('fd00::2'), 44, new Uint8Array([58, 0, off >> 8, (off & 0xf8) | (more ? 1 : 0), 0, 0, 0, 9, ...chunk]));
      b.receive(f, 1);
    }
    assert.equal(b.stats().reassembled, 2);
    assert.deepEqual(b.poll(1), []);
    assert.equal(b.stats().drops['tx-too-big'], 1);
  });

  test('receive() takes bytes; anything else is a caller bug', () => {
    assert.throws(() => makeInterface(['10.0.0.1/24']).receive('x' as never, 0), TypeError);
  });

  test('the transmit queue is bounded: a ping flood cannot grow memory', () => {
    const net = makeInterface(['10.0.0.1/24'], { maxQueuedPackets: 4 });
    for (let i = 0; i < 10; i++) net.receive(echoRequest(parseIp('10.0.0.2'), parseIp('10.0.0.1'), 1, i, new Uint8Array(0)), 0);
    assert.equal(net.poll(0).length, 4);
    assert.equal(net.stats().drops['tx-queue-full'], 6);
  });
});

describe('garbage never throws (seeded fuzz)', () => {
  const corpus = [
    'icmpv4-echo-request', 'icmpv6-echo-request', 'icmpv4-echo-reply', 'icmpv6-echo-reply', 'udp-ipv4', 'udp-ipv6',
    'icmpv4-port-unreachable', 'icmpv6-port-unreachable', 'icmpv4-reassembly-time-exceeded', 'icmpv6-reassembly-time-exceeded',
  ].map(kernelPacket).concat(kernelPackets('udp-ipv4-fragments'), kernelPackets('udp-ipv6-fragments'), [
    // Synthetic packets that reach TCP and the ICMP-error routing for our own sockets.
    ipPacket(P4, K4, 6, tcpSegment(P4, K4, 1234, 80, 0x18, new Uint8Array(20))),
    ipPacket(P6, K6, 6, tcpSegment(P6, K6, 1234, 80, 0x18, new Uint8Array(20))),
    icmpPacket(P4, K4, { kind: 'destination-unreachable', code: 4, nextHopMtu: 1000, quote: udpPacket(K4, P4, 9, 53, new Uint8Array(4)) }),
    icmpPacket(P4, K4, { kind: 'destination-unreachable', code: 3, nextHopMtu: 0, quote: ipPacket(K4, P4, 6, tcpSegment(K4, P4, 80, 1234, 0x10)) }),
    icmpPacket(P6, K6, { kind: 'packet-too-big', mtu: 1300, quote: ipPacket(K6, P6, 6, tcpSegment(K6, P6, 80, 1234, 0x10)) }),
    icmpPacket(P4, K4, { kind: 'time-exceeded', code: 0, quote: echoRequest(K4, P4, 0x4242, 1, new Uint8Array(8)) }),
    icmpPacket(P6, K6, { kind: 'time-exceeded', code: 0, quote: echoRequest(K6, P6, 0x4242, 1, new Uint8Array(8)) }),
  ]);

  /** Re-addresses a packet to the interface and repairs its IPv4 header checksum, so mutations reach deep layers. */
  function aimAtUs(p: Uint8Array): void {
    if (p.length >= 20 && p[0] >> 4 === 4) {
      p.set(P4, 12);
      p.set(K4, 16);
      p[10] = 0;
      p[11] = 0;
      let s = 0;
      const ihl = Math.min((p[0] & 15) * 4, p.length);
      for (let i = 0; i + 1 < ihl; i += 2) s += (p[i] << 8) | p[i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      p[10] = (~s >> 8) & 0xff;
      p[11] = ~s & 0xff;
    } else if (p.length >= 40 && p[0] >> 4 === 6) {
      p.set(P6, 8);
      p.set(K6, 24);
    }
  }

  /** Repairs the upper-layer checksum of an unfragmented UDP/ICMP/ICMPv6/TCP packet. */
  function repairUpper(p: Uint8Array): void {
    const v = p[0] >> 4;
    const hdr = v === 4 ? (p[0] & 15) * 4 : 40;
    if (p.length < hdr + 8) return;
    const proto = v === 4 ? p[9] : p[6];
    const upper = p.subarray(hdr);
    const at = proto === 17 ? 6 : proto === 6 ? 16 : proto === 1 || proto === 58 ? 2 : -1;
    if (at < 0 || upper.length < at + 2) return;
    upper[at] = 0;
    upper[at + 1] = 0;
    let sum = 0;
    for (let i = 0; i + 1 < upper.length; i += 2) sum += (upper[i] << 8) | upper[i + 1];
    if (upper.length & 1) sum += upper[upper.length - 1] << 8;
    if (proto !== 1) {
      const addrLen = v === 4 ? 4 : 16;
      const src = p.subarray(v === 4 ? 12 : 8, (v === 4 ? 12 : 8) + addrLen);
      const dst = p.subarray(v === 4 ? 16 : 24, (v === 4 ? 16 : 24) + addrLen);
      for (let i = 0; i < addrLen; i += 2) sum += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
      sum += proto + upper.length;
    }
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    upper[at] = c >> 8;
    upper[at + 1] = c & 0xff;
  }

  test('20000 mutated, truncated, extended and random packets: no exception, every one counted', () => {
    const rng = seededRandom(0x5eed);
    const rand = (n: number) => Math.floor(rng.next() * n);
    const tcp = new RecordingTcp();
    const net = makeInterface(['10.77.0.1/24', 'fd77::1/64'], { tcp }, 7);
    const udp = net.udpBind(9);
    net.icmpEcho({ identifier: 0x4242 });
    let now = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) {
      let p: Uint8Array;
      const kind = rand(6);
      if (kind === 0) {
        p = rng.bytes(rand(120));
        if (p.length && rng.next() < 0.7) p[0] = (rng.next() < 0.5 ? 0x45 : 0x60) | (p[0] & 0x0f);
      } else {
        const base = corpus[rand(corpus.length)];
        p = base.slice();
        const flips = 1 + rand(6);
        for (let f = 0; f < flips; f++) p[rand(p.length)] ^= 1 << rand(8);
        if (kind === 2) p = p.subarray(0, rand(p.length + 1));
        if (kind === 3) {
          const q = new Uint8Array(p.length + rand(64));
          q.set(p);
          q.set(rng.bytes(q.length - p.length), p.length);
          p = q;
        }
        if (kind >= 4) aimAtUs(p);
        if (kind === 5) repairUpper(p);
      }
      now += rand(3000);
      net.receive(p, now);
      if (rand(8) === 0) net.poll(now);
    }
    net.poll(now + 60_000);
    for (; udp.recv(); );
    const st = net.stats();
    assert.equal(st.received, N);
    const dropped = Object.values(st.drops).reduce((a, b) => a + b, 0);
    assert.ok(dropped > N / 2, `most garbage is dropped (${dropped})`);
    // The mutations reach every layer, not just the IP header checks.
    assert.ok(st.echoRepliesSent > 0 && st.reassembled > 0 && st.icmpErrorsSent > 0);
    assert.ok(tcp.received.length > 0 && tcp.errors.length > 0);
  });

  test('every prefix of every fixture is handled without an exception', () => {
    const net = makeInterface(['10.77.0.1/24', 'fd77::1/64', '10.77.0.2/24', 'fd77::2/64'], { tcp: new RecordingTcp() });
    for (const p of corpus) for (let n = 0; n <= p.length; n++) net.receive(p.slice(0, n), 0);
    net.poll(100_000);
  });

  test('ICMP errors quoting random bytes never throw', () => {
    const rng = seededRandom(99);
    const net = makeInterface(['10.0.0.1/24', 'fd00::1/64'], { tcp: new RecordingTcp() });
    net.udpBind(4000);
    net.icmpEcho({ identifier: 0x0101 });
    for (let i = 0; i < 3000; i++) {
      const quote = rng.bytes(Math.floor(rng.next() * 100));
      if (quote.length) quote[0] = i % 2 ? 0x45 : 0x60;
      if (quote.length > 20 && i % 2) quote.set(parseIp('10.0.0.1'), 12);
      if (quote.length > 24 && !(i % 2)) quote.set(parseIp('fd00::1'), 8);
      if (i % 2) net.receive(icmpPacket(parseIp('10.0.0.2'), parseIp('10.0.0.1'), { kind: 'destination-unreachable', code: i % 16, nextHopMtu: i, quote }), i);
      else net.receive(icmpPacket(parseIp('fd00::2'), parseIp('fd00::1'), { kind: i % 4 ? 'packet-too-big' : 'time-exceeded', mtu: i, code: 0, quote } as never), i);
    }
    assert.deepEqual(net.poll(3000), []);
  });
});

describe('UDP sends are checksummed both ways', () => {
  test('a datagram we send verifies with the pseudo-header of the addresses it carries', () => {
    for (const addr of ['10.0.0.1/24', 'fd00::1/64']) {
      const net = makeInterface([addr]);
      const dst = addr.includes(':') ? parseIp('fd00::2') : parseIp('10.0.0.2');
      net.udpBind(5000).send(dst, 53, new Uint8Array([1, 2, 3, 4, 5]));
      const s = readSent(net.poll(0)[0]);
      assert.equal(s.protocol, 17);
      const r = UdpRepr.parse(UdpPacket.view(s.upper)!, s.src, s.dst);
      assert.ok(r.ok);
      assert.equal(r.value.srcPort, 5000);
    }
  });
});
