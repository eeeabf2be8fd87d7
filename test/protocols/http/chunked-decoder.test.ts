import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from '../../../src/protocols/http/chunked-decoder.ts';
import { HttpProtocolError } from '../../../src/protocols/http/http-response-parser.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `wire` in pieces of `step` bytes; returns the body text, done flag and leftover text. */
function decode(wire: string, step = wire.length): { body: string; done: boolean; rest: string } {
  const d = new ChunkedDecoder();
  const bytes = enc.encode(wire);
  let body = '';
  let rest = '';
  let done = false;
  for (let i = 0; i < bytes.length; i += step) {
    const out = d.push(bytes.subarray(i, i + step));
    for (const c of out.data) body += dec.decode(c);
    if (out.done) {
      done = true;
      rest += dec.decode(out.rest) + dec.decode(bytes.subarray(i + step));
      break;
    }
  }
  return { body, done, rest };
}

describe('chunked transfer coding (RFC 9112 §7.1)', () => {
  const wire = '5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n';

  test('whole, and at every split size down to one byte at a time', () => {
    for (const step of [wire.length, 7, 3, 2, 1]) {
      assert.deepEqual(decode(wire, step), { body: 'hello, world', done: true, rest: '' }, `step ${step}`);
    }
  });

  test('upper- and lower-case hex, leading zeros', () => {
    assert.equal(decode(`A\r\n${'x'.repeat(10)}\r\n0a\r\n${'y'.repeat(10)}\r\n0\r\n\r\n`).body, 'x'.repeat(10) + 'y'.repeat(10));
  });

  test('chunk extensions are ignored (§7.1.1)', () => {
    assert.equal(decode('5;name=value;x\r\nhello\r\n0;last\r\n\r\n').body, 'hello');
  });

  test('trailer fields are read and dropped (§7.1.2)', () => {
    assert.deepEqual(decode('5\r\nhello\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n', 4), { body: 'hello', done: true, rest: '' });
  });

  test('bare LF line ends are accepted (§2.2)', () => {
    assert.equal(decode('5\nhello\n0\n\n', 1).body, 'hello');
  });

  test('bytes after the end are handed back', () => {
    assert.deepEqual(decode('1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK'), { body: 'a', done: true, rest: 'HTTP/1.1 200 OK' });
  });

  test('not done until the final empty line', () => {
    assert.equal(decode('5\r\nhello\r\n0\r\n').done, false);
  });

  test('bodyBytes counts decoded data', () => {
    const d = new ChunkedDecoder();
    d.push(enc.encode(wire));
    assert.equal(d.bodyBytes, 12);
    assert.equal(d.finished, true);
  });

  const broken: [string, RegExp][] = [
    ['zz\r\n', /invalid chunk-size line/],
    ['\r\n', /invalid chunk-size line/],
    ['-5\r\n', /invalid chunk-size line/],
    ['5\r\nhelloXX', /not followed by CRLF/],
    ['11111111111111111\r\n', /invalid chunk-size line/],
    [`1;${'e'.repeat(5000)}\r\n`, /longer than 4096 bytes/],
  ];
  broken.forEach(([w, message], i) => {
    test(`broken framing ${i + 1} is a protocol error`, () => {
      assert.throws(() => decode(w), (e: unknown) => e instanceof HttpProtocolError && message.test(e.message));
    });
  });

  test('oversized trailers are refused', () => {
    const d = new ChunkedDecoder(100);
    assert.throws(() => d.push(enc.encode(`0\r\nX: ${'a'.repeat(200)}\r\n\r\n`)), /trailer section .* larger than 100 bytes/);
  });

  test('a 2^53 chunk size is impossible', () => {
    assert.throws(() => decode('20000000000000\r\n'), /impossible size/);
  });
});
