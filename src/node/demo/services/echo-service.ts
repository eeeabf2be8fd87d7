/**
 * The Echo Protocol (RFC 862) on the demo peer, TCP and UDP port 7: whatever arrives goes back.
 *
 *   TCP: readable ──pipeTo──▶ writable (flow-controlled end to end: an echo client that stops
 *        reading stops the sender through both TCP windows); the client's FIN ends the echo with ours
 *   UDP: datagram ──▶ the same payload back to its source
 */
import type { NetInterface } from '../../../netstack/net-interface.ts';
import type { TcpSocketTable } from '../../../netstack/socket/tcp-socket-table.ts';
import { acceptTcpConnections } from './tcp-acceptor.ts';
import { ECHO_PORT, SERVER_TCP_OPTIONS } from '../demo-constants.ts';
import { ServiceGuard } from './service-guard.ts';

export interface StreamServiceOptions {
  net: NetInterface;
  tcp: TcpSocketTable;
  wake: () => void;
  port?: number;
  /** TCP connections served at once; more are reset (default 64). */
  maxConnections?: number;
  /** Contains errors of this service (counted by name); default a guard of its own. */
  guard?: ServiceGuard;
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
  const guard = options.guard ?? new ServiceGuard();
  const udp = net.udpBind(port);
  udp.onReadable = guard.wrap('echo/udp', () => {
    for (let d = udp.recv(); d; d = udp.recv()) {
      // Never answer port 7 with port 7 (or port 9/19): two echo services would ping-pong forever.
      if (d.port === port || d.port === 9 || d.port === 19) continue;
      udp.send(d.address, d.port, d.data);
    }
    while (udp.recvError()) {
      // the asker is gone
    }
    wake();
  });
  const acceptor = acceptTcpConnections({
    listener: tcp.listen({ port, backlog: 32, options: SERVER_TCP_OPTIONS }),
    wake,
    maxConnections,
    guard,
    name: 'echo/tcp',
    // The client's FIN ends the readable, which closes the writable: our FIN follows its own.
    serve: (conn) => conn.readable.pipeTo(conn.writable).finally(() => conn.close()),
  });
  return {
    get connections() {
      return acceptor.connections;
    },
    close() {
      udp.close();
      acceptor.close();
    },
  };
}
