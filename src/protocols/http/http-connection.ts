/**
 * One TCP connection as the HTTP client sees it: a reader with push-back (bytes past the end of one
 * response stay for the next parse), a writer, and an idle watch that notices a server closing a
 * pooled connection (RFC 9112 §9.5) without losing a byte if the connection is picked up again.
 */
import { WgwebError } from '../../shared/errors.ts';
import { connectionReset, formatSocketAddress, type TcpConnection } from '../../engine/dialer.ts';

export class HttpConnection {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private pushedBack: Uint8Array | undefined;
  /** A read started by the idle watch; the next {@link read} takes it over. */
  private pendingRead: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  private idle = false;
  private ended = false;
  /** Requests written on this connection so far. */
  requests = 0;
  /** Set once it must not carry another request. */
  dead = false;

  constructor(
    readonly tcp: TcpConnection,
    /** Pool key: `scheme://host:port` (plus trust options for https). */
    readonly originKey: string,
  ) {
    this.reader = tcp.readable.getReader();
    this.writer = tcp.writable.getWriter();
    // Errors are reported through the operations that hit them; never as unhandled rejections.
    this.reader.closed.catch(() => {});
    this.writer.closed.catch(() => {});
  }

  /** `10.0.0.2:80` */
  get remote(): string {
    return formatSocketAddress(this.tcp.remoteAddress, this.tcp.remotePort);
  }

  /** Next bytes from the server, `undefined` at end of stream. Errors come back as WgwebErrors. */
  async read(): Promise<Uint8Array | undefined> {
    if (this.pushedBack) {
      const b = this.pushedBack;
      this.pushedBack = undefined;
      return b;
    }
    if (this.ended) return undefined;
    const p = this.pendingRead ?? this.reader.read();
    this.pendingRead = undefined;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await p;
    } catch (e) {
      this.dead = true;
      throw e instanceof WgwebError ? e : connectionReset(this.tcp.remoteAddress, this.tcp.remotePort, e);
    }
    if (r.done) {
      this.ended = true;
      this.dead = true;
      return undefined;
    }
    return r.value;
  }

  /** Puts bytes back in front of the stream (they were read past a message boundary). */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.pushedBack) throw new Error('HttpConnection.unread called twice without a read in between');
    this.pushedBack = bytes;
  }

  /**
   * The next `n` bytes if they were already read (pushed back), without waiting: lets a small
   * response body be taken whole so the connection goes back to the pool at once.
   */
  takeIfBuffered(n: number): Uint8Array | undefined {
    const b = this.pushedBack;
    if (!b || b.length < n) return undefined;
    this.pushedBack = b.length > n ? b.subarray(n) : undefined;
    return b.subarray(0, n);
  }

  /** True when bytes were read but not consumed: a server sending what was never asked for. */
  get hasUnreadBytes(): boolean {
    return this.pushedBack !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.writer.write(bytes);
    } catch (e) {
      this.dead = true;
      throw e instanceof WgwebError ? e : connectionReset(this.tcp.remoteAddress, this.tcp.remotePort, e);
    }
  }

  /**
   * Marks the connection idle and watches it: anything arriving while idle (data, FIN, reset)
   * makes it unusable, and `onUnusable` runs. A later {@link read} receives the watched result.
   */
  watchIdle(onUnusable: () => void): void {
    this.idle = true;
    if (this.ended || this.pushedBack) {
      onUnusable();
      return;
    }
    const p = this.pendingRead ?? this.reader.read();
    this.pendingRead = p;
    p.then(
      () => {
        if (this.idle) onUnusable();
      },
      () => {
        if (this.idle) onUnusable();
      },
    );
  }

  /** Takes the connection out of the idle state (it is about to carry a request). */
  activate(): void {
    this.idle = false;
  }

  /** Graceful close (FIN). */
  close(): void {
    this.dead = true;
    this.idle = false;
    try {
      this.tcp.close();
    } catch {
      // already gone
    }
  }

  /** Immediate close (RST): for connections left mid-message. */
  abort(reason?: unknown): void {
    this.dead = true;
    this.idle = false;
    try {
      this.tcp.abort(reason);
    } catch {
      // already gone
    }
  }
}
