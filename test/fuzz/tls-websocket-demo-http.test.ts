/**
 * Fuzz: three more parsers that take bytes from the network (issue #11, "a fuzz suite over every
 * parser"): the TLS record layer and the client's handshake as a hostile server drives it, RFC 6455
 * frames as a WebSocket server sends them, and the demo web server's request heads as any visitor
 * of the demo's intranet site sends them, both to the parser alone and to the whole server over
 * wgweb's TCP (framing, limits, keep-alive and closing included). Harness and replay: test/helpers/fuzz.ts.
 */
import { after, describe } from 'node:test';
import { TlsClient } from '../../src/protocols/tls/tls-client.ts';
import { TlsDecodeError } from '../../src/protocols/tls/tls-codec.ts';
import { emitHandshake, emitRecord, RecordBuffer } from '../../src/protocols/tls/tls-record.ts';
import { WgwebError } from '../../src/shared/errors.ts';
import { emitFrame, Opcode } from '../../src/protocols/websocket/websocket-frame.ts';
import { WebSocketProtocol, type WebSocketEvent } from '../../src/protocols/websocket/websocket-protocol.ts';
import { inflateMessage, parseDeflateResponse } from '../../src/protocols/websocket/permessage-deflate.ts';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { DEFAULT_REQUEST_HEAD_LIMITS, findHeadEnd, isRequestHeadError, parseRequestHead } from '../../src/node/demo/http/http-request-head.ts';
import { HttpServer } from '../../src/node/demo/http/http-server.ts';
import { TcpPair } from '../node/demo/tcp-pair.ts';
import { fuzzTest, property, sameBytes, utf8, type Rng } from '../helpers/fuzz.ts';

// --- TLS ---------------------------------------------------------------------------------------

/** Deterministic client randomness: the same bytes each run, so a ServerHello can echo the session id. */
const fixedRandom = (n: number): Uint8Array => new Uint8Array(n).fill(7);
const X25519_SECRET = new Uint8Array(32).fill(9);

function u16(n: number): number[] {
  return [n >>> 8, n & 0xff];
}

function extension(type: number, body: number[]): number[] {
  return [...u16(type), ...u16(body.length), ...body];
}

/** A ServerHello (RFC 8446 §4.1.3) that the fixed client accepts: echoed session id, TLS 1.3 or 1.2. */
function serverHello(version: 'tls13' | 'tls12', suite: number): Uint8Array {
  const ext =
    version === 'tls13'
      ? [...extension(43, u16(0x0304)), ...extension(51, [...u16(0x001d), ...u16(32), ...new Array<number>(32).fill(0x42)])]
      : [...extension(0xff01, [0]), ...extension(23, [])];
  const body = [...u16(0x0303), ...new Array<number>(32).fill(0x11), 32, ...new Array<number>(32).fill(7), ...u16(suite), 0, ...u16(ext.length), ...ext];
  return emitRecord(22, 0x0303, emitHandshake(2, Uint8Array.from(body)));
}

const TLS_CORPUS = [
  serverHello('tls13', 0x1301),
  // ServerHello, then a "ChangeCipherSpec" and an encrypted record that cannot decrypt.
  Uint8Array.from([...serverHello('tls13', 0x1303), ...emitRecord(20, 0x0303, Uint8Array.of(1)), ...emitRecord(23, 0x0303, new Uint8Array(40).fill(3))]),
  Uint8Array.from([...serverHello('tls12', 0xc02f), ...emitRecord(22, 0x0303, emitHandshake(11, Uint8Array.of(0, 0, 0)))]),
  emitRecord(21, 0x0303, Uint8Array.of(2, 40)),
];

/** Records with random types, versions and (sometimes wrong) lengths. */
function generateRecords(rng: Rng): Uint8Array {
  const parts: number[] = [];
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const body = rng.bytes(rng.size(64));
    const length = rng.chance(0.1) ? rng.below(0x10000) : body.length;
    parts.push(rng.pick([20, 21, 22, 23, 24, 0]), 3, rng.pick([1, 3, 4]), ...u16(length), ...body);
  }
  return Uint8Array.from(parts);
}

/** Feeds `input` to a fresh client in `cuts` pieces; returns where it ended. */
function runClient(input: Uint8Array, cuts: number[]): { state: string; code: string | undefined; out: number } {
  const client = new TlsClient({ serverName: 'fuzz.test', random: fixedRandom, keyShareSecrets: new Map([[0x001d, X25519_SECRET]]), now: () => 0 });
  client.start();
  client.takeOutput();
  let from = 0;
  for (const to of [...cuts, input.length]) {
    client.receive(input.subarray(from, to));
    from = to;
  }
  let out = 0;
  for (let r = client.takeOutput(); r; r = client.takeOutput()) out += r.length;
  client.takeEvents();
  return { state: client.state, code: client.error?.code, out };
}

/** Reads every record of `input` pushed in `cuts` pieces: the records, or where it failed. */
function readRecords(input: Uint8Array, cuts: number[]): { records: Uint8Array[]; error?: string } {
  const buf = new RecordBuffer();
  const records: Uint8Array[] = [];
  let from = 0;
  try {
    for (const to of [...cuts, input.length]) {
      buf.push(input.subarray(from, to));
      from = to;
      for (let r = buf.next(); r; r = buf.next()) {
        property(r.body.length <= buf.maxBody, 'a record body is within the limit');
        records.push(Uint8Array.from([r.type, r.version >>> 8, r.version & 0xff, ...r.body]));
      }
    }
  } catch (e) {
    if (!(e instanceof TlsDecodeError)) throw e;
    return { records, error: e.message };
  }
  return { records };
}

const randomCuts = (rng: Rng, length: number): number[] => Array.from({ length: rng.below(6) }, () => rng.below(length + 1)).sort((a, b) => a - b);

// --- WebSocket ---------------------------------------------------------------------------------

const frame = (opcode: number, payload: string | Uint8Array, fin = true): Uint8Array =>
  emitFrame({ fin, opcode, payload: typeof payload === 'string' ? utf8.encode(payload) : payload });

const WS_CORPUS = [
  frame(Opcode.TEXT, 'hello'),
  Uint8Array.from([...frame(Opcode.TEXT, 'frag', false), ...frame(Opcode.PING, 'p'), ...frame(Opcode.CONTINUATION, 'ment')]),
  frame(Opcode.BINARY, new Uint8Array(300).fill(1)),
  frame(Opcode.CLOSE, Uint8Array.from([0x03, 0xe8, ...utf8.encode('bye')])),
  frame(Opcode.PONG, ''),
];

/**
 * Frames with random opcodes, FIN and RSV bits, masks and length encodings (minimal or not),
 * written by hand: emitFrame refuses the invalid frames a hostile server may send.
 */
function generateFrames(rng: Rng): Uint8Array {
  const parts: number[] = [];
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const opcode = rng.pick([0, 1, 2, 8, 9, 10, 3, 0xb]);
    const payload = rng.chance(0.3) ? utf8.encode(rng.pick(['ok', 'é', '\u{1F600}', 'a\uFFFDb'])) : rng.bytes(rng.size(200));
    const fin = rng.chance(0.8) ? 0x80 : 0;
    const rsv = rng.chance(0.1) ? 0x40 : 0;
    const mask = rng.chance(0.1) ? 0x80 : 0;
    const n = payload.length;
    const encoding = rng.chance(0.1) ? rng.pick([126, 127]) : n < 126 ? n : n < 65536 ? 126 : 127;
    parts.push(fin | rsv | opcode, mask | encoding);
    if (encoding === 126) parts.push(...u16(n));
    else if (encoding === 127) parts.push(0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    if (mask) parts.push(...rng.bytes(4));
    parts.push(...payload);
  }
  return Uint8Array.from(parts);
}

/** Compressed messages as a permessage-deflate sender frames them (raw deflate, sync flush, tail removed). */
const DEFLATE_CORPUS = ['hello', 'a'.repeat(3000), '', 'grüße ☃ '.repeat(40), 'server_no_context_takeover; server_max_window_bits=10'].map((t) => {
  const d = deflateRawSync(utf8.encode(t), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return new Uint8Array(d.subarray(0, d.length - 4));
});

/** Runs a client connection over `input` in pieces; returns its events and state. */
function runWebSocket(input: Uint8Array, cuts: number[]): { events: string[]; state: string } {
  // Half the inputs as if permessage-deflate were negotiated (RSV1 marks compressed messages).
  const ws = new WebSocketProtocol({ random: (n) => new Uint8Array(n).fill(5), maxMessageSize: 4096, deflate: input.length % 2 === 1 });
  const events: string[] = [];
  const drain = (): void => {
    for (let e: WebSocketEvent | undefined = ws.pollEvent(); e; e = ws.pollEvent()) {
      property(e.type !== 'message' || typeof e.data !== 'string' || utf8.encode(e.data).length <= 4096, 'a message is within the limit');
      property(e.type !== 'compressed' || e.data.length <= 4096, 'a compressed message is within the limit');
      events.push(JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));
    }
    while (ws.pollTransmit()) {
      // what the client sends back (pongs, close frames) is not compared: its masks are fixed anyway
    }
  };
  let from = 0;
  for (const to of [...cuts, input.length]) {
    ws.receive(input.subarray(from, to), 0);
    from = to;
    drain();
  }
  ws.transportClosed(1);
  drain();
  return { events, state: ws.state };
}

// --- Demo HTTP server --------------------------------------------------------------------------

const HTTP_CORPUS = [
  'GET / HTTP/1.1\r\nHost: 10.44.0.1\r\n\r\n',
  'POST /guestbook HTTP/1.1\r\nHost: intranet.demo\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n',
  'PUT /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n',
  'OPTIONS * HTTP/1.0\r\n\r\n',
  'GET /a%2F..%2Fb?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  // The classic smuggling shape: complete under either framing (RFC 9112 §11.2).
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
].map(utf8.encode);

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'get', 'G ET', ''];
const TARGETS = ['/', '*', '/a?b=c', 'http://x/', '/%00', '/../../etc/passwd', '//', `/${'a'.repeat(50)}`];
const REQUEST_FIELDS = ['Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Expect', 'Cookie', 'X-A', 'Host '];
const REQUEST_VALUES = ['0', '11', '-1', '1e3', '5, 5', '5, 6', '99999999999999999999', 'chunked', 'gzip, chunked', 'chunked, gzip', 'close', 'keep-alive', '100-continue', '', 'a\rb'];

/** Request heads with smuggling-shaped fields: duplicates, CL + TE, folding, odd line ends. */
function generateRequest(rng: Rng): Uint8Array {
  const eol = (): string => rng.pick(['\r\n', '\r\n', '\n', '\r']);
  let s = `${rng.pick(METHODS)} ${rng.pick(TARGETS)} HTTP/1.${rng.pick(['0', '1', '2'])}${eol()}`;
  for (let n = rng.below(8); n > 0; n--) {
    s += `${rng.pick(REQUEST_FIELDS)}${rng.pick([':', ': ', ' :', ':\t'])}${rng.pick(REQUEST_VALUES)}${eol()}`;
    if (rng.chance(0.05)) s += ` folded${eol()}`;
  }
  return utf8.encode(s + eol());
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

/** One demo HTTP server on a TCP pair for the whole file: echoes what it read of each body. */
let demoServer: { pair: TcpPair; server: HttpServer; errors: unknown[] } | undefined;
function demoHttp(): NonNullable<typeof demoServer> {
  if (demoServer) return demoServer;
  const pair = new TcpPair();
  const errors: unknown[] = [];
  const server = new HttpServer({
    listener: pair.server.listen({ port: 80, backlog: 64 }),
    wake: pair.wake,
    handler: async (req) => ({ status: 200, body: `${req.method} ${req.path} ${(await req.readBody(1 << 16)).length}` }),
    onError: (e) => errors.push(e),
    headTimeoutMs: 2000,
    idleTimeoutMs: 2000,
  });
  demoServer = { pair, server, errors };
  return demoServer;
}

/** Sends `input`, half-closes, and reads until the server closes; undefined past `ms`. */
async function exchangeWithin(pair: TcpPair, input: Uint8Array, ms: number): Promise<string | undefined> {
  const conn = pair.connect(80);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const run = (async (): Promise<string> => {
    const writer = conn.writable.getWriter();
    await writer.write(input);
    await writer.close();
    const reader = conn.readable.getReader();
    let out = '';
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return out;
      out += latin1(r.value);
    }
  })();
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
    conn.abort();
  }
}

describe('fuzz: TLS, WebSocket frames, the demo HTTP server', () => {
  after(() => {
    demoServer?.server.close();
    demoServer?.pair.close();
  });

  fuzzTest('TLS records: only TlsDecodeError, bodies within the limit, the same records however TCP splits them', 'tls-records', {
    corpus: TLS_CORPUS,
    generate: generateRecords,
    maxLength: 4096,
    check(input, rng) {
      const whole = readRecords(input, []);
      const split = readRecords(input, randomCuts(rng, input.length));
      property(whole.error === split.error, `an error does not depend on the split (${whole.error} vs ${split.error})`);
      property(whole.records.length === split.records.length && whole.records.every((r, i) => sameBytes(r, split.records[i])), 'the records do not depend on the split');
    },
  });

  fuzzTest('TLS client handshake: receive() never throws, a failure is a WgwebError, the outcome does not depend on the split', 'tls-client', {
    corpus: TLS_CORPUS,
    generate: generateRecords,
    maxLength: 4096,
    // Every input costs an X25519 and key derivations: a bounded number per run.
    maxInputs: 3000,
    check(input, rng) {
      const whole = runClient(input, []);
      property(['handshaking', 'verifying', 'failed'].includes(whole.state), `ends handshaking, verifying or failed, not ${whole.state}`);
      if (whole.state === 'failed') property(whole.code !== undefined, 'a failed handshake says why');
      const split = runClient(input, randomCuts(rng, input.length));
      property(whole.state === split.state && whole.code === split.code, `the outcome does not depend on the split (${whole.state}/${whole.code} vs ${split.state}/${split.code})`);
    },
    allowed: [WgwebError],
  });

  fuzzTest('WebSocket frames from a server: receive() never throws, messages within the limit, the same events however TCP splits them', 'websocket-frames', {
    corpus: WS_CORPUS,
    generate: generateFrames,
    maxLength: 4096,
    check(input, rng) {
      const whole = runWebSocket(input, []);
      const split = runWebSocket(input, randomCuts(rng, input.length));
      property(whole.state === 'closed' && split.state === 'closed', 'the connection is closed after the transport closed');
      property(whole.events.join('\n') === split.events.join('\n'), 'the events do not depend on the split');
      property(JSON.parse(whole.events[whole.events.length - 1]!).type === 'close', 'the last event is the final close');
    },
  });

  fuzzTest('permessage-deflate messages (RFC 7692): inflating never hangs or throws anything but a rejection, never returns more than the limit', 'permessage-deflate', {
    corpus: DEFLATE_CORPUS,
    maxLength: 2048,
    maxInputs: 3000,
    async check(input) {
      let out: Uint8Array | undefined;
      try {
        out = await inflateMessage(input, 4096);
      } catch (e) {
        property(e instanceof Error, 'a failure is an Error');
        return;
      }
      property(out.length <= 4096, `the output is within the limit (${out.length})`);
      // The answer's parameters, from the same bytes as text: a result or a failure sentence, never a throw.
      const params = parseDeflateResponse(new TextDecoder().decode(input));
      property('failure' in params ? params.failure.length > 0 : params.serverMaxWindowBits >= 8 && params.serverMaxWindowBits <= 15, 'parameters are refused with a reason or within range');
    },
  });

  fuzzTest('demo HTTP request heads: never throw; a parsed head is within the limits and never framed two ways', 'demo-http-request', {
    corpus: HTTP_CORPUS,
    generate: generateRequest,
    maxLength: 20_000,
    check(input) {
      const end = findHeadEnd(input);
      property(end === -1 || (end > 0 && end <= input.length), 'the head end lies inside the input');
      const head = parseRequestHead(end > 0 ? input.subarray(0, end) : input);
      if (isRequestHeadError(head)) {
        property([400, 405, 414, 417, 431, 501, 505].includes(head.status) && head.message.length > 0, `a refusal has a status and a reason (${head.status})`);
        return;
      }
      property(head.target.length <= DEFAULT_REQUEST_HEAD_LIMITS.maxTargetLength && head.headers.length <= DEFAULT_REQUEST_HEAD_LIMITS.maxHeaderCount, 'within the limits');
      property(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(head.method), `the method is a token (${head.method})`);
      const has = (name: string): boolean => head.headers.some(([n]) => n === name);
      // RFC 9112 §6.1: Content-Length with Transfer-Encoding is refused (request smuggling).
      property(!(has('content-length') && has('transfer-encoding')), 'never both Content-Length and Transfer-Encoding');
      if (head.body.kind === 'length') property(Number.isSafeInteger(head.body.length) && head.body.length >= 0, 'a body length is a safe non-negative integer');
      for (const [n, v] of head.headers) property(!/[\r\n\0]/.test(n + v) && n === n.toLowerCase(), 'field names are lower case; no CR, LF or NUL in fields');
    },
  });

  fuzzTest('demo HTTP server: every request ends in HTTP/1.1 answers and a close, never a handler error, never a 2xx for a request framed two ways', 'demo-http-server', {
    corpus: HTTP_CORPUS,
    generate: generateRequest,
    maxLength: 20_000,
    // Every input is a TCP connection through two netstacks: a bounded number per run.
    maxInputs: 400,
    async check(input) {
      const demo = demoHttp();
      const out = await exchangeWithin(demo.pair, input, 5000);
      property(out !== undefined, 'the server answers and closes within 5 s of the client half-closing');
      property(demo.errors.length === 0, `no handler error (${String(demo.errors[0])})`);
      const statuses = [...out!.matchAll(/(?:^|\n)(HTTP\/[^\r\n]*)\r\n/g)].map((m) => m[1]);
      property(out === '' || out.startsWith('HTTP/1.1 '), `an answer starts with a status line (${JSON.stringify(out!.slice(0, 40))})`);
      for (const line of statuses) property(/^HTTP\/1\.1 [1-5]\d\d [ -~]*$/.test(line), `a well-formed status line (${JSON.stringify(line)})`);
      // RFC 9112 §6.1, §11.2: a request framed by both Content-Length and Transfer-Encoding is refused.
      const head = latin1(input).split(/\r\n\r\n|\n\n/)[0].split(/\r?\n/);
      const field = (name: string): boolean => head.slice(1).some((l) => l.toLowerCase().startsWith(`${name}:`));
      if (field('content-length') && field('transfer-encoding')) property(!/^HTTP\/1\.1 2/.test(statuses[0] ?? ''), `no 2xx for CL + TE (${statuses[0]})`);
    },
  });
});
