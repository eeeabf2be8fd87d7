/**
 * A {@link Dialer} over real Node sockets (node:net, node:dgram), so the resolver and HTTP client
 * can be tested against real servers on loopback before the in-tunnel TCP/UDP stack exists.
 * Test-only: the NETWORK RULE applies, so only pass loopback (or test-namespace) addresses.
 */
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import {
  aborted,
  connectionRefused,
  connectionReset,
  connectTimedOut,
  hostUnreachable,
  type ConnectOptions,
  type Dialer,
  type OpenUdpOptions,
  type TcpConnection,
  type UdpDatagram,
  type UdpEndpointSocket,
} from '../../src/engine/dialer.ts';
import { WgwebError, ErrorCode } from '../../src/shared/errors.ts';
import { formatIp, parseIp, type IpAddress } from '../../src/shared/ip-address.ts';

/** Counters a test can assert on. */
export interface NodeDialerStats {
  tcpConnects: number;
  udpSockets: number;
}

function mapSocketError(err: NodeJS.ErrnoException, address: IpAddress, port: number): WgwebError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return connectionRefused(address, port, err);
    case 'ECONNRESET':
    case 'EPIPE':
      return connectionReset(address, port, err);
    case 'ETIMEDOUT':
      return connectTimedOut(address, port, 0, err);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return hostUnreachable(address, port, err.code, err);
    default:
      return new WgwebError(ErrorCode.CONNECTION_RESET, `connection to ${formatIp(address)}:${port} failed: ${err.message}`, {}, { cause: err });
  }
}

class NodeTcpConnection implements TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly closed: Promise<void>;
  private error: WgwebError | undefined;

  constructor(
    private readonly socket: net.Socket,
    readonly remoteAddress: IpAddress,
    readonly remotePort: number,
  ) {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= mapSocketError(err, remoteAddress, remotePort);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.pause();
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          socket.on('data', (chunk: Buffer) => {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            // Backpressure: stop reading from the kernel until the consumer catches up.
            if ((controller.desiredSize ?? 0) <= 0) socket.pause();
          });
          socket.once('end', () => {
            try {
              controller.close();
            } catch {
              // already errored/cancelled
            }
          });
          socket.once('close', () => {
            try {
              if (this.error) controller.error(this.error);
              else controller.close();
            } catch {
              // already closed
            }
          });
        },
        pull: () => {
          socket.resume();
        },
        cancel: () => {
          socket.destroy();
        },
      },
      { highWaterMark: 4 },
    );
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed || socket.writableEnded) {
            reject(this.error ?? connectionReset(remoteAddress, remotePort));
            return;
          }
          socket.write(chunk, (err) => (err ? reject(this.error ?? mapSocketError(err, remoteAddress, remotePort)) : resolve()));
        }),
      close: () =>
        new Promise<void>((resolve) => {
          if (socket.destroyed || socket.writableEnded) resolve();
          else socket.end(() => resolve());
        }),
      abort: () => {
        socket.destroy();
      },
    });
  }

  close(): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  abort(reason?: unknown): void {
    this.error ??= aborted('the connection', reason);
    if (this.socket.destroyed) return;
    // resetAndDestroy sends RST like a real abort (RFC 9293 §3.10.5). After end() it fails with
    // EINVAL and, in Node 20, leaks the handle so the process never exits: plain destroy then.
    if (this.socket.writableEnded) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }
}

class NodeUdpSocket implements UdpEndpointSocket {
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly queue: UdpDatagram[] = [];
  private readonly waiters: { resolve: (d: UdpDatagram) => void; reject: (e: unknown) => void }[] = [];
  private error: unknown;
  private isClosed = false;
  /** Datagrams dropped because nobody was receiving and the queue was full. */
  dropped = 0;

  constructor(private readonly localPort: number) {}

  /** Sockets whose bind has completed. */
  private readonly bound = new WeakSet<dgram.Socket>();
  /** Datagrams sent before their socket was bound: sent again if the bind fails on a taken port. */
  private readonly unsent: { family: 4 | 6; data: Uint8Array; port: number; host: string }[] = [];

  private socketFor(family: 4 | 6, port = this.localPort): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    const socket = s;
    s.on('listening', () => {
      this.bound.add(socket);
      this.dropUnsent(family);
    });
    s.on('message', (msg, rinfo) => {
      const d: UdpDatagram = { address: parseIp(rinfo.address), port: rinfo.port, data: new Uint8Array(msg) };
      const w = this.waiters.shift();
      if (w) w.resolve(d);
      else if (this.queue.length < 256) this.queue.push(d);
      else this.dropped++;
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && port !== 0 && !this.bound.has(socket) && this.sockets.get(family) === socket) {
        // The port asked for is taken (by anything else on this machine). The tunnel's dialer
        // throws at once then and the caller takes another port; Node says so only after the
        // bind, so take a free port here and send again what waited on the failed socket.
        this.sockets.delete(family);
        socket.close();
        const again = this.socketFor(family, 0);
        for (const u of this.dropUnsent(family)) again.send(u.data, u.port, u.host);
        return;
      }
      this.fail(err);
    });
    s.bind(port, family === 4 ? '0.0.0.0' : '::');
    this.sockets.set(family, s);
    return s;
  }

  private dropUnsent(family: 4 | 6): { data: Uint8Array; port: number; host: string }[] {
    const mine = this.unsent.filter((u) => u.family === family);
    const others = this.unsent.filter((u) => u.family !== family);
    this.unsent.splice(0, this.unsent.length, ...others);
    return mine;
  }

  private fail(err: unknown): void {
    this.error ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  send(address: IpAddress, port: number, data: Uint8Array): void {
    if (this.isClosed || this.error) return;
    const family = address.length === 4 ? 4 : 6;
    const s = this.socketFor(family);
    if (!this.bound.has(s)) this.unsent.push({ family, data, port, host: formatIp(address) });
    s.send(data, port, formatIp(address), () => {
      // Errors surface on the socket's 'error' event; UDP sends are best effort.
    });
  }

  receive(signal?: AbortSignal): Promise<UdpDatagram> {
    if (this.isClosed) return Promise.reject(aborted('receiving on a closed UDP socket'));
    if (this.error) return Promise.reject(this.error);
    if (signal?.aborted) return Promise.reject(aborted('receiving a UDP datagram', signal.reason));
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(aborted('receiving a UDP datagram', signal?.reason));
      };
      const w = {
        resolve: (d: UdpDatagram) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const w of this.waiters.splice(0)) w.reject(aborted('receiving on a closed UDP socket'));
  }
}

/** Real-socket {@link Dialer} for tests. */
export class NodeDialer implements Dialer {
  readonly stats: NodeDialerStats = { tcpConnects: 0, udpSockets: 0 };
  private readonly open = new Set<NodeTcpConnection | NodeUdpSocket>();

  connectTcp(address: IpAddress, port: number, options: ConnectOptions = {}): Promise<TcpConnection> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(aborted(`connecting to ${formatIp(address)}:${port}`, signal.reason));
    this.stats.tcpConnects++;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: formatIp(address), port, allowHalfOpen: true, noDelay: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
      };
      const onAbort = (): void => {
        cleanup();
        socket.destroy();
        reject(aborted(`connecting to ${formatIp(address)}:${port}`, signal?.reason));
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        cleanup();
        reject(mapSocketError(err, address, port));
      };
      const onConnect = (): void => {
        cleanup();
        const c = new NodeTcpConnection(socket, address, port);
        this.open.add(c);
        c.closed.then(() => this.open.delete(c));
        resolve(c);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          socket.destroy();
          reject(connectTimedOut(address, port, timeoutMs));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
  }

  openUdp(options: OpenUdpOptions = {}): UdpEndpointSocket {
    this.stats.udpSockets++;
    const s = new NodeUdpSocket(options.localPort ?? 0);
    this.open.add(s);
    return s;
  }

  /** Destroys everything this dialer opened (test teardown). */
  destroyAll(): void {
    for (const c of this.open) {
      if (c instanceof NodeTcpConnection) c.abort();
      else c.close();
    }
    this.open.clear();
  }
}
