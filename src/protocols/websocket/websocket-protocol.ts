/**
 * An RFC 6455 client connection after the opening handshake, sans-IO: bytes and `now` in, bytes,
 * events and a next wake-up out (like boringtun's `Tunn` or smoltcp's `poll`/`poll_at`).
 *
 *   receive(bytes) ──▶ frame header (websocket-frame.ts) ──▶ unmasked payload
 *       data frames ──▶ reassembly (max message size, §5.4) ──▶ UTF-8 check for text (§8.1) ──▶ 'message'
 *       with permessage-deflate (RFC 7692 §6), RSV1 on a message's first frame ──▶ 'compressed'
 *       (the adapter inflates it, asynchronously, and reports failures with failMessage)
 *       ping ──▶ pong queued (§5.5.2)     pong ──▶ 'pong'     close ──▶ echoed, then closing (§5.5.1)
 *       any violation ──▶ close frame 1002/1007/1009 queued, transport close requested (§7.1.7)
 *   sendText / sendBinary / ping / close ──▶ outgoing queue (control frames jump ahead of the next
 *       fragment, §5.4) ──pollTransmit──▶ masked frames, a fresh key each (§5.3)
 *   pollAt / handleTimeout: how long to wait for the peer's close frame or its TCP close (§7.1.1)
 *   transportClosed ──▶ the final 'close' event: code, reason, wasClean (§7.1.4, §7.1.5)
 *
 * Bad network input is counted in {@link WebSocketProtocolStats} and fails the connection; it
 * never throws. Caller mistakes (sending after close, bad close codes) are TypeError/RangeError.
 */
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_FRAGMENT_SIZE, DEFAULT_MAX_MESSAGE_SIZE } from './websocket-constants.ts';
import { concatBytes } from '../../shared/bytes.ts';
import { MAX_CONTROL_PAYLOAD, Opcode, emitFrame, isControl, isFrameError, parseFrameHeader, type FrameHeader } from './websocket-frame.ts';

/** Close codes (§7.4.1) this module uses by name. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;


/**
 * Whether `code` may appear in a close frame on the wire (§7.4.1, §7.4.2): 1000-1003, 1007-1014
 * (the registry's assigned codes), 3000-4999. 1004, 1005, 1006, 1015 are reserved and never sent.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface WebSocketProtocolOptions {
  /** Fills n random bytes: the masking keys. */
  random: (n: number) => Uint8Array;
  maxMessageSize?: number;
  fragmentSize?: number;
  closeTimeoutMs?: number;
  /** Bytes that arrived right after the handshake response (the first frames). */
  initial?: Uint8Array;
  /** permessage-deflate was negotiated: RSV1 marks compressed messages (RFC 7692 §6). */
  deflate?: boolean;
}

export type WebSocketEvent =
  | { readonly type: 'message'; readonly data: string | Uint8Array }
  /** A permessage-deflate message, still compressed: inflate it, then check text as UTF-8. */
  | { readonly type: 'compressed'; readonly data: Uint8Array; readonly binary: boolean }
  | { readonly type: 'ping'; readonly data: Uint8Array }
  | { readonly type: 'pong'; readonly data: Uint8Array }
  /** The peer started or answered the close handshake (the connection is now closing). */
  | { readonly type: 'closing'; readonly code: number; readonly reason: string }
  /** The connection failed (protocol violation by the peer): a 'close' with wasClean false follows. */
  | { readonly type: 'error'; readonly message: string; readonly closeCode: number }
  /** The final event. */
  | { readonly type: 'close'; readonly code: number; readonly reason: string; readonly wasClean: boolean };

export type WebSocketState = 'open' | 'closing' | 'closed';

/** Counters: what came in, and what was wrong with it. */
export interface WebSocketProtocolStats {
  framesIn: number;
  framesOut: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  pingsAnswered: number;
  /** Connection failures by reason (bad frames, bad UTF-8, oversized messages...). */
  failures: Record<string, number>;
}

interface OutgoingMessage {
  opcode: number;
  payload: Uint8Array;
  offset: number;
}

/** One pollTransmit result: frame bytes, and how many application bytes they carry (bufferedAmount). */
export interface Transmit {
  readonly bytes: Uint8Array;
  readonly appBytes: number;
}

/** The frame header's RSV1 bit (as `FrameHeader.rsv` holds it): "compressed" under permessage-deflate. */
const RSV1 = 4;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** See the module comment. */
export class WebSocketProtocol {
  private readonly random: (n: number) => Uint8Array;
  readonly maxMessageSize: number;
  readonly fragmentSize: number;
  readonly closeTimeoutMs: number;
  private stateValue: WebSocketState = 'open';
  private readonly events: WebSocketEvent[] = [];
  private readonly control: Uint8Array[] = [];
  private readonly messages: OutgoingMessage[] = [];
  private queuedAppBytes = 0;
  // Receive side.
  private headerBuf = new Uint8Array(14);
  private headerFill = 0;
  private frame: FrameHeader | undefined;
  private payload: Uint8Array | undefined;
  private payloadFill = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private messageOpcode = -1;
  private messageCompressed = false;
  private readonly deflate: boolean;
  // Close handshake.
  private closeSent = false;
  private closeReceived: { code: number; reason: string } | undefined;
  private failed = false;
  private deadline: number | undefined;
  private wantTransportClose = false;
  readonly stats: WebSocketProtocolStats = {
    framesIn: 0,
    framesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    pingsAnswered: 0,
    failures: {},
  };

  constructor(options: WebSocketProtocolOptions) {
    if (typeof options?.random !== 'function') throw new TypeError('WebSocketProtocol needs a random source');
    this.random = options.random;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.fragmentSize = options.fragmentSize ?? DEFAULT_FRAGMENT_SIZE;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.deflate = options.deflate === true;
    if (!Number.isSafeInteger(this.maxMessageSize) || this.maxMessageSize < 1) throw new RangeError(`maxMessageSize must be a positive integer, not ${options.maxMessageSize}`);
    if (!Number.isSafeInteger(this.fragmentSize) || this.fragmentSize < 1) throw new RangeError(`fragmentSize must be a positive integer, not ${options.fragmentSize}`);
    if (!(this.closeTimeoutMs > 0)) throw new RangeError(`closeTimeoutMs must be positive, not ${options.closeTimeoutMs}`);
    if (options.initial?.length) this.receive(options.initial, 0);
  }

  get state(): WebSocketState {
    return this.stateValue;
  }

  /** Application bytes accepted by send but not yet handed out by {@link pollTransmit}. */
  get bufferedAmount(): number {
    return this.queuedAppBytes;
  }

  /** True once the transport should be closed (close handshake done, timed out, or the peer failed). */
  get shouldCloseTransport(): boolean {
    return this.wantTransportClose;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /** Queues a text message (UTF-8). Returns false (and drops it) once closing, as browsers do. */
  sendText(text: string): boolean {
    return this.enqueue(Opcode.TEXT, encoder.encode(String(text)));
  }

  /** Queues a binary message. The bytes are not copied until sent: do not modify them meanwhile. */
  sendBinary(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) throw new TypeError('sendBinary takes a Uint8Array');
    return this.enqueue(Opcode.BINARY, data);
  }

  /** Queues a ping (at most 125 bytes of payload). */
  ping(data: Uint8Array = new Uint8Array(0)): boolean {
    if (data.length > MAX_CONTROL_PAYLOAD) throw new RangeError(`a ping carries at most ${MAX_CONTROL_PAYLOAD} bytes, not ${data.length}`);
    if (this.stateValue !== 'open') return false;
    this.control.push(this.frameBytes(Opcode.PING, data, true));
    return true;
  }

  /**
   * Starts the close handshake (§7.1.2): queues a close frame with `code` and `reason` (UTF-8, at
   * most 123 bytes) and waits up to closeTimeoutMs for the peer's. Without a code the frame is
   * empty (the peer then sees 1005). Does nothing once closing.
   */
  close(now: number, code?: number, reason = ''): void {
    if (code !== undefined && !isValidWireCloseCode(code)) throw new RangeError(`${code} is not a close code that may be sent (RFC 6455 §7.4)`);
    const reasonBytes = encoder.encode(reason);
    if (reasonBytes.length > 123) throw new RangeError(`a close reason is at most 123 bytes of UTF-8, not ${reasonBytes.length}`);
    if (code === undefined && reasonBytes.length) throw new TypeError('a close reason needs a close code');
    if (this.stateValue !== 'open') return;
    this.sendClose(code, reasonBytes);
    this.stateValue = 'closing';
    this.deadline = now + this.closeTimeoutMs;
  }

  /** The next bytes to write to the transport; control frames go before the next data fragment. */
  pollTransmit(): Transmit | undefined {
    const c = this.control.shift();
    if (c) return { bytes: c, appBytes: 0 };
    const m = this.messages[0];
    if (!m) return undefined;
    const rest = m.payload.length - m.offset;
    const n = Math.min(rest, this.fragmentSize);
    const first = m.offset === 0;
    const fin = n === rest;
    const chunk = m.payload.subarray(m.offset, m.offset + n);
    m.offset += n;
    if (fin) {
      this.messages.shift();
      this.stats.messagesOut++;
    }
    this.queuedAppBytes -= n;
    const bytes = emitFrame({ fin, opcode: first ? m.opcode : Opcode.CONTINUATION, payload: chunk, maskKey: this.maskKey() });
    this.stats.framesOut++;
    this.stats.bytesOut += bytes.length;
    return { bytes, appBytes: n };
  }

  /** The next event for the application. */
  pollEvent(): WebSocketEvent | undefined {
    return this.events.shift();
  }

  /** When {@link handleTimeout} wants to run (the close handshake's deadline), if at all. */
  pollAt(): number | undefined {
    return this.stateValue === 'closed' ? undefined : this.deadline;
  }

  /** Gives up on a peer that does not finish the close handshake (§7.1.1: then close the TCP connection). */
  handleTimeout(now: number): void {
    if (this.deadline !== undefined && now >= this.deadline && this.stateValue === 'closing') {
      this.deadline = undefined;
      this.wantTransportClose = true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Feeds bytes from the transport. Never throws on their content. */
  receive(bytes: Uint8Array, now: number): void {
    let i = 0;
    this.stats.bytesIn += bytes.length;
    while (i < bytes.length) {
      // §5.5.1: nothing after a close frame is data; after a failure nothing is read at all.
      if (this.failed || this.closeReceived) return;
      if (!this.frame) {
        // Collect the header (2 to 14 bytes) one step at a time.
        const take = Math.min(bytes.length - i, 14 - this.headerFill);
        this.headerBuf.set(bytes.subarray(i, i + take), this.headerFill);
        const view = this.headerBuf.subarray(0, this.headerFill + take);
        const parsed = parseFrameHeader(view, this.maxMessageSize, this.deflate ? RSV1 : 0);
        if (parsed === undefined) {
          this.headerFill += take;
          i += take;
          continue;
        }
        if (isFrameError(parsed)) {
          this.fail(now, parsed.closeCode, parsed.error, 'bad-frame');
          return;
        }
        // Only part of what we took belonged to the header.
        i += parsed.headerLength - this.headerFill;
        this.headerFill = 0;
        if (!this.beginFrame(parsed, now)) return;
        if (parsed.payloadLength === 0) this.endFrame(now);
        continue;
      }
      const need = this.frame.payloadLength - this.payloadFill;
      const take = Math.min(need, bytes.length - i);
      this.payload!.set(bytes.subarray(i, i + take), this.payloadFill);
      this.payloadFill += take;
      i += take;
      if (this.payloadFill === this.frame.payloadLength) this.endFrame(now);
    }
  }

  /**
   * The transport closed (FIN or reset). Emits the final 'close': clean when both close frames
   * were exchanged (§7.1.4), else 1006 (§7.1.5, "abnormal closure").
   */
  transportClosed(now: number): void {
    void now;
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.deadline = undefined;
    this.control.length = 0;
    this.messages.length = 0;
    this.queuedAppBytes = 0;
    const clean = this.closeSent && this.closeReceived !== undefined && !this.failed;
    if (clean) this.events.push({ type: 'close', code: this.closeReceived!.code, reason: this.closeReceived!.reason, wasClean: true });
    else this.events.push({ type: 'close', code: CloseCode.ABNORMAL, reason: '', wasClean: false });
  }

  private beginFrame(h: FrameHeader, now: number): boolean {
    this.stats.framesIn++;
    // §5.1: "A client MUST close a connection if it detects a masked frame."
    if (h.maskKey) return this.fail(now, CloseCode.PROTOCOL_ERROR, 'the server sent a masked frame', 'masked-frame');
    // RFC 7692 §6: RSV1 ("compressed") only on the first frame of a data message.
    if (h.rsv & RSV1 && (isControl(h.opcode) || h.opcode === Opcode.CONTINUATION)) {
      return this.fail(now, CloseCode.PROTOCOL_ERROR, 'RSV1 (compressed) on a control or continuation frame', 'bad-frame');
    }
    if (!isControl(h.opcode)) {
      if (h.opcode === Opcode.CONTINUATION) {
        if (this.messageOpcode < 0) return this.fail(now, CloseCode.PROTOCOL_ERROR, 'a continuation frame without a message to continue', 'bad-fragment');
      } else if (this.messageOpcode >= 0) {
        return this.fail(now, CloseCode.PROTOCOL_ERROR, 'a new message began before the fragmented one ended', 'bad-fragment');
      } else {
        this.messageOpcode = h.opcode;
        this.messageCompressed = (h.rsv & RSV1) !== 0;
      }
      if (this.fragmentBytes + h.payloadLength > this.maxMessageSize) {
        return this.fail(now, CloseCode.MESSAGE_TOO_BIG, `a message larger than ${this.maxMessageSize} bytes`, 'too-big');
      }
    }
    this.frame = h;
    this.payload = new Uint8Array(h.payloadLength);
    this.payloadFill = 0;
    return true;
  }

  private endFrame(now: number): void {
    const h = this.frame!;
    const payload = this.payload!;
    this.frame = undefined;
    this.payload = undefined;
    if (isControl(h.opcode)) {
      this.onControl(h.opcode, payload, now);
      return;
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    // Many tiny fragments: join them now and then, so the final join stays one bounded call.
    if (this.fragments.length >= 1024) this.fragments = [concatBytes(...this.fragments)];
    if (!h.fin) return;
    const data = this.fragments.length === 1 ? this.fragments[0] : concatBytes(...this.fragments);
    const opcode = this.messageOpcode;
    const compressed = this.messageCompressed;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.messageOpcode = -1;
    this.messageCompressed = false;
    if (this.stateValue !== 'open') return; // §7.1.2 closing: data may still arrive; browsers drop it too
    if (compressed) {
      this.stats.messagesIn++;
      this.events.push({ type: 'compressed', data, binary: opcode === Opcode.BINARY });
    } else if (opcode === Opcode.TEXT) {
      let text: string;
      try {
        text = utf8.decode(data);
      } catch {
        this.fail(now, CloseCode.INVALID_PAYLOAD, 'a text message that is not valid UTF-8', 'bad-utf8');
        return;
      }
      this.stats.messagesIn++;
      this.events.push({ type: 'message', data: text });
    } else {
      this.stats.messagesIn++;
      this.events.push({ type: 'message', data });
    }
  }

  private onControl(opcode: number, payload: Uint8Array, now: number): void {
    if (opcode === Opcode.PING) {
      this.events.push({ type: 'ping', data: payload });
      // §5.5.2: answer with a pong carrying the same data, unless a close frame was already sent.
      if (!this.closeSent) {
        this.control.push(this.frameBytes(Opcode.PONG, payload, true));
        this.stats.pingsAnswered++;
      }
      return;
    }
    if (opcode === Opcode.PONG) {
      this.events.push({ type: 'pong', data: payload });
      return;
    }
    // Close (§5.5.1): an optional 2-byte code, then a UTF-8 reason.
    let code: number = CloseCode.NO_STATUS;
    let reason = '';
    if (payload.length === 1) {
      this.fail(now, CloseCode.PROTOCOL_ERROR, 'a close frame with a 1-byte payload', 'bad-close');
      return;
    }
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidWireCloseCode(code)) {
        this.fail(now, CloseCode.PROTOCOL_ERROR, `a close frame with the code ${code}, which may not be sent`, 'bad-close');
        return;
      }
      try {
        reason = utf8.decode(payload.subarray(2));
      } catch {
        this.fail(now, CloseCode.INVALID_PAYLOAD, 'a close reason that is not valid UTF-8', 'bad-utf8');
        return;
      }
    }
    this.closeReceived = { code, reason };
    if (!this.closeSent) {
      // §5.5.1: answer with a close frame, echoing the status code.
      this.sendClose(code === CloseCode.NO_STATUS ? undefined : code, new Uint8Array(0));
      this.stateValue = 'closing';
    }
    this.events.push({ type: 'closing', code, reason });
    // §7.1.1: the server closes TCP first; if it does not, we do after the timeout.
    this.deadline = now + this.closeTimeoutMs;
  }

  /**
   * Fails the connection for a message the adapter could not accept after this module handed it
   * out (a compressed message that does not inflate, inflates too large, or is not UTF-8 text):
   * counted under `counter`, then as any failure.
   */
  failMessage(now: number, code: number, message: string, counter: string): void {
    if (this.failed || this.stateValue === 'closed') return;
    this.fail(now, code, message, counter);
  }

  /** Fails the connection (§7.1.7): a close frame with `code` if none was sent, then the transport goes. */
  private fail(now: number, code: number, message: string, counter: string): false {
    void now;
    this.stats.failures[counter] = (this.stats.failures[counter] ?? 0) + 1;
    this.failed = true;
    this.events.push({ type: 'error', message: `the server broke the WebSocket protocol: ${message}`, closeCode: code });
    if (!this.closeSent) this.sendClose(code, new Uint8Array(0));
    // Data still queued will never be sent: a failed connection does not finish messages.
    this.messages.length = 0;
    this.queuedAppBytes = 0;
    if (this.stateValue === 'open') this.stateValue = 'closing';
    this.wantTransportClose = true;
    this.frame = undefined;
    this.payload = undefined;
    this.fragments = [];
    return false;
  }

  private sendClose(code: number | undefined, reason: Uint8Array): void {
    const payload = new Uint8Array(code === undefined ? 0 : 2 + reason.length);
    if (code !== undefined) {
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      payload.set(reason, 2);
    }
    this.control.push(this.frameBytes(Opcode.CLOSE, payload, true));
    this.closeSent = true;
  }

  private enqueue(opcode: number, payload: Uint8Array): boolean {
    if (this.stateValue !== 'open') return false;
    this.messages.push({ opcode, payload, offset: 0 });
    this.queuedAppBytes += payload.length;
    return true;
  }

  private frameBytes(opcode: number, payload: Uint8Array, fin: boolean): Uint8Array {
    const bytes = emitFrame({ fin, opcode, payload, maskKey: this.maskKey() });
    this.stats.framesOut++;
    this.stats.bytesOut += bytes.length;
    return bytes;
  }

  /** §5.3: a fresh, unpredictable key for every frame. */
  private maskKey(): Uint8Array {
    const k = this.random(4);
    if (!(k instanceof Uint8Array) || k.length !== 4) throw new TypeError('the random source must return the requested number of bytes');
    return k;
  }
}
