/**
 * `PortWebSocket`: a class that behaves as the browser's own `WebSocket` for page scripts, while the
 * connection itself runs in the tunnel worker (RFC 6455 over the in-tunnel TCP), reached through one
 * MessagePort per socket (src/browser/worker/websocket-port-protocol.ts).
 *
 * Contract for whoever installs it (the browse view's frame agent, `wgweb.webSocket`):
 *
 *   const ws = new PortWebSocket(url, protocols, {
 *     base: 'http://intranet.host/app/',            // resolves relative URLs, as a page's base URL does
 *     open: (request, port) => tunnelClient.openWebSocket(request.url, { protocols: request.protocols }, port),
 *   });
 *
 *   - The constructor validates like `new WebSocket()` (WHATWG WebSockets §3.1): a bad URL, a scheme
 *     other than ws/wss/http/https, a #fragment, or bad/duplicate subprotocols throw a
 *     `DOMException` named SyntaxError, synchronously. Then it creates a MessageChannel and calls
 *     `open(request, port2)` once; the opener must transfer `port2` to the worker's
 *     `openWebSocket`. Failures (refused, an untrusted certificate, handshake rejected) arrive
 *     later as `error` then `close` (code 1006), as in a browser.
 *   - `readyState` CONNECTING(0) → OPEN(1) → CLOSING(2) → CLOSED(3); `protocol`/`extensions` are set
 *     at `open`; `url` is the resolved URL; `binaryType` is 'blob' (default) or 'arraybuffer'.
 *   - `send(data)`: string, ArrayBuffer, ArrayBufferView or Blob. While CONNECTING it throws
 *     InvalidStateError; after close it only grows `bufferedAmount` (as browsers do). Data is copied
 *     once and the copy transferred (the caller's buffer stays usable). Blobs keep their place in the
 *     order of messages.
 *   - `bufferedAmount`: bytes passed to send and not yet handed to TCP by the worker.
 *   - `close(code?, reason?)`: code must be 1000 or 3000-4999 (else InvalidAccessError), reason at
 *     most 123 bytes of UTF-8 (else SyntaxError). While CONNECTING it abandons the attempt.
 *   - Events `open`, `message` (MessageEvent, `origin` = the socket's origin), `error`, `close`
 *     (CloseEvent: `code`, `reason`, `wasClean`), through `onX` properties and addEventListener.
 */
import type { OpenWebSocketOptions, PageToWorkerMessage, WorkerToPageMessage } from '../worker/websocket-port-protocol.ts';

/** What the opener receives: the validated URL and subprotocols. */
export interface PortWebSocketRequest extends Required<Pick<OpenWebSocketOptions, 'protocols'>> {
  readonly url: string;
}

export interface PortWebSocketOptions {
  /** Base URL for relative URLs (a page's document base URL). Default: the global `location`, if any. */
  base?: string;
  /** Hands the port to the worker (transferring it). Called once, synchronously, from the constructor. */
  open(request: PortWebSocketRequest, port: MessagePort): void;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const encoder = new TextEncoder();

/** `CloseEvent` where the runtime has one; a compatible Event subclass where it does not (Node). */
const CloseEventImpl: new (type: string, init: { code: number; reason: string; wasClean: boolean }) => Event & { code: number; reason: string; wasClean: boolean } =
  (globalThis as { CloseEvent?: typeof CloseEvent }).CloseEvent ??
  class extends Event {
    readonly code: number;
    readonly reason: string;
    readonly wasClean: boolean;
    constructor(type: string, init: { code: number; reason: string; wasClean: boolean }) {
      super(type);
      this.code = init.code;
      this.reason = init.reason;
      this.wasClean = init.wasClean;
    }
  };

type Handler = ((this: PortWebSocket, ev: Event) => unknown) | null;

/** See the module comment. */
export class PortWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readonly #url: string;
  readonly #origin: string;
  readonly #port: MessagePort;
  #readyState = 0;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType = 'blob';
  #sent = 0;
  #written = 0;
  #sendChain: Promise<void> = Promise.resolve();
  readonly #handlers = new Map<string, Handler>();

  constructor(url: string | URL, protocols: string | string[] = [], options: PortWebSocketOptions) {
    super();
    if (!options || typeof options.open !== 'function') throw new TypeError('PortWebSocket needs an open(request, port) function');
    const base = options.base ?? (globalThis as { location?: { href: string } }).location?.href;
    let parsed: URL;
    try {
      parsed = new URL(String(url), base);
    } catch {
      throw new DOMException(`Failed to construct 'WebSocket': The URL '${String(url)}' is invalid.`, 'SyntaxError');
    }
    if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
    else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${parsed.protocol.slice(0, -1)}' is not allowed.`, 'SyntaxError');
    }
    if (parsed.hash || String(url).endsWith('#')) {
      throw new DOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${parsed.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, 'SyntaxError');
    }
    const list = typeof protocols === 'string' ? [protocols] : [...protocols].map(String);
    const seen = new Set<string>();
    for (const p of list) {
      if (!TOKEN.test(p)) throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${p}' is invalid.`, 'SyntaxError');
      if (seen.has(p)) throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${p}' is duplicated.`, 'SyntaxError');
      seen.add(p);
    }
    this.#url = parsed.href;
    this.#origin = `${parsed.protocol}//${parsed.host}`;
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (e) => this.#onWorkerMessage(e.data as WorkerToPageMessage);
    options.open({ url: this.#url, protocols: list }, channel.port2);
  }

  get url(): string {
    return this.#url;
  }
  get readyState(): number {
    return this.#readyState;
  }
  get protocol(): string {
    return this.#protocol;
  }
  get extensions(): string {
    return this.#extensions;
  }
  get bufferedAmount(): number {
    return Math.max(0, this.#sent - this.#written);
  }
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    // WebIDL enum attribute: other values are ignored, not an error.
    if (value === 'blob' || value === 'arraybuffer') this.#binaryType = value;
  }

  get onopen(): Handler {
    return this.#handler('open');
  }
  set onopen(h: Handler) {
    this.#setHandler('open', h);
  }
  get onmessage(): Handler {
    return this.#handler('message');
  }
  set onmessage(h: Handler) {
    this.#setHandler('message', h);
  }
  get onerror(): Handler {
    return this.#handler('error');
  }
  set onerror(h: Handler) {
    this.#setHandler('error', h);
  }
  get onclose(): Handler {
    return this.#handler('close');
  }
  set onclose(h: Handler) {
    this.#setHandler('close', h);
  }

  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#readyState === PortWebSocket.CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    }
    let message: Promise<string | ArrayBuffer> | string | ArrayBuffer;
    let size: number;
    if (typeof data === 'string') {
      size = encoder.encode(data).length;
      message = data;
    } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
      size = data.size;
      message = data.arrayBuffer();
    } else if (ArrayBuffer.isView(data)) {
      size = data.byteLength;
      message = copyBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
      size = data.byteLength;
      message = copyBytes(new Uint8Array(data));
    } else {
      size = encoder.encode(String(data)).length;
      message = String(data);
    }
    this.#sent += size;
    // After close, browsers count the bytes in bufferedAmount and send nothing (WHATWG §3.4).
    if (this.#readyState !== PortWebSocket.OPEN) return;
    if (typeof message === 'object' && 'then' in message) {
      const pendingBlob = message;
      this.#sendChain = this.#sendChain.then(async () => this.#post({ type: 'send', data: await pendingBlob }));
    } else {
      const now = message;
      this.#sendChain = this.#sendChain.then(() => this.#post({ type: 'send', data: now }));
    }
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined) {
      code = clampUnsignedShort(code);
      if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
      }
    }
    if (reason !== undefined && encoder.encode(String(reason)).length > 123) {
      throw new DOMException("Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.", 'SyntaxError');
    }
    if (this.#readyState === PortWebSocket.CLOSING || this.#readyState === PortWebSocket.CLOSED) return;
    const wasConnecting = this.#readyState === PortWebSocket.CONNECTING;
    this.#readyState = PortWebSocket.CLOSING;
    const msg: PageToWorkerMessage = wasConnecting ? { type: 'close' } : { type: 'close', code, reason: reason === undefined ? undefined : String(reason) };
    // After the queued sends, so a message sent just before close() still goes out.
    this.#sendChain = this.#sendChain.then(() => this.#post(msg));
  }

  #post(message: PageToWorkerMessage): void {
    if (this.#readyState === PortWebSocket.CLOSED) return;
    const transfer = typeof message === 'object' && message.type === 'send' && message.data instanceof ArrayBuffer ? [message.data] : [];
    this.#port.postMessage(message, transfer);
  }

  #onWorkerMessage(m: WorkerToPageMessage): void {
    switch (m.type) {
      case 'open':
        if (this.#readyState !== PortWebSocket.CONNECTING) return;
        this.#readyState = PortWebSocket.OPEN;
        this.#protocol = m.protocol;
        this.#extensions = m.extensions;
        this.dispatchEvent(new Event('open'));
        return;
      case 'message': {
        if (this.#readyState !== PortWebSocket.OPEN) return;
        const data = typeof m.data === 'string' ? m.data : this.#binaryType === 'blob' ? new Blob([m.data]) : m.data;
        this.dispatchEvent(new MessageEvent('message', { data, origin: this.#origin }));
        return;
      }
      case 'written':
        this.#written = m.total;
        return;
      case 'closing':
        if (this.#readyState === PortWebSocket.OPEN) this.#readyState = PortWebSocket.CLOSING;
        return;
      case 'error':
        this.dispatchEvent(new Event('error'));
        return;
      case 'close':
        this.#readyState = PortWebSocket.CLOSED;
        this.#port.onmessage = null;
        this.#port.close();
        this.dispatchEvent(new CloseEventImpl('close', { code: m.code, reason: m.reason, wasClean: m.wasClean }));
        return;
    }
  }

  #handler(type: string): Handler {
    return this.#handlers.get(type) ?? null;
  }

  #setHandler(type: string, h: Handler): void {
    const had = this.#handlers.has(type);
    this.#handlers.set(type, typeof h === 'function' ? h : null);
    if (!had) this.addEventListener(type, (ev) => this.#handlers.get(type)?.call(this, ev));
  }
}

/**
 * Reports a failure to open on the worker's end of the port (`port2`) when the opener could not
 * hand it over (no worker, no session): the PortWebSocket then fires error and close (1006).
 */
export function failPort(port: MessagePort, message: string): void {
  try {
    port.postMessage({ type: 'error', message } satisfies WorkerToPageMessage);
    port.postMessage({ type: 'close', code: 1006, reason: '', wasClean: false } satisfies WorkerToPageMessage);
    port.close();
  } catch {
    // Already transferred: the worker reports on it instead.
  }
}

/** WebIDL `[Clamp] unsigned short` (WebIDL §3.2.4): NaN is 0, round half to even, clamp to 0-65535. */
function clampUnsignedShort(value: unknown): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const c = Math.min(Math.max(n, 0), 65535);
  const f = Math.floor(c);
  const diff = c - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function copyBytes(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
