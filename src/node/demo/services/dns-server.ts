/**
 * The demo peer's DNS service on port 53, UDP and TCP, answering from a {@link DnsZone}.
 *
 *   UDP: datagram ──▶ zone.answer(bytes, from, 'udp') ──▶ reply from port 53 to the asker
 *   TCP: 2-byte length + message, repeated (RFC 1035 §4.2.2, RFC 7766 §8) ──▶ framed replies;
 *        idle connections are closed after `idleTimeoutMs` (RFC 7766 §6.2.3 lets servers do so)
 */
import type { NetInterface } from '../../../netstack/net-interface.ts';
import type { TcpSocketTable } from '../../../netstack/socket/tcp-socket-table.ts';
import type { UdpSocket } from '../../../netstack/socket/udp-socket.ts';
import type { TcpStreamConnection } from '../../../engine/tcp-stream-connection.ts';
import { acceptTcpConnections } from './tcp-acceptor.ts';
import { ByteReader, READ_TIMEOUT } from '../http/byte-reader.ts';
import { SERVER_TCP_OPTIONS } from '../demo-constants.ts';
import { DNS_PORT } from '../../../protocols/dns/dns-constants.ts';
import type { DnsZone } from './dns-zone.ts';
import { ServiceGuard } from './service-guard.ts';

export interface DnsServerOptions {
  net: NetInterface;
  tcp: TcpSocketTable;
  zone: DnsZone;
  wake: () => void;
  port?: number;
  /** TCP connections served at once (default 64). */
  maxConnections?: number;
  /** Close a TCP connection idle this long (default 10 s). */
  idleTimeoutMs?: number;
  /** Contains errors of this service (counted by name); default a guard of its own. */
  guard?: ServiceGuard;
}

/** A running DNS service. */
export interface DnsServer {
  readonly udp: UdpSocket;
  close(): void;
}

/** Binds UDP and TCP port 53 (or `port`) and answers until closed. */
export function startDnsServer(options: DnsServerOptions): DnsServer {
  const { net, tcp, zone, wake } = options;
  const port = options.port ?? DNS_PORT;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const maxConnections = options.maxConnections ?? 64;
  const guard = options.guard ?? new ServiceGuard();
  const udp = net.udpBind(port, { queueLength: 256 });
  // One query's failure is that query's: the rest of the queue is still answered.
  const answerOne = guard.wrap('dns/udp', (d: NonNullable<ReturnType<typeof udp.recv>>) => {
    const reply = zone.answer(d.data, d.address, 'udp');
    if (reply) udp.send(d.address, d.port, reply);
  });
  udp.onReadable = guard.wrap('dns/udp', () => {
    for (let d = udp.recv(); d; d = udp.recv()) answerOne(d);
    while (udp.recvError()) {
      // ICMP errors about our replies (the asker went away): nothing to do.
    }
    wake();
  });

  const serve = async (conn: TcpStreamConnection): Promise<void> => {
    const reader = new ByteReader(conn.readable.getReader());
    const writer = conn.writable.getWriter();
    try {
      for (;;) {
        const prefix = await readExactly(reader, 2, idleTimeoutMs);
        if (!prefix) break;
        const length = (prefix[0] << 8) | prefix[1];
        const message = await readExactly(reader, length, idleTimeoutMs);
        if (!message) break;
        const reply = guard.wrap('dns/tcp', () => zone.answer(message, conn.remoteAddress, 'tcp'))();
        if (!reply) break;
        const framed = new Uint8Array(2 + reply.length);
        framed[0] = reply.length >> 8;
        framed[1] = reply.length & 0xff;
        framed.set(reply, 2);
        await writer.write(framed);
      }
    } catch {
      // reset by the client
    } finally {
      reader.cancel();
      conn.close();
    }
  };
  const acceptor = acceptTcpConnections({
    listener: tcp.listen({ port, backlog: 32, options: SERVER_TCP_OPTIONS }),
    wake,
    maxConnections,
    serve,
    guard,
    name: 'dns/tcp',
  });
  return {
    udp,
    close() {
      udp.close();
      acceptor.close();
    },
  };
}

/** Exactly `n` bytes, or undefined when the stream ends or stalls first. */
async function readExactly(reader: ByteReader, n: number, timeoutMs: number): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const chunk = await reader.readSome(n - got, timeoutMs);
    if (chunk === undefined || chunk === READ_TIMEOUT) return undefined;
    out.set(chunk, got);
    got += chunk.length;
  }
  return out;
}
