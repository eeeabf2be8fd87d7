/**
 * WHATWG streams over one sans-IO {@link TcpSocket}: what the HTTP client, the CLI and the demo
 * peer's servers read and write.
 *
 *   readable.pull ──▶ socket.recv ──(nothing yet)──▶ wait for 'readable' ──▶ enqueue
 *   writable.write ──▶ socket.send (partial) ──▶ wake loop ──▶ wait for 'writable' ──▶ rest
 *   writable.close ──▶ socket.shutdownWrite (FIN after queued data)
 *
 * Backpressure runs end to end: the readable pulls only when its consumer asks (high-water mark 0),
 * so unread bytes stay in the socket's receive buffer and the advertised TCP window closes
 * (RFC 9293 §3.8.6); a writer waits for send-buffer space instead of buffering without bound.
 */
import type { IpAddress } from '../shared/ip-address.ts';
import { connectionRefused, connectionReset, connectTimedOut, hostUnreachable, type TcpConnection } from './dialer.ts';
import type { TcpError, TcpSocket, TcpSocketEvent } from '../netstack/socket/tcp-socket.ts';
import { WgwebError } from '../shared/errors.ts';

/**
 * Largest chunk handed to a reader at once. A read takes what the socket holds, so chunks are this
 * big only when the reader fell behind (a bulk download whose reader waits a task between reads,
 * body-port.ts): then fewer, bigger chunks mean fewer ArrayBuffers and messages per MB (#19).
 */
const READ_CHUNK = 256 * 1024;

/** Maps a socket failure to the error a user sees. */
export function tcpErrorToWgweb(error: TcpError, address: IpAddress, port: number, timeoutMs = 0): WgwebError {
  switch (error.code) {
    case 'refused':
      return connectionRefused(address, port);
    case 'timeout':
      return connectTimedOut(address, port, timeoutMs);
    case 'unreachable':
      return hostUnreachable(address, port, error.message);
    default:
      return connectionReset(address, port);
  }
}

/** A {@link TcpConnection} backed by a netstack socket; `wake` asks the event loop to poll. */
export class TcpStreamConnection implements TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly closed: Promise<void>;
  readonly socket: TcpSocket;
  private readonly wake: () => void;
  private readWaiter: (() => void) | undefined;
  private writeWaiter: (() => void) | undefined;
  private resolveClosed!: () => void;
  private failure: WgwebError | undefined;
  private done = false;

  constructor(socket: TcpSocket, wake: () => void) {
    this.socket = socket;
    this.wake = wake;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.onEvent = (event) => this.onSocketEvent(event);
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: () => {
          // The reader lost interest: stop receiving, but let queued writes finish.
          if (this.socket.state !== 'CLOSED') this.socket.close();
          this.wake();
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        write: (chunk) => this.write(chunk),
        close: () => {
          this.socket.shutdownWrite();
          this.wake();
        },
        abort: () => this.abort(),
      },
      { highWaterMark: 1 },
    );
    if (socket.state === 'CLOSED') this.finish();
  }

  close(): void {
    this.socket.close();
    this.wake();
  }

  abort(reason?: unknown): void {
    void reason;
    this.socket.abort();
    this.wake();
    this.finish();
  }

  private onSocketEvent(event: TcpSocketEvent): void {
    if (event === 'error' && this.socket.error) {
      this.failure = tcpErrorToWgweb(this.socket.error, this.remoteAddress, this.remotePort);
    }
    if (event === 'closed') this.finish();
    // Every event may unblock a reader or writer; they re-check the socket themselves.
    const r = this.readWaiter;
    const w = this.writeWaiter;
    this.readWaiter = undefined;
    this.writeWaiter = undefined;
    r?.();
    w?.();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.resolveClosed();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const available = this.socket.recvAvailable;
      if (available > 0) {
        const chunk = this.socket.recv(Math.min(available, READ_CHUNK));
        // Reading opened receive window: let the loop send a window update if one is due.
        this.wake();
        if (chunk) {
          controller.enqueue(chunk);
          return;
        }
      }
      if (this.failure) {
        controller.error(this.failure);
        return;
      }
      if (this.socket.readEnded || this.done) {
        controller.close();
        return;
      }
      await new Promise<void>((resolve) => (this.readWaiter = resolve));
    }
  }

  private async write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a TCP stream takes Uint8Array chunks');
    let offset = 0;
    while (offset < chunk.length) {
      if (this.failure) throw this.failure;
      if (this.done || this.socket.state === 'CLOSED') throw connectionReset(this.remoteAddress, this.remotePort);
      const n = this.socket.send(offset === 0 ? chunk : chunk.subarray(offset));
      offset += n;
      if (n > 0) this.wake();
      if (offset < chunk.length) await new Promise<void>((resolve) => (this.writeWaiter = resolve));
    }
  }
}
