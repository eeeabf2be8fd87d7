/**
 * The four WireGuard messages (paper §5.4.2, §5.4.3, §5.4.7, §5.4.6), smoltcp style: a view over
 * bytes whose constructor checks the length, with field accessors that read in place, plus a
 * parsed representation with `parse*` / `emit*` for tests, fixtures and the teaching timeline.
 *
 * All integers are little-endian. Every message starts with a type byte and three reserved zero
 * bytes, so the first four bytes read as a little-endian u32 equal to the type.
 *
 *   initiation (148)  type | sender u32 | ephemeral 32 | static 32+16 | timestamp 12+16 | mac1 16 | mac2 16
 *   response    (92)  type | sender u32 | receiver u32 | ephemeral 32 | empty 0+16 | mac1 16 | mac2 16
 *   cookie reply(64)  type | receiver u32 | nonce 24 | cookie 16+16
 *   transport  (≥32)  type | receiver u32 | counter u64 | packet ‖ padding, encrypted, + 16
 */
import {
  AEAD_TAG_SIZE,
  COOKIE_NONCE_SIZE,
  COOKIE_REPLY_SIZE,
  INITIATION_SIZE,
  KEEPALIVE_SIZE,
  MAC_SIZE,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  RESPONSE_SIZE,
  TIMESTAMP_SIZE,
  TRANSPORT_HEADER_SIZE,
} from './constants.ts';

/** Reads a little-endian u32 at `offset` (caller guarantees bounds). */
export function readU32LE(b: Uint8Array, offset: number): number {
  return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
}

/** Writes a little-endian u32 at `offset`. */
export function writeU32LE(b: Uint8Array, offset: number, value: number): void {
  b[offset] = value;
  b[offset + 1] = value >>> 8;
  b[offset + 2] = value >>> 16;
  b[offset + 3] = value >>> 24;
}

/**
 * The message type of a datagram: 1..4, or `undefined` when it is shorter than 4 bytes or the
 * reserved bytes are not zero (then it is no WireGuard message at all).
 */
export function messageType(b: Uint8Array): number | undefined {
  if (b.length < 4 || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) return undefined;
  return b[0];
}

function checkIndex(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} must be a u32, got ${v}`);
}

function checkBytes(v: Uint8Array, length: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new RangeError(`${what} must be ${length} bytes, got ${v instanceof Uint8Array ? v.length : typeof v}`);
  }
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (bytes.length !== length) throw new RangeError(`${what} is ${length} bytes, got ${bytes.length}`);
}

// ---------------------------------------------------------------------------------------------
// Handshake initiation (paper §5.4.2)
// ---------------------------------------------------------------------------------------------

/** Offsets inside a handshake initiation. */
export const INITIATION = {
  sender: 4,
  ephemeral: 8,
  static: 40,
  timestamp: 88,
  mac1: 116,
  mac2: 132,
} as const;

/** A checked view over a 148-byte handshake initiation. */
export class InitiationView {
  readonly bytes: Uint8Array;
  /** @throws {RangeError} when `bytes` is not exactly 148 bytes. */
  constructor(bytes: Uint8Array) {
    checkLength(bytes, INITIATION_SIZE, 'a handshake initiation');
    this.bytes = bytes;
  }
  get senderIndex(): number {
    return readU32LE(this.bytes, INITIATION.sender);
  }
  get ephemeral(): Uint8Array {
    return this.bytes.subarray(INITIATION.ephemeral, INITIATION.static);
  }
  get encryptedStatic(): Uint8Array {
    return this.bytes.subarray(INITIATION.static, INITIATION.timestamp);
  }
  get encryptedTimestamp(): Uint8Array {
    return this.bytes.subarray(INITIATION.timestamp, INITIATION.mac1);
  }
  get mac1(): Uint8Array {
    return this.bytes.subarray(INITIATION.mac1, INITIATION.mac2);
  }
  get mac2(): Uint8Array {
    return this.bytes.subarray(INITIATION.mac2, INITIATION_SIZE);
  }
}

/** Parsed handshake initiation. Byte fields are copies. */
export interface HandshakeInitiation {
  senderIndex: number;
  ephemeral: Uint8Array;
  /** AEAD of the initiator's static public key: 32 + 16 bytes. */
  encryptedStatic: Uint8Array;
  /** AEAD of the TAI64N timestamp: 12 + 16 bytes. */
  encryptedTimestamp: Uint8Array;
  mac1: Uint8Array;
  mac2: Uint8Array;
}

/** Parses a handshake initiation; `undefined` unless it is one of exactly the right size. */
export function parseInitiation(bytes: Uint8Array): HandshakeInitiation | undefined {
  if (bytes.length !== INITIATION_SIZE || messageType(bytes) !== MESSAGE_INITIATION) return undefined;
  const v = new InitiationView(bytes);
  return {
    senderIndex: v.senderIndex,
    ephemeral: v.ephemeral.slice(),
    encryptedStatic: v.encryptedStatic.slice(),
    encryptedTimestamp: v.encryptedTimestamp.slice(),
    mac1: v.mac1.slice(),
    mac2: v.mac2.slice(),
  };
}

/** Serializes a handshake initiation. @throws {RangeError} on a wrongly sized field. */
export function emitInitiation(m: HandshakeInitiation): Uint8Array {
  checkIndex(m.senderIndex, 'senderIndex');
  checkBytes(m.ephemeral, 32, 'ephemeral');
  checkBytes(m.encryptedStatic, 32 + AEAD_TAG_SIZE, 'encryptedStatic');
  checkBytes(m.encryptedTimestamp, TIMESTAMP_SIZE + AEAD_TAG_SIZE, 'encryptedTimestamp');
  checkBytes(m.mac1, MAC_SIZE, 'mac1');
  checkBytes(m.mac2, MAC_SIZE, 'mac2');
  const b = new Uint8Array(INITIATION_SIZE);
  b[0] = MESSAGE_INITIATION;
  writeU32LE(b, INITIATION.sender, m.senderIndex);
  b.set(m.ephemeral, INITIATION.ephemeral);
  b.set(m.encryptedStatic, INITIATION.static);
  b.set(m.encryptedTimestamp, INITIATION.timestamp);
  b.set(m.mac1, INITIATION.mac1);
  b.set(m.mac2, INITIATION.mac2);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Handshake response (paper §5.4.3)
// ---------------------------------------------------------------------------------------------

/** Offsets inside a handshake response. */
export const RESPONSE = {
  sender: 4,
  receiver: 8,
  ephemeral: 12,
  empty: 44,
  mac1: 60,
  mac2: 76,
} as const;

/** A checked view over a 92-byte handshake response. */
export class ResponseView {
  readonly bytes: Uint8Array;
  /** @throws {RangeError} when `bytes` is not exactly 92 bytes. */
  constructor(bytes: Uint8Array) {
    checkLength(bytes, RESPONSE_SIZE, 'a handshake response');
    this.bytes = bytes;
  }
  get senderIndex(): number {
    return readU32LE(this.bytes, RESPONSE.sender);
  }
  get receiverIndex(): number {
    return readU32LE(this.bytes, RESPONSE.receiver);
  }
  get ephemeral(): Uint8Array {
    return this.bytes.subarray(RESPONSE.ephemeral, RESPONSE.empty);
  }
  get encryptedNothing(): Uint8Array {
    return this.bytes.subarray(RESPONSE.empty, RESPONSE.mac1);
  }
  get mac1(): Uint8Array {
    return this.bytes.subarray(RESPONSE.mac1, RESPONSE.mac2);
  }
  get mac2(): Uint8Array {
    return this.bytes.subarray(RESPONSE.mac2, RESPONSE_SIZE);
  }
}

/** Parsed handshake response. Byte fields are copies. */
export interface HandshakeResponse {
  senderIndex: number;
  receiverIndex: number;
  ephemeral: Uint8Array;
  /** AEAD of the empty string: just a 16-byte tag authenticating the transcript. */
  encryptedNothing: Uint8Array;
  mac1: Uint8Array;
  mac2: Uint8Array;
}

/** Parses a handshake response; `undefined` unless it is one of exactly the right size. */
export function parseResponse(bytes: Uint8Array): HandshakeResponse | undefined {
  if (bytes.length !== RESPONSE_SIZE || messageType(bytes) !== MESSAGE_RESPONSE) return undefined;
  const v = new ResponseView(bytes);
  return {
    senderIndex: v.senderIndex,
    receiverIndex: v.receiverIndex,
    ephemeral: v.ephemeral.slice(),
    encryptedNothing: v.encryptedNothing.slice(),
    mac1: v.mac1.slice(),
    mac2: v.mac2.slice(),
  };
}

/** Serializes a handshake response. @throws {RangeError} on a wrongly sized field. */
export function emitResponse(m: HandshakeResponse): Uint8Array {
  checkIndex(m.senderIndex, 'senderIndex');
  checkIndex(m.receiverIndex, 'receiverIndex');
  checkBytes(m.ephemeral, 32, 'ephemeral');
  checkBytes(m.encryptedNothing, AEAD_TAG_SIZE, 'encryptedNothing');
  checkBytes(m.mac1, MAC_SIZE, 'mac1');
  checkBytes(m.mac2, MAC_SIZE, 'mac2');
  const b = new Uint8Array(RESPONSE_SIZE);
  b[0] = MESSAGE_RESPONSE;
  writeU32LE(b, RESPONSE.sender, m.senderIndex);
  writeU32LE(b, RESPONSE.receiver, m.receiverIndex);
  b.set(m.ephemeral, RESPONSE.ephemeral);
  b.set(m.encryptedNothing, RESPONSE.empty);
  b.set(m.mac1, RESPONSE.mac1);
  b.set(m.mac2, RESPONSE.mac2);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Cookie reply (paper §5.4.7)
// ---------------------------------------------------------------------------------------------

/** Offsets inside a cookie reply. */
export const COOKIE_REPLY = {
  receiver: 4,
  nonce: 8,
  cookie: 32,
} as const;

/** A checked view over a 64-byte cookie reply. */
export class CookieReplyView {
  readonly bytes: Uint8Array;
  /** @throws {RangeError} when `bytes` is not exactly 64 bytes. */
  constructor(bytes: Uint8Array) {
    checkLength(bytes, COOKIE_REPLY_SIZE, 'a cookie reply');
    this.bytes = bytes;
  }
  get receiverIndex(): number {
    return readU32LE(this.bytes, COOKIE_REPLY.receiver);
  }
  get nonce(): Uint8Array {
    return this.bytes.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.cookie);
  }
  get encryptedCookie(): Uint8Array {
    return this.bytes.subarray(COOKIE_REPLY.cookie, COOKIE_REPLY_SIZE);
  }
}

/** Parsed cookie reply. Byte fields are copies. */
export interface CookieReply {
  receiverIndex: number;
  nonce: Uint8Array;
  /** XAEAD of the 16-byte cookie: 16 + 16 bytes. */
  encryptedCookie: Uint8Array;
}

/** Parses a cookie reply; `undefined` unless it is one of exactly the right size. */
export function parseCookieReply(bytes: Uint8Array): CookieReply | undefined {
  if (bytes.length !== COOKIE_REPLY_SIZE || messageType(bytes) !== MESSAGE_COOKIE_REPLY) return undefined;
  const v = new CookieReplyView(bytes);
  return { receiverIndex: v.receiverIndex, nonce: v.nonce.slice(), encryptedCookie: v.encryptedCookie.slice() };
}

/** Serializes a cookie reply. @throws {RangeError} on a wrongly sized field. */
export function emitCookieReply(m: CookieReply): Uint8Array {
  checkIndex(m.receiverIndex, 'receiverIndex');
  checkBytes(m.nonce, COOKIE_NONCE_SIZE, 'nonce');
  checkBytes(m.encryptedCookie, MAC_SIZE + AEAD_TAG_SIZE, 'encryptedCookie');
  const b = new Uint8Array(COOKIE_REPLY_SIZE);
  b[0] = MESSAGE_COOKIE_REPLY;
  writeU32LE(b, COOKIE_REPLY.receiver, m.receiverIndex);
  b.set(m.nonce, COOKIE_REPLY.nonce);
  b.set(m.encryptedCookie, COOKIE_REPLY.cookie);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Transport data (paper §5.4.6)
// ---------------------------------------------------------------------------------------------

/** Offsets inside a transport message. */
export const TRANSPORT = {
  receiver: 4,
  counter: 8,
  content: TRANSPORT_HEADER_SIZE,
} as const;

/** A checked view over a transport message (at least 32 bytes: header and tag). */
export class TransportView {
  readonly bytes: Uint8Array;
  /** @throws {RangeError} when `bytes` is shorter than 32 bytes. */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('a transport message must be a Uint8Array');
    if (bytes.length < KEEPALIVE_SIZE) throw new RangeError(`a transport message is at least ${KEEPALIVE_SIZE} bytes, got ${bytes.length}`);
    this.bytes = bytes;
  }
  get receiverIndex(): number {
    return readU32LE(this.bytes, TRANSPORT.receiver);
  }
  /** Low 32 bits of the 64-bit counter. */
  get counterLo(): number {
    return readU32LE(this.bytes, TRANSPORT.counter);
  }
  /** High 32 bits of the 64-bit counter. */
  get counterHi(): number {
    return readU32LE(this.bytes, TRANSPORT.counter + 4);
  }
  /** The full counter (allocates a BigInt; for display and tests, not the data path). */
  get counter(): bigint {
    return (BigInt(this.counterHi) << 32n) | BigInt(this.counterLo);
  }
  /** Encrypted, padded packet followed by the tag. */
  get encryptedPacket(): Uint8Array {
    return this.bytes.subarray(TRANSPORT.content);
  }
}

/** Parsed transport message header and (still encrypted) content. */
export interface TransportMessage {
  receiverIndex: number;
  counter: bigint;
  encryptedPacket: Uint8Array;
}

/** Parses a transport message; `undefined` unless it is one of at least 32 bytes. */
export function parseTransport(bytes: Uint8Array): TransportMessage | undefined {
  if (bytes.length < KEEPALIVE_SIZE || messageType(bytes) !== MESSAGE_TRANSPORT) return undefined;
  const v = new TransportView(bytes);
  return { receiverIndex: v.receiverIndex, counter: v.counter, encryptedPacket: v.encryptedPacket.slice() };
}

/** Serializes a transport message. @throws {RangeError} on a bad counter or too short content. */
export function emitTransport(m: TransportMessage): Uint8Array {
  checkIndex(m.receiverIndex, 'receiverIndex');
  if (typeof m.counter !== 'bigint' || m.counter < 0n || m.counter >= 2n ** 64n) throw new RangeError('counter must be a u64 bigint');
  if (!(m.encryptedPacket instanceof Uint8Array) || m.encryptedPacket.length < AEAD_TAG_SIZE) {
    throw new RangeError(`encryptedPacket must be at least ${AEAD_TAG_SIZE} bytes`);
  }
  const b = new Uint8Array(TRANSPORT_HEADER_SIZE + m.encryptedPacket.length);
  b[0] = MESSAGE_TRANSPORT;
  writeU32LE(b, TRANSPORT.receiver, m.receiverIndex);
  writeU32LE(b, TRANSPORT.counter, Number(m.counter & 0xffffffffn));
  writeU32LE(b, TRANSPORT.counter + 4, Number(m.counter >> 32n));
  b.set(m.encryptedPacket, TRANSPORT.content);
  return b;
}
