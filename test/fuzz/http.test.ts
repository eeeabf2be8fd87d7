/**
 * Fuzz: HTTP/1.1 response heads and the chunked transfer coding, as an intranet server (or
 * anything answering on a tunnel port) sends them. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { ChunkedDecoder } from '../../src/protocols/http/chunked-decoder.ts';
import { bodyFraming, findHeadEnd, HttpProtocolError, parseResponseHead } from '../../src/protocols/http/http-response-parser.ts';
import { fuzzTest, property, sameBytes, utf8, type Rng } from '../helpers/fuzz.ts';

const LIMITS = { maxHeaderBytes: 8192, maxHeaderCount: 100 };

const HEADS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n',
  'HTTP/1.0 302 Found\nLocation: /login?next=%2F\nSet-Cookie: a=b; Path=/\n\n',
  'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\nX-Folded: a\r\n  b\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
];

const FIELDS = ['Content-Length', 'Transfer-Encoding', 'Connection', 'Location', 'Set-Cookie', 'Content-Encoding', 'Upgrade', 'X-A'];
const VALUES = ['0', '5', '-1', '99999999999999999999', 'chunked', 'gzip, chunked', 'chunked, gzip', 'close', 'keep-alive', '', ' ', '\t', 'a\u0000b', '5, 5', '5,6', '0x10'];

/** A head built from fields with adversarial values (duplicates, folding, odd line ends). */
function generateHead(rng: Rng): Uint8Array {
  const eol = () => rng.pick(['\r\n', '\n', '\r\n', '\r']);
  let s = `HTTP/1.${rng.pick(['0', '1', '9'])} ${rng.pick(['200', '100', '204', '304', '999', '000', '20'])}${rng.chance(0.7) ? ' OK' : ''}${eol()}`;
  for (let n = rng.below(8); n > 0; n--) {
    s += `${rng.pick(FIELDS)}${rng.pick([':', ': ', ' :', ':\t'])}${rng.pick(VALUES)}${eol()}`;
    if (rng.chance(0.05)) s += ` folded${eol()}`;
  }
  return utf8.encode(s + eol());
}

/** A chunked body with random chunk sizes, extensions and trailers. */
function generateChunked(rng: Rng): Uint8Array {
  let s = '';
  for (let n = rng.below(5); n > 0; n--) {
    const size = rng.size(100);
    const hex = size.toString(16);
    s += `${rng.chance(0.2) ? hex.toUpperCase().padStart(4, '0') : hex}${rng.chance(0.2) ? ';ext=1;q="x"' : ''}${rng.pick(['\r\n', '\n'])}${'x'.repeat(size)}\r\n`;
  }
  s += `0${rng.pick(['\r\n', '\n'])}${rng.chance(0.3) ? 'Trailer-A: 1\r\n' : ''}\r\n`;
  if (rng.chance(0.2)) s += 'HTTP/1.1 200 OK\r\n';
  return utf8.encode(s);
}

/** Decodes `input` fed in `cuts` pieces; the outcome must not depend on where TCP split it. */
function decode(input: Uint8Array, cuts: number[]): { data: Uint8Array; done: boolean; rest: Uint8Array; error?: string } {
  const d = new ChunkedDecoder(1024);
  const parts: number[] = [];
  let rest: Uint8Array = new Uint8Array(0);
  let done = false;
  let from = 0;
  try {
    for (const to of [...cuts, input.length]) {
      if (done) break;
      const out = d.push(input.subarray(from, to));
      for (const c of out.data) parts.push(...c);
      done = out.done;
      rest = out.rest;
      from = to;
    }
  } catch (e) {
    if (!(e instanceof HttpProtocolError)) throw e;
    return { data: Uint8Array.from(parts), done, rest, error: 'protocol' };
  }
  // Bytes never pushed because the body ended count as what follows it.
  const unpushed = input.subarray(from);
  const tail = new Uint8Array(rest.length + unpushed.length);
  tail.set(rest);
  tail.set(unpushed, rest.length);
  return { data: Uint8Array.from(parts), done, rest: tail };
}

describe('fuzz: HTTP', () => {
  fuzzTest('response heads: parse throws only HttpProtocolError, and what parses has a framing', 'http-response-head', {
    corpus: HEADS.map(utf8.encode),
    generate: generateHead,
    maxLength: 9000,
    allowed: [HttpProtocolError],
    check(input) {
      const end = findHeadEnd(input);
      property(end === -1 || (end > 0 && end <= input.length), 'the head end lies inside the input');
      const head = parseResponseHead(end > 0 ? input.subarray(0, end) : input, LIMITS);
      // Three digits; the client refuses a final status outside 200-599 itself (http-client.ts).
      property(Number.isInteger(head.status) && head.status <= 999 && head.headers.length <= LIMITS.maxHeaderCount, 'status and header count are in range');
      for (const method of ['GET', 'HEAD']) {
        const { framing } = bodyFraming(method, head);
        if (framing.kind === 'length') property(Number.isSafeInteger(framing.length) && framing.length >= 0, 'a Content-Length is a safe non-negative integer');
      }
    },
  });

  fuzzTest('chunked bodies: only HttpProtocolError, and the same result however the bytes are split', 'http-chunked', {
    corpus: ['5\r\nhello\r\n0\r\n\r\n', '3;x=y\nabc\n0\nTrailer: 1\n\n', '0\r\n\r\nHTTP/1.1 200 OK\r\n'].map(utf8.encode),
    generate: generateChunked,
    maxLength: 4096,
    check(input, rng) {
      const whole = decode(input, []);
      const cuts = Array.from({ length: rng.below(6) }, () => rng.below(input.length + 1)).sort((a, b) => a - b);
      const split = decode(input, cuts);
      property(whole.error === split.error, `an error does not depend on the split (${whole.error} vs ${split.error})`);
      if (whole.error) return;
      property(whole.done === split.done && sameBytes(whole.data, split.data), 'the body does not depend on the split');
      if (whole.done) property(sameBytes(whole.rest, split.rest), 'what follows the body does not depend on the split');
    },
  });
});
