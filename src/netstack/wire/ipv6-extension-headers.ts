/**
 * Walking the IPv6 extension-header chain (RFC 8200 §4) as an end host, to find the upper-layer
 * header or the Fragment header.
 *
 *   fixed header ─▶ Hop-by-Hop? ─▶ Destination Options / Routing / AH ... ─▶ Fragment? ─▶ upper layer
 *
 * Policy, as a host that never forwards:
 * - Hop-by-Hop is accepted only right after the fixed header (RFC 8200 §4.1).
 * - Options (Hop-by-Hop, Destination): Pad1/PadN are skipped; an unknown option is skipped only when
 *   its two high-order bits are 00, otherwise the packet is discarded (RFC 8200 §4.2). We do not
 *   send the optional Parameter Problem for it.
 * - Routing header: skipped when Segments Left is 0; otherwise the packet would have to be
 *   forwarded, so it is discarded (RFC 8200 §4.4; type 0 is deprecated by RFC 5095).
 * - AH (RFC 4302) is skipped without verification (we hold no security associations).
 * - The walk stops at a Fragment header: what follows is only meaningful after reassembly.
 * Any other value is the upper-layer protocol (including ESP and No Next Header).
 */
import { IpProtocol } from './ip-protocol.ts';
import { type WireResult, wireError, wireOk } from './wire-result.ts';

/** Why an extension-header chain was rejected. */
export type Ipv6ChainError = 'truncated' | 'misplaced-hop-by-hop' | 'bad-option' | 'unknown-option' | 'routing-header';

/** The Fragment header found in a chain (RFC 8200 §4.5). */
export interface Ipv6FragmentInfo {
  /** Offset of the Fragment header itself in the walked bytes. */
  readonly headerOffset: number;
  /** Offset of this fragment's data in the original fragmentable part, in bytes. */
  readonly fragmentOffset: number;
  readonly moreFragments: boolean;
  /** 32-bit identification (unsigned). */
  readonly identification: number;
}

/** Where the walk ended. */
export interface Ipv6Chain {
  /**
   * The upper-layer protocol; after a Fragment header, the Next Header it names (only meaningful
   * in the fragment at offset 0, RFC 8200 §4.5).
   */
  readonly protocol: number;
  /** Offset, in the walked bytes, of the upper-layer header (or of the fragment data). */
  readonly offset: number;
  /** Offset of the byte that holds `protocol` (for an ICMPv6 Parameter Problem pointer). */
  readonly protocolField: number;
  /** Present when the walk stopped at a Fragment header. */
  readonly fragment?: Ipv6FragmentInfo;
}

/** Checks the TLV options in `b[start, end)` (RFC 8200 §4.2). */
function checkOptions(b: Uint8Array, start: number, end: number): Ipv6ChainError | undefined {
  let i = start;
  while (i < end) {
    const type = b[i];
    if (type === 0) {
      i++; // Pad1
      continue;
    }
    if (i + 2 > end) return 'bad-option';
    const next = i + 2 + b[i + 1];
    if (next > end) return 'bad-option';
    // PadN (1) and options whose action bits are 00 are skipped; anything else asks for discard.
    if (type !== 1 && type >> 6 !== 0) return 'unknown-option';
    i = next;
  }
  return undefined;
}

/**
 * Walks the chain in `bytes[start, end)` whose first header is `nextHeader`.
 * @param nextHeaderField offset of the byte naming `nextHeader` (6 for a whole packet).
 * @param allowHopByHop true when `start` is right after the fixed header.
 */
export function walkIpv6Extensions(
  bytes: Uint8Array,
  start: number,
  nextHeader: number,
  nextHeaderField: number,
  allowHopByHop: boolean,
  end: number = bytes.length,
): WireResult<Ipv6Chain, Ipv6ChainError> {
  let nh = nextHeader;
  let field = nextHeaderField;
  let off = start;
  for (;;) {
    switch (nh) {
      case IpProtocol.HopByHop:
      case IpProtocol.Ipv6DestinationOptions: {
        if (nh === IpProtocol.HopByHop && !(allowHopByHop && off === start)) return wireError('misplaced-hop-by-hop');
        if (off + 2 > end) return wireError('truncated');
        const len = (bytes[off + 1] + 1) << 3;
        if (off + len > end) return wireError('truncated');
        const bad = checkOptions(bytes, off + 2, off + len);
        if (bad) return wireError(bad);
        field = off;
        nh = bytes[off];
        off += len;
        break;
      }
      case IpProtocol.Ipv6Route: {
        if (off + 4 > end) return wireError('truncated');
        const len = (bytes[off + 1] + 1) << 3;
        if (off + len > end) return wireError('truncated');
        if (bytes[off + 3] !== 0) return wireError('routing-header');
        field = off;
        nh = bytes[off];
        off += len;
        break;
      }
      case IpProtocol.Ah: {
        if (off + 2 > end) return wireError('truncated');
        const len = (bytes[off + 1] + 2) << 2;
        if (off + len > end) return wireError('truncated');
        field = off;
        nh = bytes[off];
        off += len;
        break;
      }
      case IpProtocol.Ipv6Fragment: {
        if (off + 8 > end) return wireError('truncated');
        const word = (bytes[off + 2] << 8) | bytes[off + 3];
        return wireOk({
          protocol: bytes[off],
          offset: off + 8,
          protocolField: off,
          fragment: {
            headerOffset: off,
            fragmentOffset: word & 0xfff8,
            moreFragments: (word & 1) !== 0,
            identification: ((bytes[off + 4] << 24) | (bytes[off + 5] << 16) | (bytes[off + 6] << 8) | bytes[off + 7]) >>> 0,
          },
        });
      }
      default:
        return wireOk({ protocol: nh, offset: off, protocolField: field });
    }
  }
}
