/**
 * IPv4 datagrams (RFC 791 §3.1): a checked view over the bytes ({@link Ipv4Packet}), a parsed
 * representation ({@link Ipv4Repr}) that is verified on parse and checksummed on emit, and
 * source fragmentation ({@link fragmentIpv4}). Reassembly lives in fragment-reassembler.ts.
 *
 *   bytes ─▶ Ipv4Packet.check/view (lengths) ─▶ Ipv4Repr.parse (version, checksum) ─▶ payload
 *   Ipv4Repr.emit (20-byte header, checksum) ─▶ bytes  ─▶ fragmentIpv4 when larger than the MTU
 *
 * Options are skipped on input (the payload starts at IHL) and never emitted.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { DEFAULT_TTL } from '../netstack-constants.ts';
import { internetChecksum } from './checksum.ts';
import { type WireResult, wireError, wireOk } from './wire-result.ts';

/** Length of an IPv4 header without options (RFC 791 §3.1, IHL = 5). */
export const IPV4_HEADER_LENGTH = 20;
/** The total-length field is 16 bits (RFC 791 §3.1). */
export const IPV4_MAX_PACKET_LENGTH = 65535;
/** Every IPv4 link carries at least 68 octets (RFC 791 §3.2, "Fragmentation and reassembly"). */
export const IPV4_MIN_MTU = 68;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

/** Why bytes cannot be viewed as an IPv4 datagram. */
export type Ipv4Malformation = 'truncated' | 'bad-version' | 'bad-header-length' | 'bad-total-length';
/** Why an IPv4 datagram was rejected by {@link Ipv4Repr.parse}. */
export type Ipv4ParseError = Ipv4Malformation | 'bad-checksum';

/**
 * A read-only view of an IPv4 datagram. {@link Ipv4Packet.view} guarantees that the header (with
 * its options) and `totalLength` bytes are inside the buffer, so every accessor is in bounds.
 * Bytes beyond `totalLength` (link padding) are ignored.
 */
export class Ipv4Packet {
  /** The underlying bytes, starting at the IPv4 header. */
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The reason `bytes` is not a structurally sound IPv4 datagram, or `undefined` if it is. */
  static check(bytes: Uint8Array): Ipv4Malformation | undefined {
    if (bytes.length < IPV4_HEADER_LENGTH) return 'truncated';
    if (bytes[0] >> 4 !== 4) return 'bad-version';
    const ihl = (bytes[0] & 15) << 2;
    if (ihl < IPV4_HEADER_LENGTH) return 'bad-header-length';
    const total = (bytes[2] << 8) | bytes[3];
    if (total < ihl) return 'bad-total-length';
    if (ihl > bytes.length || total > bytes.length) return 'truncated';
    return undefined;
  }

  /** A view over `bytes`, or `undefined` when {@link Ipv4Packet.check} finds a problem. */
  static view(bytes: Uint8Array): Ipv4Packet | undefined {
    return Ipv4Packet.check(bytes) === undefined ? new Ipv4Packet(bytes) : undefined;
  }

  /**
   * A view without checks, for filling a buffer being emitted. Accessors read whatever the buffer
   * holds.
   * @throws {RangeError} when `bytes` cannot even hold a 20-byte header.
   */
  static unchecked(bytes: Uint8Array): Ipv4Packet {
    if (bytes.length < IPV4_HEADER_LENGTH) throw new RangeError(`an IPv4 header needs 20 bytes, the buffer has ${bytes.length}`);
    return new Ipv4Packet(bytes);
  }

  get version(): number {
    return this.bytes[0] >> 4;
  }
  /** Header length in bytes (IHL × 4), options included. */
  get headerLength(): number {
    return (this.bytes[0] & 15) << 2;
  }
  /** The former type-of-service byte: DSCP (6 bits) and ECN (2 bits), RFC 2474 / RFC 3168. */
  get tos(): number {
    return this.bytes[1];
  }
  get totalLength(): number {
    return (this.bytes[2] << 8) | this.bytes[3];
  }
  get identification(): number {
    return (this.bytes[4] << 8) | this.bytes[5];
  }
  get dontFragment(): boolean {
    return (((this.bytes[6] << 8) | this.bytes[7]) & FLAG_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (((this.bytes[6] << 8) | this.bytes[7]) & FLAG_MF) !== 0;
  }
  /** Fragment offset in bytes (the field counts 8-byte units). */
  get fragmentOffset(): number {
    return (((this.bytes[6] << 8) | this.bytes[7]) & OFFSET_MASK) << 3;
  }
  /** True for every piece of a fragmented datagram (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (((this.bytes[6] << 8) | this.bytes[7]) & (FLAG_MF | OFFSET_MASK)) !== 0;
  }
  get ttl(): number {
    return this.bytes[8];
  }
  get protocol(): number {
    return this.bytes[9];
  }
  get checksum(): number {
    return (this.bytes[10] << 8) | this.bytes[11];
  }
  /** Source address, a view into the packet (no copy). */
  get src(): IpAddress {
    return this.bytes.subarray(12, 16);
  }
  /** Destination address, a view into the packet (no copy). */
  get dst(): IpAddress {
    return this.bytes.subarray(16, 20);
  }
  /** Options bytes (empty for IHL = 5). */
  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_HEADER_LENGTH, this.headerLength);
  }
  /** The header, options included. */
  get header(): Uint8Array {
    return this.bytes.subarray(0, this.headerLength);
  }
  /** The payload: from the end of the header to `totalLength` (a view, no copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }
  /** True when the header checksum is valid (RFC 791 §3.1: the sum over the header is all ones). */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes, 0, this.headerLength) === 0;
  }
}

/** The fields of an IPv4 header that the netstack reads and writes. */
export interface Ipv4Repr {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  /** Payload length in bytes (total length minus header length). */
  readonly payloadLength: number;
  readonly ttl: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Offset of this fragment's payload in the original datagram, in bytes (multiple of 8). */
  readonly fragmentOffset: number;
  /** DSCP and ECN. */
  readonly tos: number;
}

/**
 * What {@link Ipv4Repr.emit} needs. Defaults: TTL 64, identification 0, DF set (we rely on path
 * MTU discovery, RFC 1191), not a fragment, TOS 0.
 */
export type Ipv4EmitInput = Pick<Ipv4Repr, 'src' | 'dst' | 'protocol' | 'payloadLength'> & Partial<Ipv4Repr>;

function checkAddress(a: IpAddress, what: string): void {
  if (!(a instanceof Uint8Array) || a.length !== 4) {
    throw new RangeError(`the IPv4 ${what} address must be 4 bytes, got ${a instanceof Uint8Array ? a.length : typeof a}`);
  }
}

/** Parsing and emitting {@link Ipv4Repr}. */
export const Ipv4Repr = {
  /**
   * Reads the header of a checked view and verifies version and checksum. `src`/`dst` are views
   * into the packet.
   */
  parse(packet: Ipv4Packet, options: { verifyChecksum?: boolean } = {}): WireResult<Ipv4Repr, Ipv4ParseError> {
    const b = packet.bytes;
    if (options.verifyChecksum !== false && !packet.verifyChecksum()) return wireError('bad-checksum');
    const flags = (b[6] << 8) | b[7];
    const ihl = (b[0] & 15) << 2;
    return wireOk({
      src: b.subarray(12, 16),
      dst: b.subarray(16, 20),
      protocol: b[9],
      payloadLength: ((b[2] << 8) | b[3]) - ihl,
      ttl: b[8],
      identification: (b[4] << 8) | b[5],
      dontFragment: (flags & FLAG_DF) !== 0,
      moreFragments: (flags & FLAG_MF) !== 0,
      fragmentOffset: (flags & OFFSET_MASK) << 3,
      tos: b[1],
    });
  },

  /** Bytes {@link Ipv4Repr.emit} writes (no options are ever emitted). */
  headerLength: IPV4_HEADER_LENGTH,

  /**
   * Writes a 20-byte header at `buffer[0..20)` with its checksum. The payload is the caller's, at
   * `buffer[20..)`.
   * @throws {RangeError} on a buffer shorter than 20 bytes, addresses that are not 4 bytes, a
   * total length above 65535, or a fragment offset that is not a multiple of 8.
   */
  emit(repr: Ipv4EmitInput, buffer: Uint8Array): void {
    if (buffer.length < IPV4_HEADER_LENGTH) throw new RangeError(`an IPv4 header needs 20 bytes, the buffer has ${buffer.length}`);
    checkAddress(repr.src, 'source');
    checkAddress(repr.dst, 'destination');
    const total = IPV4_HEADER_LENGTH + repr.payloadLength;
    if (!Number.isInteger(repr.payloadLength) || repr.payloadLength < 0 || total > IPV4_MAX_PACKET_LENGTH) {
      throw new RangeError(`an IPv4 datagram holds at most ${IPV4_MAX_PACKET_LENGTH - IPV4_HEADER_LENGTH} payload bytes, not ${repr.payloadLength}`);
    }
    const offset = repr.fragmentOffset ?? 0;
    if (offset % 8 !== 0 || offset < 0 || offset >> 3 > OFFSET_MASK) {
      throw new RangeError(`an IPv4 fragment offset is a multiple of 8 below 65536, not ${offset}`);
    }
    const ttl = repr.ttl ?? DEFAULT_TTL;
    const id = repr.identification ?? 0;
    const flags = ((repr.dontFragment ?? true) ? FLAG_DF : 0) | (repr.moreFragments ? FLAG_MF : 0) | (offset >> 3);
    buffer[0] = 0x45;
    buffer[1] = (repr.tos ?? 0) & 0xff;
    buffer[2] = total >> 8;
    buffer[3] = total & 0xff;
    buffer[4] = (id >> 8) & 0xff;
    buffer[5] = id & 0xff;
    buffer[6] = flags >> 8;
    buffer[7] = flags & 0xff;
    buffer[8] = ttl & 0xff;
    buffer[9] = repr.protocol & 0xff;
    buffer[10] = 0;
    buffer[11] = 0;
    buffer.set(repr.src, 12);
    buffer.set(repr.dst, 16);
    const sum = internetChecksum(buffer, 0, IPV4_HEADER_LENGTH);
    buffer[10] = sum >> 8;
    buffer[11] = sum & 0xff;
  },
};

/**
 * Splits a datagram into fragments of at most `mtu` bytes each (RFC 791 §3.2, "An Example
 * Fragmentation Procedure"): every fragment repeats the header with DF clear, its own offset, and
 * MF on all but the last. Payload bytes are copied once into the fragments.
 * @param repr the header of the whole datagram (`payloadLength`, DF, MF and offset are ignored).
 * @throws {RangeError} when `mtu` leaves no room for 8 payload bytes or the datagram exceeds 65535.
 */
export function fragmentIpv4(repr: Ipv4EmitInput, payload: Uint8Array, mtu: number): Uint8Array[] {
  if (!Number.isInteger(mtu) || mtu < IPV4_HEADER_LENGTH + 8) throw new RangeError(`an MTU of ${mtu} cannot carry IPv4 fragments`);
  if (IPV4_HEADER_LENGTH + payload.length > IPV4_MAX_PACKET_LENGTH) {
    throw new RangeError(`an IPv4 datagram holds at most ${IPV4_MAX_PACKET_LENGTH - IPV4_HEADER_LENGTH} payload bytes, not ${payload.length}`);
  }
  // All fragments but the last carry a multiple of 8 payload bytes (offsets count 8-byte units).
  const chunk = (mtu - IPV4_HEADER_LENGTH) & ~7;
  const out: Uint8Array[] = [];
  let offset = 0;
  do {
    const len = Math.min(chunk, payload.length - offset);
    const more = offset + len < payload.length;
    const frag = new Uint8Array(IPV4_HEADER_LENGTH + len);
    Ipv4Repr.emit({ ...repr, payloadLength: len, dontFragment: false, moreFragments: more, fragmentOffset: offset }, frag);
    frag.set(payload.subarray(offset, offset + len), IPV4_HEADER_LENGTH);
    out.push(frag);
    offset += len;
  } while (offset < payload.length);
  return out;
}
