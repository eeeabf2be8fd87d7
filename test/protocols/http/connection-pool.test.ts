import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../../src/shared/ip-address.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import type { TcpConnection } from '../../../src/engine/dialer.ts';
import { ConnectionPool } from '../../../src/protocols/http/connection-pool.ts';
import { HttpConnection } from '../../../src/protocols/http/http-connection.ts';

/** An in-memory connection whose server side the test controls. */
function fakeConnection(key = 'h:80'): { conn: HttpConnection; push(b: Uint8Array): void; fin(): void; state: { closed: boolean; aborted: boolean } } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { closed: false, aborted: false };
  const tcp: TcpConnection = {
    remoteAddress: parseIp('10.0.0.2'),
    remotePort: 80,
    readable: new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) }),
    writable: new WritableStream<Uint8Array>(),
    close: () => void (state.closed = true),
    abort: () => void (state.aborted = true),
    closed: new Promise(() => {}),
  };
  return { conn: new HttpConnection(tcp, key), push: (b) => controller.enqueue(b), fin: () => controller.close(), state };
}

async function turn(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('ConnectionPool', () => {
  test('reuses a released connection, most recently used first', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 6, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    const b = fakeConnection();
    const conns = [a.conn, b.conn];
    const connect = async (): Promise<HttpConnection> => conns.shift()!;
    const first = await pool.acquire('h:80', connect);
    const second = await pool.acquire('h:80', connect);
    assert.deepEqual([first.reused, second.reused], [false, false]);
    pool.release(first.conn, true);
    pool.release(second.conn, true);
    const again = await pool.acquire('h:80', connect);
    assert.equal(again.reused, true);
    assert.equal(again.conn, b.conn);
    assert.deepEqual(pool.stats(), { opened: 2, reused: 1, idle: 1, busy: 1, waiting: 0 });
    pool.close();
    assert.equal(a.state.closed, true);
  });

  test('at the limit, requests wait in order and get released connections', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    const held = await pool.acquire('h:80', async () => a.conn);
    const order: number[] = [];
    const w1 = pool.acquire('h:80', async () => assert.fail('no new connection')).then((r) => (order.push(1), r));
    const w2 = pool.acquire('h:80', async () => assert.fail('no new connection')).then((r) => (order.push(2), r));
    await turn();
    assert.equal(pool.stats().waiting, 2);
    pool.release(held.conn, true);
    const r1 = await w1;
    assert.equal(r1.conn, a.conn);
    pool.release(r1.conn, true);
    const r2 = await w2;
    assert.equal(r2.conn, a.conn);
    assert.deepEqual(order, [1, 2]);
    pool.close();
  });

  test('a waiter can be aborted', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 60_000 });
    await pool.acquire('h:80', async () => fakeConnection().conn);
    const ac = new AbortController();
    const waiting = pool.acquire('h:80', async () => fakeConnection().conn, { signal: ac.signal });
    await turn();
    ac.abort();
    await assert.rejects(waiting, (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
    assert.equal(pool.stats().waiting, 0);
  });

  test('a discarded connection is reset and frees its slot; a failed connect frees it too', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    const held = await pool.acquire('h:80', async () => a.conn);
    const next = pool.acquire('h:80', async () => {
      throw new Error('refused');
    });
    await turn();
    pool.discard(held.conn);
    assert.equal(a.state.aborted, true);
    await assert.rejects(next, /refused/);
    assert.deepEqual(pool.stats(), { opened: 1, reused: 0, idle: 0, busy: 0, waiting: 0 });
  });

  test('fresh: an idle connection is not handed out, and is replaced when at the limit', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    const b = fakeConnection();
    pool.release((await pool.acquire('h:80', async () => a.conn)).conn, true);
    const fresh = await pool.acquire('h:80', async () => b.conn, { fresh: true });
    assert.equal(fresh.conn, b.conn);
    assert.equal(a.state.closed, true);
  });

  test('an idle connection that the server closes (FIN) or writes to leaves the pool', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 4, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    const b = fakeConnection();
    pool.release((await pool.acquire('h:80', async () => a.conn)).conn, true);
    pool.release((await pool.acquire('h:80', async () => b.conn, { fresh: true })).conn, true);
    assert.equal(pool.stats().idle, 2);
    a.fin();
    b.push(new Uint8Array([1]));
    await turn();
    assert.equal(pool.stats().idle, 0);
    assert.equal(a.state.closed && b.state.closed, true);
  });

  test('a connection taken from the pool keeps the bytes the idle watch already read', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 60_000 });
    const a = fakeConnection();
    pool.release((await pool.acquire('h:80', async () => a.conn)).conn, true);
    const again = await pool.acquire('h:80', async () => assert.fail('no new connection'));
    a.push(new Uint8Array([7, 8]));
    assert.deepEqual(await again.conn.read(), new Uint8Array([7, 8]));
  });

  test('idle connections expire after idleTimeoutMs; 0 means never keep one', async () => {
    const pool = new ConnectionPool({ maxConnectionsPerOrigin: 1, idleTimeoutMs: 5 });
    const a = fakeConnection();
    pool.release((await pool.acquire('h:80', async () => a.conn)).conn, true);
    for (let i = 0; i < 10_000 && !a.state.closed; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(a.state.closed, true);
    const b = fakeConnection();
    pool.release((await pool.acquire('h:80', async () => b.conn)).conn, true, 0);
    assert.equal(b.state.closed, true);
  });
});
