/**
 * A listening endpoint (RFC 9293 LISTEN state): SYNs for its port become sockets in SYN-RECEIVED,
 * and those that complete the handshake wait in the accept queue.
 *
 *   SYN ──▶ TcpSocketTable (backlog check) ──▶ TcpSocket.openPassive ──▶ … ──▶ ESTABLISHED
 *        ──▶ enqueue() ──▶ `connection` event ──▶ application accept()
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import type { ResolvedTcpOptions, TcpSocket } from './tcp-socket.ts';

/** Events of a listener: `connection` when accept() has something to return. */
export type TcpListenerEvent = 'connection';

/** @internal What a listener needs from its table. */
export interface TcpListenerHost {
  listenerClosed(listener: TcpListener): void;
  listenerNeedsAttention(listener: TcpListener): void;
}

/** A passive open on a port (optionally one local address). */
export class TcpListener {
  readonly port: number;
  /** Local address it is bound to, or undefined for every address of the interface. */
  readonly address: IpAddress | undefined;
  readonly backlog: number;
  /** Set by the owner; called after each input step, never from inside one. */
  onEvent?: (event: TcpListenerEvent, listener: TcpListener) => void;
  /** @internal Options for the sockets this listener creates. */
  readonly socketOptions: ResolvedTcpOptions;
  private readonly queue: TcpSocket[] = [];
  /** @internal Sockets in SYN-RECEIVED belonging to this listener. */
  readonly embryonic = new Set<TcpSocket>();
  private closedFlag = false;
  private pendingEvent = false;
  private readonly host: TcpListenerHost;

  /** @internal Created by TcpSocketTable.listen. */
  constructor(host: TcpListenerHost, port: number, address: IpAddress | undefined, backlog: number, socketOptions: ResolvedTcpOptions) {
    this.host = host;
    this.port = port;
    this.address = address;
    this.backlog = backlog;
    this.socketOptions = socketOptions;
  }

  /** The next established connection, or undefined when none is waiting. */
  accept(): TcpSocket | undefined {
    const s = this.queue.shift();
    if (s) s.listenerRef = undefined;
    return s;
  }

  /** Connections waiting for accept(). */
  get pending(): number {
    return this.queue.length;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Stops listening; connections not yet accepted are reset. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const s of [...this.queue, ...this.embryonic]) s.abort();
    this.queue.length = 0;
    this.embryonic.clear();
    this.host.listenerClosed(this);
  }

  /** @internal Room for another half-open or unaccepted connection? */
  hasRoom(): boolean {
    return !this.closedFlag && this.queue.length + this.embryonic.size < this.backlog;
  }

  /** @internal A passive socket reached ESTABLISHED. */
  enqueue(socket: TcpSocket): void {
    this.embryonic.delete(socket);
    this.queue.push(socket);
    this.pendingEvent = true;
    this.host.listenerNeedsAttention(this);
  }

  /** @internal A passive socket died before accept(). */
  forget(socket: TcpSocket): void {
    this.embryonic.delete(socket);
    const i = this.queue.indexOf(socket);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** @internal */
  flushEvents(): void {
    if (!this.pendingEvent) return;
    this.pendingEvent = false;
    if (this.queue.length > 0) this.onEvent?.('connection', this);
  }
}
