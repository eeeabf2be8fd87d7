/**
 * TCP segments on the wire (RFC 9293 §3.1), smoltcp style: {@link TcpPacket} is a view over the
 * bytes with checked lengths, {@link TcpRepr} the parsed form with its options (RFC 9293 §3.2:
 * EOL, NOP, MSS; RFC 7323: window scale and timestamps; RFC 2018: SACK-permitted and SACK blocks).
 *
 *   receive: bytes ──▶ TcpPacket.parse (lengths) ──▶ parseTcpRepr (options) ──▶ TcpSocketTable
 *   send:    TcpRepr ──▶ emitTcpHeader into a buffer that already holds the payload ──▶ fillTcpChecksum
 *
 * Checksums cover the IPv4 or IPv6 pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1); the address
 * length picks the family. Malformed segments are reported as a {@link TcpWireError} string so the
 * caller can count the drop; nothing here throws on network input.
 */
import { finishChecksum, pseudoHeaderSum, sumBytes } from './checksum.ts';

/** IP protocol number of TCP. */
export const TCP_PROTOCOL = 6;
/** Header length without options. */
export const TCP_MIN_HEADER_LENGTH = 20;
/** Data offset is 4 bits of 32-bit words: at most 60 bytes of header, 40 of options. */
export const TCP_MAX_HEADER_LENGTH = 60;

/** Control bits (RFC 9293 §3.1; ECE/CWR from RFC 3168). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Option kinds we understand; others are skipped by their length byte. */
export const TcpOptionKind = {
  END: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
} as const;

/** RFC 7323 §2.3: shifts above 14 are treated as 14. */
export const TCP_MAX_WINDOW_SCALE = 14;

/** Why a segment could not be parsed. Used as a drop-counter key. */
export type TcpWireError = 'tcp-truncated' | 'tcp-bad-data-offset' | 'tcp-bad-option-length';

/** A view over one TCP segment (header and payload); constructed only through {@link TcpPacket.parse}. */
export class TcpPacket {
  /** The whole segment. */
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Checks that the fixed header and the data offset fit in `bytes`; the view shares `bytes`. */
  static parse(bytes: Uint8Array): TcpPacket | TcpWireError {
    if (bytes.length < TCP_MIN_HEADER_LENGTH) return 'tcp-truncated';
    const headerLength = (bytes[12] >> 4) * 4;
    if (headerLength < TCP_MIN_HEADER_LENGTH) return 'tcp-bad-data-offset';
    if (headerLength > bytes.length) return 'tcp-truncated';
    return new TcpPacket(bytes);
  }

  get srcPort(): number {
    return (this.bytes[0] << 8) | this.bytes[1];
  }
  get dstPort(): number {
    return (this.bytes[2] << 8) | this.bytes[3];
  }
  get seq(): number {
    return readU32(this.bytes, 4);
  }
  get ack(): number {
    return readU32(this.bytes, 8);
  }
  get headerLength(): number {
    return (this.bytes[12] >> 4) * 4;
  }
  /** The eight control bits (the NS bit of RFC 3540, now historic, is ignored). */
  get flags(): number {
    return this.bytes[13];
  }
  get window(): number {
    return (this.bytes[14] << 8) | this.bytes[15];
  }
  get checksum(): number {
    return (this.bytes[16] << 8) | this.bytes[17];
  }
  get urgentPointer(): number {
    return (this.bytes[18] << 8) | this.bytes[19];
  }
  /** The option bytes (possibly empty), as a view. */
  get options(): Uint8Array {
    return this.bytes.subarray(TCP_MIN_HEADER_LENGTH, this.headerLength);
  }
  /** The payload, as a view. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }

  /** True when the checksum over the pseudo-header and the segment is correct. */
  verifyChecksum(src: Uint8Array, dst: Uint8Array): boolean {
    return verifyTcpChecksum(this.bytes, src, dst);
  }
}

/** The parsed form of a segment. Sequence numbers are unsigned 32-bit values. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  /** Meaningful only with the ACK flag; emitted as given. */
  ack: number;
  /** {@link TcpFlag} bits. */
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  urgentPointer?: number;
  /** Maximum segment size option (RFC 9293 §3.7.1). */
  mss?: number;
  /** Window scale shift (RFC 7323 §2), already clamped to 14. */
  windowScale?: number;
  /** SACK-permitted option (RFC 2018 §2). */
  sackPermitted?: boolean;
  /** Timestamps option value TSval (RFC 7323 §3); present together with `tsEcr`. */
  tsVal?: number;
  /** Timestamps option echo reply TSecr. */
  tsEcr?: number;
  /** SACK blocks as flat [left0, right0, left1, right1, ...] sequence numbers (RFC 2018 §3). */
  sackBlocks?: number[];
  payload: Uint8Array;
}

function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

function writeU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 255;
  b[i + 2] = (v >>> 8) & 255;
  b[i + 3] = v & 255;
}

/**
 * Parses header and options. Known options with a wrong length are ignored (as Linux does); an
 * option whose length byte is below 2 or runs past the header makes the whole segment malformed
 * (RFC 9293 §3.1 asks implementations to survive an illegal option length).
 */
export function parseTcpRepr(packet: TcpPacket): TcpRepr | TcpWireError {
  const b = packet.bytes;
  const repr: TcpRepr = {
    srcPort: (b[0] << 8) | b[1],
    dstPort: (b[2] << 8) | b[3],
    seq: readU32(b, 4),
    ack: readU32(b, 8),
    flags: b[13],
    window: (b[14] << 8) | b[15],
    // Every field present from the start keeps one object shape on the hot path (V8 inline caches).
    urgentPointer: undefined,
    mss: undefined,
    windowScale: undefined,
    sackPermitted: undefined,
    tsVal: undefined,
    tsEcr: undefined,
    sackBlocks: undefined,
    payload: packet.payload,
  };
  const urgent = (b[18] << 8) | b[19];
  if (urgent !== 0) repr.urgentPointer = urgent;
  const end = packet.headerLength;
  let i = TCP_MIN_HEADER_LENGTH;
  while (i < end) {
    const kind = b[i];
    if (kind === TcpOptionKind.END) break;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 'tcp-bad-option-length';
    const len = b[i + 1];
    if (len < 2 || i + len > end) return 'tcp-bad-option-length';
    switch (kind) {
      case TcpOptionKind.MSS:
        if (len === 4) repr.mss = (b[i + 2] << 8) | b[i + 3];
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (len === 3) repr.windowScale = Math.min(b[i + 2], TCP_MAX_WINDOW_SCALE);
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (len === 2) repr.sackPermitted = true;
        break;
      case TcpOptionKind.TIMESTAMP:
        if (len === 10) {
          repr.tsVal = readU32(b, i + 2);
          repr.tsEcr = readU32(b, i + 6);
        }
        break;
      case TcpOptionKind.SACK:
        if (len >= 10 && (len - 2) % 8 === 0) {
          const blocks: number[] = [];
          for (let j = i + 2; j < i + len; j += 8) blocks.push(readU32(b, j), readU32(b, j + 4));
          repr.sackBlocks = blocks;
        }
        break;
      default:
        break; // unknown option: skipped by its length (RFC 9293 §3.2)
    }
    i += len;
  }
  return repr;
}

/** Parses a whole segment: {@link TcpPacket.parse} then {@link parseTcpRepr}. */
export function parseTcp(bytes: Uint8Array): TcpRepr | TcpWireError {
  const packet = TcpPacket.parse(bytes);
  if (typeof packet === 'string') return packet;
  return parseTcpRepr(packet);
}

/** Length of the options `repr` asks for, padded to a multiple of 4 (see {@link emitTcpHeader} for the layout). */
export function tcpOptionsLength(repr: TcpRepr): number {
  let n = 0;
  if (repr.mss !== undefined) n += 4;
  // SACK-permitted and timestamps share padding: SACKOK(2)+TS(10), NOP NOP TS, or NOP NOP SACKOK.
  const ts = repr.tsVal !== undefined;
  if (ts || repr.sackPermitted) n += ts ? 12 : 4;
  if (repr.windowScale !== undefined) n += 4;
  if (repr.sackBlocks !== undefined && repr.sackBlocks.length > 0) n += 4 + 4 * repr.sackBlocks.length;
  return n;
}

/** Header length (fixed part plus padded options) for `repr`. */
export function tcpHeaderLength(repr: TcpRepr): number {
  return TCP_MIN_HEADER_LENGTH + tcpOptionsLength(repr);
}

/**
 * Writes the header of `repr` at the start of `out` (the payload, if any, must already sit right
 * after the header, or be written later). Options use the layout Linux uses, so every option stays
 * naturally aligned: MSS, SACKOK+TS (or NOP NOP TS, or NOP NOP SACKOK), NOP WS, NOP NOP SACK.
 * The checksum field is zeroed; call {@link fillTcpChecksum} afterwards.
 * @returns the header length.
 * @throws {RangeError} when the options exceed 40 bytes or `out` is too short.
 */
export function emitTcpHeader(repr: TcpRepr, out: Uint8Array): number {
  const headerLength = tcpHeaderLength(repr);
  if (headerLength > TCP_MAX_HEADER_LENGTH) throw new RangeError(`TCP options need ${headerLength - 20} bytes; at most 40 fit`);
  if (out.length < headerLength) throw new RangeError(`buffer of ${out.length} bytes cannot hold a ${headerLength}-byte TCP header`);
  out[0] = repr.srcPort >> 8;
  out[1] = repr.srcPort & 255;
  out[2] = repr.dstPort >> 8;
  out[3] = repr.dstPort & 255;
  writeU32(out, 4, repr.seq);
  writeU32(out, 8, repr.ack);
  out[12] = (headerLength / 4) << 4;
  out[13] = repr.flags;
  out[14] = repr.window >> 8;
  out[15] = repr.window & 255;
  out[16] = 0;
  out[17] = 0;
  const urgent = repr.urgentPointer ?? 0;
  out[18] = urgent >> 8;
  out[19] = urgent & 255;
  let i = TCP_MIN_HEADER_LENGTH;
  if (repr.mss !== undefined) {
    out[i] = TcpOptionKind.MSS;
    out[i + 1] = 4;
    out[i + 2] = repr.mss >> 8;
    out[i + 3] = repr.mss & 255;
    i += 4;
  }
  const ts = repr.tsVal !== undefined;
  if (ts) {
    if (repr.sackPermitted) {
      out[i] = TcpOptionKind.SACK_PERMITTED;
      out[i + 1] = 2;
    } else {
      out[i] = TcpOptionKind.NOP;
      out[i + 1] = TcpOptionKind.NOP;
    }
    out[i + 2] = TcpOptionKind.TIMESTAMP;
    out[i + 3] = 10;
    writeU32(out, i + 4, repr.tsVal!);
    writeU32(out, i + 8, repr.tsEcr ?? 0);
    i += 12;
  } else if (repr.sackPermitted) {
    out[i] = TcpOptionKind.NOP;
    out[i + 1] = TcpOptionKind.NOP;
    out[i + 2] = TcpOptionKind.SACK_PERMITTED;
    out[i + 3] = 2;
    i += 4;
  }
  if (repr.windowScale !== undefined) {
    out[i] = TcpOptionKind.NOP;
    out[i + 1] = TcpOptionKind.WINDOW_SCALE;
    out[i + 2] = 3;
    out[i + 3] = repr.windowScale;
    i += 4;
  }
  const blocks = repr.sackBlocks;
  if (blocks !== undefined && blocks.length > 0) {
    if (blocks.length % 2 !== 0) throw new RangeError('sackBlocks must hold left/right pairs');
    out[i] = TcpOptionKind.NOP;
    out[i + 1] = TcpOptionKind.NOP;
    out[i + 2] = TcpOptionKind.SACK;
    out[i + 3] = 2 + 4 * blocks.length;
    i += 4;
    for (let j = 0; j < blocks.length; j++, i += 4) writeU32(out, i, blocks[j]);
  }
  return headerLength;
}

/** Computes and stores the checksum of the segment `bytes` (header with payload). */
export function fillTcpChecksum(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  bytes[16] = 0;
  bytes[17] = 0;
  const c = finishChecksum(sumBytes(bytes, 0, bytes.length, pseudoHeaderSum(src, dst, TCP_PROTOCOL, bytes.length)));
  bytes[16] = c >> 8;
  bytes[17] = c & 255;
}

/** True when the checksum stored in `bytes` is right for the pseudo-header of `src`/`dst`. */
export function verifyTcpChecksum(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  // Summing a correct segment including its checksum field gives 0xffff, i.e. a finished value of 0.
  return finishChecksum(sumBytes(bytes, 0, bytes.length, pseudoHeaderSum(src, dst, TCP_PROTOCOL, bytes.length))) === 0;
}

/**
 * Allocates and fills a whole segment: header, options, payload and, when `src`/`dst` are given,
 * the checksum. Convenient for tests and for one-off segments such as RSTs.
 */
export function emitTcp(repr: TcpRepr, src?: Uint8Array, dst?: Uint8Array): Uint8Array {
  const headerLength = tcpHeaderLength(repr);
  const out = new Uint8Array(headerLength + repr.payload.length);
  emitTcpHeader(repr, out);
  out.set(repr.payload, headerLength);
  if (src && dst) fillTcpChecksum(out, src, dst);
  return out;
}

/** Sequence space a segment occupies: payload plus one for SYN and one for FIN (RFC 9293 §3.4). */
export function tcpSegmentLength(repr: TcpRepr): number {
  return repr.payload.length + (repr.flags & TcpFlag.SYN ? 1 : 0) + (repr.flags & TcpFlag.FIN ? 1 : 0);
}
