/**
 * The demo's HTTP/1.1 server over wgweb's own TCP, with a raw client on a second wgweb TCP stack
 * (test/node/demo/tcp-pair.ts): what goes on the wire for keep-alive, pipelining, bodies both ways,
 * 100-continue, errors and limits.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError, HttpServer, type HttpHandler, type HttpServerOptions } from '../../../../src/node/demo/http/http-server.ts';
import { rawExchange, TcpPair } from '../tcp-pair.ts';

let pair: TcpPair;
let server: HttpServer | undefined;

function serve(handler: HttpHandler, options: Partial<HttpServerOptions> = {}): HttpServer {
  server = new HttpServer({ listener: pair.server.listen({ port: 80 }), wake: pair.wake, handler, ...options });
  return server;
}

/** Status lines of every response in `text`, in order. */
function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 \d{3}[^\r]*/g)].map((m) => m[0]);
}

const echoHandler: HttpHandler = async (req) => {
  const body = await req.readBody(1 << 20);
  return {
    status: 200,
    headers: { 'Content-Type': 'text/plain' },
    body: `${req.method} ${req.target} v1.${req.minorVersion} seq=${req.sequence} body=${new TextDecoder().decode(body)}`,
  };
};

beforeEach(() => {
  pair = new TcpPair();
  server = undefined;
});
afterEach(() => {
  server?.close();
  pair.close();
});

describe('HttpServer: framing and keep-alive', () => {
  test('answers a GET with Content-Length, Date, Server and keep-alive, then a second request on the same connection', async () => {
    serve(echoHandler);
    const out = await rawExchange(
      pair.connect(80),
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(statusLines(out), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    const [first, second] = out.split(/(?=HTTP\/1\.1 200)/);
    assert.match(first, /\r\nContent-Length: 23\r\n/);
    assert.match(first, /\r\nConnection: keep-alive\r\n/);
    assert.match(first, /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
    assert.match(first, /\r\nServer: wgweb-demo\r\n/);
    assert.ok(first.endsWith('\r\n\r\nGET /a v1.1 seq=1 body='));
    assert.match(second, /\r\nConnection: close\r\n/);
    assert.ok(second.endsWith('GET /b?q=1 v1.1 seq=2 body='), 'pipelined request answered second, on the same connection');
  });

  test('an HTTP/1.0 request gets its answer and the connection closes; with keep-alive it stays open', async () => {
    serve(echoHandler);
    const once = await rawExchange(pair.connect(80), 'GET / HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n');
    assert.deepEqual(statusLines(once), ['HTTP/1.1 200 OK'], 'HTTP/1.0 without keep-alive: one exchange');
    assert.match(once, /Connection: close/);
    const kept = await rawExchange(pair.connect(80), 'GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n');
    assert.deepEqual(statusLines(kept), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });

  test('a streamed body of unknown length goes out chunked (HTTP/1.1) or close-delimited (HTTP/1.0)', async () => {
    serve(() => ({
      status: 200,
      body: (async function* () {
        yield new TextEncoder().encode('hello ');
        yield new TextEncoder().encode('world');
      })(),
    }));
    const chunked = await rawExchange(pair.connect(80), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(chunked, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(chunked.endsWith('\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n'));
    const old = await rawExchange(pair.connect(80), 'GET / HTTP/1.0\r\n\r\n');
    assert.doesNotMatch(old, /Transfer-Encoding/);
    assert.ok(old.endsWith('\r\n\r\nhello world'));
  });

  test('a streamed body with a declared length gets Content-Length; HEAD gets the head only', async () => {
    serve((req) => ({ status: 200, length: 4, body: new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([65, 66, 67, 68])), c.close()) }), headers: { 'X-Method': req.method } }));
    const out = await rawExchange(pair.connect(80), 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [head, get] = out.split(/(?=HTTP\/1\.1 200)/);
    assert.match(head, /Content-Length: 4\r\n/);
    assert.ok(head.endsWith('\r\n\r\n'), 'no body after a HEAD response');
    assert.ok(get.endsWith('\r\n\r\nABCD'));
  });

  test('a body shorter than its declared length resets the connection instead of ending cleanly', async () => {
    const errors: unknown[] = [];
    serve(() => ({ status: 200, length: 10, body: new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(3)), c.close()) }) }), {
      onError: (e) => errors.push(e),
    });
    await assert.rejects(rawExchange(pair.connect(80), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /reset/i);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /ended after 3 of its declared 10 bytes/);
  });
});

describe('HttpServer: clients that go away', () => {
  test('a client resetting in mid-download frees its connection; that is no handler error', async () => {
    const s = serve(() => ({
      status: 200,
      body: (async function* () {
        for (;;) yield new Uint8Array(16 * 1024);
      })(),
    }));
    const conn = pair.connect(80);
    const w = conn.writable.getWriter();
    await w.write(new TextEncoder().encode('GET /forever HTTP/1.1\r\nHost: x\r\n\r\n'));
    const reader = conn.readable.getReader();
    let got = 0;
    while (got < 200_000) got += (await reader.read()).value?.length ?? 0;
    conn.abort();
    for (let i = 0; i < 500 && s.stats().connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.stats().connections, 0);
    assert.equal(s.stats().handlerErrors, 0);
  });
});

describe('HttpServer: request bodies', () => {
  test('reads Content-Length and chunked bodies, chunk extensions and trailers included', async () => {
    serve(echoHandler);
    const out = await rawExchange(
      pair.connect(80),
      'POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
        'POST /chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n',
    );
    assert.match(out, /POST \/len v1\.1 seq=1 body=hello/);
    assert.match(out, /POST \/chunk v1\.1 seq=2 body=abcde/);
  });

  test('Expect: 100-continue gets "100 Continue" when the handler starts reading, then the answer', async () => {
    serve(echoHandler);
    const out = await rawExchange(pair.connect(80), 'PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    assert.match(out, /body=ok$/);
  });

  test('a handler refusing a body it never read answers without 100 Continue and closes', async () => {
    serve(() => {
      throw new HttpError(413, 'too big for this test');
    });
    const out = await rawExchange(pair.connect(80), 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 413 Content Too Large']);
    assert.match(out, /Connection: close/);
    assert.match(out, /413 Content Too Large: too big for this test/);
  });

  test('an unread small body is drained to keep the connection; an unread large one closes it', async () => {
    serve((req) => ({ status: 200, body: `seq=${req.sequence}` }));
    const small = await rawExchange(pair.connect(80), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statusLines(small), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.match(small, /seq=2$/);
    const large = await rawExchange(pair.connect(80), `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    assert.deepEqual(statusLines(large), ['HTTP/1.1 200 OK']);
    assert.match(large, /Connection: close/);
  });

  test('a malformed chunked body is a 400', async () => {
    serve(echoHandler);
    const out = await rawExchange(pair.connect(80), 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 400 Bad Request']);
    assert.match(out, /chunked request body is malformed/);
  });

  test('readBody beyond its limit is a 413', async () => {
    serve(async (req) => ({ status: 200, body: String((await req.readBody(4)).length) }));
    const out = await rawExchange(pair.connect(80), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 413 Content Too Large']);
  });
});

describe('HttpServer: bad requests and limits', () => {
  const cases: [string, string, string][] = [
    ['garbage', 'HELLO THERE\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['HTTP/2.0 on HTTP/1 framing', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 'HTTP/1.1 505 HTTP Version Not Supported'],
    ['a gzip transfer coding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'HTTP/1.1 501 Not Implemented'],
    ['a head over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17000)}\r\n\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large'],
    ['an unknown expectation', 'GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n', 'HTTP/1.1 417 Expectation Failed'],
  ];
  for (const [name, request, status] of cases) {
    test(`${name} → ${status.slice(9)}, then the connection closes`, async () => {
      const s = serve(echoHandler);
      const out = await rawExchange(pair.connect(80), request);
      assert.deepEqual(statusLines(out), [status]);
      assert.match(out, /Connection: close/);
      assert.equal(s.stats().badRequests, 1);
    });
  }

  test('a handler that throws gets a 500 and onError; the connection stays usable', async () => {
    const errors: unknown[] = [];
    serve(
      (req) => {
        if (req.path === '/boom') throw new Error('kaput');
        return { status: 200, body: 'fine' };
      },
      { onError: (e) => errors.push(e) },
    );
    const out = await rawExchange(pair.connect(80), 'GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 500 Internal Server Error', 'HTTP/1.1 200 OK']);
    assert.doesNotMatch(out, /kaput/, 'internal details stay on the server');
    assert.equal((errors[0] as Error).message, 'kaput');
  });

  test('a client that sends nothing is dropped after headTimeoutMs without an answer', async () => {
    serve(echoHandler, { headTimeoutMs: 50 });
    const out = await rawExchange(pair.connect(80), new Uint8Array(0));
    assert.equal(out, '');
  });

  test('a half-sent head times out with 408', async () => {
    serve(echoHandler, { headTimeoutMs: 50 });
    const out = await rawExchange(pair.connect(80), 'GET / HTTP/1.1\r\nHo');
    assert.deepEqual(statusLines(out), ['HTTP/1.1 408 Request Timeout']);
  });

  test('connections beyond maxConnections are reset at once', async () => {
    const s = serve(echoHandler, { maxConnections: 1, headTimeoutMs: 60_000 });
    const first = pair.connect(80);
    const held = first.writable.getWriter();
    await held.write(new TextEncoder().encode('GET / HTTP/1.1\r\n')); // holds the only slot
    const second = pair.connect(80);
    await assert.rejects(rawExchange(second, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /reset/i);
    assert.equal(s.stats().refusedConnections, 1);
    first.abort();
  });
});
