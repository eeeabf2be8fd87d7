/**
 * One line about one inner IP packet, as a packet analyser's list would show it: addresses and
 * ports, protocol, length, TCP flags and numbers, ICMP type, the DNS question, the TLS records a
 * TCP segment starts with (ClientHello with its SNI, ServerHello with version and suite, …). Used by the packet
 * capture (src/browser/capture/packet-capture.ts) and the teaching views.
 *
 *   bytes ─▶ Ipv4Packet / Ipv6Packet view (+ IPv6 extension walk) ─▶ fragment? ─▶ stop at the IP layer
 *                                                                 └▶ TCP (+ TLS) / UDP (+ DNS) / ICMP / ICMPv6 views
 *
 * It reads through the netstack's checked wire views and never verifies checksums (a summary
 * describes, it does not judge). Garbage never throws: whatever cannot be read is named in
 * `malformed` and the rest of the summary says what could be read.
 */
import { DNS_PORT } from '../../protocols/dns/dns-constants.ts';
import { formatEndpoint, formatIp } from '../../shared/ip-address.ts';
import { parseDnsMessage, rcodeName, typeName } from '../../protocols/dns/dns-message.ts';
import { parseIcmpQuote } from '../../netstack/wire/icmp-quote.ts';
import { Icmpv4Packet } from '../../netstack/wire/icmpv4.ts';
import { Icmpv6Packet } from '../../netstack/wire/icmpv6.ts';
import { IpProtocol } from '../../netstack/wire/ip-protocol.ts';
import { Ipv4Packet } from '../../netstack/wire/ipv4.ts';
import { walkIpv6Extensions } from '../../netstack/wire/ipv6-extension-headers.ts';
import { Ipv6Packet } from '../../netstack/wire/ipv6.ts';
import { TcpFlag, TcpPacket, parseTcpRepr } from '../../netstack/wire/tcp.ts';
import { UdpPacket } from '../../netstack/wire/udp.ts';
import { summarizeTlsPayload, type TlsPayloadSummary } from '../../protocols/tls/tls-record-summary.ts';

/** What the protocol column shows: the innermost protocol the summary understood. */
export type PacketProtocol = 'TCP' | 'TLS' | 'UDP' | 'DNS' | 'ICMP' | 'ICMPv6' | 'IPv4' | 'IPv6' | 'unknown';

/** TCP header fields (RFC 9293 §3.1) and the options a reader cares about (RFC 7323, RFC 2018). */
export interface TcpSummary {
  /** The control bits ({@link TcpFlag}). */
  flags: number;
  /** Flag names in the usual order, e.g. `['SYN', 'ACK']`. */
  flagNames: string[];
  seq: number;
  ack: number;
  /** `seq` minus the sender's initial sequence number, when the capture saw the SYN (RFC 9293 §3.4.1). */
  relativeSeq?: number;
  /** `ack` minus the other side's initial sequence number, when the capture saw its SYN. */
  relativeAck?: number;
  /** The raw 16-bit window field (not scaled). */
  window: number;
  payloadLength: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  /** Number of SACK blocks (RFC 2018 §3). */
  sackBlocks?: number;
}

/** ICMP or ICMPv6 header fields (RFC 792, RFC 4443). */
export interface IcmpSummary {
  type: number;
  code: number;
  /** e.g. "Echo (ping) request", "Destination unreachable (Port unreachable)". */
  name: string;
  identifier?: number;
  sequence?: number;
}

/** The DNS message carried by UDP port 53 (RFC 1035 §4.1), when it parses. */
export interface DnsSummary {
  id: number;
  response: boolean;
  /** The first question's name and type, e.g. `example.com`, `AAAA`. */
  name?: string;
  type?: string;
  /** Response code name, for responses (`NOERROR`, `NXDOMAIN`, ...). */
  rcode?: string;
  /** Answer data as text (addresses, names), for responses. */
  answers?: string[];
}

/** A summary of one inner IP packet. Every field is plain data (structured-clone safe). */
export interface PacketSummary {
  /** IP version, or undefined when the bytes are not an IP packet. */
  version: 4 | 6 | undefined;
  protocol: PacketProtocol;
  /** IPv4 protocol / IPv6 upper-layer next header; undefined when not IP. */
  ipProtocol: number | undefined;
  /** Formatted addresses (RFC 5952 for IPv6); '' when unreadable. */
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  /** Length of the bytes summarised (the whole packet). */
  length: number;
  /** TTL (IPv4) or hop limit (IPv6). */
  ttl?: number;
  tcp?: TcpSummary;
  /** UDP payload length. */
  udpPayloadLength?: number;
  icmp?: IcmpSummary;
  dns?: DnsSummary;
  /** The TLS records a TCP segment's data starts with (protocol `TLS`; `tcp` is still set). */
  tls?: TlsPayloadSummary;
  /** Present for any fragment (RFC 791 §3.2, RFC 8200 §4.5); only offset 0 carries the ports. */
  fragment?: { offset: number; more: boolean; id: number };
  /** One line of detail, like the Info column of a packet analyser. */
  info: string;
  /** Why part of the packet could not be read (e.g. `truncated TCP header`). */
  malformed?: string;
}

const TCP_FLAG_ORDER: [number, string][] = [
  [TcpFlag.SYN, 'SYN'],
  [TcpFlag.FIN, 'FIN'],
  [TcpFlag.RST, 'RST'],
  [TcpFlag.PSH, 'PSH'],
  [TcpFlag.ACK, 'ACK'],
  [TcpFlag.URG, 'URG'],
  [TcpFlag.ECE, 'ECE'],
  [TcpFlag.CWR, 'CWR'],
];

/** The names of the TCP control bits set in `flags`, SYN/FIN/RST first. */
export function tcpFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of TCP_FLAG_ORDER) if (flags & bit) out.push(name);
  return out;
}

const ICMPV4_UNREACHABLE: Record<number, string> = {
  0: 'Network unreachable',
  1: 'Host unreachable',
  2: 'Protocol unreachable',
  3: 'Port unreachable',
  4: 'Fragmentation needed',
  5: 'Source route failed',
  6: 'Network unknown',
  7: 'Host unknown',
  9: 'Network prohibited',
  10: 'Host prohibited',
  13: 'Communication administratively prohibited',
};
const ICMPV6_UNREACHABLE: Record<number, string> = {
  0: 'No route to destination',
  1: 'Administratively prohibited',
  2: 'Beyond scope of source address',
  3: 'Address unreachable',
  4: 'Port unreachable',
  5: 'Source address failed policy',
  6: 'Reject route',
};

function icmpv4Name(type: number, code: number): string {
  switch (type) {
    case 0:
      return 'Echo (ping) reply';
    case 3:
      return `Destination unreachable (${ICMPV4_UNREACHABLE[code] ?? `code ${code}`})`;
    case 5:
      return 'Redirect';
    case 8:
      return 'Echo (ping) request';
    case 11:
      return code === 1 ? 'Time exceeded (fragment reassembly)' : 'Time exceeded (TTL)';
    case 12:
      return 'Parameter problem';
    default:
      return `ICMP type ${type} code ${code}`;
  }
}

function icmpv6Name(type: number, code: number): string {
  switch (type) {
    case 1:
      return `Destination unreachable (${ICMPV6_UNREACHABLE[code] ?? `code ${code}`})`;
    case 2:
      return 'Packet too big';
    case 3:
      return code === 1 ? 'Time exceeded (fragment reassembly)' : 'Time exceeded (hop limit)';
    case 4:
      return 'Parameter problem';
    case 128:
      return 'Echo (ping) request';
    case 129:
      return 'Echo (ping) reply';
    case 133:
      return 'Router solicitation';
    case 134:
      return 'Router advertisement';
    case 135:
      return 'Neighbor solicitation';
    case 136:
      return 'Neighbor advertisement';
    case 137:
      return 'Redirect';
    case 143:
      return 'Multicast listener report v2';
    default:
      return `ICMPv6 type ${type} code ${code}`;
  }
}

const PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6', 59: 'no next header', 132: 'SCTP' };

/** A name for an IP protocol number, e.g. `UDP (17)`. */
function protocolName(p: number): string {
  return `${PROTOCOL_NAMES[p] ?? 'protocol'} (${p})`;
}

const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/**
 * Summarises one inner IP packet. Never throws: non-IP bytes give `version: undefined` with the
 * reason in `malformed`.
 */
export function summarizePacket(bytes: Uint8Array): PacketSummary {
  const base: PacketSummary = { version: undefined, protocol: 'unknown', ipProtocol: undefined, src: '', dst: '', length: bytes.length, info: '' };
  try {
    if (bytes.length === 0) return { ...base, info: 'Empty packet', malformed: 'empty' };
    const version = bytes[0] >> 4;
    if (version === 4) return summarizeIpv4(bytes, base);
    if (version === 6) return summarizeIpv6(bytes, base);
    return { ...base, info: `Not an IP packet (version nibble ${version})`, malformed: 'not IP' };
  } catch (e) {
    // A bug in a summariser must not take the capture down with it.
    return { ...base, info: 'Could not summarise this packet', malformed: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function summarizeIpv4(bytes: Uint8Array, base: PacketSummary): PacketSummary {
  const s: PacketSummary = { ...base, version: 4, protocol: 'IPv4' };
  const packet = Ipv4Packet.view(bytes);
  if (!packet) {
    const why = Ipv4Packet.check(bytes) ?? 'truncated';
    if (bytes.length >= 20) {
      s.src = formatIp(bytes.subarray(12, 16));
      s.dst = formatIp(bytes.subarray(16, 20));
      s.ipProtocol = bytes[9];
    }
    s.malformed = `IPv4 header: ${why}`;
    s.info = `Malformed IPv4 packet (${why})`;
    return s;
  }
  s.src = formatIp(packet.src);
  s.dst = formatIp(packet.dst);
  s.ipProtocol = packet.protocol;
  s.ttl = packet.ttl;
  if (packet.isFragment) {
    s.fragment = { offset: packet.fragmentOffset, more: packet.moreFragments, id: packet.identification };
    if (packet.fragmentOffset !== 0) {
      s.info = `Fragment of ${protocolName(packet.protocol)}, offset ${packet.fragmentOffset}, ID ${hex16(packet.identification)}${packet.moreFragments ? ', more follow' : ', last'}`;
      return s;
    }
  }
  summarizeUpper(s, packet.protocol, packet.payload, 4, s.fragment !== undefined);
  if (s.fragment) s.info += ` [first fragment, ID ${hex16(s.fragment.id)}]`;
  return s;
}

function summarizeIpv6(bytes: Uint8Array, base: PacketSummary): PacketSummary {
  const s: PacketSummary = { ...base, version: 6, protocol: 'IPv6' };
  const packet = Ipv6Packet.view(bytes);
  if (!packet) {
    if (bytes.length >= 40) {
      s.src = formatIp(bytes.subarray(8, 24));
      s.dst = formatIp(bytes.subarray(24, 40));
      s.ipProtocol = bytes[6];
    }
    s.malformed = 'IPv6 header: truncated';
    s.info = 'Malformed IPv6 packet (truncated)';
    return s;
  }
  s.src = formatIp(packet.src);
  s.dst = formatIp(packet.dst);
  s.ttl = packet.hopLimit;
  const end = 40 + packet.payloadLength;
  const chain = walkIpv6Extensions(bytes, 40, packet.nextHeader, 6, true, end);
  if (!chain.ok) {
    s.ipProtocol = packet.nextHeader;
    s.malformed = `IPv6 extension headers: ${chain.reason}`;
    s.info = `IPv6 packet with unreadable extension headers (${chain.reason})`;
    return s;
  }
  const { protocol, offset, fragment } = chain.value;
  s.ipProtocol = protocol;
  if (fragment) {
    s.fragment = { offset: fragment.fragmentOffset, more: fragment.moreFragments, id: fragment.identification };
    if (fragment.fragmentOffset !== 0) {
      s.info = `Fragment of ${protocolName(protocol)}, offset ${fragment.fragmentOffset}, ID 0x${fragment.identification.toString(16).padStart(8, '0')}${fragment.moreFragments ? ', more follow' : ', last'}`;
      return s;
    }
  }
  summarizeUpper(s, protocol, bytes.subarray(offset, end), 6, s.fragment !== undefined);
  if (s.fragment) s.info += ` [first fragment, ID 0x${s.fragment.id.toString(16).padStart(8, '0')}]`;
  return s;
}

/**
 * Fills the transport part of `s` from the upper-layer bytes. In a first fragment (`partial`) the
 * datagram continues in later fragments, so only the UDP header is read, not its payload.
 */
function summarizeUpper(s: PacketSummary, protocol: number, payload: Uint8Array, version: 4 | 6, partial: boolean): void {
  switch (protocol) {
    case IpProtocol.Tcp:
      return summarizeTcp(s, payload);
    case IpProtocol.Udp:
      if (partial && payload.length >= 8) {
        s.protocol = 'UDP';
        s.srcPort = (payload[0] << 8) | payload[1];
        s.dstPort = (payload[2] << 8) | payload[3];
        s.udpPayloadLength = Math.max(0, ((payload[4] << 8) | payload[5]) - 8);
        s.info = `${s.srcPort} → ${s.dstPort} Len=${s.udpPayloadLength}`;
        return;
      }
      return summarizeUdp(s, payload);
    case IpProtocol.Icmp:
      if (version === 4) return summarizeIcmp(s, payload, 4);
      break;
    case IpProtocol.Icmpv6:
      if (version === 6) return summarizeIcmp(s, payload, 6);
      break;
    case IpProtocol.Ipv6NoNext:
      s.info = 'IPv6, no next header';
      return;
  }
  s.info = `${protocolName(protocol)}, ${payload.length} bytes of payload`;
}

function summarizeTcp(s: PacketSummary, payload: Uint8Array): void {
  s.protocol = 'TCP';
  const packet = TcpPacket.parse(payload);
  if (typeof packet === 'string') {
    if (payload.length >= 4) {
      s.srcPort = (payload[0] << 8) | payload[1];
      s.dstPort = (payload[2] << 8) | payload[3];
    }
    s.malformed = `TCP header: ${packet.replace(/^tcp-/, '')}`;
    s.info = `${s.srcPort !== undefined ? `${s.srcPort} → ${s.dstPort} ` : ''}[malformed TCP header: ${packet.replace(/^tcp-/, '')}]`;
    return;
  }
  s.srcPort = packet.srcPort;
  s.dstPort = packet.dstPort;
  const flags = packet.flags;
  const tcp: TcpSummary = {
    flags,
    flagNames: tcpFlagNames(flags),
    seq: packet.seq,
    ack: packet.ack,
    window: packet.window,
    payloadLength: packet.payload.length,
  };
  const repr = parseTcpRepr(packet);
  if (typeof repr === 'string') {
    s.malformed = 'TCP options: bad option length';
  } else {
    if (repr.mss !== undefined) tcp.mss = repr.mss;
    if (repr.windowScale !== undefined) tcp.windowScale = repr.windowScale;
    if (repr.sackPermitted) tcp.sackPermitted = true;
    if (repr.sackBlocks) tcp.sackBlocks = repr.sackBlocks.length / 2;
  }
  s.tcp = tcp;
  s.info = tcpInfo(packet.srcPort, packet.dstPort, tcp);
  // TLS is recognised by its record header, on any port (intranet HTTPS often is not on 443).
  const tls = packet.payload.length ? summarizeTlsPayload(packet.payload) : undefined;
  if (tls) {
    s.protocol = 'TLS';
    s.tls = tls;
    // Like an analyser's Info column: the TLS messages; the TCP numbers stay in `tcp` and the detail pane.
    s.info = tls.info;
  }
}

/**
 * The Info text of a TCP segment: ports, flags, then sequence and acknowledgement numbers
 * (relative to the connection's initial sequence numbers when known, as analysers show them).
 */
export function tcpInfo(srcPort: number, dstPort: number, tcp: TcpSummary): string {
  const parts = [`${srcPort} → ${dstPort}`, `[${tcp.flagNames.join(', ') || 'none'}]`, `Seq=${tcp.relativeSeq ?? tcp.seq}`];
  if (tcp.flags & TcpFlag.ACK) parts.push(`Ack=${tcp.relativeAck ?? tcp.ack}`);
  parts.push(`Win=${tcp.window}`, `Len=${tcp.payloadLength}`);
  if (tcp.mss !== undefined) parts.push(`MSS=${tcp.mss}`);
  if (tcp.windowScale !== undefined) parts.push(`WS=${2 ** tcp.windowScale}`);
  if (tcp.sackPermitted) parts.push('SACK_PERM');
  if (tcp.sackBlocks) parts.push(`SACK×${tcp.sackBlocks}`);
  return parts.join(' ');
}


function summarizeUdp(s: PacketSummary, payload: Uint8Array): void {
  s.protocol = 'UDP';
  const packet = UdpPacket.view(payload);
  if (!packet) {
    const why = UdpPacket.check(payload) ?? 'truncated';
    if (payload.length >= 4) {
      s.srcPort = (payload[0] << 8) | payload[1];
      s.dstPort = (payload[2] << 8) | payload[3];
    }
    s.malformed = `UDP header: ${why}`;
    s.info = `${s.srcPort !== undefined ? `${s.srcPort} → ${s.dstPort} ` : ''}[malformed UDP header: ${why}]`;
    return;
  }
  s.srcPort = packet.srcPort;
  s.dstPort = packet.dstPort;
  const data = packet.payload;
  s.udpPayloadLength = data.length;
  s.info = `${packet.srcPort} → ${packet.dstPort} Len=${data.length}`;
  if (packet.srcPort === DNS_PORT || packet.dstPort === DNS_PORT) {
    const dns = summarizeDns(data);
    if (dns) {
      s.protocol = 'DNS';
      s.dns = dns;
      const q = dns.name !== undefined ? ` ${dns.type} ${dns.name}` : '';
      if (!dns.response) s.info = `Standard query ${hex16(dns.id)}${q}`;
      else {
        const answers = dns.answers?.length ? ` → ${dns.answers.join(', ')}` : '';
        s.info = `Standard query response ${hex16(dns.id)}${q}${dns.rcode && dns.rcode !== 'NOERROR' ? ` ${dns.rcode}` : ''}${answers}`;
      }
    }
  }
}

/** The DNS question (and answers) of a message, or undefined when it does not parse. */
function summarizeDns(data: Uint8Array): DnsSummary | undefined {
  const r = parseDnsMessage(data);
  if (!r.ok) return undefined;
  const m = r.message;
  const out: DnsSummary = { id: m.id, response: m.flags.qr };
  const q = m.questions[0];
  if (q) {
    out.name = q.name;
    out.type = typeName(q.type);
  }
  if (m.flags.qr) {
    out.rcode = rcodeName(m.flags.rcode);
    const answers: string[] = [];
    for (const a of m.answers) {
      if (a.data.kind === 'address') answers.push(formatIp(a.data.address));
      else if (a.data.kind === 'name') answers.push(a.data.name);
    }
    if (answers.length) out.answers = answers;
  }
  return out;
}

function summarizeIcmp(s: PacketSummary, payload: Uint8Array, version: 4 | 6): void {
  s.protocol = version === 4 ? 'ICMP' : 'ICMPv6';
  const packet = version === 4 ? Icmpv4Packet.view(payload) : Icmpv6Packet.view(payload);
  if (!packet) {
    s.malformed = `${s.protocol} header: truncated`;
    s.info = `Malformed ${s.protocol} message (truncated)`;
    return;
  }
  const { type, code } = packet;
  const name = version === 4 ? icmpv4Name(type, code) : icmpv6Name(type, code);
  const icmp: IcmpSummary = { type, code, name };
  const echo = version === 4 ? type === 0 || type === 8 : type === 128 || type === 129;
  if (echo) {
    icmp.identifier = packet.identifier;
    icmp.sequence = packet.sequence;
    s.info = `${name} id=${hex16(packet.identifier)}, seq=${packet.sequence}`;
  } else {
    s.info = name;
    const error = version === 4 ? type === 3 || type === 11 || type === 12 : type >= 1 && type <= 4;
    const quote = error ? parseIcmpQuote(packet.data, version) : undefined;
    if (quote) {
      const proto = PROTOCOL_NAMES[quote.protocol] ?? `protocol ${quote.protocol}`;
      const at = (a: Uint8Array, port: number | undefined): string =>
        port === undefined ? formatIp(a) : formatEndpoint({ host: formatIp(a), port });
      s.info += ` for ${proto} ${at(quote.src, quote.srcPort)} → ${at(quote.dst, quote.dstPort)}`;
    }
    if (packet instanceof Icmpv6Packet && type === 2) s.info += ` (MTU ${packet.word})`;
  }
  s.icmp = icmp;
}
