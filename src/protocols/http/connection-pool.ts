/**
 * Keep-alive connections per origin for the HTTP client (RFC 9112 §9.3, §9.4).
 *
 *   acquire(origin) ─▶ idle connection (most recently used first) ─▶ reused
 *                   └▶ under the per-origin limit ─▶ connect() ─▶ new
 *                   └▶ otherwise wait (FIFO) for a release
 *   release(conn, reusable) ─▶ idle (watched, idle timer) or closed ─▶ wake a waiter
 *
 * A connection returns here only after its response body was read to the end; one left
 * mid-message is discarded, never reused.
 */
import { aborted } from '../../engine/dialer.ts';
import type { HttpConnection } from './http-connection.ts';
import { unrefTimer } from '../../shared/signal-scope.ts';

interface IdleEntry {
  conn: HttpConnection;
  timer: ReturnType<typeof setTimeout>;
}

interface Origin {
  idle: IdleEntry[];
  /** Connections checked out or being opened. */
  busy: number;
  waiters: (() => void)[];
}

export interface ConnectionPoolOptions {
  maxConnectionsPerOrigin: number;
  idleTimeoutMs: number;
}

export interface ConnectionPoolStats {
  /** Connections opened over the pool's lifetime. */
  opened: number;
  /** Times an idle connection was handed out again. */
  reused: number;
  /** Idle connections now. */
  idle: number;
  /** Connections in use (or connecting) now. */
  busy: number;
  /** Requests waiting for a connection now. */
  waiting: number;
}

export class ConnectionPool {
  private readonly origins = new Map<string, Origin>();
  private readonly options: ConnectionPoolOptions;
  private opened = 0;
  private reusedCount = 0;
  private closed = false;

  constructor(options: ConnectionPoolOptions) {
    this.options = options;
  }

  private origin(key: string): Origin {
    let o = this.origins.get(key);
    if (!o) {
      o = { idle: [], busy: 0, waiters: [] };
      this.origins.set(key, o);
    }
    return o;
  }

  private forget(key: string, o: Origin): void {
    if (o.idle.length === 0 && o.busy === 0 && o.waiters.length === 0) this.origins.delete(key);
  }

  /**
   * A connection for `key`: an idle one unless `fresh`, else a new one from `connect` when under
   * the limit, else the next one released.
   */
  async acquire(
    key: string,
    connect: () => Promise<HttpConnection>,
    options: { signal?: AbortSignal; fresh?: boolean } = {},
  ): Promise<{ conn: HttpConnection; reused: boolean }> {
    const { signal, fresh = false } = options;
    for (;;) {
      if (signal?.aborted) throw aborted('waiting for a connection', signal.reason);
      const o = this.origin(key);
      if (!fresh) {
        const entry = o.idle.pop();
        if (entry) {
          clearTimeout(entry.timer);
          entry.conn.activate();
          o.busy++;
          this.reusedCount++;
          return { conn: entry.conn, reused: true };
        }
      }
      if (o.busy + o.idle.length >= this.options.maxConnectionsPerOrigin && o.idle.length > 0) {
        // At the limit with an idle connection we may not use (fresh was asked): replace it.
        const victim = o.idle.shift()!;
        clearTimeout(victim.timer);
        victim.conn.close();
      }
      if (o.busy + o.idle.length < this.options.maxConnectionsPerOrigin) {
        o.busy++;
        try {
          const conn = await connect();
          this.opened++;
          return { conn, reused: false };
        } catch (e) {
          o.busy--;
          this.wake(key, o);
          throw e;
        }
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = o.waiters.indexOf(wake);
          if (i >= 0) o.waiters.splice(i, 1);
          reject(aborted('waiting for a connection', signal?.reason));
        };
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        o.waiters.push(wake);
      });
    }
  }

  /**
   * Gives a checked-out connection back. Reusable ones go idle for at most `idleTimeoutMs`
   * (shortened by the caller from the server's Keep-Alive hint); others are closed.
   */
  release(conn: HttpConnection, reusable: boolean, idleTimeoutMs = this.options.idleTimeoutMs): void {
    const key = conn.originKey;
    const o = this.origin(key);
    o.busy = Math.max(0, o.busy - 1);
    if (!reusable || conn.dead || this.closed || idleTimeoutMs <= 0) {
      if (conn.hasUnreadBytes) conn.abort();
      else conn.close();
    } else {
      const entry: IdleEntry = {
        conn,
        timer: setTimeout(() => this.evict(key, entry), idleTimeoutMs),
      };
      unrefTimer(entry.timer);
      o.idle.push(entry);
      conn.watchIdle(() => this.evict(key, entry));
    }
    this.wake(key, o);
  }

  /** Gives back a connection that must not be reused (error, abort, half-read body): reset it. */
  discard(conn: HttpConnection, reason?: unknown): void {
    const key = conn.originKey;
    const o = this.origin(key);
    o.busy = Math.max(0, o.busy - 1);
    conn.abort(reason);
    this.wake(key, o);
  }

  private evict(key: string, entry: IdleEntry): void {
    const o = this.origins.get(key);
    if (!o) return;
    const i = o.idle.indexOf(entry);
    if (i < 0) return;
    o.idle.splice(i, 1);
    clearTimeout(entry.timer);
    entry.conn.close();
    this.wake(key, o);
  }

  private wake(key: string, o: Origin): void {
    const w = o.waiters.shift();
    if (w) w();
    else this.forget(key, o);
  }

  /** Closes idle connections; busy ones close when released. Waiters keep waiting for those. */
  close(): void {
    this.closed = true;
    for (const [key, o] of this.origins) {
      for (const e of o.idle.splice(0)) {
        clearTimeout(e.timer);
        e.conn.close();
      }
      this.forget(key, o);
    }
  }

  stats(): ConnectionPoolStats {
    let idle = 0;
    let busy = 0;
    let waiting = 0;
    for (const o of this.origins.values()) {
      idle += o.idle.length;
      busy += o.busy;
      waiting += o.waiters.length;
    }
    return { opened: this.opened, reused: this.reusedCount, idle, busy, waiting };
  }
}
