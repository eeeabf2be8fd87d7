/**
 * ICMP for IPv6 (RFC 4443): a checked view ({@link Icmpv6Packet}) and a parsed representation
 * ({@link Icmpv6Repr}) covering echo, destination unreachable, packet too big, time exceeded and
 * parameter problem. The checksum covers an IPv6 pseudo-header (RFC 8200 §8.1, next header 58) and
 * is mandatory: verified on parse, filled on emit (RFC 4443 §2.3).
 *
 * Neighbor Discovery and MLD messages parse as `other`: a WireGuard tunnel is a point-to-point
 * layer-3 link with no link-layer addresses to resolve.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.ts';
import { IpProtocol } from './ip-protocol.ts';
import { placeBytes } from './place-bytes.ts';
import { type WireResult, wireError, wireOk } from './wire-result.ts';

/** Length of the ICMPv6 header: type, code, checksum and the 4-byte message body start. */
export const ICMPV6_HEADER_LENGTH = 8;

/** ICMPv6 message types we understand (RFC 4443 §2.1). */
export const Icmpv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
} as const;

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  AdminProhibited: 1,
  BeyondScope: 2,
  Address: 3,
  Port: 4,
  SourcePolicy: 5,
  RejectRoute: 6,
} as const;

/** Time Exceeded codes (RFC 4443 §3.3). */
export const Icmpv6TimeExceededCode = {
  HopLimitExceeded: 0,
  FragmentReassembly: 1,
} as const;

/** Parameter Problem codes (RFC 4443 §3.4). */
export const Icmpv6ParameterProblemCode = {
  ErroneousHeader: 0,
  UnrecognizedNextHeader: 1,
  UnrecognizedOption: 2,
} as const;

/** Why an ICMPv6 message was rejected. */
export type Icmpv6ParseError = 'truncated' | 'bad-checksum';

/** A read-only view of an ICMPv6 message (exactly the upper-layer bytes). */
export class Icmpv6Packet {
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** `'truncated'` when `bytes` cannot hold the 8-byte header, else `undefined`. */
  static check(bytes: Uint8Array): 'truncated' | undefined {
    return bytes.length < ICMPV6_HEADER_LENGTH ? 'truncated' : undefined;
  }

  /** A view over `bytes`, or `undefined` when it is shorter than the header. */
  static view(bytes: Uint8Array): Icmpv6Packet | undefined {
    return bytes.length < ICMPV6_HEADER_LENGTH ? undefined : new Icmpv6Packet(bytes);
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
  get identifier(): number {
    return (this.bytes[4] << 8) | this.bytes[5];
  }
  get sequence(): number {
    return (this.bytes[6] << 8) | this.bytes[7];
  }
  /** MTU of a Packet Too Big message, or pointer of a Parameter Problem (32 bits, unsigned). */
  get word(): number {
    return ((this.bytes[4] << 24) | (this.bytes[5] << 16) | (this.bytes[6] << 8) | this.bytes[7]) >>> 0;
  }
  /** Everything after the 8-byte header. */
  get data(): Uint8Array {
    return this.bytes.subarray(ICMPV6_HEADER_LENGTH);
  }
  /** True when the checksum over the pseudo-header and message is valid. */
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    const b = this.bytes;
    return finishChecksum(sumBytes(b, 0, b.length, pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, b.length))) === 0;
  }
}

/** Echo request or reply (RFC 4443 §4.1, §4.2). */
export interface Icmpv6Echo {
  readonly kind: 'echo-request' | 'echo-reply';
  readonly identifier: number;
  readonly sequence: number;
  readonly data: Uint8Array;
}

/** Destination Unreachable (RFC 4443 §3.1). */
export interface Icmpv6DestinationUnreachable {
  readonly kind: 'destination-unreachable';
  readonly code: number;
  /** As much of the invoking packet as fit in 1280 bytes. */
  readonly quote: Uint8Array;
}

/** Packet Too Big (RFC 4443 §3.2), the signal of path MTU discovery (RFC 8201). */
export interface Icmpv6PacketTooBig {
  readonly kind: 'packet-too-big';
  readonly mtu: number;
  readonly quote: Uint8Array;
}

/** Time Exceeded (RFC 4443 §3.3). */
export interface Icmpv6TimeExceeded {
  readonly kind: 'time-exceeded';
  readonly code: number;
  readonly quote: Uint8Array;
}

/** Parameter Problem (RFC 4443 §3.4); `pointer` is an octet offset into the invoking packet. */
export interface Icmpv6ParameterProblem {
  readonly kind: 'parameter-problem';
  readonly code: number;
  readonly pointer: number;
  readonly quote: Uint8Array;
}

/** Any other type (Neighbor Discovery, MLD ...), kept raw. */
export interface Icmpv6Other {
  readonly kind: 'other';
  readonly type: number;
  readonly code: number;
  /** The 4 bytes after the checksum, unsigned. */
  readonly word: number;
  readonly data: Uint8Array;
}

/** A parsed ICMPv6 message. Byte fields are views into the parsed packet. */
export type Icmpv6Repr =
  | Icmpv6Echo
  | Icmpv6DestinationUnreachable
  | Icmpv6PacketTooBig
  | Icmpv6TimeExceeded
  | Icmpv6ParameterProblem
  | Icmpv6Other;

function uint(n: number, bits: 8 | 16 | 32, what: string): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`ICMPv6 ${what} must be an integer from 0 to ${max}, not ${n}`);
  return n;
}

/** Parsing and emitting {@link Icmpv6Repr}. */
export const Icmpv6Repr = {
  /**
   * Verifies the checksum over the pseudo-header built from `src` and `dst` (the addresses of the
   * IPv6 packet that carried it) and decodes the message.
   */
  parse(
    packet: Icmpv6Packet,
    src: IpAddress,
    dst: IpAddress,
    options: { verifyChecksum?: boolean } = {},
  ): WireResult<Icmpv6Repr, Icmpv6ParseError> {
    if (options.verifyChecksum !== false && !packet.verifyChecksum(src, dst)) return wireError('bad-checksum');
    const b = packet.bytes;
    const data = b.subarray(ICMPV6_HEADER_LENGTH);
    const type = b[0];
    const code = b[1];
    switch (type) {
      case Icmpv6Type.EchoRequest:
      case Icmpv6Type.EchoReply:
        // RFC 4443 §4.1 sends code 0; like Linux, any code is accepted.
        return wireOk({
          kind: type === Icmpv6Type.EchoRequest ? 'echo-request' : 'echo-reply',
          identifier: (b[4] << 8) | b[5],
          sequence: (b[6] << 8) | b[7],
          data,
        });
      case Icmpv6Type.DestinationUnreachable:
        return wireOk({ kind: 'destination-unreachable', code, quote: data });
      case Icmpv6Type.PacketTooBig:
        return wireOk({ kind: 'packet-too-big', mtu: packet.word, quote: data });
      case Icmpv6Type.TimeExceeded:
        return wireOk({ kind: 'time-exceeded', code, quote: data });
      case Icmpv6Type.ParameterProblem:
        return wireOk({ kind: 'parameter-problem', code, pointer: packet.word, quote: data });
      default:
        return wireOk({ kind: 'other', type, code, word: packet.word, data });
    }
  },

  /** Bytes {@link Icmpv6Repr.emit} writes for `repr`. */
  bufferLength(repr: Icmpv6Repr): number {
    return ICMPV6_HEADER_LENGTH + ('quote' in repr ? repr.quote.length : repr.data.length);
  },

  /**
   * Writes the message at `buffer[0..bufferLength)` and fills the checksum over the pseudo-header
   * for `src` → `dst`.
   * @throws {RangeError} on a short buffer, addresses that are not 16 bytes, or out-of-range fields.
   */
  emit(repr: Icmpv6Repr, buffer: Uint8Array, src: IpAddress, dst: IpAddress): void {
    const len = Icmpv6Repr.bufferLength(repr);
    if (buffer.length < len) throw new RangeError(`this ICMPv6 message needs ${len} bytes, the buffer has ${buffer.length}`);
    if (src.length !== 16 || dst.length !== 16) throw new RangeError('ICMPv6 checksums need 16-byte IPv6 addresses');
    let type: number;
    let code = 0;
    let word: number;
    let body: Uint8Array;
    switch (repr.kind) {
      case 'echo-request':
      case 'echo-reply':
        type = repr.kind === 'echo-request' ? Icmpv6Type.EchoRequest : Icmpv6Type.EchoReply;
        word = ((uint(repr.identifier, 16, 'identifier') << 16) | uint(repr.sequence, 16, 'sequence')) >>> 0;
        body = repr.data;
        break;
      case 'destination-unreachable':
        type = Icmpv6Type.DestinationUnreachable;
        code = uint(repr.code, 8, 'code');
        word = 0;
        body = repr.quote;
        break;
      case 'packet-too-big':
        type = Icmpv6Type.PacketTooBig;
        word = uint(repr.mtu, 32, 'MTU');
        body = repr.quote;
        break;
      case 'time-exceeded':
        type = Icmpv6Type.TimeExceeded;
        code = uint(repr.code, 8, 'code');
        word = 0;
        body = repr.quote;
        break;
      case 'parameter-problem':
        type = Icmpv6Type.ParameterProblem;
        code = uint(repr.code, 8, 'code');
        word = uint(repr.pointer, 32, 'pointer');
        body = repr.quote;
        break;
      case 'other':
        type = uint(repr.type, 8, 'type');
        code = uint(repr.code, 8, 'code');
        word = repr.word >>> 0;
        body = repr.data;
        break;
    }
    buffer[0] = type;
    buffer[1] = code;
    buffer[2] = 0;
    buffer[3] = 0;
    buffer[4] = word >>> 24;
    buffer[5] = (word >>> 16) & 0xff;
    buffer[6] = (word >>> 8) & 0xff;
    buffer[7] = word & 0xff;
    placeBytes(buffer, ICMPV6_HEADER_LENGTH, body);
    const sum = finishChecksum(sumBytes(buffer, 0, len, pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, len)));
    buffer[2] = sum >> 8;
    buffer[3] = sum & 0xff;
  },
};
