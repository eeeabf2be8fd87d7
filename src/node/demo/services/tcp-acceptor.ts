/**
 * The accept loop the demo's small TCP services share: every connection a listener queues is
 * wrapped in streams and handed to `serve`; beyond `maxConnections` a new connection is reset
 * instead of queued, so a flood of clients costs the demo peer nothing but an RST each.
 *
 *   listener 'connection' ──▶ accept() ──▶ at the cap? RST : TcpStreamConnection ──▶ serve(conn)
 *   close() ──▶ listener closed, live connections reset
 */
import type { TcpListener } from '../../../netstack/socket/tcp-listener.ts';
import { TcpStreamConnection } from '../../../engine/tcp-stream-connection.ts';
import type { ServiceGuard } from './service-guard.ts';

export interface TcpAcceptorOptions {
  listener: TcpListener;
  /** Asks the event loop to run (accepting and resetting produce segments). */
  wake: () => void;
  /** Connections served at once; more are reset. */
  maxConnections: number;
  /** Serves one connection; the acceptor forgets it when the promise settles. */
  serve: (conn: TcpStreamConnection) => Promise<void>;
  /** Contains (counts, logs) errors of the accept loop under `name`. */
  guard?: ServiceGuard;
  name?: string;
}

/** A running accept loop. */
export interface TcpAcceptor {
  readonly connections: number;
  close(): void;
}

/** Starts accepting on `listener`. */
export function acceptTcpConnections(options: TcpAcceptorOptions): TcpAcceptor {
  const { listener, wake, maxConnections, serve } = options;
  const live = new Set<TcpStreamConnection>();
  const onEvent = (): void => {
    for (let s = listener.accept(); s; s = listener.accept()) {
      if (live.size >= maxConnections) {
        s.abort();
        continue;
      }
      const conn = new TcpStreamConnection(s, wake);
      live.add(conn);
      // A rejection is the connection's end (a reset, mostly): the connection goes, nothing else.
      void Promise.resolve()
        .then(() => serve(conn))
        .catch(() => conn.abort())
        .finally(() => live.delete(conn));
    }
    wake();
  };
  listener.onEvent = options.guard ? options.guard.wrap(options.name ?? 'tcp', onEvent) : onEvent;
  return {
    get connections() {
      return live.size;
    },
    close() {
      listener.close();
      for (const c of live) c.abort();
      live.clear();
      wake();
    },
  };
}
