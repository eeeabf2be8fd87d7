/**
 * Per-client caps, shared by the relay's listener and the browse origin's: one client address
 * may hold only so many TCP connections, sessions and upgrades in progress, so one client (or one
 * cross-site page in a visitor's browser) cannot take what every other client needs.
 *
 *   'connection' ──▶ connections of this address < cap?  yes ─▶ counted until 'close'
 *                                                        no  ─▶ destroyed at once (nothing read)
 *   session / upgrade ──▶ ClientCounter.tryAcquire(address) ─▶ release() when it ends
 *
 * A client is its IP address (IPv4-mapped IPv6 folded to IPv4). Behind a reverse proxy every
 * connection comes from the proxy: with `--trust-proxy` the relay keys sessions by the client the
 * proxy names in X-Forwarded-For and leaves connection caps to the proxy (docs/relay.md).
 */
import type { Server, Socket } from 'node:net';
import type http from 'node:http';

/** Counts holders per key, up to a limit per key. */
export class ClientCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a per-client limit must be a positive integer, not ${limit}`);
  }

  /** Takes one slot for `key`; false when it holds `limit` already. */
  tryAcquire(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.limit) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  /** Gives back one slot of `key`. */
  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  /** Slots `key` holds now. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys holding at least one slot. */
  get size(): number {
    return this.counts.size;
  }
}

/** The client address of a socket: its IP, with `::ffff:a.b.c.d` folded to `a.b.c.d`. */
export function socketClient(socket: Pick<Socket, 'remoteAddress'>): string {
  const a = socket.remoteAddress ?? '?';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The client of a request: the socket's address, or with `trustProxy` the address the proxy
 * appended last to X-Forwarded-For (the only entry the proxy vouches for; earlier ones are the
 * client's own claims).
 */
export function requestClient(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const last = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last && last.length <= 64 && /^[0-9a-fA-F:.]+$/.test(last)) return socketClient({ remoteAddress: last });
  }
  return socketClient(req.socket);
}

/**
 * Caps TCP connections per client address on `server` (counting from 'connection' to 'close');
 * over the cap a connection is destroyed before anything is read from it.
 * @param limit the cap, or a counter shared with other listeners (the browse origin's pool of
 *   site ports counts as one: a client may not hold the cap on each port).
 * @returns the counter (for stats) .
 */
export function capConnectionsPerClient(server: Server, limit: number | ClientCounter, onRefused?: (client: string) => void): ClientCounter {
  const counter = typeof limit === 'number' ? new ClientCounter(limit) : limit;
  server.on('connection', (socket: Socket) => {
    const client = socketClient(socket);
    if (!counter.tryAcquire(client)) {
      onRefused?.(client);
      socket.destroy();
      return;
    }
    socket.once('close', () => counter.release(client));
  });
  return counter;
}
