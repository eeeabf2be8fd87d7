/**
 * Shared helpers for the netstack tests: deterministic randomness, packet builders on top of the
 * wire emitters, a parser for what an interface sends, an in-memory link between two interfaces,
 * and a recording TCP layer.
 */
import { type IpAddress, parsePrefix } from '../../src/shared/ip-address.ts';
import { NetInterface, type IcmpErrorReport, type NetInterfaceOptions, type OutgoingSegment, type TransportLayer } from '../../src/netstack/net-interface.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from '../../src/netstack/wire/checksum.ts';
import { Icmpv4Repr } from '../../src/netstack/wire/icmpv4.ts';
import { Icmpv6Repr } from '../../src/netstack/wire/icmpv6.ts';
import { IpProtocol } from '../../src/netstack/wire/ip-protocol.ts';
import { Ipv4Packet, Ipv4Repr, type Ipv4EmitInput } from '../../src/netstack/wire/ipv4.ts';
import { walkIpv6Extensions } from '../../src/netstack/wire/ipv6-extension-headers.ts';
import { Ipv6Packet, Ipv6Repr } from '../../src/netstack/wire/ipv6.ts';
import { UdpRepr } from '../../src/netstack/wire/udp.ts';
import type { RandomBytes } from '../../src/shared/bytes.ts';

/** mulberry32: a tiny seeded PRNG, so fuzz runs and "random" ports are reproducible. */
export function seededRandom(seed: number): { next: () => number; bytes: RandomBytes } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bytes: RandomBytes = (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
  return { next, bytes };
}

/** An interface with the given `Address =` entries and seeded randomness. */
export function makeInterface<T extends TransportLayer = TransportLayer>(
  addresses: string[],
  options: Partial<NetInterfaceOptions<T>> = {},
  seed = 1,
): NetInterface<T> {
  return new NetInterface<T>({ addresses: addresses.map(parsePrefix), randomBytes: seededRandom(seed).bytes, ...options });
}

/** A whole IPv4 or IPv6 packet (picked by the address length) around `upper`. */
export function ipPacket(src: IpAddress, dst: IpAddress, protocol: number, upper: Uint8Array, v4extra: Partial<Ipv4EmitInput> = {}): Uint8Array {
  if (src.length === 4) {
    const b = new Uint8Array(20 + upper.length);
    Ipv4Repr.emit({ src, dst, protocol, payloadLength: upper.length, identification: 0x1234, ...v4extra }, b);
    b.set(upper, 20);
    return b;
  }
  const b = new Uint8Array(40 + upper.length);
  Ipv6Repr.emit({ src, dst, nextHeader: protocol, payloadLength: upper.length }, b);
  b.set(upper, 40);
  return b;
}

/** A UDP datagram in an IP packet, checksummed. */
export function udpPacket(src: IpAddress, dst: IpAddress, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  UdpRepr.emit({ srcPort, dstPort, payload: data }, u, src, dst);
  return ipPacket(src, dst, IpProtocol.Udp, u);
}

/** An ICMP or ICMPv6 message (picked by the address length) in an IP packet. */
export function icmpPacket(src: IpAddress, dst: IpAddress, message: Icmpv4Repr | Icmpv6Repr): Uint8Array {
  if (src.length === 4) {
    const m = message as Icmpv4Repr;
    const u = new Uint8Array(Icmpv4Repr.bufferLength(m));
    Icmpv4Repr.emit(m, u);
    return ipPacket(src, dst, IpProtocol.Icmp, u);
  }
  const m = message as Icmpv6Repr;
  const u = new Uint8Array(Icmpv6Repr.bufferLength(m));
  Icmpv6Repr.emit(m, u, src, dst);
  return ipPacket(src, dst, IpProtocol.Icmpv6, u);
}

/** An echo request in an IP packet. */
export function echoRequest(src: IpAddress, dst: IpAddress, identifier: number, sequence: number, data: Uint8Array): Uint8Array {
  return icmpPacket(src, dst, { kind: 'echo-request', identifier, sequence, data });
}

/** A TCP segment with a valid checksum: 20-byte header, given flags, then `data`. */
export function tcpSegment(src: IpAddress, dst: IpAddress, srcPort: number, dstPort: number, flags: number, data = new Uint8Array(0)): Uint8Array {
  const s = new Uint8Array(20 + data.length);
  s[0] = srcPort >> 8;
  s[1] = srcPort & 0xff;
  s[2] = dstPort >> 8;
  s[3] = dstPort & 0xff;
  s[7] = 1; // seq 1
  s[12] = 5 << 4;
  s[13] = flags;
  s[14] = 0xff;
  s[15] = 0xff;
  s.set(data, 20);
  const c = finishChecksum(sumBytes(s, 0, s.length, pseudoHeaderSum(src, dst, IpProtocol.Tcp, s.length)));
  s[16] = c >> 8;
  s[17] = c & 0xff;
  return s;
}

/** What an interface sent, read back: header fields and the upper-layer bytes (fragment data for fragments). */
export interface Sent {
  version: 4 | 6;
  src: IpAddress;
  dst: IpAddress;
  protocol: number;
  ttl: number;
  upper: Uint8Array;
  dontFragment?: boolean;
  fragment?: { offset: number; more: boolean; id: number };
}

/** Parses an outgoing packet, asserting it is well-formed (header checksum included). */
export function readSent(packet: Uint8Array): Sent {
  if (packet[0] >> 4 === 4) {
    const p = Ipv4Packet.view(packet);
    if (!p || !p.verifyChecksum() || p.totalLength !== packet.length) throw new Error('malformed IPv4 packet sent');
    return {
      version: 4,
      src: p.src,
      dst: p.dst,
      protocol: p.protocol,
      ttl: p.ttl,
      upper: p.payload,
      dontFragment: p.dontFragment,
      fragment: p.isFragment ? { offset: p.fragmentOffset, more: p.moreFragments, id: p.identification } : undefined,
    };
  }
  const p = Ipv6Packet.view(packet);
  if (!p || 40 + p.payloadLength !== packet.length) throw new Error('malformed IPv6 packet sent');
  const c = walkIpv6Extensions(packet, 40, p.nextHeader, 6, true);
  if (!c.ok) throw new Error(`bad extension chain sent: ${c.reason}`);
  const f = c.value.fragment;
  return {
    version: 6,
    src: p.src,
    dst: p.dst,
    protocol: c.value.protocol,
    ttl: p.hopLimit,
    upper: packet.subarray(c.value.offset),
    fragment: f ? { offset: f.fragmentOffset, more: f.moreFragments, id: f.identification } : undefined,
  };
}

/** Moves packets both ways between two interfaces until both are quiet; returns how many moved. */
export function link(a: NetInterface, b: NetInterface, now: number, tap?: (from: 'a' | 'b', p: Uint8Array) => void): number {
  let moved = 0;
  for (let round = 0; round < 100; round++) {
    const fromA = a.poll(now);
    const fromB = b.poll(now);
    if (fromA.length === 0 && fromB.length === 0) return moved;
    for (const p of fromA) {
      tap?.('a', p);
      b.receive(p, now);
    }
    for (const p of fromB) {
      tap?.('b', p);
      a.receive(p, now);
    }
    moved += fromA.length + fromB.length;
  }
  throw new Error('link never went quiet');
}

/** A TCP layer that records what NetInterface hands it and sends what a test queues. */
export class RecordingTcp implements TransportLayer {
  readonly received: { segment: Uint8Array; src: IpAddress; dst: IpAddress; now: number }[] = [];
  readonly errors: IcmpErrorReport[] = [];
  outbox: OutgoingSegment[] = [];
  wakeAt = Infinity;

  receive(segment: Uint8Array, src: IpAddress, dst: IpAddress, now: number): void {
    this.received.push({ segment, src, dst, now });
  }
  poll(): OutgoingSegment[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }
  pollAt(): number {
    return this.wakeAt;
  }
  handleIcmpError(error: IcmpErrorReport): void {
    this.errors.push(error);
  }
}
