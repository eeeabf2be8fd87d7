/**
 * Packets for the capture tests, built with the netstack's own wire emitters (whose bytes are
 * checked against kernel captures in test/client/netstack/wire/): TCP segments with options, UDP
 * datagrams, DNS messages, over IPv4 and IPv6.
 */
import { parseIp } from '../../../src/shared/ip-address.ts';
import { DNS_CLASS_IN, DnsType, emitDnsMessage, queryFlags, type DnsRecord } from '../../../src/protocols/dns/dns-message.ts';
import { IpProtocol } from '../../../src/netstack/wire/ip-protocol.ts';
import { Ipv4Repr } from '../../../src/netstack/wire/ipv4.ts';
import { Ipv6Repr } from '../../../src/netstack/wire/ipv6.ts';
import { emitTcp, type TcpRepr } from '../../../src/netstack/wire/tcp.ts';
import { UdpRepr } from '../../../src/netstack/wire/udp.ts';

/** An IPv4 or IPv6 packet around `payload`, picked by the address family. */
export function ipPacket(src: string, dst: string, protocol: number, payload: Uint8Array, extra: { ttl?: number } = {}): Uint8Array {
  const s = parseIp(src);
  const d = parseIp(dst);
  if (s.length === 4) {
    const out = new Uint8Array(20 + payload.length);
    Ipv4Repr.emit({ src: s, dst: d, protocol, payloadLength: payload.length, ttl: extra.ttl }, out);
    out.set(payload, 20);
    return out;
  }
  const out = new Uint8Array(40 + payload.length);
  Ipv6Repr.emit({ src: s, dst: d, nextHeader: protocol, payloadLength: payload.length, hopLimit: extra.ttl }, out);
  out.set(payload, 40);
  return out;
}

/** A TCP segment inside an IP packet; `repr` fields default to an empty ACK. */
export function tcpPacket(src: string, dst: string, repr: Partial<TcpRepr> & { srcPort: number; dstPort: number; flags: number }): Uint8Array {
  const full: TcpRepr = { seq: 1000, ack: 0, window: 65535, payload: new Uint8Array(0), ...repr };
  const segment = emitTcp(full, parseIp(src), parseIp(dst));
  return ipPacket(src, dst, IpProtocol.Tcp, segment);
}

/** A UDP datagram inside an IP packet. */
export function udpPacket(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const s = parseIp(src);
  const d = parseIp(dst);
  const repr = { srcPort, dstPort, payload };
  const datagram = new Uint8Array(UdpRepr.bufferLength(repr));
  UdpRepr.emit(repr, datagram, s, d);
  return ipPacket(src, dst, IpProtocol.Udp, datagram);
}

/** A DNS query (RD set) for `name`. */
export function dnsQuery(id: number, name: string, type: number = DnsType.A): Uint8Array {
  return emitDnsMessage({ id, flags: queryFlags(), questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authorities: [], additionals: [] });
}

/** A DNS response answering `name` with `addresses` (or an rcode without answers). */
export function dnsResponse(id: number, name: string, addresses: string[], rcode = 0): Uint8Array {
  const answers: DnsRecord[] = addresses.map((a) => {
    const address = parseIp(a);
    return { name, type: address.length === 4 ? DnsType.A : DnsType.AAAA, class: DNS_CLASS_IN, ttl: 60, data: { kind: 'address', address } };
  });
  const type = addresses[0] && parseIp(addresses[0]).length === 16 ? DnsType.AAAA : DnsType.A;
  return emitDnsMessage({
    id,
    flags: { ...queryFlags(), qr: true, ra: true, rcode },
    questions: [{ name, type, class: DNS_CLASS_IN }],
    answers,
    authorities: [],
    additionals: [],
  });
}
