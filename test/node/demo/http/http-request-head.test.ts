/**
 * Request heads, one table row per rule of RFC 9112 the parser applies: what is accepted (and how
 * it is read) and what is refused (with which status).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd, isRequestHeadError, parseRequestHead, type RequestHead } from '../../../../src/node/demo/http/http-request-head.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function ok(text: string): RequestHead {
  const r = parseRequestHead(enc(text));
  if (isRequestHeadError(r)) assert.fail(`expected a head, got ${r.status}: ${r.message}`);
  return r;
}

describe('parseRequestHead accepts', () => {
  test('1. a minimal HTTP/1.1 GET: path, empty query, lower-cased header names, keep-alive, no body', () => {
    const r = ok('GET /index.html HTTP/1.1\r\nHost: intranet.demo\r\nUser-Agent: t\r\n\r\n');
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/index.html');
    assert.equal(r.query, '');
    assert.equal(r.minorVersion, 1);
    assert.deepEqual(r.headers, [
      ['host', 'intranet.demo'],
      ['user-agent', 't'],
    ]);
    assert.equal(r.keepAlive, true);
    assert.deepEqual(r.body, { kind: 'none' });
  });

  test('2. a query string, split from the path with percent-encoding kept', () => {
    const r = ok('GET /bytes/10?seed=2&sha=0 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.path, '/bytes/10');
    assert.equal(r.query, 'seed=2&sha=0');
  });

  test('3. absolute-form targets (RFC 9112 §3.2.2) become origin-form', () => {
    assert.equal(ok('GET http://intranet.demo/path?x=1 HTTP/1.1\r\nHost: intranet.demo\r\n\r\n').path, '/path');
    assert.equal(ok('GET http://intranet.demo HTTP/1.1\r\nHost: intranet.demo\r\n\r\n').path, '/');
  });

  test('4. bare LF line ends and leading empty lines (RFC 9112 §2.2)', () => {
    const r = ok('\r\n\nGET / HTTP/1.1\nHost: x\n\n');
    assert.equal(r.path, '/');
  });

  test('5. HTTP/1.0: no Host needed, closes unless Connection: keep-alive', () => {
    assert.equal(ok('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(ok('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  });

  test('6. Connection: close ends HTTP/1.1 keep-alive', () => {
    assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').keepAlive, false);
  });

  test('7. Content-Length framing, equal repeated values allowed; zero means no body', () => {
    assert.deepEqual(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n').body, { kind: 'length', length: 12 });
    assert.deepEqual(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\n\r\n').body, { kind: 'length', length: 7 });
    assert.deepEqual(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n').body, { kind: 'none' });
  });

  test('8. chunked framing, case-insensitively', () => {
    assert.deepEqual(ok('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n').body, { kind: 'chunked' });
  });

  test('9. Expect: 100-continue only counts with a body on HTTP/1.1', () => {
    assert.equal(ok('PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n').expectContinue, true);
    assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n').expectContinue, false);
  });

  test('10. OPTIONS * (asterisk-form)', () => {
    assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n').path, '*');
  });
});

describe('parseRequestHead refuses', () => {
  const rows: [number, string, string, RegExp][] = [
    [1, 'no request line', '\r\n\r\n', /400/],
    [2, 'a request line with two parts', 'GET /\r\nHost: x\r\n\r\n', /400/],
    [3, 'a method that is not a token', 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', /400/],
    [4, 'no version', 'GET / FOO\r\nHost: x\r\n\r\n', /400/],
    [5, 'HTTP/2', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', /505/],
    [6, 'a relative target', 'GET index.html HTTP/1.1\r\nHost: x\r\n\r\n', /400/],
    [7, 'CONNECT (not a proxy)', 'CONNECT intranet.demo:443 HTTP/1.1\r\nHost: x\r\n\r\n', /405/],
    [8, 'a fragment in the target', 'GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n', /400/],
    [9, 'a control character in the target', 'GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n', /400/],
    [10, 'HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', /400.*Host/],
    [11, 'two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /400/],
    [12, 'whitespace between name and colon (§5.1)', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', /400/],
    [13, 'obsolete line folding (§5.2)', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n', /400/],
    [14, 'a bare CR (§2.2)', 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', /400/],
    [15, 'a NUL byte', 'GET / HTTP/1.1\r\nHost: x\0\r\n\r\n', /400/],
    [16, 'Content-Length with Transfer-Encoding (§6.3: smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', /400/],
    [17, 'conflicting Content-Length values', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /400/],
    [18, 'a Content-Length that is not a number', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', /400/],
    [19, 'chunked not last', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', /400/],
    [20, 'a coding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /501/],
    [21, 'Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', /400/],
    [22, 'an unknown expectation', 'GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n', /417/],
    [23, 'more than 100 header lines', `GET / HTTP/1.1\r\nHost: x\r\n${'X: y\r\n'.repeat(100)}\r\n`, /431/],
    [24, 'a target over 8 KiB', `GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: x\r\n\r\n`, /414/],
    // Found by the fuzz suite (seed 1592593182): an empty Transfer-Encoding line was ignored, so the
    // request was framed by its Content-Length alone while a proxy may frame it otherwise.
    [26, 'an empty Transfer-Encoding with Content-Length', 'POST / HTTP/1.0\r\nTransfer-Encoding: \r\nContent-Length: 11\r\n\r\n', /400.*both/],
    [27, 'an empty Transfer-Encoding alone', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n', /400.*empty/],
  ];
  for (const [n, what, text, expected] of rows) {
    test(`${n}. ${what}`, () => {
      const r = parseRequestHead(enc(text));
      assert.ok(isRequestHeadError(r), `expected a refusal, got ${JSON.stringify(r)}`);
      assert.match(`${r.status} ${r.message}`, expected);
    });
  }

  test('25. a head over maxHeadBytes', () => {
    const r = parseRequestHead(enc(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(100)}\r\n\r\n`), { maxHeadBytes: 64, maxTargetLength: 100, maxHeaderCount: 10 });
    assert.ok(isRequestHeadError(r));
    assert.equal(r.status, 431);
  });
});

describe('findHeadEnd', () => {
  test('finds the empty line after CRLF or LF lines, and waits for more otherwise', () => {
    assert.equal(findHeadEnd(enc('GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY')), 27);
    assert.equal(findHeadEnd(enc('GET / HTTP/1.1\nHost: x\n\nBODY')), 24);
    assert.equal(findHeadEnd(enc('GET / HTTP/1.1\r\nHost: x\r\n')), -1);
  });
});
