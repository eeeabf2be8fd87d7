import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  HttpProtocolError,
  bodyFraming,
  findHeadEnd,
  headerList,
  parseResponseHead,
  type ResponseHead,
} from '../../../src/protocols/http/http-response-parser.ts';

const enc = new TextEncoder();
const limits = { maxHeaderBytes: 65536, maxHeaderCount: 100 };

function head(text: string): ResponseHead {
  const bytes = enc.encode(text);
  const end = findHeadEnd(bytes);
  assert.ok(end > 0, 'head end not found');
  return parseResponseHead(bytes.subarray(0, end), limits);
}

describe('finding the end of the head', () => {
  test('CRLF CRLF, bare LF LF, and LF CRLF', () => {
    assert.equal(findHeadEnd(enc.encode('HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody')), 25);
    assert.equal(findHeadEnd(enc.encode('HTTP/1.1 200 OK\nA: b\n\nbody')), 22);
    assert.equal(findHeadEnd(enc.encode('HTTP/1.1 200 OK\nA: b\n\r\nbody')), 23);
  });

  test('incomplete heads need more bytes', () => {
    assert.equal(findHeadEnd(enc.encode('HTTP/1.1 200 OK\r\nA: b\r\n')), -1);
    assert.equal(findHeadEnd(enc.encode('HTTP/1.1 200 OK\r\nA: b\r\n\r')), -1);
  });
});

describe('status line and fields (RFC 9112 §4, §5)', () => {
  test('a typical response', () => {
    const h = head('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\n\r\n');
    assert.equal(h.minorVersion, 1);
    assert.equal(h.status, 404);
    assert.equal(h.statusText, 'Not Found');
    assert.deepEqual(h.headers, [
      ['Content-Type', 'text/plain'],
      ['X-Multi', 'a'],
      ['X-Multi', 'b'],
    ]);
    assert.deepEqual(headerList(h, 'x-multi'), ['a', 'b']);
  });

  test('no reason phrase, HTTP/1.0, value whitespace trimmed, empty values kept', () => {
    const h = head('HTTP/1.0 204\r\nA:   spaced   \r\nEmpty:\r\n\r\n');
    assert.equal(h.minorVersion, 0);
    assert.equal(h.status, 204);
    assert.equal(h.statusText, '');
    assert.deepEqual(h.headers, [
      ['A', 'spaced'],
      ['Empty', ''],
    ]);
  });

  test('obsolete line folding joins with a space (RFC 9112 §5.2)', () => {
    const h = head('HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\n\r\n');
    assert.deepEqual(h.headers, [['X-Long', 'one two three']]);
  });

  test('latin-1 bytes in values survive as characters U+0080..U+00FF', () => {
    const bytes = new Uint8Array([...enc.encode('HTTP/1.1 200 OK\r\nX: caf'), 0xe9, ...enc.encode('\r\n\r\n')]);
    const h = parseResponseHead(bytes, limits);
    assert.equal(h.headers[0][1], 'caf\u00e9');
  });

  const malformed: [string, RegExp][] = [
    ['HELLO\r\n\r\n', /did not answer with HTTP\/1\.x \(its first line was "HELLO"\)/],
    ['HTTP/2 200\r\n\r\n', /did not answer with HTTP\/1\.x/],
    ['HTTP/1.1 20 OK\r\n\r\n', /did not answer with HTTP\/1\.x/],
    ['HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n', /no name and colon/],
    ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /header name "Bad Name" is not valid/],
    ['HTTP/1.1 200 OK\r\nName : x\r\n\r\n', /is not valid/],
    ['HTTP/1.1 200 OK\r\n continuation first\r\n\r\n', /continuation line/],
  ];
  malformed.forEach(([text, message], i) => {
    test(`malformed head ${i + 1}: ${JSON.stringify(text.split('\r\n')[0])}…`, () => {
      assert.throws(() => head(text), (e: unknown) => e instanceof HttpProtocolError && message.test(e.message));
    });
  });

  test('limits: bytes and line count', () => {
    const big = enc.encode(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`);
    assert.throws(() => parseResponseHead(big, { maxHeaderBytes: 100, maxHeaderCount: 10 }), /larger than 100 bytes \(maxHeaderBytes\)/);
    const many = enc.encode(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(11)}\r\n`);
    assert.throws(() => parseResponseHead(many, { maxHeaderBytes: 1000, maxHeaderCount: 10 }), /more than 10 header lines/);
  });
});

describe('body framing (RFC 9112 §6.3), one row per rule', () => {
  const rows: [string, string, string, { framing: unknown; reusable: boolean }][] = [
    ['1', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { framing: { kind: 'none' }, reusable: true }],
    ['2', 'GET', 'HTTP/1.1 204 No Content\r\n\r\n', { framing: { kind: 'none' }, reusable: true }],
    ['3', 'GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', { framing: { kind: 'none' }, reusable: true }],
    ['4', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { framing: { kind: 'chunked' }, reusable: true }],
    ['5', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', { framing: { kind: 'chunked' }, reusable: true }],
    ['6', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', { framing: { kind: 'close' }, reusable: false }],
    ['7', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', { framing: { kind: 'chunked' }, reusable: false }],
    ['8', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n', { framing: { kind: 'length', length: 42 }, reusable: true }],
    ['9', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n', { framing: { kind: 'length', length: 42 }, reusable: true }],
    ['10', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 42, 42\r\n\r\n', { framing: { kind: 'length', length: 42 }, reusable: true }],
    ['11', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { framing: { kind: 'none' }, reusable: true }],
    ['12', 'GET', 'HTTP/1.1 200 OK\r\n\r\n', { framing: { kind: 'close' }, reusable: false }],
    ['13', 'GET', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n', { framing: { kind: 'length', length: 1 }, reusable: false }],
    ['14', 'GET', 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n', { framing: { kind: 'length', length: 1 }, reusable: false }],
    ['15', 'GET', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n', { framing: { kind: 'length', length: 1 }, reusable: true }],
  ];
  for (const [n, method, text, expected] of rows) {
    test(`${n}. ${method} ${JSON.stringify(text.replace(/\r\n/g, ' | '))}`, () => {
      assert.deepEqual(bodyFraming(method, head(text)), expected);
    });
  }

  test('bad Content-Length values are protocol errors', () => {
    for (const v of ['abc', '-1', '1 2', '42, 43', '99999999999999999999']) {
      assert.throws(() => bodyFraming('GET', head(`HTTP/1.1 200 OK\r\nContent-Length: ${v}\r\n\r\n`)), HttpProtocolError, v);
    }
  });
});
