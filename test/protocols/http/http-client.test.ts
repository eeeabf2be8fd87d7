import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { once } from 'node:events';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { HttpClient, type HttpClientOptions, type HttpResponseHead, type HttpTiming } from '../../../src/protocols/http/http-client.ts';
import { DnsResolver } from '../../../src/protocols/dns/dns-resolver.ts';
import { DnsType } from '../../../src/protocols/dns/dns-message.ts';
import { NodeDialer } from '../../helpers/node-dialer.ts';
import type { Dialer, TcpConnection } from '../../../src/engine/dialer.ts';
import { TestDnsServer, a, reply } from '../dns/dns-test-server.ts';

const dialer = new NodeDialer();
const clients: HttpClient[] = [];
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const f of cleanups.reverse()) await f();
  dialer.destroyAll();
});

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = new HttpClient({ dialer, ...options });
  clients.push(c);
  return c;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<WgwebError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WgwebError, `expected a WgwebError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

async function rejects(p: Promise<unknown>): Promise<WgwebError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WgwebError, `expected a WgwebError, got ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

/**
 * An in-memory Dialer whose one connection delivers `script` (byte chunks, then possibly an error
 * that ends the stream): for failures real sockets cannot produce on demand.
 */
function scriptedDialer(script: (Uint8Array | Error)[]): Dialer {
  return {
    async connectTcp(address, port) {
      const steps = [...script];
      const conn: TcpConnection = {
        remoteAddress: address,
        remotePort: port,
        readable: new ReadableStream<Uint8Array>({
          pull(c) {
            const step = steps.shift();
            if (step === undefined) c.close();
            else if (step instanceof Error) c.error(step);
            else c.enqueue(step);
          },
        }),
        writable: new WritableStream<Uint8Array>(),
        close() {},
        abort() {},
        closed: new Promise(() => {}),
      };
      return conn;
    },
    openUdp() {
      throw new Error('no UDP here');
    },
  };
}

/** Waits (without a clock) until `cond` holds, yielding to the event loop in between. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (cond()) return;
    await new Promise((r) => (i < 1000 ? setImmediate(r) : setTimeout(r, 1)));
  }
  assert.fail(`gave up waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------
// A real node:http server with one route per behaviour.

interface Server {
  base: string;
  port: number;
  connections: number;
  server: http.Server;
}

const BIG = 32 * 1024 * 1024;
const backpressure = { written: 0, blocked: false, finished: false };

async function startHttp(host = '127.0.0.1'): Promise<Server> {
  const state = { connections: 0 };
  const server = http.createServer({ keepAliveTimeout: 60_000 }, async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const body: Buffer[] = [];
    try {
      for await (const c of req) body.push(c as Buffer);
    } catch {
      return; // the client gave up mid-request (the failing-body-stream test)
    }
    const received = Buffer.concat(body);
    switch (url.pathname) {
      case '/cl':
        res.setHeader('Content-Type', 'text/plain');
        res.end('hello');
        return;
      case '/chunked':
        res.setHeader('Trailer', 'X-Sum');
        res.write('one,');
        res.write('two,');
        setImmediate(() => {
          res.addTrailers({ 'X-Sum': '3' });
          res.end('three');
        });
        return;
      case '/echo':
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: received.toString('latin1'), rawHeaders: req.rawHeaders }));
        return;
      case '/status': {
        const code = Number(url.searchParams.get('code'));
        const empty = code === 204 || code === 304;
        res.writeHead(code, empty ? { ETag: '"x"' } : { ETag: '"x"', 'Content-Length': '2' });
        res.end(empty ? undefined : 'ok');
        return;
      }
      case '/redirect': {
        const to = url.searchParams.get('to')!;
        res.writeHead(Number(url.searchParams.get('code') ?? 302), { Location: to, 'Content-Length': '9' });
        res.end('redirect!');
        return;
      }
      case '/loop':
        res.writeHead(302, { Location: '/loop' });
        res.end();
        return;
      case '/gzip':
        res.writeHead(200, { 'Content-Encoding': 'gzip' });
        res.end(zlib.gzipSync('squeezed '.repeat(1000)));
        return;
      case '/deflate':
        res.writeHead(200, { 'Content-Encoding': 'deflate' });
        res.end(zlib.deflateSync('zlib-wrapped '.repeat(100)));
        return;
      case '/deflate-raw':
        res.writeHead(200, { 'Content-Encoding': 'deflate' });
        res.end(zlib.deflateRawSync('raw deflate '.repeat(100)));
        return;
      case '/bad-gzip':
        res.writeHead(200, { 'Content-Encoding': 'gzip' });
        res.end('this is not gzip at all');
        return;
      case '/slow':
        // Half a body, then nothing: for abort and timeout tests.
        res.writeHead(200, { 'Content-Length': '10' });
        res.write('half!');
        return;
      case '/hang':
        return;
      case '/big': {
        backpressure.written = 0;
        backpressure.blocked = false;
        backpressure.finished = false;
        res.writeHead(200, { 'Content-Length': String(BIG) });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (backpressure.written < BIG) {
            backpressure.written += chunk.length;
            if (!res.write(chunk)) {
              backpressure.blocked = true;
              res.once('drain', () => {
                backpressure.blocked = false;
                pump();
              });
              return;
            }
          }
          backpressure.finished = true;
          res.end();
        };
        pump();
        return;
      }
      case '/keepalive-hint':
        res.setHeader('Keep-Alive', 'timeout=1');
        res.end('hint');
        return;
      default:
        res.statusCode = 404;
        res.end('not found');
    }
  });
  server.on('connection', () => state.connections++);
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    base: `http://${h}:${port}`,
    port,
    server,
    get connections() {
      return state.connections;
    },
  } as Server;
}

/** A raw TCP server whose reply to each request is scripted (for broken and unusual servers). */
async function startRaw(onRequest: (socket: net.Socket, request: string, index: number) => void): Promise<{ base: string; port: number; connections: number }> {
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    socket.on('error', () => {});
    let buf = '';
    let index = 0;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const request = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        onRequest(socket, request, index++);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return state.connections;
    },
  };
}

let srv: Server;
before(async () => {
  srv = await startHttp();
});

// ---------------------------------------------------------------------------------------------

describe('response bodies, by framing', () => {
  test('Content-Length: status, headers, text, url, redirected', async () => {
    const res = await client().fetch(`${srv.base}/cl`);
    assert.equal(res.status, 200);
    assert.equal(res.statusText, 'OK');
    assert.equal(res.ok, true);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(res.url, `${srv.base}/cl`);
    assert.equal(res.redirected, false);
    assert.equal(await res.text(), 'hello');
  });

  test('chunked, with a trailer that is ignored', async () => {
    const res = await client().fetch(`${srv.base}/chunked`);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.equal(await res.text(), 'one,two,three');
  });

  test('delimited by the server closing the connection', async () => {
    const raw = await startRaw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
      setImmediate(() => s.end('the end'));
    });
    const c = client();
    assert.equal(await (await c.fetch(`${raw.base}/`)).text(), 'until the end');
    assert.equal(c.stats().idle, 0);
  });

  test('HEAD, 204 and 304 have no body and keep the connection', async () => {
    const c = client();
    const before = srv.connections;
    const head = await c.fetch(`${srv.base}/status?code=200`, { method: 'head' });
    assert.equal(head.headers.get('content-length'), '2');
    assert.equal(head.body, null);
    const noContent = await c.fetch(`${srv.base}/status?code=204`);
    assert.equal(noContent.status, 204);
    assert.equal(noContent.body, null);
    const notModified = await c.fetch(`${srv.base}/status?code=304`);
    assert.equal(notModified.status, 304);
    assert.equal(await (await c.fetch(`${srv.base}/cl`)).text(), 'hello');
    assert.equal(srv.connections - before, 1);
  });

  test('error statuses are responses, not exceptions', async () => {
    const res = await client().fetch(`${srv.base}/nowhere`);
    assert.equal(res.status, 404);
    assert.equal(res.ok, false);
    assert.equal(await res.text(), 'not found');
  });

  test('interim 1xx responses are skipped', async () => {
    const raw = await startRaw((s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n');
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal');
    });
    const res = await client().fetch(raw.base);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('link'), null);
    assert.equal(await res.text(), 'final');
  });

  test('gzip and deflate (zlib-wrapped and raw) are decoded', async () => {
    const c = client();
    const gz = await c.fetch(`${srv.base}/gzip`);
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(await gz.text(), 'squeezed '.repeat(1000));
    assert.equal(await (await c.fetch(`${srv.base}/deflate`)).text(), 'zlib-wrapped '.repeat(100));
    assert.equal(await (await c.fetch(`${srv.base}/deflate-raw`)).text(), 'raw deflate '.repeat(100));
  });

  test('Accept-Encoding advertises gzip and deflate', async () => {
    const echo = await (await client().fetch(`${srv.base}/echo`)).json();
    assert.equal(echo.headers['accept-encoding'], 'gzip, deflate');
  });

  test('a corrupt gzip body is HTTP_PROTOCOL', async () => {
    const res = await client().fetch(`${srv.base}/bad-gzip`);
    await rejectsWith(res.text(), ErrorCode.HTTP_PROTOCOL, /gzip-encoded response body from 127\.0\.0\.1:\d+ .* is corrupt/);
  });
});

describe('keep-alive and the connection pool', () => {
  test('sequential requests share one TCP connection', async () => {
    const s = await startHttp();
    const c = client();
    for (let i = 0; i < 5; i++) assert.equal(await (await c.fetch(`${s.base}/cl`)).text(), 'hello');
    assert.equal(s.connections, 1);
    assert.equal(c.stats().opened, 1);
    assert.equal(c.stats().reused, 4);
  });

  test('a connection returns to the pool only after its body was read', async () => {
    const s = await startHttp();
    const c = client();
    const first = await c.fetch(`${s.base}/chunked`);
    const second = await c.fetch(`${s.base}/chunked`);
    assert.equal(s.connections, 2);
    await first.text();
    await second.text();
    await (await c.fetch(`${s.base}/chunked`)).text();
    assert.equal(s.connections, 2);
  });

  test('a small Content-Length body already received frees the connection at once', async () => {
    const s = await startHttp();
    const c = client({ maxConnectionsPerOrigin: 1 });
    const r1 = await c.fetch(`${s.base}/cl`);
    const r2 = await c.fetch(`${s.base}/cl`); // would wait forever if r1 held the only connection
    assert.deepEqual([await r1.text(), await r2.text()], ['hello', 'hello']);
    assert.equal(s.connections, 1);
  });

  test('100 concurrent requests complete over at most maxConnectionsPerOrigin connections', async () => {
    const s = await startHttp();
    const c = client({ maxConnectionsPerOrigin: 6 });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await c.fetch(`${s.base}/echo?i=${i}`);
        return (await res.json()).url as string;
      }),
    );
    assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => `/echo?i=${i}`));
    assert.ok(s.connections <= 6, `${s.connections} connections`);
    assert.equal(c.stats().busy, 0);
    assert.equal(c.stats().waiting, 0);
  });

  test('a pooled connection the server dropped: an idempotent request is retried once on a new one', async () => {
    const raw = await startRaw((s, _req, index) => {
      // Answers the first request on each connection, then closes on the second without a word.
      if (index === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
    const c = client();
    let timing: HttpTiming | undefined;
    assert.equal(await (await c.fetch(raw.base)).text(), 'ok');
    assert.equal(await (await c.fetch(raw.base, { onTiming: (t) => (timing = t) })).text(), 'ok');
    assert.equal(raw.connections, 2);
    assert.equal(c.stats().retries, 1);
    assert.equal(timing?.retried, true);
  });

  test('... but a POST is not retried: the error says the server closed without a response', async () => {
    const raw = await startRaw((s, _req, index) => {
      if (index === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
    const c = client();
    await (await c.fetch(raw.base)).text();
    await rejectsWith(c.fetch(raw.base, { method: 'POST', body: 'x' }), ErrorCode.HTTP_CLOSED_EARLY, /closed the connection without sending a response/);
    assert.equal(raw.connections, 1);
  });

  test('an idle connection closed by the server leaves the pool by itself', async () => {
    const raw = await startRaw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setImmediate(() => s.end());
    });
    const c = client();
    await (await c.fetch(raw.base)).text();
    await until(() => c.stats().idle === 0, 'the pool to notice the FIN');
    await (await c.fetch(raw.base)).text();
    assert.equal(c.stats().retries, 0);
    assert.equal(raw.connections, 2);
  });

  test('Connection: close and HTTP/1.0 responses are not reused', async () => {
    const raw = await startRaw((s, req) => {
      if (req.includes('/close')) s.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na');
      else s.write('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb');
    });
    const c = client();
    await (await c.fetch(`${raw.base}/close`)).text();
    await (await c.fetch(`${raw.base}/old`)).text();
    await (await c.fetch(`${raw.base}/old`)).text();
    assert.equal(raw.connections, 3);
  });

  test('bytes beyond the Content-Length: the connection is not reused', async () => {
    const raw = await startRaw((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'));
    const c = client();
    assert.equal(await (await c.fetch(raw.base)).text(), 'ok');
    await (await c.fetch(raw.base)).text();
    assert.equal(raw.connections, 2);
  });

  test('a Keep-Alive timeout hint of 1 s means the connection is not kept', async () => {
    const s = await startHttp();
    const c = client();
    await (await c.fetch(`${s.base}/keepalive-hint`)).text();
    assert.equal(c.stats().idle, 0);
  });
});

describe('redirects', () => {
  test('relative Location, followed', async () => {
    const res = await client().fetch(`${srv.base}/redirect?to=/cl`);
    assert.equal(res.status, 200);
    assert.equal(res.redirected, true);
    assert.equal(res.url, `${srv.base}/cl`);
    assert.equal(await res.text(), 'hello');
  });

  test('absolute Location to another origin ([::1]), Authorization dropped', async () => {
    const v6 = await startHttp('::1');
    const res = await client().fetch(`${srv.base}/redirect?code=301&to=${encodeURIComponent(`${v6.base}/echo`)}`, { headers: { Authorization: 'secret' } });
    const echo = await res.json();
    assert.equal(res.url, `${v6.base}/echo`);
    assert.equal(echo.headers.host, `[::1]:${v6.port}`);
    assert.equal(echo.headers.authorization, undefined);
  });

  test('303 turns POST into GET without a body', async () => {
    const res = await client().fetch(`${srv.base}/redirect?code=303&to=/echo`, { method: 'POST', body: 'data' });
    const echo = await res.json();
    assert.equal(echo.method, 'GET');
    assert.equal(echo.body, '');
    assert.equal(echo.headers['content-type'], undefined);
  });

  test('307 keeps method and body', async () => {
    const res = await client().fetch(`${srv.base}/redirect?code=307&to=/echo`, { method: 'PUT', body: 'data' });
    const echo = await res.json();
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.body, 'data');
  });

  test('307 with a stream body cannot be followed', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('once'));
        c.close();
      },
    });
    await rejectsWith(client().fetch(`${srv.base}/redirect?code=307&to=/echo`, { method: 'POST', body }), ErrorCode.USAGE, /request body was a stream/);
  });

  test("redirect: 'manual' returns the 3xx itself; the connection is reused afterwards", async () => {
    const s = await startHttp();
    const c = client();
    const res = await c.fetch(`${s.base}/redirect?to=/cl`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/cl');
    assert.equal(res.redirected, false);
    assert.equal(await res.text(), 'redirect!');
    await (await c.fetch(`${s.base}/cl`)).text();
    assert.equal(s.connections, 1);
  });

  test("redirect: 'error' and redirect loops are HTTP_PROTOCOL errors", async () => {
    await rejectsWith(client().fetch(`${srv.base}/redirect?to=/cl`, { redirect: 'error' }), ErrorCode.HTTP_PROTOCOL, /redirect is "error"/);
    await rejectsWith(client().fetch(`${srv.base}/loop`), ErrorCode.HTTP_PROTOCOL, /too many redirects: more than 20/);
  });

  test('a redirect to https explains that this client has no TLS connector', async () => {
    await rejectsWith(client().fetch(`${srv.base}/redirect?to=https://example.test/`), ErrorCode.USAGE, /has no TLS connector/);
  });
});

describe('request bodies and headers', () => {
  test('string body: UTF-8, Content-Length, default Content-Type', async () => {
    const echo = await (await client().fetch(`${srv.base}/echo`, { method: 'post', body: 'héllo' })).json();
    assert.equal(echo.method, 'POST');
    assert.equal(Buffer.from(echo.body, 'latin1').toString('utf8'), 'héllo');
    assert.equal(echo.headers['content-length'], '6');
    assert.equal(echo.headers['content-type'], 'text/plain;charset=UTF-8');
  });

  test('bytes body', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const echo = await (await client().fetch(`${srv.base}/echo`, { method: 'PUT', body: bytes })).json();
    assert.equal(echo.headers['content-length'], '100000');
    assert.deepEqual(new Uint8Array(Buffer.from(echo.body, 'latin1')), bytes);
  });

  test('stream body without a length goes chunked', async () => {
    const parts = ['alpha ', 'beta ', 'gamma'];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = parts.shift();
        if (p === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(p));
      },
    });
    const echo = await (await client().fetch(`${srv.base}/echo`, { method: 'POST', body })).json();
    assert.equal(echo.headers['transfer-encoding'], 'chunked');
    assert.equal(echo.body, 'alpha beta gamma');
  });

  test('stream body with a Content-Length is sent as is', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('12345'));
        c.close();
      },
    });
    const echo = await (await client().fetch(`${srv.base}/echo`, { method: 'POST', body, headers: { 'Content-Length': '5' } })).json();
    assert.equal(echo.headers['content-length'], '5');
    assert.equal(echo.headers['transfer-encoding'], undefined);
    assert.equal(echo.body, '12345');
  });

  test('a failing body stream rejects with a TypeError', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.error(new Error('disk on fire'));
      },
    });
    await assert.rejects(client().fetch(`${srv.base}/echo`, { method: 'POST', body }), (e: unknown) => e instanceof TypeError && /disk on fire/.test(e.message));
  });

  test('Host carries the port; User-Agent and custom headers are sent; Host can be overridden', async () => {
    const c = client({ userAgent: 'wgweb-test/1' });
    const echo = await (await c.fetch(`${srv.base}/echo?q=1#frag`, { headers: { 'X-Custom': 'yes' } })).json();
    assert.equal(echo.headers.host, `127.0.0.1:${srv.port}`);
    assert.equal(echo.headers['user-agent'], 'wgweb-test/1');
    assert.equal(echo.headers['x-custom'], 'yes');
    assert.equal(echo.url, '/echo?q=1');
    assert.equal(echo.rawHeaders[0], 'Host');
    const vhost = await (await c.fetch(`${srv.base}/echo`, { headers: { Host: 'intranet.example' } })).json();
    assert.equal(vhost.headers.host, 'intranet.example');
  });

  test('URL credentials answer a Basic challenge once, like curl, and are never sent unasked', async () => {
    const seen: (string | undefined)[] = [];
    const good = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization === good) res.end('welcome');
      else {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test", charset="UTF-8"' });
        res.end('who are you?');
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const ok = await client().fetch(`http://user:p%40ss@127.0.0.1:${port}/private`);
    assert.equal(await ok.text(), 'welcome');
    assert.deepEqual(seen, [undefined, good]);
    seen.length = 0;
    const wrong = await client().fetch(`http://user:nope@127.0.0.1:${port}/private`);
    assert.equal(wrong.status, 401, 'wrong credentials: the server\'s 401 comes back after one answer');
    assert.equal(await wrong.text(), 'who are you?');
    assert.equal(seen.length, 2);
    seen.length = 0;
    const echo = await (await client().fetch(`http://user:p%40ss@127.0.0.1:${srv.port}/echo`)).json();
    assert.equal(echo.headers.authorization, undefined, 'a server that does not ask gets no credentials');
  });

  test('caller mistakes are TypeErrors', async () => {
    const c = client();
    await assert.rejects(c.fetch(`${srv.base}/`, { body: 'x' }), /GET request cannot have a body/);
    await assert.rejects(c.fetch(`${srv.base}/`, { method: 'BAD METHOD' }), TypeError);
    await assert.rejects(c.fetch(`${srv.base}/`, { method: 'CONNECT' }), TypeError);
  });
});

describe('failures a user can act on', () => {
  test('https: without a TLS connector, and other schemes, are refused with the reason', async () => {
    await rejectsWith(
      client().fetch('https://10.0.0.2/'),
      ErrorCode.USAGE,
      /^cannot fetch https:\/\/10\.0\.0\.2\/: this HTTP client has no TLS connector; use an http:\/\/ URL$/,
    );
    await rejectsWith(client().fetch('ftp://10.0.0.2/'), ErrorCode.USAGE, /only http:\/\/ and https:\/\/ URLs/);
    await rejectsWith(client().fetch('not a url'), ErrorCode.USAGE, /is not a valid URL/);
  });

  test('a port nobody listens on: CONNECTION_REFUSED naming address and port', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await rejectsWith(
      client().fetch(`http://127.0.0.1:${port}/`),
      ErrorCode.CONNECTION_REFUSED,
      new RegExp(`^connection refused by 127\\.0\\.0\\.1:${port}: nothing is listening on that port$`),
    );
  });

  test('no response within timeoutMs: TIMEOUT', async () => {
    await rejectsWith(client().fetch(`${srv.base}/hang`, { timeoutMs: 50 }), ErrorCode.TIMEOUT, /did not complete within 50 ms/);
  });

  test('the timeout also covers a body that stalls', async () => {
    // On a busy machine the deadline may pass before the head arrives; either way it is TIMEOUT.
    await rejectsWith(client().fetch(`${srv.base}/slow`, { timeoutMs: 300 }).then((res) => res.text()), ErrorCode.TIMEOUT);
  });

  test('AbortSignal.timeout() reads as TIMEOUT too', async () => {
    await rejectsWith(client().fetch(`${srv.base}/hang`, { signal: AbortSignal.timeout(30) }), ErrorCode.TIMEOUT);
  });

  test('abort before the response: ABORTED', async () => {
    const ac = new AbortController();
    const p = client().fetch(`${srv.base}/hang`, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await rejectsWith(p, ErrorCode.ABORTED, /was aborted/);
  });

  test('abort mid-body: the read fails with ABORTED and the connection is dropped', async () => {
    const s = await startHttp();
    const c = client();
    const ac = new AbortController();
    const res = await c.fetch(`${s.base}/slow`, { signal: ac.signal });
    const reader = res.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'half!');
    const pending = reader.read();
    ac.abort();
    await rejectsWith(pending, ErrorCode.ABORTED);
    assert.equal(c.stats().busy, 0);
    assert.equal(c.stats().idle, 0);
  });

  test('cancelling the body drops the connection instead of reusing it', async () => {
    const s = await startHttp();
    const c = client();
    const res = await c.fetch(`${s.base}/slow`);
    await res.body!.cancel();
    await (await c.fetch(`${s.base}/cl`)).text();
    assert.equal(s.connections, 2);
  });

  test('server closes mid-body: HTTP_CLOSED_EARLY with the byte counts', async () => {
    const raw = await startRaw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n');
      s.end(Buffer.alloc(1234, 0x62));
    });
    const res = await client().fetch(`${raw.base}/file`);
    const e = await rejectsWith(res.arrayBuffer(), ErrorCode.HTTP_CLOSED_EARLY, /^the server closed the connection after 1234 of 5000 body bytes \(GET http:\/\/127\.0\.0\.1:\d+\/file\)$/);
    assert.deepEqual(e.detail, { received: 1234, expected: 5000 });
  });

  test('server closes in the middle of a chunked body', async () => {
    const raw = await startRaw((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc'));
    const res = await client().fetch(raw.base);
    await rejectsWith(res.text(), ErrorCode.HTTP_CLOSED_EARLY, /in the middle of the chunked body, after 8 body bytes/);
  });

  test('server closes before answering, and in the middle of the headers', async () => {
    const silent = await startRaw((s) => s.end());
    await rejectsWith(client().fetch(silent.base), ErrorCode.HTTP_CLOSED_EARLY, /closed the connection without sending a response/);
    const partial = await startRaw((s) => s.end('HTTP/1.1 200 OK\r\nContent-Le'));
    await rejectsWith(client().fetch(partial.base), ErrorCode.HTTP_CLOSED_EARLY, /in the middle of the response headers/);
  });

  test('a reset mid-body fails the body (Linux reports a reset after data as end of stream)', async () => {
    const raw = await startRaw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc', () => setImmediate(() => s.resetAndDestroy()));
    });
    const res = await client().fetch(raw.base);
    const e = await rejects(res.text());
    assert.ok(e.code === ErrorCode.CONNECTION_RESET || e.code === ErrorCode.HTTP_CLOSED_EARLY, e.message);
  });

  test('a reset in the middle of a delimited body is HTTP_CLOSED_EARLY, with the reset as its cause', async () => {
    const scripted = scriptedDialer([new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), new Error('wire cut')]);
    const res = await new HttpClient({ dialer: scripted }).fetch('http://10.0.0.2:8080/');
    const e = await rejectsWith(res.text(), ErrorCode.HTTP_CLOSED_EARLY, /^the server reset the connection after 3 of 10 body bytes/);
    assert.equal((e.cause as { code?: string }).code, ErrorCode.CONNECTION_RESET);
  });

  test('a reset in the middle of a close-delimited body is CONNECTION_RESET', async () => {
    const scripted = scriptedDialer([new TextEncoder().encode('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc'), new Error('wire cut')]);
    const res = await new HttpClient({ dialer: scripted }).fetch('http://10.0.0.2:8080/');
    await rejectsWith(res.text(), ErrorCode.CONNECTION_RESET, /^the connection to 10\.0\.0\.2:8080 was reset by the peer$/);
  });

  test('malformed responses are HTTP_PROTOCOL naming the server', async () => {
    const raw = await startRaw((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    await rejectsWith(client().fetch(raw.base), ErrorCode.HTTP_PROTOCOL, /^malformed HTTP response from 127\.0\.0\.1:\d+ \(GET http:\/\/127\.0\.0\.1:\d+\/\): the server did not answer with HTTP\/1\.x/);
    const chunks = await startRaw((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n'));
    await rejectsWith((await client().fetch(chunks.base)).text(), ErrorCode.HTTP_PROTOCOL, /invalid chunk-size line/);
  });

  test('huge headers are refused at maxHeaderBytes', async () => {
    const raw = await startRaw((s) => {
      s.write(`HTTP/1.1 200 OK\r\nX-Huge: ${'a'.repeat(200_000)}\r\n\r\n`);
    });
    await rejectsWith(client({ maxHeaderBytes: 16 * 1024 }).fetch(raw.base), ErrorCode.HTTP_PROTOCOL, /larger than 16384 bytes \(maxHeaderBytes\)/);
    const many = await startRaw((s) => s.write(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(300)}\r\n`));
    await rejectsWith(client().fetch(many.base), ErrorCode.HTTP_PROTOCOL, /more than 256 header lines/);
  });

  test('a host name without a resolver is DNS_FAILURE', async () => {
    await rejectsWith(client().fetch('http://intranet.example/'), ErrorCode.DNS_FAILURE, /no DNS resolver is configured/);
  });

  test('abort while queued for a connection', async () => {
    const s = await startHttp();
    const c = client({ maxConnectionsPerOrigin: 1 });
    const holder = await c.fetch(`${s.base}/slow`);
    const ac = new AbortController();
    const queued = c.fetch(`${s.base}/cl`, { signal: ac.signal });
    await until(() => c.stats().waiting === 1, 'the request to queue');
    ac.abort();
    await rejectsWith(queued, ErrorCode.ABORTED);
    await holder.body!.cancel();
  });
});

describe('streaming and backpressure', () => {
  test('a reader that stops stops the server: the body is pulled, not buffered', async () => {
    const s = await startHttp();
    const res = await client().fetch(`${s.base}/big`);
    const reader = res.body!.getReader();
    let got = (await reader.read()).value!.length;
    await until(() => backpressure.blocked, 'the server to block on a full socket');
    // The client read one chunk; everything else the server could write sits in kernel buffers.
    assert.ok(!backpressure.finished && backpressure.written < BIG, `server wrote ${backpressure.written} of ${BIG}`);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      got += r.value.length;
    }
    assert.equal(got, BIG);
  });
});

describe('DNS names and timings', () => {
  test('a name resolved through the tunnel resolver; timings for a fresh and a reused connection', async () => {
    const dns = await TestDnsServer.start((q) =>
      q.questions[0].type === DnsType.A ? reply(q, { answers: [a(q.questions[0].name, '127.0.0.1')] }) : reply(q, {}),
    );
    cleanups.push(() => dns.close());
    const resolver = new DnsResolver({ dialer, servers: [dns.address], port: dns.port });
    const timings: HttpTiming[] = [];
    const c = client({ resolver });
    const res = await c.fetch(`http://web.intranet.test:${srv.port}/echo`, { onTiming: (t) => timings.push(t) });
    const echo = await res.json();
    assert.equal(echo.headers.host, `web.intranet.test:${srv.port}`);
    await (await c.fetch(`http://web.intranet.test:${srv.port}/cl`, { onTiming: (t) => timings.push(t) })).text();

    assert.equal(timings.length, 2);
    const [fresh, reused] = timings;
    assert.equal(fresh.outcome, 'complete');
    assert.equal(fresh.status, 200);
    assert.equal(fresh.reusedConnection, false);
    assert.equal(fresh.remoteAddress, `127.0.0.1:${srv.port}`);
    const order = [fresh.dnsStart, fresh.dnsEnd, fresh.connectStart, fresh.connectEnd, fresh.firstByte, fresh.done];
    assert.ok(order.every((v) => typeof v === 'number'), JSON.stringify(fresh));
    for (let i = 1; i < order.length; i++) assert.ok(order[i]! >= order[i - 1]!, `phase ${i} out of order: ${JSON.stringify(fresh)}`);
    assert.equal(typeof fresh.requestSent, 'number');
    assert.ok(fresh.bodyBytes > 0);
    assert.equal(reused.reusedConnection, true);
    assert.equal(reused.dnsStart, undefined);
    assert.equal(reused.connectStart, undefined);
    assert.equal(reused.bodyBytes, 5);
  });

  test('redirect hops report their own timings; failures report an error outcome', async () => {
    const timings: HttpTiming[] = [];
    await (await client().fetch(`${srv.base}/redirect?to=/cl`, { onTiming: (t) => timings.push(t) })).text();
    assert.deepEqual(timings.map((t) => [new URL(t.url).pathname, t.status, t.outcome]), [
      ['/redirect', 302, 'complete'],
      ['/cl', 200, 'complete'],
    ]);
    const failed: HttpTiming[] = [];
    await client()
      .fetch(`${srv.base}/hang`, { timeoutMs: 20, onTiming: (t) => failed.push(t) })
      .catch(() => {});
    assert.equal(failed[0].outcome, 'cancelled');
    assert.equal(failed[0].error?.code, ErrorCode.TIMEOUT);
  });

  test('onResponseHead shows each head as sent, Set-Cookie and name case included', async () => {
    const raw = await startRaw((s) => s.write('HTTP/1.1 200 Fine\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-CamelCase: yes\r\nContent-Length: 0\r\n\r\n'));
    const heads: HttpResponseHead[] = [];
    await client().fetch(`${raw.base}/x`, { onResponseHead: (h) => heads.push(h) });
    assert.deepEqual(heads, [
      {
        url: `${raw.base}/x`,
        httpVersion: '1.1',
        status: 200,
        statusText: 'Fine',
        headers: [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
          ['X-CamelCase', 'yes'],
          ['Content-Length', '0'],
        ],
      },
    ]);
  });

  test('localhost resolves to loopback without a DNS query', async () => {
    const resolver = new DnsResolver({ dialer, servers: [] });
    const res = await client({ resolver }).fetch(`http://localhost:${srv.port}/cl`);
    assert.equal(await res.text(), 'hello');
  });
});
