/**
 * The WebSocket frame (RFC 6455 §5.2): a checked-length view over bytes, a parsed representation,
 * and the emitter for frames this client sends.
 *
 *   bytes ──parseFrameHeader──▶ FrameHeader (or 'need more' / a protocol error) ──▶ payload slice
 *   FrameHeader + payload + mask key ──emitFrame──▶ bytes (masked, as a client must, §5.3)
 *
 *    0                   1                   2                   3
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |                               |
 *   |-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |  Masking-key (0 or 4 bytes, present when MASK) |  Payload ...  |
 *
 * Parsing never throws on network bytes: a malformed header comes back as a {@link FrameError}
 * carrying the close code the connection must fail with (§7.4.1: 1002 protocol error, 1009 too big).
 */

/** Opcodes (§5.2, §11.8). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** §5.5: control frames carry at most 125 bytes and are never fragmented. */
export const MAX_CONTROL_PAYLOAD = 125;

/** One frame's header, parsed. */
export interface FrameHeader {
  readonly fin: boolean;
  /** The three RSV bits as a number (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  readonly rsv: number;
  readonly opcode: number;
  /** The masking key when the MASK bit is set. */
  readonly maskKey: Uint8Array | undefined;
  readonly payloadLength: number;
  /** Header size in bytes: where the payload starts. */
  readonly headerLength: number;
}

/** A header that violates the protocol; `closeCode` is what the endpoint must close with. */
export interface FrameError {
  readonly error: string;
  readonly closeCode: 1002 | 1009;
}

/** Whether `opcode` is a control frame (§5.5: the high bit of the opcode is set). */
export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/**
 * Parses the header at the start of `bytes`. Returns `undefined` when more bytes are needed, a
 * {@link FrameError} for a header that breaks §5.2 (reserved opcode, oversized or fragmented control
 * frame, non-minimal or 63-bit-overflowing length, a payload above `maxPayload`), else the header.
 * `allowedRsv` is the RSV bits a negotiated extension defines (none without extensions, §5.2).
 */
export function parseFrameHeader(bytes: Uint8Array, maxPayload: number, allowedRsv = 0): FrameHeader | FrameError | undefined {
  if (bytes.length < 2) return undefined;
  const b0 = bytes[0];
  const b1 = bytes[1];
  const fin = (b0 & 0x80) !== 0;
  const rsv = (b0 >> 4) & 0x7;
  const opcode = b0 & 0x0f;
  const masked = (b1 & 0x80) !== 0;
  let length = b1 & 0x7f;
  let offset = 2;
  if (!isKnownOpcode(opcode)) return { error: `reserved opcode 0x${opcode.toString(16)}`, closeCode: 1002 };
  if ((rsv & ~allowedRsv) !== 0) return { error: `reserved bits 0x${rsv.toString(16)} set without an extension defining them`, closeCode: 1002 };
  if (isControl(opcode)) {
    if (!fin) return { error: 'a fragmented control frame', closeCode: 1002 };
    if (length > MAX_CONTROL_PAYLOAD) return { error: `a control frame of more than ${MAX_CONTROL_PAYLOAD} bytes`, closeCode: 1002 };
  }
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = (bytes[2] << 8) | bytes[3];
    offset = 4;
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if (length < 126) return { error: 'a payload length not in its minimal encoding', closeCode: 1002 };
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    // §5.2: the most significant bit of the 64-bit length MUST be 0.
    if (bytes[2] & 0x80) return { error: 'a 64-bit payload length with its top bit set', closeCode: 1002 };
    const high = ((bytes[2] << 24) | (bytes[3] << 16) | (bytes[4] << 8) | bytes[5]) >>> 0;
    const low = ((bytes[6] << 24) | (bytes[7] << 16) | (bytes[8] << 8) | bytes[9]) >>> 0;
    if (high >= 0x200000) return { error: 'a payload too large to handle', closeCode: 1009 };
    length = high * 2 ** 32 + low;
    offset = 10;
    if (length < 65536) return { error: 'a payload length not in its minimal encoding', closeCode: 1002 };
  }
  if (length > maxPayload) return { error: `a frame of ${length} bytes, above the limit of ${maxPayload}`, closeCode: 1009 };
  let maskKey: Uint8Array | undefined;
  if (masked) {
    if (bytes.length < offset + 4) return undefined;
    maskKey = bytes.slice(offset, offset + 4);
    offset += 4;
  }
  return { fin, rsv, opcode, maskKey, payloadLength: length, headerLength: offset };
}

/** True when {@link parseFrameHeader} returned an error. */
export function isFrameError(r: FrameHeader | FrameError | undefined): r is FrameError {
  return r !== undefined && 'error' in r;
}

/**
 * XORs `data` in place with the 4-byte `key` (§5.3), starting at payload offset `start` (so a
 * payload may be unmasked in pieces).
 */
export function applyMask(data: Uint8Array, key: Uint8Array, start = 0): void {
  if (key.length !== 4) throw new RangeError(`a masking key is 4 bytes, not ${key.length}`);
  const n = data.length;
  let i = 0;
  // Bytes up to a 4-byte boundary, then word at a time: large messages spend most of their time here.
  while (i < n && ((data.byteOffset + i) & 3) !== 0) {
    data[i] ^= key[(start + i) & 3];
    i++;
  }
  const words = (n - i) >>> 2;
  if (words > 0) {
    const r = (start + i) & 3;
    const k = new Uint8Array([key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]);
    const word = new Uint32Array(k.buffer)[0];
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words * 4;
  }
  for (; i < n; i++) data[i] ^= key[(start + i) & 3];
}

/** What {@link emitFrame} writes. */
export interface FrameSpec {
  readonly fin: boolean;
  readonly opcode: number;
  readonly rsv?: number;
  readonly payload: Uint8Array;
  /** 4 bytes: the frame is masked (a client's frames always are, §5.1). Absent: unmasked (servers). */
  readonly maskKey?: Uint8Array;
}

/** Header length for a payload of `n` bytes. */
export function frameHeaderLength(n: number, masked: boolean): number {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Serializes one frame; the payload is copied (and masked in the copy). */
export function emitFrame(spec: FrameSpec): Uint8Array {
  const n = spec.payload.length;
  if (!Number.isSafeInteger(n)) throw new RangeError('payload too large');
  if (spec.opcode < 0 || spec.opcode > 0xf) throw new RangeError(`opcode must be 0 to 15, not ${spec.opcode}`);
  const rsv = spec.rsv ?? 0;
  if (rsv < 0 || rsv > 7) throw new RangeError(`rsv must be 0 to 7, not ${rsv}`);
  if (isControl(spec.opcode) && (n > MAX_CONTROL_PAYLOAD || !spec.fin)) {
    throw new RangeError(`a control frame must be final and carry at most ${MAX_CONTROL_PAYLOAD} bytes`);
  }
  const masked = spec.maskKey !== undefined;
  const headerLength = frameHeaderLength(n, masked);
  const out = new Uint8Array(headerLength + n);
  out[0] = (spec.fin ? 0x80 : 0) | (rsv << 4) | spec.opcode;
  let offset = 2;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
    offset = 4;
  } else {
    out[1] = 127;
    const high = Math.floor(n / 2 ** 32);
    new DataView(out.buffer).setUint32(2, high);
    new DataView(out.buffer).setUint32(6, n >>> 0);
    offset = 10;
  }
  if (masked) {
    out[1] |= 0x80;
    out.set(spec.maskKey!, offset);
    offset += 4;
  }
  out.set(spec.payload, offset);
  if (masked) applyMask(out.subarray(offset), spec.maskKey!);
  return out;
}
