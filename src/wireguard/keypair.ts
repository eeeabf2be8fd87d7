/**
 * One transport session: the keys a handshake derived (WireGuard paper §5.4.5), the 64-bit send
 * counter and the receive replay window (§5.4.6).
 *
 * seal:  packet ─ copy into a fresh message at offset 16 (zero padding is already there), or with
 *        room around it (sealInPlace, shared/packet-room.ts) the message is those bytes ─
 *        ChaCha20-Poly1305 in place (nonce = 0⁴ ‖ counter LE) ─ header(type 4, receiver, counter)
 * open:  ChaCha20-Poly1305 of message[16..] into a fresh plaintext buffer (the caller's datagram
 *        is never modified; the returned packet belongs to the caller)
 *
 * The AEAD comes from transport-cipher.ts: the WebAssembly SIMD ChaCha20-Poly1305 (wasm/) where
 * it runs, else transport-aead.ts (RFC 8439 specialised for this nonce and empty AD, several times
 * faster than @noble/ciphers here; why it is hand-written is in its header). Both buffers start
 * 4-byte aligned at offset 16, which lets the TypeScript one read 32-bit words in place.
 *
 * Counters are two u32 words so the data path never touches BigInt.
 */
import { zeroize } from '../shared/bytes.ts';
import { ByteSlab } from '../shared/byte-slab.ts';
import { AEAD_TAG_SIZE, MESSAGE_TRANSPORT, REKEY_AFTER_MESSAGES_HI, TRANSPORT_HEADER_SIZE } from './constants.ts';
import type { TransportKeys } from './handshake.ts';
import { TRANSPORT, writeU32LE } from './messages.ts';
import { counterExhausted, ReplayWindow } from './replay-window.ts';
import { createTransportCipher, type TransportCipher } from './transport-cipher.ts';

/**
 * Where sealed transport messages are built: views of shared slabs, not an ArrayBuffer per packet
 * (a browser worker pays microseconds for each, #19). A message lives until the transport copied
 * it into a relay batch or handed it to the socket; slab regions are never reused.
 */
const messageSlab = new ByteSlab();

/** Transport keys, counters and replay state of one session. */
export class Keypair {
  /** Our index: the receiver index the peer puts on transport messages to us. */
  readonly localIndex: number;
  /** The peer's index: the receiver index we put on transport messages. */
  readonly remoteIndex: number;
  /** True when we initiated the handshake (only the initiator rekeys on age, paper §6.2). */
  readonly isInitiator: boolean;
  /** `now` when the keys were derived. */
  readonly createdAt: number;
  /** Replay window for received counters. */
  readonly replay = new ReplayWindow();
  /** Low and high words of the next counter to send. */
  sendCounterLo = 0;
  sendCounterHi = 0;
  /** Set once a keys-expired event was reported for this keypair. */
  expiryReported = false;

  private readonly sendKey: Uint8Array;
  private readonly receiveKey: Uint8Array;
  private readonly sendAead: TransportCipher;
  private readonly receiveAead: TransportCipher;

  constructor(keys: TransportKeys, createdAt: number) {
    this.sendKey = keys.sendKey;
    this.receiveKey = keys.receiveKey;
    this.sendAead = createTransportCipher(keys.sendKey);
    this.receiveAead = createTransportCipher(keys.receiveKey);
    this.isInitiator = keys.isInitiator;
    this.localIndex = keys.localIndex;
    this.remoteIndex = keys.remoteIndex;
    this.createdAt = createdAt;
  }

  /** True once the send counter reached REJECT_AFTER_MESSAGES: this keypair may not send again. */
  get sendExhausted(): boolean {
    return counterExhausted(this.sendCounterLo, this.sendCounterHi);
  }

  /** True once more than REKEY_AFTER_MESSAGES (2^60) messages were sent (paper §6.2). */
  get needsRekeyByMessages(): boolean {
    return this.sendCounterHi > REKEY_AFTER_MESSAGES_HI || (this.sendCounterHi === REKEY_AFTER_MESSAGES_HI && this.sendCounterLo > 0);
  }

  /** The next send counter as a number (exact below 2^53; for display). */
  get sendCounter(): number {
    return this.sendCounterHi * 2 ** 32 + this.sendCounterLo;
  }

  /** Test hook: jump the send counter, e.g. to just below a message limit. */
  setSendCounter(counter: bigint): void {
    if (counter < 0n || counter >= 2n ** 64n) throw new RangeError('send counter must be a u64');
    this.sendCounterLo = Number(counter & 0xffffffffn);
    this.sendCounterHi = Number(counter >> 32n);
  }

  /**
   * Encrypts `packet` zero-padded to `paddedLength` into a complete transport message and
   * advances the counter. The caller checks {@link sendExhausted} first. With `inPlace`, and room
   * for the header before the packet and for padding and tag after it within its buffer
   * (shared/packet-room.ts), the message is built over those bytes: no new buffer, no copy (#19).
   * The caller then gives up the packet, whose plaintext is gone, and the room, which is written.
   */
  seal(packet: Uint8Array, paddedLength: number, inPlace = false): Uint8Array {
    const lo = this.sendCounterLo;
    const hi = this.sendCounterHi;
    const size = TRANSPORT_HEADER_SIZE + paddedLength + AEAD_TAG_SIZE;
    let msg: Uint8Array;
    const start = packet.byteOffset - TRANSPORT_HEADER_SIZE;
    if (inPlace && start >= 0 && start + size <= packet.buffer.byteLength) {
      msg = new Uint8Array(packet.buffer, start, size);
      // The padding must be zeros (paper §5.4.6); the room after the packet may hold anything.
      msg.fill(0, TRANSPORT_HEADER_SIZE + packet.length, TRANSPORT_HEADER_SIZE + paddedLength);
      msg[1] = msg[2] = msg[3] = 0;
    } else {
      msg = messageSlab.take(size);
      msg.set(packet, TRANSPORT_HEADER_SIZE);
    }
    msg[0] = MESSAGE_TRANSPORT;
    writeU32LE(msg, TRANSPORT.receiver, this.remoteIndex);
    writeU32LE(msg, TRANSPORT.counter, lo);
    writeU32LE(msg, TRANSPORT.counter + 4, hi);
    // In place; the tag goes right after the padded plaintext.
    this.sendAead.seal(msg, TRANSPORT_HEADER_SIZE, paddedLength, lo, hi);
    const next = (lo + 1) >>> 0;
    this.sendCounterLo = next;
    if (next === 0) this.sendCounterHi = (hi + 1) >>> 0;
    return msg;
  }

  /**
   * Authenticates and decrypts a transport message whose counter is `(lo, hi)` (plaintext with its
   * padding): into a new buffer, or with `inPlace` over the ciphertext in `msg`, returning a view
   * of it (no allocation per packet; a browser worker pays microseconds per ArrayBuffer, #19).
   * `undefined` when the tag does not verify; `msg` is then unchanged either way. Does not touch
   * the replay window.
   */
  open(msg: Uint8Array, lo: number, hi: number, inPlace = false): Uint8Array | undefined {
    const length = msg.length - TRANSPORT_HEADER_SIZE - AEAD_TAG_SIZE;
    if (inPlace) {
      return this.receiveAead.open(msg, TRANSPORT_HEADER_SIZE, length, msg, TRANSPORT_HEADER_SIZE, lo, hi)
        ? msg.subarray(TRANSPORT_HEADER_SIZE, TRANSPORT_HEADER_SIZE + length)
        : undefined;
    }
    const out = new Uint8Array(length);
    return this.receiveAead.open(msg, TRANSPORT_HEADER_SIZE, length, out, 0, lo, hi) ? out : undefined;
  }

  /** Zeroes both keys; the keypair must not be used afterwards. */
  zero(): void {
    zeroize(this.sendKey, this.receiveKey);
    this.sendAead.zero();
    this.receiveAead.zero();
    // Make any further send impossible even if a stale reference survives.
    this.sendCounterLo = 0xffffffff;
    this.sendCounterHi = 0xffffffff;
  }
}
