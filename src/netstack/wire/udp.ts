/**
 * UDP datagrams (RFC 768): a checked view ({@link UdpPacket}) and a parsed representation
 * ({@link UdpRepr}). The checksum covers a pseudo-header (RFC 768; RFC 8200 §8.1):
 * - over IPv4 a zero checksum means "none" and is accepted; a computed zero is sent as 0xffff;
 * - over IPv6 it is mandatory: a zero checksum is rejected (RFC 8200 §8.1; the RFC 6935 tunnel
 *   exception does not apply to a host).
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.ts';
import { IpProtocol } from './ip-protocol.ts';
import { placeBytes } from './place-bytes.ts';
import { type WireResult, wireError, wireOk } from './wire-result.ts';

/** Length of the UDP header. */
export const UDP_HEADER_LENGTH = 8;

/** Why bytes cannot be viewed as a UDP datagram. */
export type UdpMalformation = 'truncated' | 'bad-length';
/** Why a UDP datagram was rejected by {@link UdpRepr.parse}. */
export type UdpParseError = UdpMalformation | 'bad-checksum' | 'missing-checksum' | 'bad-port';

/**
 * A read-only view of a UDP datagram. {@link UdpPacket.view} guarantees the length field is at least
 * 8 and within the buffer; bytes after `length` (IP payload beyond it) are ignored.
 */
export class UdpPacket {
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The reason `bytes` is not a structurally sound UDP datagram, or `undefined`. */
  static check(bytes: Uint8Array): UdpMalformation | undefined {
    if (bytes.length < UDP_HEADER_LENGTH) return 'truncated';
    const len = (bytes[4] << 8) | bytes[5];
    if (len < UDP_HEADER_LENGTH) return 'bad-length';
    if (len > bytes.length) return 'truncated';
    return undefined;
  }

  /** A view over `bytes`, or `undefined` when {@link UdpPacket.check} finds a problem. */
  static view(bytes: Uint8Array): UdpPacket | undefined {
    return UdpPacket.check(bytes) === undefined ? new UdpPacket(bytes) : undefined;
  }

  get srcPort(): number {
    return (this.bytes[0] << 8) | this.bytes[1];
  }
  get dstPort(): number {
    return (this.bytes[2] << 8) | this.bytes[3];
  }
  /** The length field: header plus payload. */
  get length(): number {
    return (this.bytes[4] << 8) | this.bytes[5];
  }
  get checksum(): number {
    return (this.bytes[6] << 8) | this.bytes[7];
  }
  /** The payload, a view up to the length field (no copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(UDP_HEADER_LENGTH, this.length);
  }
  /**
   * True when the checksum is valid for `src` → `dst`; a zero checksum counts as valid over IPv4
   * (sender computed none) and invalid over IPv6.
   */
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    if (this.checksum === 0) return src.length === 4;
    const len = this.length;
    return finishChecksum(sumBytes(this.bytes, 0, len, pseudoHeaderSum(src, dst, IpProtocol.Udp, len))) === 0;
  }
}

/** A UDP datagram's ports and payload. */
export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** A view into the parsed bytes (parse) or the bytes to send (emit). */
  readonly payload: Uint8Array;
}

function port(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`a UDP ${what} port is an integer from 0 to 65535, not ${n}`);
  return n;
}

/** Parsing and emitting {@link UdpRepr}. */
export const UdpRepr = {
  /**
   * Verifies the checksum for `src` → `dst` (the IP addresses that carried it) and reads the
   * datagram. A destination port of 0 is rejected (RFC 768 reserves no meaning for it as a target).
   */
  parse(
    packet: UdpPacket,
    src: IpAddress,
    dst: IpAddress,
    options: { verifyChecksum?: boolean } = {},
  ): WireResult<UdpRepr, UdpParseError> {
    if (options.verifyChecksum !== false) {
      if (packet.checksum === 0 && src.length === 16) return wireError('missing-checksum');
      if (!packet.verifyChecksum(src, dst)) return wireError('bad-checksum');
    }
    const dstPort = packet.dstPort;
    if (dstPort === 0) return wireError('bad-port');
    return wireOk({ srcPort: packet.srcPort, dstPort, payload: packet.payload });
  },

  /** Bytes {@link UdpRepr.emit} writes for `repr`. */
  bufferLength(repr: UdpRepr): number {
    return UDP_HEADER_LENGTH + repr.payload.length;
  },

  /**
   * Writes the datagram at `buffer[0..8 + payload)` with its checksum for `src` → `dst`. The
   * payload is not copied when it already sits at `buffer[8..)`.
   * @throws {RangeError} on a short buffer, bad ports, mismatched address families, or a payload
   * the 16-bit length field cannot describe.
   */
  emit(repr: UdpRepr, buffer: Uint8Array, src: IpAddress, dst: IpAddress): void {
    const len = UDP_HEADER_LENGTH + repr.payload.length;
    if (len > 0xffff) throw new RangeError(`a UDP datagram holds at most 65527 payload bytes, not ${repr.payload.length}`);
    if (buffer.length < len) throw new RangeError(`this UDP datagram needs ${len} bytes, the buffer has ${buffer.length}`);
    if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) {
      throw new RangeError('UDP checksums need two IPv4 or two IPv6 addresses');
    }
    const sp = port(repr.srcPort, 'source');
    const dp = port(repr.dstPort, 'destination');
    buffer[0] = sp >> 8;
    buffer[1] = sp & 0xff;
    buffer[2] = dp >> 8;
    buffer[3] = dp & 0xff;
    buffer[4] = len >> 8;
    buffer[5] = len & 0xff;
    buffer[6] = 0;
    buffer[7] = 0;
    placeBytes(buffer, UDP_HEADER_LENGTH, repr.payload);
    let sum = finishChecksum(sumBytes(buffer, 0, len, pseudoHeaderSum(src, dst, IpProtocol.Udp, len)));
    // RFC 768: a computed zero is transmitted as all ones, since zero means "no checksum".
    if (sum === 0) sum = 0xffff;
    buffer[6] = sum >> 8;
    buffer[7] = sum & 0xff;
  },
};
