/**
 * The Echo Protocol (RFC 862) on the demo peer, TCP and UDP port 7: whatever arrives goes back.
 *
 *   TCP: readable ──pipeTo──▶ writable (flow-controlled end to end: an echo client that stops
 *        reading stops the sender through both TCP windows); the client's FIN ends the echo with ours
 *   UDP: datagram ──▶ the same payload back to its source
 */
import type { NetInterface } from '../../client/netstack/net-interface.ts';
import type { TcpSocketTable } from '../../client/netstack/socket/tcp-socket-table.ts';
import { TcpStreamConnection } from '../../client/worker/tcp-stream-connection.ts';
import { ECHO_PORT, SERVER_TCP_OPTIONS } from '../constants.ts';

export interface StreamServiceOptions {
  net: NetInterface;
  tcp: TcpSocketTable;
  wake: () => void;
  port?: number;
  /** TCP connections served at once; more are reset (default 64). */
  maxConnections?: number;
}

/** A running service; close() resets its connections. */
export interface StreamService {
  readonly connections: number;
  close(): void;
}

export function startEchoService(options: StreamServiceOptions): StreamService {
  const { net, tcp, wake } = options;
  const port = options.port ?? ECHO_PORT;
  const maxConnections = options.maxConnections ?? 64;
  const udp = net.udpBind(port);
  udp.onReadable = () => {
    for (let d = udp.recv(); d; d = udp.recv()) {
      // Never answer port 7 with port 7 (or port 9/19): two echo services would ping-pong forever.
      if (d.port === port || d.port === 9 || d.port === 19) continue;
      udp.send(d.address, d.port, d.data);
    }
    while (udp.recvError()) {
      // the asker is gone
    }
    wake();
  };
  const listener = tcp.listen({ port, backlog: 32, options: SERVER_TCP_OPTIONS });
  const live = new Set<TcpStreamConnection>();
  listener.onEvent = () => {
    for (let s = listener.accept(); s; s = listener.accept()) {
      if (live.size >= maxConnections) {
        s.abort();
        continue;
      }
      const conn = new TcpStreamConnection(s, wake);
      live.add(conn);
      conn.readable
        .pipeTo(conn.writable)
        .catch(() => conn.abort())
        .finally(() => {
          conn.close();
          live.delete(conn);
        });
    }
    wake();
  };
  return {
    get connections() {
      return live.size;
    },
    close() {
      udp.close();
      listener.close();
      for (const c of live) c.abort();
      live.clear();
      wake();
    },
  };
}
