/**
 * The tunnel's IP endpoint: the lower half of wgweb's userspace TCP/IP stack, sans-IO. Inner IP
 * packets from the WireGuard tunnel come in through `receive`; packets to send come out of `poll`;
 * `pollAt` says when `poll` has timed work (reassembly timeouts, TCP timers).
 *
 *   receive(packet, now)
 *     ├─ IPv4: check lengths, header checksum ─┐
 *     └─ IPv6: check lengths, extension chain ─┴─ to us? ─ fragment? ─▶ FragmentReassembler
 *                                                     │
 *        ┌────────────────────────────────────────────┘ (whole datagram)
 *        ├─ ICMP/ICMPv6: echo request ─▶ echo reply (queued)
 *        │               echo reply ───▶ IcmpEchoSocket (by identifier)
 *        │               error ────────▶ quoted packet ─▶ UdpSocket │ IcmpEchoSocket │ tcp.handleIcmpError
 *        │                                               + path MTU cache
 *        ├─ UDP: checksum ─▶ UdpSocket (by port) │ ICMP port unreachable (rate limited)
 *        ├─ TCP: checksum ─▶ tcp.receive (the TCP layer answers closed ports with RST)
 *        └─ else: ICMP protocol unreachable / ICMPv6 parameter problem (rate limited)
 *
 *   poll(now): reassembly timeouts ─▶ ICMP time exceeded; queued packets; tcp.poll ─▶ IP headers
 *
 * Sending: the source address is the configured address of the destination's family (preferring
 * one whose prefix holds the destination); TTL and hop limit 64; IPv4 DF set on our own traffic
 * (RFC 1191) and clear on ICMP messages we generate (as Linux does). Packets larger than the path
 * MTU are fragmented, IPv4 and IPv6 alike (RFC 791 §3.2, RFC 8200 §4.5): TCP never needs it (its
 * MSS fits the MTU), but large UDP datagrams and echo requests/replies do.
 *
 * Bad packets are never thrown: each is dropped and counted by reason in `stats().drops`.
 * `receive` keeps no view of the packet it is given: what a socket queues (a UDP payload, an
 * echo reply's data) is copied, TCP copies into its receive buffer, so the caller may reuse the
 * packet's memory as soon as `receive` returns (the fetch-stream carrier reads the next body bytes
 * into it, #19).
 */
import { toHex, webCryptoRandomBytes } from '../shared/bytes.ts';
import { type IpAddress, type IpPrefix, ipEquals, prefixContains } from '../shared/ip-address.ts';
import { PathMtuCache } from './path-mtu-cache.ts';
import {
  EPHEMERAL_PORT_MAX,
  EPHEMERAL_PORT_MIN,
  ICMP_ERROR_BURST,
  ICMP_ERROR_RATE_PER_SECOND,
  ICMPV4_ERROR_MAX_BYTES,
  ICMPV4_ERROR_TOS,
  MAX_DATAGRAM_LENGTH,
  MTU_PLATEAUS,
} from './netstack-constants.ts';
import { IcmpEchoSocket, MessageTooLongError, type IcmpEchoSocketHost, type IcmpEchoSocketOptions, type PmtuDiscovery } from './socket/icmp-socket.ts';
import { UdpSocket, type UdpSocketHost, type UdpSocketOptions } from './socket/udp-socket.ts';
import { TokenBucket } from '../shared/token-bucket.ts';
import { ByteSlab } from '../shared/byte-slab.ts';
import { PACKET_HEADROOM, PACKET_TAILROOM } from '../shared/packet-room.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './wire/checksum.ts';
import { FragmentReassembler, type ReassemblyDrop } from './wire/fragment-reassembler.ts';
import { parseIcmpQuote } from './wire/icmp-quote.ts';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4TimeExceededCode, Icmpv4Type, Icmpv4UnreachableCode } from './wire/icmpv4.ts';
import { Icmpv6Packet, Icmpv6ParameterProblemCode, Icmpv6Repr, Icmpv6TimeExceededCode, Icmpv6UnreachableCode } from './wire/icmpv6.ts';
import { IpProtocol } from './wire/ip-protocol.ts';
import { IPV4_HEADER_LENGTH, IPV4_MIN_MTU, Ipv4Packet, Ipv4Repr, fragmentIpv4 } from './wire/ipv4.ts';
import { type Ipv6Chain, walkIpv6Extensions } from './wire/ipv6-extension-headers.ts';
import { IPV6_FRAGMENT_HEADER_LENGTH, IPV6_HEADER_LENGTH, IPV6_MIN_MTU, Ipv6Packet, Ipv6Repr, fragmentIpv6 } from './wire/ipv6.ts';
import { UDP_HEADER_LENGTH, UdpPacket, UdpRepr } from './wire/udp.ts';
import type { WireResult } from './wire/wire-result.ts';
import { DEFAULT_MTU } from '../shared/wg-quick-config.ts';
import type { RandomBytes } from '../shared/bytes.ts';


/** An ICMP error that quotes one of our TCP segments, as handed to {@link TransportLayer.handleIcmpError}. */
export interface IcmpErrorReport {
  /** `packet-too-big` (ICMPv4 fragmentation needed, ICMPv6 packet too big), `unreachable`, `time-exceeded`. */
  readonly kind: 'packet-too-big' | 'unreachable' | 'time-exceeded';
  /** The path MTU for `packet-too-big` (estimated by RFC 1191 §7 plateaus when a router gave 0). */
  readonly mtu?: number;
  /** Our address, the quoted segment's source. */
  readonly src: IpAddress;
  /** The remote address, the quoted segment's destination. */
  readonly dst: IpAddress;
  /** Our port. */
  readonly srcPort: number;
  /** The remote port. */
  readonly dstPort: number;
  /** Extra: ICMP (4) or ICMPv6 (6), to read `code`. */
  readonly icmpVersion: 4 | 6;
  /** Extra: the ICMP code (RFC 1122 §4.2.3.9 and RFC 5461 tell hard from soft errors by it). */
  readonly code: number;
  /** Extra: the router or host that sent the error. */
  readonly reporter: IpAddress;
}

/** A TCP segment the TCP layer wants sent. */
export interface OutgoingSegment {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  /** Header + payload, checksum already filled. */
  readonly segment: Uint8Array;
  /**
   * Bytes right before `segment` in its buffer that belong to it (default 0). With room for the IP
   * header and {@link PACKET_HEADROOM} (and {@link PACKET_TAILROOM} after it), the packet is built
   * around the segment, which is then not copied (#19).
   */
  readonly headroom?: number;
}

/** What NetInterface needs from the TCP layer (src/netstack/socket/tcp-socket-table.ts). */
export interface TransportLayer {
  /** A TCP segment (header+payload, checksum already verified by NetInterface). */
  receive(segment: Uint8Array, src: IpAddress, dst: IpAddress, now: number): void;
  /** Checksummed TCP segments ready to be wrapped in IP. */
  poll(now: number): OutgoingSegment[];
  pollAt(): number;
  /** ICMP error quoting one of our segments: fragmentation-needed/packet-too-big (with MTU) or unreachable. */
  handleIcmpError(error: IcmpErrorReport, now: number): void;
}

/** Options of {@link NetInterface}. */
export interface NetInterfaceOptions<T extends TransportLayer = TransportLayer> {
  /** The interface's addresses, from the config's `Address =` (IPv4 and/or IPv6). */
  addresses: readonly IpPrefix[];
  /** Link MTU (default 1420); at least 68, and at least 1280 when an IPv6 address is configured. */
  mtu?: number;
  /** Random source for ephemeral ports, echo identifiers and IP IDs (default: Web Crypto). */
  randomBytes?: RandomBytes;
  /** The TCP layer, or a factory given this interface (for source selection and MTU). */
  tcp?: T | ((net: NetInterface<T>) => T);
  /** Reassembly limits (see FragmentReassembler); defaults: 16 datagrams, 30 s, 1 MiB. */
  reassembly?: { maxReassemblies?: number; timeoutMs?: number; maxBufferedBytes?: number };
  /** ICMP errors we generate, per second and burst (default 10/s, burst 10). */
  icmpErrorRate?: { perSecond: number; burst: number };
  /** Packets waiting for `poll` (default 512); more are dropped (`tx-queue-full`). */
  maxQueuedPackets?: number;
}

/** Counters of a {@link NetInterface}. */
export interface NetInterfaceStats {
  /** IP packets given to `receive`. */
  received: number;
  receivedBytes: number;
  /** IP packets returned by `poll` (fragments counted one by one). */
  sent: number;
  sentBytes: number;
  /** Datagrams put back together from fragments. */
  reassembled: number;
  /** Datagrams we had to fragment. */
  fragmented: number;
  echoRepliesSent: number;
  icmpErrorsSent: number;
  /** ICMP errors not sent because of the rate limit. */
  icmpErrorsRateLimited: number;
  /** Dropped packets (and fragments, and undeliverable datagrams) by reason. */
  drops: Record<string, number>;
}

/** A datagram addressed to us, whole (reassembled if it came in fragments). */
interface Inbound {
  readonly version: 4 | 6;
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  readonly ttl: number;
  /** The upper-layer bytes. */
  readonly payload: Uint8Array;
  /** The packet as received, when it was not reassembled (quoted in ICMP errors). */
  readonly original: Uint8Array | undefined;
  /** Offset of the byte naming `protocol` in `original` (IPv6 parameter problem), or -1. */
  readonly protocolPointer: number;
}

/** What we keep from a fragment at offset 0: enough to send ICMP time exceeded on timeout. */
interface FirstFragment {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  /** IPv6: the upper-layer protocol named by the Fragment header; IPv4: the header's protocol. */
  readonly protocol: number;
  /** The datagram is an ICMP error message, which must not be answered with another. */
  readonly icmpError: boolean;
  /** The fragment's bytes, truncated to what an ICMP error may quote. */
  readonly quote: Uint8Array;
}

/** RFC 1812 §4.3.2.3: an ICMPv4 error must not exceed 576 bytes (minus our 20 + 8 header bytes). */
const ICMPV4_QUOTE_LIMIT = ICMPV4_ERROR_MAX_BYTES - IPV4_HEADER_LENGTH - 8;
/** RFC 4443 §2.4(c): an ICMPv6 error must not exceed the IPv6 minimum MTU. */
const ICMPV6_QUOTE_LIMIT = IPV6_MIN_MTU - IPV6_HEADER_LENGTH - 8;
const EPHEMERAL_COUNT = EPHEMERAL_PORT_MAX - EPHEMERAL_PORT_MIN + 1;
/** Largest UDP payload: 65535 minus IPv4 (20) and UDP (8) headers. */
const MAX_UDP_PAYLOAD_V4 = MAX_DATAGRAM_LENGTH - IPV4_HEADER_LENGTH - UDP_HEADER_LENGTH;
/** Largest UDP payload over IPv6 when fragmented: 65535 minus Fragment (8) and UDP (8) headers. */
const MAX_UDP_PAYLOAD_V6 = MAX_DATAGRAM_LENGTH - IPV6_FRAGMENT_HEADER_LENGTH - UDP_HEADER_LENGTH;

/** The tunnel's IP endpoint: validates, reassembles and demultiplexes; answers pings. */
export class NetInterface<T extends TransportLayer = TransportLayer> {
  /** Link MTU. */
  readonly mtu: number;
  /** Configured addresses. */
  readonly addresses: readonly IpPrefix[];
  /** The TCP layer given in the options (create connections through it), or `undefined`. */
  readonly tcp: T | undefined;

  private readonly v4: IpAddress[];
  private readonly v6: IpAddress[];
  private readonly randomBytes: RandomBytes;
  private readonly reassembler4: FragmentReassembler<FirstFragment>;
  private readonly reassembler6: FragmentReassembler<FirstFragment>;
  private readonly pmtu = new PathMtuCache();
  private readonly icmpErrors: TokenBucket;
  private readonly maxQueued: number;
  private readonly udpSockets = new Map<number, UdpSocket>();
  private readonly echoSockets = new Map<number, IcmpEchoSocket>();
  private queue: Uint8Array[] = [];
  /** Where outgoing IP packets are built (see emitPacket). */
  private readonly packetSlab = new ByteSlab();
  private ipv4Id: number;
  private fragmentId: number;
  private lastNow = 0;
  private readonly counters: Omit<NetInterfaceStats, 'drops'> = {
    received: 0,
    receivedBytes: 0,
    sent: 0,
    sentBytes: 0,
    reassembled: 0,
    fragmented: 0,
    echoRepliesSent: 0,
    icmpErrorsSent: 0,
    icmpErrorsRateLimited: 0,
  };
  private readonly drops: Record<string, number> = {};
  private readonly udpHost: UdpSocketHost;
  private readonly echoHost: IcmpEchoSocketHost;

  /**
   * @throws {TypeError} when `addresses` is not an array of prefixes.
   * @throws {RangeError} on no address, a bad address length, or an MTU out of range.
   */
  constructor(options: NetInterfaceOptions<T>) {
    if (!options || !Array.isArray(options.addresses)) throw new TypeError('NetInterface needs { addresses: IpPrefix[] }');
    if (options.addresses.length === 0) {
      throw new RangeError('NetInterface needs at least one address: set Address = in the [Interface] section');
    }
    this.v4 = [];
    this.v6 = [];
    for (const p of options.addresses) {
      if (!p || !(p.address instanceof Uint8Array)) throw new TypeError('each address must be an IpPrefix ({ address: Uint8Array, prefixLength })');
      if (p.address.length === 4) this.v4.push(p.address.slice());
      else if (p.address.length === 16) this.v6.push(p.address.slice());
      else throw new RangeError(`an interface address has 4 or 16 bytes, not ${p.address.length}`);
    }
    this.addresses = options.addresses.map((p) => ({ address: p.address.slice(), prefixLength: p.prefixLength }));
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < IPV4_MIN_MTU || mtu > 65535) throw new RangeError(`MTU must be an integer from ${IPV4_MIN_MTU} to 65535, not ${mtu}`);
    if (this.v6.length > 0 && mtu < IPV6_MIN_MTU) {
      throw new RangeError(`MTU ${mtu} is below 1280, the IPv6 minimum (RFC 8200 §5): raise MTU or remove the IPv6 address`);
    }
    this.mtu = mtu;
    this.randomBytes = options.randomBytes ?? webCryptoRandomBytes;
    const onDrop = (prefix: string) => (reason: ReassemblyDrop) => this.drop(`${prefix}-${reason}`);
    const r = options.reassembly ?? {};
    // IPv4: the reassembled payload plus a 20-byte header must fit the 16-bit total length.
    this.reassembler4 = new FragmentReassembler({ ...r, maxLength: 65535 - IPV4_HEADER_LENGTH, onDrop: onDrop('ipv4') });
    this.reassembler6 = new FragmentReassembler({ ...r, maxLength: 65535, onDrop: onDrop('ipv6') });
    const rate = options.icmpErrorRate ?? { perSecond: ICMP_ERROR_RATE_PER_SECOND, burst: ICMP_ERROR_BURST };
    this.icmpErrors = new TokenBucket({ ratePerSecond: rate.perSecond, burst: rate.burst });
    this.maxQueued = options.maxQueuedPackets ?? 512;
    const seed = this.randomBytes(6);
    this.ipv4Id = (seed[0] << 8) | seed[1];
    this.fragmentId = ((seed[2] << 24) | (seed[3] << 16) | (seed[4] << 8) | seed[5]) >>> 0;
    this.udpHost = {
      sendUdp: (port, address, dstPort, data, options) => this.sendUdp(port, address, dstPort, data, options?.ttl),
      releaseUdp: (socket) => {
        if (this.udpSockets.get(socket.localPort) === socket) this.udpSockets.delete(socket.localPort);
      },
    };
    this.echoHost = {
      sendEchoRequest: (dst, id, seq, payload, mode, ttl) => this.sendEchoRequest(dst, id, seq, payload, mode, ttl),
      releaseEcho: (socket) => {
        if (this.echoSockets.get(socket.identifier) === socket) this.echoSockets.delete(socket.identifier);
      },
    };
    const tcp = options.tcp;
    this.tcp = typeof tcp === 'function' ? tcp(this) : tcp;
  }

  // ─── Application side ────────────────────────────────────────────────────────────────────────

  /**
   * Opens a UDP socket on `port`, or on a random free port from 49152-65535 (RFC 6335 §6,
   * randomized per RFC 6056) when `port` is absent or 0.
   * @throws {RangeError} when `port` is out of range or taken, or no ephemeral port is free.
   */
  udpBind(port?: number, options?: UdpSocketOptions): UdpSocket {
    let p = port ?? 0;
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`a UDP port is an integer from 1 to 65535, not ${port}`);
    if (p === 0) {
      p = this.freeNumber(this.udpSockets, EPHEMERAL_PORT_MIN, EPHEMERAL_COUNT);
      if (p < 0) throw new RangeError('no free ephemeral UDP port (49152-65535): close some sockets');
    } else if (this.udpSockets.has(p)) {
      throw new RangeError(`UDP port ${p} is already bound on this interface`);
    }
    const socket = new UdpSocket(this.udpHost, p, options);
    this.udpSockets.set(p, socket);
    return socket;
  }

  /**
   * Opens an ICMP/ICMPv6 echo socket with a random free identifier (or `identifier`).
   * @throws {RangeError} when `identifier` is out of range or taken.
   */
  icmpEcho(options: IcmpEchoSocketOptions & { identifier?: number } = {}): IcmpEchoSocket {
    let id = options.identifier;
    if (id === undefined) {
      id = this.freeNumber(this.echoSockets, 0, 65536);
      if (id < 0) throw new RangeError('all 65536 echo identifiers are in use');
    } else if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
      throw new RangeError(`an echo identifier is an integer from 0 to 65535, not ${id}`);
    } else if (this.echoSockets.has(id)) {
      throw new RangeError(`echo identifier ${id} is already in use on this interface`);
    }
    const socket = new IcmpEchoSocket(this.echoHost, id, options);
    this.echoSockets.set(id, socket);
    return socket;
  }

  /**
   * The source address for packets to `destination`: a configured address of the same family,
   * preferring one whose prefix contains it; `undefined` when the family has none.
   */
  sourceAddressFor(destination: IpAddress): IpAddress | undefined {
    const own = destination.length === 4 ? this.v4 : destination.length === 16 ? this.v6 : undefined;
    if (!own || own.length === 0) return undefined;
    for (const p of this.addresses) if (p.address.length === destination.length && prefixContains(p, destination)) return p.address;
    return own[0];
  }

  /** True when `address` is one of the interface's own addresses. */
  isLocalAddress(address: IpAddress): boolean {
    const own = address.length === 4 ? this.v4 : this.v6;
    for (let i = 0; i < own.length; i++) if (ipEquals(own[i], address)) return true;
    return false;
  }

  /** The MTU towards `destination`: the link MTU, lowered by ICMP for a while (RFC 1191, RFC 8201). */
  pathMtu(destination: IpAddress, now: number = this.lastNow): number {
    const learned = this.pmtu.get(destination, now);
    return learned === undefined ? this.mtu : Math.min(learned, this.mtu);
  }

  /** Counters and drops by reason (a snapshot). */
  stats(): NetInterfaceStats {
    return { ...this.counters, drops: { ...this.drops } };
  }

  // ─── Tunnel side ─────────────────────────────────────────────────────────────────────────────

  /**
   * Takes one inner IP packet from the tunnel. Never throws for bad packets: they are counted in
   * `stats().drops`. Keeps no view of `packet` (see the module comment): the buffer may be reused.
   * @throws {TypeError} when `packet` is not a Uint8Array.
   */
  receive(packet: Uint8Array, now: number): void {
    if (!(packet instanceof Uint8Array)) throw new TypeError('NetInterface.receive takes the packet as a Uint8Array');
    this.lastNow = now;
    this.counters.received++;
    this.counters.receivedBytes += packet.length;
    if (packet.length === 0) return this.drop('ip-empty');
    const version = packet[0] >> 4;
    if (version === 4) this.receiveIpv4(packet, now);
    else if (version === 6) this.receiveIpv6(packet, now);
    else this.drop('ip-bad-version');
  }

  /** IP packets to hand to the tunnel: queued replies and datagrams, then TCP's segments. */
  poll(now: number): Uint8Array[] {
    this.lastNow = now;
    for (const first of this.reassembler4.expire(now)) this.sendTimeExceeded(4, first, now);
    for (const first of this.reassembler6.expire(now)) this.sendTimeExceeded(6, first, now);
    const out = this.queue;
    this.queue = [];
    if (this.tcp) {
      for (const s of this.tcp.poll(now)) {
        const { src, dst, segment } = s;
        if (!(segment instanceof Uint8Array) || !(src instanceof Uint8Array) || src.length !== dst.length || !this.isLocalAddress(src)) {
          this.drop('tcp-tx-bad-source');
          continue;
        }
        if (!this.emitAround(src, dst, segment, s.headroom ?? 0, now, out)) {
          this.emitPacket(src, dst, IpProtocol.Tcp, segment.length, (u) => u.set(segment), true, now, out);
        }
      }
    }
    for (const p of out) {
      this.counters.sent++;
      this.counters.sentBytes += p.length;
    }
    return out;
  }

  /** When `poll` next has work: `now` of the last call if packets are queued, else the earliest timer, else Infinity. */
  pollAt(): number {
    if (this.queue.length > 0) return this.lastNow;
    const at = Math.min(this.reassembler4.pollAt(), this.reassembler6.pollAt());
    return this.tcp ? Math.min(at, this.tcp.pollAt()) : at;
  }

  // ─── Input ───────────────────────────────────────────────────────────────────────────────────

  private receiveIpv4(packet: Uint8Array, now: number): void {
    const bad = Ipv4Packet.check(packet);
    if (bad) return this.drop(`ipv4-${bad}`);
    const view = Ipv4Packet.unchecked(packet);
    const parsed = Ipv4Repr.parse(view);
    if (!parsed.ok) return this.drop(`ipv4-${parsed.reason}`);
    const ip = parsed.value;
    if (!this.isLocalAddress(ip.dst)) return this.drop(isIpv4Multicast(ip.dst) ? 'ipv4-multicast' : 'ipv4-not-for-us');
    // A packet "from" one of our own addresses is spoofed or looped (Linux calls it a martian).
    if (isBadIpv4Source(ip.src) || this.isLocalAddress(ip.src)) return this.drop('ipv4-bad-source');
    const src = ip.src.slice();
    const dst = ip.dst.slice();
    const total = view.totalLength;
    if (ip.moreFragments || ip.fragmentOffset !== 0) {
      const key = `${toHex(src)}${toHex(dst)}:${ip.protocol}:${ip.identification}`;
      const first = ip.fragmentOffset === 0
        ? {
          src,
          dst,
          protocol: ip.protocol,
          icmpError: isIcmpError(4, ip.protocol, view.payload),
          quote: packet.slice(0, Math.min(total, ICMPV4_QUOTE_LIMIT)),
        }
        : undefined;
      const whole = this.reassembler4.add(key, ip.fragmentOffset, ip.moreFragments, view.payload, first, now);
      if (!whole) return;
      this.counters.reassembled++;
      return this.deliver({ version: 4, src, dst, protocol: ip.protocol, ttl: ip.ttl, payload: whole.data, original: undefined, protocolPointer: -1 }, now);
    }
    this.deliver({ version: 4, src, dst, protocol: ip.protocol, ttl: ip.ttl, payload: view.payload, original: packet.subarray(0, total), protocolPointer: 9 }, now);
  }

  private receiveIpv6(packet: Uint8Array, now: number): void {
    const bad = Ipv6Packet.check(packet);
    if (bad) return this.drop(`ipv6-${bad}`);
    const parsed = Ipv6Repr.parse(Ipv6Packet.unchecked(packet));
    if (!parsed.ok) return; // the fixed header always parses once checked
    const ip = parsed.value;
    if (!this.isLocalAddress(ip.dst)) return this.drop(ip.dst[0] === 0xff ? 'ipv6-multicast' : 'ipv6-not-for-us');
    if (isBadIpv6Source(ip.src) || this.isLocalAddress(ip.src)) return this.drop('ipv6-bad-source');
    const src = ip.src.slice();
    const dst = ip.dst.slice();
    const end = IPV6_HEADER_LENGTH + ip.payloadLength;
    let chain = walkIpv6Extensions(packet, IPV6_HEADER_LENGTH, ip.nextHeader, 6, true, end);
    if (!chain.ok) return this.drop(`ipv6-${chain.reason}`);
    const frag = chain.value.fragment;
    if (!frag) return this.deliverIpv6(chain.value, packet, end, src, dst, ip.hopLimit, packet.subarray(0, end), now);
    if (frag.fragmentOffset === 0 && !frag.moreFragments) {
      // An atomic fragment (RFC 6946): processed as if unfragmented, outside any reassembly.
      chain = walkIpv6Extensions(packet, chain.value.offset, chain.value.protocol, chain.value.protocolField, false, end);
      return this.deliverIpv6(chain, packet, end, src, dst, ip.hopLimit, packet.subarray(0, end), now);
    }
    const key = `${toHex(src)}${toHex(dst)}:${frag.identification}`;
    const first = frag.fragmentOffset === 0
      ? {
        src,
        dst,
        protocol: chain.value.protocol,
        // Extension headers in the fragmentable part would hide an ICMPv6 type; count those as errors.
        icmpError: chain.value.protocol === IpProtocol.Icmpv6 ? isIcmpError(6, IpProtocol.Icmpv6, packet.subarray(chain.value.offset, end)) : false,
        quote: packet.slice(0, Math.min(end, ICMPV6_QUOTE_LIMIT)),
      }
      : undefined;
    const whole = this.reassembler6.add(key, frag.fragmentOffset, frag.moreFragments, packet.subarray(chain.value.offset, end), first, now);
    if (!whole) return;
    this.counters.reassembled++;
    // The fragmentable part may itself start with extension headers (e.g. Destination Options).
    const data = whole.data;
    const inner = walkIpv6Extensions(data, 0, whole.first.protocol, -1, false);
    this.deliverIpv6(inner, data, data.length, src, dst, ip.hopLimit, undefined, now);
  }

  private deliverIpv6(
    walked: Ipv6Chain | WireResult<Ipv6Chain, string>,
    bytes: Uint8Array,
    end: number,
    src: IpAddress,
    dst: IpAddress,
    hopLimit: number,
    original: Uint8Array | undefined,
    now: number,
  ): void {
    let chain: Ipv6Chain;
    if ('ok' in walked) {
      if (!walked.ok) return this.drop(`ipv6-${walked.reason}`);
      chain = walked.value;
    } else {
      chain = walked;
    }
    if (chain.fragment) return this.drop('ipv6-nested-fragment');
    this.deliver({
      version: 6,
      src,
      dst,
      protocol: chain.protocol,
      ttl: hopLimit,
      payload: bytes.subarray(chain.offset, end),
      original,
      protocolPointer: original ? chain.protocolField : -1,
    }, now);
  }

  private deliver(p: Inbound, now: number): void {
    switch (p.protocol) {
      case IpProtocol.Tcp:
        return this.receiveTcp(p, now);
      case IpProtocol.Udp:
        return this.receiveUdp(p, now);
      case IpProtocol.Icmp:
        if (p.version === 4) return this.receiveIcmpv4(p, now);
        break;
      case IpProtocol.Icmpv6:
        if (p.version === 6) return this.receiveIcmpv6(p, now);
        break;
      case IpProtocol.Ipv6NoNext:
        if (p.version === 6) return this.drop('ipv6-no-next-header');
        break;
    }
    if (p.version === 4) {
      this.drop('ipv4-unknown-protocol');
      this.sendIcmpError(p, { kind: 'destination-unreachable', code: Icmpv4UnreachableCode.Protocol, nextHopMtu: 0, quote: EMPTY }, now);
    } else {
      this.drop('ipv6-unknown-next-header');
      // RFC 8200 §4: Parameter Problem code 1, pointing at the unrecognized Next Header value.
      if (p.protocolPointer >= 0) {
        this.sendIcmpError(p, { kind: 'parameter-problem', code: Icmpv6ParameterProblemCode.UnrecognizedNextHeader, pointer: p.protocolPointer, quote: EMPTY }, now);
      }
    }
  }

  private receiveTcp(p: Inbound, now: number): void {
    const seg = p.payload;
    if (seg.length < 20) return this.drop('tcp-truncated');
    const dataOffset = (seg[12] >> 4) << 2;
    if (dataOffset < 20 || dataOffset > seg.length) return this.drop('tcp-bad-header-length');
    if (finishChecksum(sumBytes(seg, 0, seg.length, pseudoHeaderSum(p.src, p.dst, IpProtocol.Tcp, seg.length))) !== 0) {
      return this.drop('tcp-bad-checksum');
    }
    if (!this.tcp) return this.drop('tcp-no-handler');
    this.tcp.receive(seg, p.src, p.dst, now);
  }

  private receiveUdp(p: Inbound, now: number): void {
    const bad = UdpPacket.check(p.payload);
    if (bad) return this.drop(`udp-${bad}`);
    const view = UdpPacket.view(p.payload) as UdpPacket;
    const parsed = UdpRepr.parse(view, p.src, p.dst);
    if (!parsed.ok) return this.drop(`udp-${parsed.reason}`);
    const udp = parsed.value;
    const socket = this.udpSockets.get(udp.dstPort);
    if (!socket) {
      this.drop('udp-port-closed');
      // RFC 1122 §4.1.3.1 / RFC 4443 §3.1: port unreachable, so the sender fails fast.
      if (p.version === 4) this.sendIcmpError(p, { kind: 'destination-unreachable', code: Icmpv4UnreachableCode.Port, nextHopMtu: 0, quote: EMPTY }, now);
      else this.sendIcmpError(p, { kind: 'destination-unreachable', code: Icmpv6UnreachableCode.Port, quote: EMPTY }, now);
      return;
    }
    // Copied: the datagram waits in the socket's queue, the packet's memory does not (receive).
    socket.deliver({ address: p.src, port: udp.srcPort, data: udp.payload.slice(), localAddress: p.dst, receivedAt: now });
  }

  private receiveIcmpv4(p: Inbound, now: number): void {
    const view = Icmpv4Packet.view(p.payload);
    if (!view) return this.drop('icmp-truncated');
    const parsed = Icmpv4Repr.parse(view);
    if (!parsed.ok) return this.drop(`icmp-${parsed.reason}`);
    const m = parsed.value;
    switch (m.kind) {
      case 'echo-request':
        return this.answerEcho(p, m.identifier, m.sequence, m.data, now);
      case 'echo-reply':
        return this.deliverEchoReply(p, m.identifier, m.sequence, m.data, now);
      case 'destination-unreachable':
        if (m.code === Icmpv4UnreachableCode.FragmentationNeeded) return this.handleIcmpError(p, 'packet-too-big', m.code, m.nextHopMtu, m.quote, now);
        return this.handleIcmpError(p, 'unreachable', m.code, undefined, m.quote, now);
      case 'time-exceeded':
        return this.handleIcmpError(p, 'time-exceeded', m.code, undefined, m.quote, now);
      case 'parameter-problem':
        return this.handleIcmpError(p, 'parameter-problem', m.code, undefined, m.quote, now);
      case 'other':
        return this.drop('icmp-unhandled-type');
    }
  }

  private receiveIcmpv6(p: Inbound, now: number): void {
    const view = Icmpv6Packet.view(p.payload);
    if (!view) return this.drop('icmpv6-truncated');
    const parsed = Icmpv6Repr.parse(view, p.src, p.dst);
    if (!parsed.ok) return this.drop(`icmpv6-${parsed.reason}`);
    const m = parsed.value;
    switch (m.kind) {
      case 'echo-request':
        return this.answerEcho(p, m.identifier, m.sequence, m.data, now);
      case 'echo-reply':
        return this.deliverEchoReply(p, m.identifier, m.sequence, m.data, now);
      case 'destination-unreachable':
        return this.handleIcmpError(p, 'unreachable', m.code, undefined, m.quote, now);
      case 'packet-too-big':
        return this.handleIcmpError(p, 'packet-too-big', 0, m.mtu, m.quote, now);
      case 'time-exceeded':
        return this.handleIcmpError(p, 'time-exceeded', m.code, undefined, m.quote, now);
      case 'parameter-problem':
        return this.handleIcmpError(p, 'parameter-problem', m.code, undefined, m.quote, now);
      case 'other':
        // Neighbor Discovery, MLD, router solicitations: meaningless on a layer-3 tunnel.
        return this.drop('icmpv6-unhandled-type');
    }
  }

  /** RFC 792 / RFC 4443 §4.2: reply from the address the request was sent to, with the same data. */
  private answerEcho(p: Inbound, identifier: number, sequence: number, data: Uint8Array, now: number): void {
    const reply = { kind: 'echo-reply' as const, identifier, sequence, data };
    const sent = p.version === 4
      ? this.emitPacket(p.dst, p.src, IpProtocol.Icmp, Icmpv4Repr.bufferLength(reply), (u) => Icmpv4Repr.emit(reply, u), false, now)
      : this.emitPacket(p.dst, p.src, IpProtocol.Icmpv6, Icmpv6Repr.bufferLength(reply), (u) => Icmpv6Repr.emit(reply, u, p.dst, p.src), false, now);
    if (sent) this.counters.echoRepliesSent++;
  }

  private deliverEchoReply(p: Inbound, identifier: number, sequence: number, data: Uint8Array, now: number): void {
    const socket = this.echoSockets.get(identifier);
    if (!socket) return this.drop(p.version === 4 ? 'icmp-echo-reply-unmatched' : 'icmpv6-echo-reply-unmatched');
    socket.deliverReply(p.src, sequence, data.slice(), p.ttl, now);
  }

  /** Routes an ICMP error to whoever sent the quoted packet; learns path MTUs on the way. */
  private handleIcmpError(
    p: Inbound,
    kind: 'unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem',
    code: number,
    reportedMtu: number | undefined,
    quoteBytes: Uint8Array,
    now: number,
  ): void {
    const prefix = p.version === 4 ? 'icmp' : 'icmpv6';
    const q = parseIcmpQuote(quoteBytes, p.version);
    if (!q) return this.drop(`${prefix}-bad-quote`);
    if (!this.isLocalAddress(q.src)) return this.drop(`${prefix}-error-not-ours`);
    let mtu: number | undefined;
    if (kind === 'packet-too-big') {
      mtu = this.learnPathMtu(p.version, q.dst, reportedMtu ?? 0, q.originalLength, now);
    }
    const src = q.src.slice();
    const dst = q.dst.slice();
    const reporter = p.src;
    const portUnreachable = kind === 'unreachable' && code === (p.version === 4 ? Icmpv4UnreachableCode.Port : Icmpv6UnreachableCode.Port);
    if (q.protocol === IpProtocol.Udp && q.srcPort !== undefined && q.dstPort !== undefined) {
      const socket = this.udpSockets.get(q.srcPort);
      if (!socket) return this.drop(`${prefix}-error-unmatched`);
      socket.deliverError({ kind, icmpVersion: p.version, code, portUnreachable, reporter, address: dst, port: q.dstPort, mtu, receivedAt: now });
      return;
    }
    if (q.protocol === IpProtocol.Tcp && q.srcPort !== undefined && q.dstPort !== undefined) {
      // RFC 5461 §4: parameter problems are soft errors TCP may ignore; we do not forward them.
      if (!this.tcp || kind === 'parameter-problem') return this.drop(`${prefix}-error-unmatched`);
      this.tcp.handleIcmpError({ kind, mtu, src, dst, srcPort: q.srcPort, dstPort: q.dstPort, icmpVersion: p.version, code, reporter }, now);
      return;
    }
    if (q.echo) {
      const socket = this.echoSockets.get(q.echo.identifier);
      if (!socket) return this.drop(`${prefix}-error-unmatched`);
      socket.deliverError({ type: kind, icmpVersion: p.version, code, reporter, destination: dst, sequence: q.echo.sequence, mtu, receivedAt: now });
      return;
    }
    this.drop(`${prefix}-error-unmatched`);
  }

  /**
   * Records a smaller path MTU towards `destination` and returns the MTU to report. IPv4: a router
   * that reports 0 predates RFC 1191, so the next plateau below the quoted length is used
   * (RFC 1191 §7); never below 68. IPv6: never below 1280 (RFC 8201 §4). A report that is not
   * smaller than what we already use changes nothing (RFC 1191 §6.3: no increase through ICMP).
   */
  private learnPathMtu(version: 4 | 6, destination: IpAddress, reported: number, originalLength: number, now: number): number {
    let mtu = reported;
    if (version === 4) {
      if (mtu === 0) mtu = MTU_PLATEAUS.find((m) => m < originalLength) ?? IPV4_MIN_MTU;
      mtu = Math.max(mtu, IPV4_MIN_MTU);
    } else {
      mtu = Math.max(mtu, IPV6_MIN_MTU);
    }
    const current = this.pathMtu(destination, now);
    if (mtu >= current) return current;
    this.pmtu.set(destination, mtu, now);
    return mtu;
  }

  // ─── Output ──────────────────────────────────────────────────────────────────────────────────

  private sendUdp(localPort: number, address: IpAddress, port: number, data: Uint8Array, ttl?: number): boolean {
    const src = this.sourceFor(address);
    checkTtl(ttl);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`a UDP destination port is an integer from 1 to 65535, not ${port}`);
    if (!(data instanceof Uint8Array)) throw new TypeError('UDP data must be a Uint8Array');
    const max = address.length === 4 ? MAX_UDP_PAYLOAD_V4 : MAX_UDP_PAYLOAD_V6;
    if (data.length > max) throw new RangeError(`a UDP datagram over IPv${address.length === 4 ? 4 : 6} holds at most ${max} bytes, not ${data.length}`);
    const dst = address.slice();
    const repr = { srcPort: localPort, dstPort: port, payload: data };
    return this.emitPacket(src, dst, IpProtocol.Udp, UDP_HEADER_LENGTH + data.length, (u) => UdpRepr.emit(repr, u, src, dst), true, this.lastNow, undefined, 0, ttl);
  }

  private sendEchoRequest(address: IpAddress, identifier: number, sequence: number, data: Uint8Array, mode: PmtuDiscovery = 'want', ttl?: number): void {
    const src = this.sourceFor(address);
    checkTtl(ttl);
    if (!(data instanceof Uint8Array)) throw new TypeError('echo payload must be a Uint8Array');
    const max = address.length === 4 ? MAX_UDP_PAYLOAD_V4 : MAX_UDP_PAYLOAD_V6;
    if (data.length > max) throw new RangeError(`an echo request over IPv${address.length === 4 ? 4 : 6} holds at most ${max} bytes, not ${data.length}`);
    const dst = address.slice();
    const req = { kind: 'echo-request' as const, identifier, sequence, data };
    const v4 = dst.length === 4;
    const upperLength = v4 ? Icmpv4Repr.bufferLength(req) : Icmpv6Repr.bufferLength(req);
    if (mode === 'do') {
      // Linux's IP_PMTUDISC_DO: the sender, not a router, finds out first (ping -M do).
      const mtu = this.pathMtu(dst, this.lastNow);
      const packet = (v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) + upperLength;
      if (packet > mtu) throw new MessageTooLongError(mtu, packet);
    }
    const dontFragment = mode !== 'dont';
    if (v4) this.emitPacket(src, dst, IpProtocol.Icmp, upperLength, (u) => Icmpv4Repr.emit(req, u), dontFragment, this.lastNow, undefined, 0, ttl);
    else this.emitPacket(src, dst, IpProtocol.Icmpv6, upperLength, (u) => Icmpv6Repr.emit(req, u, src, dst), dontFragment, this.lastNow, undefined, 0, ttl);
  }

  /** Source address for a caller-given destination. @throws {RangeError} naming what to fix. */
  private sourceFor(address: IpAddress): IpAddress {
    if (!(address instanceof Uint8Array) || (address.length !== 4 && address.length !== 16)) {
      throw new RangeError('a destination address is a 4-byte IPv4 or 16-byte IPv6 Uint8Array');
    }
    const src = this.sourceAddressFor(address);
    if (!src) {
      const family = address.length === 4 ? 'IPv4' : 'IPv6';
      throw new RangeError(`this interface has no ${family} address: add one to Address = in the [Interface] section to reach ${family} hosts`);
    }
    return src;
  }

  /**
   * Sends an ICMP error about `p` back to its source, if the rules allow (RFC 1122 §3.2.2,
   * RFC 4443 §2.4(e)): never about an ICMP error, and within the rate limit. The quote is the
   * original packet, or for a reassembled datagram a rebuilt header plus its payload.
   */
  private sendIcmpError(
    p: Inbound,
    message: (Icmpv4Repr | Icmpv6Repr) & { quote: Uint8Array },
    now: number,
  ): void {
    if (isIcmpError(p.version, p.protocol, p.payload)) return;
    if (!this.icmpErrors.take(now)) {
      this.counters.icmpErrorsRateLimited++;
      return;
    }
    const limit = p.version === 4 ? ICMPV4_QUOTE_LIMIT : ICMPV6_QUOTE_LIMIT;
    let quote: Uint8Array;
    if (p.original) {
      quote = p.original.subarray(0, Math.min(p.original.length, limit));
    } else {
      const hdr = p.version === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
      quote = new Uint8Array(Math.min(hdr + p.payload.length, limit));
      const head = new Uint8Array(hdr);
      if (p.version === 4) Ipv4Repr.emit({ src: p.src, dst: p.dst, protocol: p.protocol, payloadLength: p.payload.length, ttl: p.ttl, dontFragment: false }, head);
      else Ipv6Repr.emit({ src: p.src, dst: p.dst, nextHeader: p.protocol, payloadLength: p.payload.length, hopLimit: p.ttl }, head);
      quote.set(head);
      quote.set(p.payload.subarray(0, quote.length - hdr), hdr);
    }
    this.emitError(p.version, p.dst, p.src, { ...message, quote } as Icmpv4Repr | Icmpv6Repr, now);
  }

  /** RFC 792 / RFC 4443 §3.3: the first fragment's sender learns that reassembly timed out. */
  private sendTimeExceeded(version: 4 | 6, first: FirstFragment, now: number): void {
    if (first.icmpError) return;
    if (!this.icmpErrors.take(now)) {
      this.counters.icmpErrorsRateLimited++;
      return;
    }
    const code = version === 4 ? Icmpv4TimeExceededCode.FragmentReassembly : Icmpv6TimeExceededCode.FragmentReassembly;
    this.emitError(version, first.dst, first.src, { kind: 'time-exceeded', code, quote: first.quote }, now);
  }

  private emitError(version: 4 | 6, src: IpAddress, dst: IpAddress, message: Icmpv4Repr | Icmpv6Repr, now: number): void {
    const sent = version === 4
      ? this.emitPacket(src, dst, IpProtocol.Icmp, Icmpv4Repr.bufferLength(message as Icmpv4Repr), (u) => Icmpv4Repr.emit(message as Icmpv4Repr, u), false, now, undefined, ICMPV4_ERROR_TOS)
      : this.emitPacket(src, dst, IpProtocol.Icmpv6, Icmpv6Repr.bufferLength(message as Icmpv6Repr), (u) => Icmpv6Repr.emit(message as Icmpv6Repr, u, src, dst), false, now);
    if (sent) this.counters.icmpErrorsSent++;
  }

  /**
   * Builds one IP packet around an upper-layer message written by `write` (checksums need the
   * final bytes, so it writes straight into the packet), fragmenting it when it exceeds the path
   * MTU, and queues it, or appends it to `out` (TCP output, which bypasses the queue limit).
   * @returns false when the queue was full (`tx-queue-full`) or the packet cannot exist (`tx-too-big`).
   */
  private emitPacket(
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    upperLength: number,
    write: (upper: Uint8Array) => void,
    dontFragment: boolean,
    now: number,
    out?: Uint8Array[],
    tos = 0,
    ttl?: number,
  ): boolean {
    const v4 = dst.length === 4;
    const hdr = v4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const mtu = this.pathMtu(dst, now);
    // Sends from sockets are checked with a RangeError up front; this catches what we generate
    // ourselves (an echo reply to a maximal reassembled request cannot take a Fragment header).
    const fits = hdr + upperLength <= mtu;
    if (v4 ? hdr + upperLength > 65535 : upperLength + (fits ? 0 : IPV6_FRAGMENT_HEADER_LENGTH) > 65535) {
      this.drop('tx-too-big');
      return false;
    }
    // Outgoing packets live until the tunnel sealed them: views of a shared slab, not an
    // ArrayBuffer each (several microseconds apiece in a browser worker, #19), with the tunnel's
    // room around them (shared/packet-room.ts).
    const buf = this.packetSlab.take(PACKET_HEADROOM + hdr + upperLength + PACKET_TAILROOM).subarray(PACKET_HEADROOM, PACKET_HEADROOM + hdr + upperLength);
    const upper = buf.subarray(hdr);
    write(upper);
    let packets: Uint8Array[];
    if (fits) {
      this.emitIpHeader(src, dst, protocol, upperLength, dontFragment, tos, ttl, buf);
      packets = [buf];
    } else {
      packets = v4
        ? fragmentIpv4({ src, dst, protocol, payloadLength: upperLength, identification: this.nextIpv4Id(), tos, ttl }, upper, mtu)
        : fragmentIpv6({ src, dst, nextHeader: protocol, payloadLength: upperLength, hopLimit: ttl }, protocol, upper, mtu, this.nextFragmentId());
      this.counters.fragmented++;
    }
    if (out) {
      for (const pk of packets) out.push(pk);
      return true;
    }
    if (this.queue.length + packets.length > this.maxQueued) {
      this.drop('tx-queue-full');
      return false;
    }
    for (const pk of packets) this.queue.push(pk);
    return true;
  }

  /**
   * A TCP segment that came with room before it (OutgoingSegment.headroom) becomes an IP packet
   * where it lies: the header is written into that room, nothing is copied. False when it cannot
   * (too little room, or the packet needs fragmenting): then {@link emitPacket} copies it.
   */
  private emitAround(src: IpAddress, dst: IpAddress, segment: Uint8Array, headroom: number, now: number, out: Uint8Array[]): boolean {
    const hdr = dst.length === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
    const total = hdr + segment.length;
    if (headroom < PACKET_HEADROOM + hdr || total > this.pathMtu(dst, now) || total > 65535) return false;
    const buf = new Uint8Array(segment.buffer, segment.byteOffset - hdr, total);
    this.emitIpHeader(src, dst, IpProtocol.Tcp, segment.length, true, 0, undefined, buf);
    out.push(buf);
    return true;
  }

  /** Writes the IPv4 or IPv6 header of an unfragmented packet at the start of `buf`. */
  private emitIpHeader(src: IpAddress, dst: IpAddress, protocol: number, upperLength: number, dontFragment: boolean, tos: number, ttl: number | undefined, buf: Uint8Array): void {
    if (dst.length === 4) {
      Ipv4Repr.emit({ src, dst, protocol, payloadLength: upperLength, identification: this.nextIpv4Id(), dontFragment, tos, ttl }, buf);
    } else {
      Ipv6Repr.emit({ src, dst, nextHeader: protocol, payloadLength: upperLength, hopLimit: ttl }, buf);
    }
  }

  private nextIpv4Id(): number {
    this.ipv4Id = (this.ipv4Id + 1) & 0xffff;
    return this.ipv4Id;
  }

  private nextFragmentId(): number {
    this.fragmentId = (this.fragmentId + 1) >>> 0;
    return this.fragmentId;
  }

  /** A random free number in [first, first + count), scanning on from a random start; -1 if none. */
  private freeNumber(used: Map<number, unknown>, first: number, count: number): number {
    if (used.size >= count) return -1;
    const r = this.randomBytes(2);
    const start = ((r[0] << 8) | r[1]) % count;
    for (let i = 0; i < count; i++) {
      const n = first + ((start + i) % count);
      if (!used.has(n)) return n;
    }
    return -1;
  }

  private drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}

const EMPTY = new Uint8Array(0);

/** 224.0.0.0/4 and the limited broadcast address. */
function isIpv4Multicast(a: IpAddress): boolean {
  return (a[0] & 0xf0) === 0xe0 || (a[0] === 255 && a[1] === 255 && a[2] === 255 && a[3] === 255);
}

/**
 * Sources that cannot be a unique host (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7): 0.0.0.0/8,
 * 127.0.0.0/8, multicast, 240.0.0.0/4 and broadcast. We must not answer them.
 */
function isBadIpv4Source(a: IpAddress): boolean {
  return a[0] === 0 || a[0] === 127 || a[0] >= 224;
}

/** Unspecified (::), loopback (::1) and multicast sources (RFC 4291 §2.5.2, §2.5.3, §2.7). */
function isBadIpv6Source(a: IpAddress): boolean {
  if (a[0] === 0xff) return true;
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 0 || a[15] === 1;
}

/** True when the upper layer is an ICMP error message: never answered with another error. */
function isIcmpError(version: 4 | 6, protocol: number, upper: Uint8Array): boolean {
  if (version === 4) {
    if (protocol !== IpProtocol.Icmp) return false;
    if (upper.length === 0) return true;
    const t = upper[0];
    return t !== Icmpv4Type.EchoRequest && t !== Icmpv4Type.EchoReply && !(t >= 13 && t <= 18);
  }
  if (protocol !== IpProtocol.Icmpv6) return false;
  // RFC 4443 §2.1: types 0-127 are errors.
  return upper.length === 0 || upper[0] < 128;
}

/** @throws {RangeError} for a TTL / hop limit outside 1..255 (undefined: the default). */
function checkTtl(ttl: number | undefined): void {
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 255)) throw new RangeError(`a TTL / hop limit is 1 to 255, not ${ttl}`);
}
