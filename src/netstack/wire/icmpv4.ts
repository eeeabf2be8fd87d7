/**
 * ICMP for IPv4 (RFC 792; RFC 1191 for the next-hop MTU): a checked view ({@link Icmpv4Packet})
 * and a parsed representation ({@link Icmpv4Repr}) covering echo, destination unreachable
 * (including fragmentation needed), time exceeded and parameter problem. The checksum covers the
 * whole ICMP message, with no pseudo-header; it is verified on parse and filled on emit.
 *
 * Error messages carry a quote of the datagram that caused them; icmp-quote.ts reads it so the
 * netstack can hand the error to the socket that sent that datagram.
 */
import { internetChecksum } from './checksum.ts';
import { placeBytes } from './place-bytes.ts';
import { type WireResult, wireError, wireOk } from './wire-result.ts';

/** Length of the ICMP header: type, code, checksum and the 4-byte rest-of-header. */
export const ICMPV4_HEADER_LENGTH = 8;

/** ICMPv4 message types we understand (RFC 792). */
export const Icmpv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;

/** Destination Unreachable codes (RFC 792; RFC 1122 §3.2.2.1; RFC 1812 §5.2.7.1). */
export const Icmpv4UnreachableCode = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  /** Fragmentation needed and DF set; the next-hop MTU is in the header (RFC 1191 §4). */
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  NetUnknown: 6,
  HostUnknown: 7,
  NetProhibited: 9,
  HostProhibited: 10,
  AdminProhibited: 13,
} as const;

/** Time Exceeded codes (RFC 792). */
export const Icmpv4TimeExceededCode = {
  TtlExceeded: 0,
  FragmentReassembly: 1,
} as const;

/** Why an ICMPv4 message was rejected. */
export type Icmpv4ParseError = 'truncated' | 'bad-checksum';

/** A read-only view of an ICMPv4 message (the whole IPv4 payload). */
export class Icmpv4Packet {
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** `'truncated'` when `bytes` cannot hold the 8-byte header, else `undefined`. */
  static check(bytes: Uint8Array): 'truncated' | undefined {
    return bytes.length < ICMPV4_HEADER_LENGTH ? 'truncated' : undefined;
  }

  /** A view over `bytes`, or `undefined` when it is shorter than the header. */
  static view(bytes: Uint8Array): Icmpv4Packet | undefined {
    return bytes.length < ICMPV4_HEADER_LENGTH ? undefined : new Icmpv4Packet(bytes);
  }

  get type(): number {
    return this.bytes[0];
  }
  get code(): number {
    return this.bytes[1];
  }
  get checksum(): number {
    return (this.bytes[2] << 8) | this.bytes[3];
  }
  /** Echo identifier (rest-of-header bytes 0-1). */
  get identifier(): number {
    return (this.bytes[4] << 8) | this.bytes[5];
  }
  /** Echo sequence number (rest-of-header bytes 2-3). */
  get sequence(): number {
    return (this.bytes[6] << 8) | this.bytes[7];
  }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191 §4); 0 from pre-1191 routers. */
  get nextHopMtu(): number {
    return (this.bytes[6] << 8) | this.bytes[7];
  }
  /** Parameter Problem pointer (octet offset into the quoted header). */
  get pointer(): number {
    return this.bytes[4];
  }
  /** The 32-bit rest-of-header, unsigned. */
  get restOfHeader(): number {
    return ((this.bytes[4] << 24) | (this.bytes[5] << 16) | (this.bytes[6] << 8) | this.bytes[7]) >>> 0;
  }
  /** Everything after the header: echo data, or the quoted datagram of an error. */
  get data(): Uint8Array {
    return this.bytes.subarray(ICMPV4_HEADER_LENGTH);
  }
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes) === 0;
  }
}

/** Echo request or reply (RFC 792, "Echo or Echo Reply Message"). */
export interface Icmpv4Echo {
  readonly kind: 'echo-request' | 'echo-reply';
  readonly identifier: number;
  readonly sequence: number;
  readonly data: Uint8Array;
}

/** Destination Unreachable; `nextHopMtu` is meaningful for code 4 only (0 otherwise). */
export interface Icmpv4DestinationUnreachable {
  readonly kind: 'destination-unreachable';
  readonly code: number;
  readonly nextHopMtu: number;
  /** The quoted original datagram: its IPv4 header and at least 8 bytes of payload. */
  readonly quote: Uint8Array;
}

/** Time Exceeded (code 0: TTL exceeded in transit; code 1: fragment reassembly time exceeded). */
export interface Icmpv4TimeExceeded {
  readonly kind: 'time-exceeded';
  readonly code: number;
  readonly quote: Uint8Array;
}

/** Parameter Problem; `pointer` is an octet offset into the quoted header. */
export interface Icmpv4ParameterProblem {
  readonly kind: 'parameter-problem';
  readonly code: number;
  readonly pointer: number;
  readonly quote: Uint8Array;
}

/** Any other type (redirect, timestamp, router advertisement ...), kept raw. */
export interface Icmpv4Other {
  readonly kind: 'other';
  readonly type: number;
  readonly code: number;
  readonly restOfHeader: number;
  readonly data: Uint8Array;
}

/** A parsed ICMPv4 message. Byte fields are views into the parsed packet. */
export type Icmpv4Repr = Icmpv4Echo | Icmpv4DestinationUnreachable | Icmpv4TimeExceeded | Icmpv4ParameterProblem | Icmpv4Other;

/** @throws {RangeError} unless `n` fits 16 bits. */
function u16(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`ICMP ${what} must be an integer from 0 to 65535, not ${n}`);
  return n;
}

/** @throws {RangeError} unless `n` fits 8 bits. */
function u8(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`ICMP ${what} must be an integer from 0 to 255, not ${n}`);
  return n;
}

/** Parsing and emitting {@link Icmpv4Repr}. */
export const Icmpv4Repr = {
  /** Verifies the checksum and decodes the message (byte fields are views into `packet`). */
  parse(packet: Icmpv4Packet, options: { verifyChecksum?: boolean } = {}): WireResult<Icmpv4Repr, Icmpv4ParseError> {
    if (options.verifyChecksum !== false && !packet.verifyChecksum()) return wireError('bad-checksum');
    const b = packet.bytes;
    const data = b.subarray(ICMPV4_HEADER_LENGTH);
    const type = b[0];
    const code = b[1];
    switch (type) {
      case Icmpv4Type.EchoRequest:
      case Icmpv4Type.EchoReply:
        return wireOk({
          kind: type === Icmpv4Type.EchoRequest ? 'echo-request' : 'echo-reply',
          identifier: (b[4] << 8) | b[5],
          sequence: (b[6] << 8) | b[7],
          data,
        });
      case Icmpv4Type.DestinationUnreachable:
        return wireOk({
          kind: 'destination-unreachable',
          code,
          nextHopMtu: code === Icmpv4UnreachableCode.FragmentationNeeded ? (b[6] << 8) | b[7] : 0,
          quote: data,
        });
      case Icmpv4Type.TimeExceeded:
        return wireOk({ kind: 'time-exceeded', code, quote: data });
      case Icmpv4Type.ParameterProblem:
        return wireOk({ kind: 'parameter-problem', code, pointer: b[4], quote: data });
      default:
        return wireOk({ kind: 'other', type, code, restOfHeader: packet.restOfHeader, data });
    }
  },

  /** Bytes {@link Icmpv4Repr.emit} writes for `repr`. */
  bufferLength(repr: Icmpv4Repr): number {
    return ICMPV4_HEADER_LENGTH + ('quote' in repr ? repr.quote.length : repr.data.length);
  },

  /**
   * Writes the message at `buffer[0..bufferLength)` and fills its checksum.
   * @throws {RangeError} on a short buffer or out-of-range fields.
   */
  emit(repr: Icmpv4Repr, buffer: Uint8Array): void {
    const len = Icmpv4Repr.bufferLength(repr);
    if (buffer.length < len) throw new RangeError(`this ICMP message needs ${len} bytes, the buffer has ${buffer.length}`);
    let type: number;
    let code: number;
    let rest: number;
    let body: Uint8Array;
    switch (repr.kind) {
      case 'echo-request':
      case 'echo-reply':
        type = repr.kind === 'echo-request' ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
        code = 0;
        rest = ((u16(repr.identifier, 'identifier') << 16) | u16(repr.sequence, 'sequence')) >>> 0;
        body = repr.data;
        break;
      case 'destination-unreachable':
        type = Icmpv4Type.DestinationUnreachable;
        code = u8(repr.code, 'code');
        rest = code === Icmpv4UnreachableCode.FragmentationNeeded ? u16(repr.nextHopMtu, 'next-hop MTU') : 0;
        body = repr.quote;
        break;
      case 'time-exceeded':
        type = Icmpv4Type.TimeExceeded;
        code = u8(repr.code, 'code');
        rest = 0;
        body = repr.quote;
        break;
      case 'parameter-problem':
        type = Icmpv4Type.ParameterProblem;
        code = u8(repr.code, 'code');
        rest = (u8(repr.pointer, 'pointer') << 24) >>> 0;
        body = repr.quote;
        break;
      case 'other':
        type = u8(repr.type, 'type');
        code = u8(repr.code, 'code');
        rest = repr.restOfHeader >>> 0;
        body = repr.data;
        break;
    }
    buffer[0] = type;
    buffer[1] = code;
    buffer[2] = 0;
    buffer[3] = 0;
    buffer[4] = rest >>> 24;
    buffer[5] = (rest >>> 16) & 0xff;
    buffer[6] = (rest >>> 8) & 0xff;
    buffer[7] = rest & 0xff;
    placeBytes(buffer, ICMPV4_HEADER_LENGTH, body);
    const sum = internetChecksum(buffer, 0, len);
    buffer[2] = sum >> 8;
    buffer[3] = sum & 0xff;
  },
};
