/**
 * Reading the original packet quoted inside an ICMP or ICMPv6 error (RFC 792: IP header plus the
 * first 8 payload bytes; RFC 1812 §4.3.2.3 and RFC 4443 §2.4(c): as much as fits), so that the
 * netstack can match the error to the socket that sent the packet: UDP/TCP by ports, ICMP echo by
 * identifier.
 *
 * Quotes are truncated by design and routers may have changed fields (TTL, checksum), so this
 * parser is lenient: it never verifies checksums or lengths beyond what it reads, and it simply
 * omits what the quote does not contain.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { Icmpv4Type } from './icmpv4.ts';
import { Icmpv6Type } from './icmpv6.ts';
import { IpProtocol } from './ip-protocol.ts';
import { walkIpv6Extensions } from './ipv6-extension-headers.ts';

/** What an ICMP error tells about the packet that caused it. */
export interface IcmpQuote {
  readonly version: 4 | 6;
  /** Source of the original packet: one of our addresses, if we sent it. View into the message. */
  readonly src: IpAddress;
  /** Destination of the original packet. View into the message. */
  readonly dst: IpAddress;
  /** Upper-layer protocol of the original packet. */
  readonly protocol: number;
  /**
   * IPv4 total length or IPv6 payload length + 40 of the original packet, as quoted (used to
   * guess a path MTU when a pre-RFC 1191 router reports none).
   */
  readonly originalLength: number;
  /** UDP/TCP ports, when the quote reaches the transport header. */
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** Identifier and sequence of a quoted echo request (ICMP type 8, ICMPv6 type 128). */
  readonly echo?: { readonly identifier: number; readonly sequence: number };
}

function withTransport(
  base: Omit<IcmpQuote, 'srcPort' | 'dstPort' | 'echo'>,
  t: Uint8Array,
  echoRequestType: number,
): IcmpQuote {
  const p = base.protocol;
  if ((p === IpProtocol.Udp || p === IpProtocol.Tcp) && t.length >= 4) {
    return { ...base, srcPort: (t[0] << 8) | t[1], dstPort: (t[2] << 8) | t[3] };
  }
  const icmp = base.version === 4 ? IpProtocol.Icmp : IpProtocol.Icmpv6;
  if (p === icmp && t.length >= 8 && t[0] === echoRequestType) {
    return { ...base, echo: { identifier: (t[4] << 8) | t[5], sequence: (t[6] << 8) | t[7] } };
  }
  return base;
}

/**
 * Reads a quote carried by an ICMP error of the given IP version.
 * @returns `undefined` when even the quoted IP header is incomplete or of the wrong version.
 */
export function parseIcmpQuote(quote: Uint8Array, version: 4 | 6): IcmpQuote | undefined {
  if (version === 4) {
    if (quote.length < 20 || quote[0] >> 4 !== 4) return undefined;
    const ihl = (quote[0] & 15) << 2;
    if (ihl < 20 || ihl > quote.length) return undefined;
    const base = {
      version: 4 as const,
      src: quote.subarray(12, 16),
      dst: quote.subarray(16, 20),
      protocol: quote[9],
      originalLength: (quote[2] << 8) | quote[3],
    };
    // Only the fragment at offset 0 starts with the transport header.
    if ((((quote[6] << 8) | quote[7]) & 0x1fff) !== 0) return base;
    return withTransport(base, quote.subarray(ihl), Icmpv4Type.EchoRequest);
  }
  if (quote.length < 40 || quote[0] >> 4 !== 6) return undefined;
  const src = quote.subarray(8, 24);
  const dst = quote.subarray(24, 40);
  const originalLength = 40 + ((quote[4] << 8) | quote[5]);
  let chain = walkIpv6Extensions(quote, 40, quote[6], 6, true);
  if (chain.ok && chain.value.fragment) {
    if (chain.value.fragment.fragmentOffset !== 0) {
      return { version: 6, src, dst, protocol: chain.value.protocol, originalLength };
    }
    chain = walkIpv6Extensions(quote, chain.value.offset, chain.value.protocol, chain.value.protocolField, false);
  }
  if (!chain.ok) return { version: 6, src, dst, protocol: quote[6], originalLength };
  const base = { version: 6 as const, src, dst, protocol: chain.value.protocol, originalLength };
  return withTransport(base, quote.subarray(chain.value.offset), Icmpv6Type.EchoRequest);
}
