/**
 * IPv6 packets (RFC 8200 §3): a checked view over the fixed header ({@link Ipv6Packet}), a parsed
 * representation ({@link Ipv6Repr}), and source fragmentation with a Fragment header
 * ({@link fragmentIpv6}, RFC 8200 §4.5). Extension headers are walked in ipv6-extension-headers.ts.
 *
 *   bytes ─▶ Ipv6Packet.check/view (lengths) ─▶ Ipv6Repr.parse ─▶ walkIpv6Extensions ─▶ upper layer
 *   Ipv6Repr.emit (40-byte header) ─▶ bytes ─▶ fragmentIpv6 when larger than the MTU
 *
 * IPv6 has no header checksum: integrity rests on the upper-layer checksum over a pseudo-header.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { DEFAULT_HOP_LIMIT } from '../netstack-constants.ts';
import { IpProtocol } from './ip-protocol.ts';
import { type WireResult, wireOk } from './wire-result.ts';

/** Length of the fixed IPv6 header (RFC 8200 §3). */
export const IPV6_HEADER_LENGTH = 40;
/** Length of a Fragment header (RFC 8200 §4.5). */
export const IPV6_FRAGMENT_HEADER_LENGTH = 8;
/** Every IPv6 link carries at least 1280 octets (RFC 8200 §5). */
export const IPV6_MIN_MTU = 1280;
/** The payload-length field is 16 bits; jumbograms (RFC 2675) are not supported. */
export const IPV6_MAX_PAYLOAD_LENGTH = 65535;

/** Why bytes cannot be viewed as an IPv6 packet. */
export type Ipv6Malformation = 'truncated' | 'bad-version';

/**
 * A read-only view of an IPv6 packet. {@link Ipv6Packet.view} guarantees that the fixed header and
 * `payloadLength` bytes are inside the buffer; bytes beyond them are ignored.
 */
export class Ipv6Packet {
  /** The underlying bytes, starting at the fixed header. */
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The reason `bytes` is not a structurally sound IPv6 packet, or `undefined` if it is. */
  static check(bytes: Uint8Array): Ipv6Malformation | undefined {
    if (bytes.length < IPV6_HEADER_LENGTH) return 'truncated';
    if (bytes[0] >> 4 !== 6) return 'bad-version';
    if (IPV6_HEADER_LENGTH + ((bytes[4] << 8) | bytes[5]) > bytes.length) return 'truncated';
    return undefined;
  }

  /** A view over `bytes`, or `undefined` when {@link Ipv6Packet.check} finds a problem. */
  static view(bytes: Uint8Array): Ipv6Packet | undefined {
    return Ipv6Packet.check(bytes) === undefined ? new Ipv6Packet(bytes) : undefined;
  }

  /**
   * A view without checks, for a buffer being emitted.
   * @throws {RangeError} when `bytes` cannot hold the 40-byte fixed header.
   */
  static unchecked(bytes: Uint8Array): Ipv6Packet {
    if (bytes.length < IPV6_HEADER_LENGTH) throw new RangeError(`an IPv6 header needs 40 bytes, the buffer has ${bytes.length}`);
    return new Ipv6Packet(bytes);
  }

  get version(): number {
    return this.bytes[0] >> 4;
  }
  get trafficClass(): number {
    return ((this.bytes[0] & 15) << 4) | (this.bytes[1] >> 4);
  }
  get flowLabel(): number {
    return ((this.bytes[1] & 15) << 16) | (this.bytes[2] << 8) | this.bytes[3];
  }
  get payloadLength(): number {
    return (this.bytes[4] << 8) | this.bytes[5];
  }
  /** The first header after the fixed header: an extension header or the upper layer. */
  get nextHeader(): number {
    return this.bytes[6];
  }
  get hopLimit(): number {
    return this.bytes[7];
  }
  /** Source address, a view into the packet (no copy). */
  get src(): IpAddress {
    return this.bytes.subarray(8, 24);
  }
  /** Destination address, a view into the packet (no copy). */
  get dst(): IpAddress {
    return this.bytes.subarray(24, 40);
  }
  /** Everything after the fixed header, up to the payload length (a view, no copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + this.payloadLength);
  }
}

/** The fields of the fixed IPv6 header. */
export interface Ipv6Repr {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  /** The header that follows the fixed header (an extension header or the upper layer). */
  readonly nextHeader: number;
  readonly payloadLength: number;
  readonly hopLimit: number;
  readonly trafficClass: number;
  readonly flowLabel: number;
}

/** What {@link Ipv6Repr.emit} needs. Defaults: hop limit 64, traffic class 0, flow label 0. */
export type Ipv6EmitInput = Pick<Ipv6Repr, 'src' | 'dst' | 'nextHeader' | 'payloadLength'> & Partial<Ipv6Repr>;

function checkAddress(a: IpAddress, what: string): void {
  if (!(a instanceof Uint8Array) || a.length !== 16) {
    throw new RangeError(`the IPv6 ${what} address must be 16 bytes, got ${a instanceof Uint8Array ? a.length : typeof a}`);
  }
}

/** Parsing and emitting {@link Ipv6Repr}. */
export const Ipv6Repr = {
  /** Reads the fixed header of a checked view. `src`/`dst` are views into the packet. */
  parse(packet: Ipv6Packet): WireResult<Ipv6Repr, never> {
    const b = packet.bytes;
    return wireOk({
      src: b.subarray(8, 24),
      dst: b.subarray(24, 40),
      nextHeader: b[6],
      payloadLength: (b[4] << 8) | b[5],
      hopLimit: b[7],
      trafficClass: ((b[0] & 15) << 4) | (b[1] >> 4),
      flowLabel: ((b[1] & 15) << 16) | (b[2] << 8) | b[3],
    });
  },

  /** Bytes {@link Ipv6Repr.emit} writes. */
  headerLength: IPV6_HEADER_LENGTH,

  /**
   * Writes the 40-byte fixed header at `buffer[0..40)`.
   * @throws {RangeError} on a short buffer, addresses that are not 16 bytes, or a payload length
   * outside 0..65535.
   */
  emit(repr: Ipv6EmitInput, buffer: Uint8Array): void {
    if (buffer.length < IPV6_HEADER_LENGTH) throw new RangeError(`an IPv6 header needs 40 bytes, the buffer has ${buffer.length}`);
    checkAddress(repr.src, 'source');
    checkAddress(repr.dst, 'destination');
    const len = repr.payloadLength;
    if (!Number.isInteger(len) || len < 0 || len > IPV6_MAX_PAYLOAD_LENGTH) {
      throw new RangeError(`an IPv6 payload is 0 to ${IPV6_MAX_PAYLOAD_LENGTH} bytes, not ${len}`);
    }
    const tc = (repr.trafficClass ?? 0) & 0xff;
    const flow = (repr.flowLabel ?? 0) & 0xfffff;
    buffer[0] = 0x60 | (tc >> 4);
    buffer[1] = ((tc & 15) << 4) | (flow >> 16);
    buffer[2] = (flow >> 8) & 0xff;
    buffer[3] = flow & 0xff;
    buffer[4] = len >> 8;
    buffer[5] = len & 0xff;
    buffer[6] = repr.nextHeader & 0xff;
    buffer[7] = (repr.hopLimit ?? DEFAULT_HOP_LIMIT) & 0xff;
    buffer.set(repr.src, 8);
    buffer.set(repr.dst, 24);
  },
};

/**
 * Splits a packet into fragments of at most `mtu` bytes (RFC 8200 §4.5): each is the fixed header
 * plus a Fragment header naming `protocol`, then a slice of `payload` (the fragmentable part, here
 * the upper-layer header and data). Payload bytes are copied once into the fragments.
 * @param repr the fixed header (`nextHeader` and `payloadLength` are ignored).
 * @param identification the 32-bit fragment identification; must differ from any other fragmented
 * packet recently sent to the same destination (RFC 8200 §4.5, RFC 7739).
 * @throws {RangeError} when `mtu` is below 1280 or the payload cannot fit 65535 bytes.
 */
export function fragmentIpv6(
  repr: Ipv6EmitInput,
  protocol: number,
  payload: Uint8Array,
  mtu: number,
  identification: number,
): Uint8Array[] {
  if (!Number.isInteger(mtu) || mtu < IPV6_MIN_MTU) throw new RangeError(`IPv6 needs an MTU of at least ${IPV6_MIN_MTU}, not ${mtu}`);
  if (payload.length + IPV6_FRAGMENT_HEADER_LENGTH > IPV6_MAX_PAYLOAD_LENGTH) {
    throw new RangeError(`a fragmented IPv6 packet carries at most ${IPV6_MAX_PAYLOAD_LENGTH - IPV6_FRAGMENT_HEADER_LENGTH} bytes, not ${payload.length}`);
  }
  const chunk = (mtu - IPV6_HEADER_LENGTH - IPV6_FRAGMENT_HEADER_LENGTH) & ~7;
  const out: Uint8Array[] = [];
  let offset = 0;
  do {
    const len = Math.min(chunk, payload.length - offset);
    const more = offset + len < payload.length;
    const frag = new Uint8Array(IPV6_HEADER_LENGTH + IPV6_FRAGMENT_HEADER_LENGTH + len);
    Ipv6Repr.emit({ ...repr, nextHeader: IpProtocol.Ipv6Fragment, payloadLength: IPV6_FRAGMENT_HEADER_LENGTH + len }, frag);
    const h = IPV6_HEADER_LENGTH;
    frag[h] = protocol & 0xff;
    frag[h + 1] = 0;
    frag[h + 2] = offset >> 8;
    frag[h + 3] = (offset & 0xf8) | (more ? 1 : 0);
    frag[h + 4] = (identification >>> 24) & 0xff;
    frag[h + 5] = (identification >>> 16) & 0xff;
    frag[h + 6] = (identification >>> 8) & 0xff;
    frag[h + 7] = identification & 0xff;
    frag.set(payload.subarray(offset, offset + len), h + IPV6_FRAGMENT_HEADER_LENGTH);
    out.push(frag);
    offset += len;
  } while (offset < payload.length);
  return out;
}
