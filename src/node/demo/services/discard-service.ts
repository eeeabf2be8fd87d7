/**
 * The Discard Protocol (RFC 863) on the demo peer, TCP and UDP port 9: everything is read and
 * thrown away, which makes it the simplest upload sink for throughput tests (the receive window
 * stays open as fast as the netstack can read).
 */
import type { TcpStreamConnection } from '../../../engine/tcp-stream-connection.ts';
import { acceptTcpConnections } from './tcp-acceptor.ts';
import { DISCARD_PORT, SERVER_TCP_OPTIONS } from '../demo-constants.ts';
import type { StreamService, StreamServiceOptions } from './echo-service.ts';
import { ServiceGuard } from './service-guard.ts';

export function startDiscardService(options: StreamServiceOptions): StreamService {
  const { net, tcp, wake } = options;
  const port = options.port ?? DISCARD_PORT;
  const maxConnections = options.maxConnections ?? 64;
  const guard = options.guard ?? new ServiceGuard();
  const udp = net.udpBind(port);
  udp.onReadable = guard.wrap('discard/udp', () => {
    while (udp.recv() || udp.recvError()) {
      // discarded
    }
  });
  const serve = async (conn: TcpStreamConnection): Promise<void> => {
    const reader = conn.readable.getReader();
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
      }
    } catch {
      // reset by the client
    } finally {
      conn.close();
    }
  };
  const acceptor = acceptTcpConnections({
    listener: tcp.listen({ port, backlog: 32, options: SERVER_TCP_OPTIONS }),
    wake,
    maxConnections,
    serve,
    guard,
    name: 'discard/tcp',
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
