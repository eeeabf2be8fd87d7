/**
 * Two of wgweb's TCP stacks joined back to back in memory, driven in real time: a client table
 * and a server table, segments handed across on every step, one timer for the earliest pollAt.
 * Lets the demo's servers (HTTP, DNS over TCP, echo) be tested over real TCP without sockets.
 *
 *   client TcpSocketTable.poll ──▶ server.receive      server.poll ──▶ client.receive
 *   wake() (any socket call) ──▶ one coalesced step ──▶ timer at min(client.pollAt, server.pollAt)
 */
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { TcpSocketTable } from '../../../src/netstack/socket/tcp-socket-table.ts';
import { TcpStreamConnection } from '../../../src/engine/tcp-stream-connection.ts';

export class TcpPair {
  readonly client = new TcpSocketTable();
  readonly server = new TcpSocketTable();
  readonly clientAddress: IpAddress = parseIp('10.44.0.2');
  readonly serverAddress: IpAddress = parseIp('10.44.0.1');
  /** Segments handed across so far, each way. */
  segments = { toServer: 0, toClient: 0 };
  private queued = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Like an open socket in a real server, the pair keeps the process alive until closed. */
  private readonly keepAlive = setInterval(() => {}, 60_000);

  /** Asks for a step soon (what TcpStreamConnection calls after socket operations). */
  readonly wake = (): void => {
    if (this.queued || this.closed) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.step();
    });
  };

  /** Opens a connection from the client table to `port` on the server table. */
  connect(port: number): TcpStreamConnection {
    const socket = this.client.connect({ localAddress: this.clientAddress, remoteAddress: this.serverAddress, remotePort: port }, performance.now());
    const conn = new TcpStreamConnection(socket, this.wake);
    this.wake();
    return conn;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.keepAlive);
    if (this.timer) clearTimeout(this.timer);
  }

  private step(): void {
    if (this.closed) return;
    const now = performance.now();
    for (let round = 0; round < 1000; round++) {
      const a = this.client.poll(now);
      const b = this.server.poll(now);
      if (a.length === 0 && b.length === 0) break;
      for (const o of a) {
        this.segments.toServer++;
        this.server.receive(o.segment, o.src, o.dst, now);
      }
      for (const o of b) {
        this.segments.toClient++;
        this.client.receive(o.segment, o.src, o.dst, now);
      }
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = Math.min(this.client.pollAt(), this.server.pollAt());
    if (Number.isFinite(at)) {
      this.timer = setTimeout(() => this.step(), Math.max(0, Math.min(at - now, 60_000)));
    }
  }
}

/** Writes `text` (then half-closes when `end`), and reads everything until the server closes. */
export async function rawExchange(conn: TcpStreamConnection, input: string | Uint8Array, end = false): Promise<string> {
  const writer = conn.writable.getWriter();
  await writer.write(typeof input === 'string' ? new TextEncoder().encode(input) : input);
  if (end) await writer.close();
  else writer.releaseLock();
  return readAll(conn);
}

/** Everything the server sends until it closes, as latin1 text. */
export async function readAll(conn: TcpStreamConnection): Promise<string> {
  const reader = conn.readable.getReader();
  let out = '';
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    out += Buffer.from(r.value).toString('latin1');
  }
  return out;
}
