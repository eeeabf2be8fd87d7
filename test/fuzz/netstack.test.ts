/**
 * Fuzz: the netstack's wire views (IPv4, IPv6 and its extension chain, UDP, TCP, ICMPv4, ICMPv6,
 * ICMP quotes) and NetInterface.receive with a real TCP socket table behind it: every inner packet
 * a peer sends arrives there. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { parseIp } from '../../src/shared/ip-address.ts';
import { NetInterface } from '../../src/netstack/net-interface.ts';
import { TcpSocketTable } from '../../src/netstack/socket/tcp-socket-table.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/netstack/wire/checksum.ts';
import { parseIcmpQuote } from '../../src/netstack/wire/icmp-quote.ts';
import { Icmpv4Packet, Icmpv4Repr } from '../../src/netstack/wire/icmpv4.ts';
import { Icmpv6Packet, Icmpv6Repr } from '../../src/netstack/wire/icmpv6.ts';
import { Ipv4Packet, Ipv4Repr } from '../../src/netstack/wire/ipv4.ts';
import { walkIpv6Extensions } from '../../src/netstack/wire/ipv6-extension-headers.ts';
import { Ipv6Packet } from '../../src/netstack/wire/ipv6.ts';
import { emitTcp, parseTcp } from '../../src/netstack/wire/tcp.ts';
import { UdpPacket, UdpRepr } from '../../src/netstack/wire/udp.ts';
import { fuzzTest, property, sameBytes, type Rng } from '../helpers/fuzz.ts';
import { echoRequest, icmpPacket, ipPacket, seededRandom, tcpSegment, udpPacket } from '../netstack/net-test-kit.ts';
import { kernelPacket, kernelPackets } from '../vectors/netstack/kernel-packets.ts';

const US4 = parseIp('10.77.0.1');
const US6 = parseIp('fd77::1');
const PEER4 = parseIp('10.77.0.2');
const PEER6 = parseIp('fd77::2');

/** Real packets from the Linux kernel plus synthetic ones that reach TCP and ICMP error handling. */
const corpus: Uint8Array[] = [
  ...['icmpv4-echo-request', 'icmpv6-echo-request', 'icmpv4-echo-reply', 'icmpv6-echo-reply', 'udp-ipv4', 'udp-ipv6', 'icmpv4-port-unreachable', 'icmpv6-port-unreachable'].map(kernelPacket),
  ...kernelPackets('udp-ipv4-fragments'),
  ...kernelPackets('udp-ipv6-fragments'),
  ipPacket(PEER4, US4, 6, tcpSegment(PEER4, US4, 40000, 80, 0x02)),
  ipPacket(PEER6, US6, 6, tcpSegment(PEER6, US6, 40000, 80, 0x02)),
  ipPacket(PEER4, US4, 6, tcpSegment(PEER4, US4, 40000, 80, 0x18, new Uint8Array(100).fill(0x61))),
  udpPacket(PEER4, US4, 5353, 9, new Uint8Array(12)),
  udpPacket(PEER6, US6, 5353, 9, new Uint8Array(12)),
  echoRequest(PEER6, US6, 0x4242, 7, new Uint8Array(16)),
  icmpPacket(PEER4, US4, { kind: 'destination-unreachable', code: 4, nextHopMtu: 1000, quote: udpPacket(US4, PEER4, 9, 53, new Uint8Array(4)) }),
  icmpPacket(PEER6, US6, { kind: 'packet-too-big', mtu: 1300, quote: ipPacket(US6, PEER6, 6, tcpSegment(US6, PEER6, 80, 40000, 0x10)) }),
  icmpPacket(PEER4, US4, { kind: 'time-exceeded', code: 0, quote: echoRequest(US4, PEER4, 0x4242, 1, new Uint8Array(8)) }),
];

/** Payload offset, protocol and addresses of an IPv4/IPv6 packet without extension headers. */
function layout(p: Uint8Array): { hdr: number; proto: number; src: Uint8Array; dst: Uint8Array } | undefined {
  if (p.length >= 20 && p[0] >> 4 === 4) return { hdr: Math.max(20, (p[0] & 15) * 4), proto: p[9], src: p.subarray(12, 16), dst: p.subarray(16, 20) };
  if (p.length >= 40 && p[0] >> 4 === 6) return { hdr: 40, proto: p[6], src: p.subarray(8, 24), dst: p.subarray(24, 40) };
  return undefined;
}

/**
 * Points a mutated packet at the interface and repairs its checksums most of the time, so
 * mutations get past the checksum checks and reach the deeper layers.
 */
function aimAndRepair(input: Uint8Array, rng: Rng): Uint8Array {
  const p = input.slice();
  const l = layout(p);
  if (!l || rng.chance(0.2)) return p;
  if (rng.chance(0.8)) {
    l.src.set(l.src.length === 4 ? PEER4 : PEER6);
    l.dst.set(l.dst.length === 4 ? US4 : US6);
  }
  if (l.src.length === 4 && l.hdr <= p.length) {
    p[10] = p[11] = 0;
    const c = finishChecksum(sumBytes(p, 0, l.hdr));
    p[10] = c >> 8;
    p[11] = c & 0xff;
  }
  const upper = p.subarray(Math.min(l.hdr, p.length));
  const at = l.proto === 17 ? 6 : l.proto === 6 ? 16 : l.proto === 1 || l.proto === 58 ? 2 : -1;
  if (at < 0 || upper.length < at + 2) return p;
  upper[at] = upper[at + 1] = 0;
  const pseudo = l.proto === 1 ? 0 : pseudoHeaderSum(l.src, l.dst, l.proto, upper.length);
  const c = finishChecksum(sumBytes(upper, 0, upper.length, pseudo));
  upper[at] = c >> 8;
  upper[at + 1] = c & 0xff;
  return p;
}

/** Every wire parser the interface uses, on one packet; TCP headers round-trip through emit. */
function parseEveryLayer(p: Uint8Array): void {
  const v4 = Ipv4Packet.view(p);
  let upper: Uint8Array | undefined;
  let proto = -1;
  let src = US4;
  let dst = US4;
  if (v4) {
    const r = Ipv4Repr.parse(v4);
    Ipv4Repr.parse(v4, { verifyChecksum: false });
    if (r.ok) {
      upper = p.subarray(v4.headerLength, v4.headerLength + r.value.payloadLength);
      proto = r.value.protocol;
      src = r.value.src;
      dst = r.value.dst;
    }
  }
  const v6 = Ipv6Packet.view(p);
  if (v6) {
    const chain = walkIpv6Extensions(p, 40, p[6], 6, true, 40 + ((p[4] << 8) | p[5]));
    if (chain.ok) {
      upper = p.subarray(chain.value.offset, 40 + ((p[4] << 8) | p[5]));
      proto = chain.value.protocol;
      src = p.subarray(8, 24);
      dst = p.subarray(24, 40);
    }
  }
  if (!upper) return;
  if (proto === 17) {
    const u = UdpPacket.view(upper);
    if (u) UdpRepr.parse(u, src, dst);
  } else if (proto === 6) {
    const t = parseTcp(upper);
    if (typeof t !== 'string') {
      const again = parseTcp(emitTcp(t));
      property(typeof again !== 'string', 'an emitted TCP header parses');
      property(again.seq === t.seq && again.ack === t.ack && again.flags === t.flags && again.window === t.window && again.srcPort === t.srcPort, 'TCP header fields round-trip');
      property(again.mss === t.mss && again.windowScale === t.windowScale && sameBytes(again.payload, t.payload), 'TCP options and payload round-trip');
    }
  } else if (proto === 1) {
    const i = Icmpv4Packet.view(upper);
    const r = i && Icmpv4Repr.parse(i);
    if (r?.ok && 'quote' in r.value) parseIcmpQuote(r.value.quote, 4);
  } else if (proto === 58) {
    const i = Icmpv6Packet.view(upper);
    const r = i && Icmpv6Repr.parse(i, src, dst);
    if (r?.ok && 'quote' in r.value) parseIcmpQuote(r.value.quote, 6);
  }
}

describe('fuzz: netstack', () => {
  fuzzTest('wire views: no parser throws, TCP headers round-trip through emit', 'netstack-wire', {
    corpus,
    maxLength: 1600,
    check(input, rng) {
      parseEveryLayer(input);
      parseEveryLayer(aimAndRepair(input, rng));
    },
  });

  // One interface for the whole run, like a real tunnel: state (reassembly, sockets, PMTU) builds up.
  const tcp = new TcpSocketTable({ randomBytes: seededRandom(3).bytes, mtu: 1420 });
  const net = new NetInterface({ addresses: ['10.77.0.1/24', 'fd77::1/64'].map((a) => ({ address: parseIp(a.split('/')[0]), prefixLength: Number(a.split('/')[1]) })), randomBytes: seededRandom(4).bytes, tcp });
  tcp.listen({ port: 80 });
  net.udpBind(9);
  net.icmpEcho({ identifier: 0x4242 });
  let now = 0;
  fuzzTest('NetInterface.receive: never throws, every packet is counted, poll keeps working', 'net-interface-receive', {
    corpus,
    maxLength: 1600,
    maxInputs: 30_000,
    check(input, rng) {
      now += rng.chance(0.1) ? rng.below(120_000) : rng.below(50);
      const before = net.stats().received;
      net.receive(aimAndRepair(input, rng), now);
      property(net.stats().received === before + 1, 'every packet is counted as received');
      for (const out of net.poll(now)) property(out.length <= net.mtu, 'nothing larger than the MTU is sent');
      property(net.stats().drops['tcp-tx-bad-source'] === undefined, 'the stack never emits from a foreign source');
    },
  });
});
