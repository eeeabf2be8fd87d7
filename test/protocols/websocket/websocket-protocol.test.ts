import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, applyMask, emitFrame, isFrameError, parseFrameHeader } from '../../../src/protocols/websocket/websocket-frame.ts';
import { WebSocketProtocol, type WebSocketEvent, type WebSocketProtocolOptions } from '../../../src/protocols/websocket/websocket-protocol.ts';
import { fromHex } from '../../../src/shared/bytes.ts';

const enc = new TextEncoder();

/** A random source that counts, so every mask key differs and the test can see which was used. */
function countingRandom(): (n: number) => Uint8Array {
  let c = 0;
  return (n) => new Uint8Array(n).map(() => (c = (c + 1) & 0xff) || 1);
}

function client(options: Partial<WebSocketProtocolOptions> = {}): WebSocketProtocol {
  return new WebSocketProtocol({ random: countingRandom(), ...options });
}

/** A frame as a server sends it (unmasked). */
function server(opcode: number, payload: Uint8Array | string = new Uint8Array(0), fin = true): Uint8Array {
  return emitFrame({ fin, opcode, payload: typeof payload === 'string' ? enc.encode(payload) : payload });
}

function closePayload(code: number, reason = ''): Uint8Array {
  const r = enc.encode(reason);
  const p = new Uint8Array(2 + r.length);
  p[0] = code >> 8;
  p[1] = code & 0xff;
  p.set(r, 2);
  return p;
}

interface SentFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
  maskKey: Uint8Array;
}

/** Everything the client has to send, parsed and unmasked (and checked to be masked, §5.1). */
function sent(ws: WebSocketProtocol): SentFrame[] {
  const out: SentFrame[] = [];
  for (let t = ws.pollTransmit(); t; t = ws.pollTransmit()) {
    const h = parseFrameHeader(t.bytes, 1 << 30);
    assert.ok(h && !isFrameError(h));
    assert.ok(h.maskKey, 'every client frame is masked');
    assert.equal(t.bytes.length, h.headerLength + h.payloadLength, 'one frame per transmit');
    const payload = t.bytes.slice(h.headerLength);
    applyMask(payload, h.maskKey);
    out.push({ fin: h.fin, opcode: h.opcode, payload, maskKey: h.maskKey });
  }
  return out;
}

function events(ws: WebSocketProtocol): WebSocketEvent[] {
  const out: WebSocketEvent[] = [];
  for (let e = ws.pollEvent(); e; e = ws.pollEvent()) out.push(e);
  return out;
}

describe('receiving', () => {
  test('the §5.7 frames become messages, fed whole or one byte at a time', () => {
    const stream = fromHex('810548656c6c6f' + '010348656c' + '80026c6f' + '827e0100' + '00'.repeat(256));
    for (const step of [stream.length, 1, 3]) {
      const ws = client();
      for (let i = 0; i < stream.length; i += step) ws.receive(stream.subarray(i, i + step), 0);
      const ev = events(ws);
      assert.deepEqual(ev.slice(0, 2), [{ type: 'message', data: 'Hello' }, { type: 'message', data: 'Hello' }], `step ${step}`);
      assert.deepEqual(ev[2], { type: 'message', data: new Uint8Array(256) });
      assert.equal(ws.stats.messagesIn, 3);
    }
  });

  test('a ping is answered with a masked pong carrying the same data, even between fragments', () => {
    const ws = client();
    ws.receive(server(Opcode.TEXT, 'Hel', false), 0);
    ws.receive(server(Opcode.PING, 'Hello'), 0);
    ws.receive(server(Opcode.CONTINUATION, 'lo'), 0);
    assert.deepEqual(events(ws), [
      { type: 'ping', data: enc.encode('Hello') },
      { type: 'message', data: 'Hello' },
    ]);
    const out = sent(ws);
    assert.equal(out.length, 1);
    assert.equal(out[0].opcode, Opcode.PONG);
    assert.deepEqual(out[0].payload, enc.encode('Hello'));
    assert.equal(ws.stats.pingsAnswered, 1);
  });

  test('an empty text message and an empty binary message are messages too', () => {
    const ws = client();
    ws.receive(server(Opcode.TEXT, ''), 0);
    ws.receive(server(Opcode.BINARY), 0);
    assert.deepEqual(events(ws), [{ type: 'message', data: '' }, { type: 'message', data: new Uint8Array(0) }]);
  });

  test('a multi-byte character split across fragments is reassembled before the UTF-8 check', () => {
    const bytes = enc.encode('héllo €');
    const ws = client();
    ws.receive(server(Opcode.TEXT, bytes.subarray(0, 2), false), 0);
    ws.receive(server(Opcode.CONTINUATION, bytes.subarray(2, 9), false), 0);
    ws.receive(server(Opcode.CONTINUATION, bytes.subarray(9)), 0);
    assert.deepEqual(events(ws), [{ type: 'message', data: 'héllo €' }]);
  });
});

describe('sending', () => {
  test('a message above the fragment size goes out in fragments, each with a fresh mask key', () => {
    const ws = client({ fragmentSize: 1000 });
    const data = new Uint8Array(2500).map((_, i) => i & 0xff);
    assert.equal(ws.sendBinary(data), true);
    assert.equal(ws.bufferedAmount, 2500);
    const out = sent(ws);
    assert.deepEqual(out.map((f) => [f.opcode, f.fin, f.payload.length]), [
      [Opcode.BINARY, false, 1000],
      [Opcode.CONTINUATION, false, 1000],
      [Opcode.CONTINUATION, true, 500],
    ]);
    const keys = new Set(out.map((f) => f.maskKey.join(',')));
    assert.equal(keys.size, 3, 'no mask key is used twice');
    const joined = new Uint8Array(2500);
    let o = 0;
    for (const f of out) {
      joined.set(f.payload, o);
      o += f.payload.length;
    }
    assert.deepEqual(joined, data);
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.stats.messagesOut, 1);
  });

  test('bufferedAmount counts application bytes only and falls as fragments are taken', () => {
    const ws = client({ fragmentSize: 4 });
    ws.sendText('€uro'); // 6 bytes of UTF-8
    ws.ping();
    assert.equal(ws.bufferedAmount, 6);
    assert.equal(ws.pollTransmit()!.appBytes, 0, 'the ping goes first and carries no application data');
    assert.equal(ws.pollTransmit()!.appBytes, 4);
    assert.equal(ws.bufferedAmount, 2);
  });

  test('a pong answered mid-message goes out between two fragments (§5.4)', () => {
    const ws = client({ fragmentSize: 10 });
    ws.sendBinary(new Uint8Array(30));
    ws.pollTransmit();
    ws.receive(server(Opcode.PING, 'p'), 0);
    assert.deepEqual(sent(ws).map((f) => f.opcode), [Opcode.PONG, Opcode.CONTINUATION, Opcode.CONTINUATION]);
  });

  test('an empty message is one empty frame', () => {
    const ws = client();
    ws.sendText('');
    assert.deepEqual(sent(ws).map((f) => [f.opcode, f.fin, f.payload.length]), [[Opcode.TEXT, true, 0]]);
  });
});

describe('the close handshake (§7)', () => {
  test('closing sends code and reason, and ends clean once the server answers and closes TCP', () => {
    const ws = client();
    ws.close(0, 1000, 'bye');
    assert.equal(ws.state, 'closing');
    assert.equal(ws.sendText('late'), false, 'nothing is sent after close()');
    const out = sent(ws);
    assert.deepEqual(out.map((f) => [f.opcode, f.payload]), [[Opcode.CLOSE, closePayload(1000, 'bye')]]);
    ws.receive(server(Opcode.CLOSE, closePayload(1000, 'bye')), 1);
    assert.deepEqual(events(ws), [{ type: 'closing', code: 1000, reason: 'bye' }]);
    assert.equal(sent(ws).length, 0, 'the answer to our close is not answered again');
    ws.transportClosed(2);
    assert.deepEqual(events(ws), [{ type: 'close', code: 1000, reason: 'bye', wasClean: true }]);
    assert.equal(ws.state, 'closed');
  });

  test('a close from the server is echoed with its code and reported with its reason', () => {
    const ws = client();
    ws.receive(server(Opcode.CLOSE, closePayload(4001, 'going')), 0);
    assert.deepEqual(sent(ws).map((f) => [f.opcode, f.payload]), [[Opcode.CLOSE, closePayload(4001)]]);
    ws.transportClosed(1);
    assert.deepEqual(events(ws).at(-1), { type: 'close', code: 4001, reason: 'going', wasClean: true });
  });

  test('an empty close frame means 1005 (no status) and is answered with an empty one', () => {
    const ws = client();
    ws.receive(server(Opcode.CLOSE), 0);
    assert.deepEqual(sent(ws).map((f) => f.payload.length), [0]);
    ws.transportClosed(1);
    assert.deepEqual(events(ws).at(-1), { type: 'close', code: 1005, reason: '', wasClean: true });
  });

  test('a server that never answers our close is dropped after closeTimeoutMs', () => {
    const ws = client({ closeTimeoutMs: 500 });
    ws.close(1000, 1000);
    assert.equal(ws.pollAt(), 1500);
    ws.handleTimeout(1499);
    assert.equal(ws.shouldCloseTransport, false);
    ws.handleTimeout(1500);
    assert.equal(ws.shouldCloseTransport, true);
    ws.transportClosed(1500);
    assert.deepEqual(events(ws).at(-1), { type: 'close', code: 1006, reason: '', wasClean: false });
  });

  test('TCP ending without a close handshake is abnormal closure 1006', () => {
    const ws = client();
    ws.sendText('queued');
    ws.transportClosed(0);
    assert.deepEqual(events(ws), [{ type: 'close', code: 1006, reason: '', wasClean: false }]);
    assert.equal(ws.bufferedAmount, 0);
  });

  test('close() checks its arguments as RFC 6455 §7.4 and the 123-byte reason limit require', () => {
    const ws = client();
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000]) assert.throws(() => ws.close(0, code), RangeError, String(code));
    assert.throws(() => ws.close(0, 1000, 'x'.repeat(124)), RangeError);
    assert.throws(() => ws.close(0, undefined, 'why'), TypeError);
    assert.equal(ws.state, 'open');
    ws.close(0, 3000, 'é'.repeat(61));
    assert.equal(ws.state, 'closing');
  });
});

describe('bad input from the server fails the connection with the right code (§7.4.1), counted', () => {
  const cases: [string, Uint8Array, number, string][] = [
    ['a masked frame', emitFrame({ fin: true, opcode: Opcode.TEXT, payload: enc.encode('x'), maskKey: fromHex('01020304') }), 1002, 'masked-frame'],
    ['a reserved opcode', fromHex('8300'), 1002, 'bad-frame'],
    ['a continuation with no message', server(Opcode.CONTINUATION, 'x'), 1002, 'bad-fragment'],
    ['a new message inside a fragmented one', new Uint8Array([...server(Opcode.TEXT, 'a', false), ...server(Opcode.TEXT, 'b')]), 1002, 'bad-fragment'],
    ['text that is not UTF-8', server(Opcode.TEXT, fromHex('cebae1bdb9cf83cebcceb5eda080656469746564')), 1007, 'bad-utf8'],
    ['a message above maxMessageSize', server(Opcode.BINARY, new Uint8Array(101)), 1009, 'bad-frame'],
    ['fragments adding up above maxMessageSize', new Uint8Array([...server(Opcode.BINARY, new Uint8Array(60), false), ...server(Opcode.CONTINUATION, new Uint8Array(60))]), 1009, 'too-big'],
    ['a close frame with one byte', server(Opcode.CLOSE, new Uint8Array([3])), 1002, 'bad-close'],
    ['a close code that may not be sent (1005)', server(Opcode.CLOSE, closePayload(1005)), 1002, 'bad-close'],
    ['a close reason that is not UTF-8', server(Opcode.CLOSE, new Uint8Array([3, 232, 0xff])), 1007, 'bad-utf8'],
  ];
  for (const [what, bytes, code, counter] of cases) {
    test(what, () => {
      const ws = client({ maxMessageSize: 100 });
      ws.receive(bytes, 0);
      ws.receive(server(Opcode.TEXT, 'after'), 0);
      const ev = events(ws);
      assert.equal(ev.length, 1, JSON.stringify(ev));
      assert.equal(ev[0].type, 'error');
      assert.equal((ev[0] as { closeCode: number }).closeCode, code);
      const out = sent(ws);
      assert.deepEqual(out.map((f) => [f.opcode, (f.payload[0] << 8) | f.payload[1]]), [[Opcode.CLOSE, code]]);
      assert.equal(ws.shouldCloseTransport, true);
      assert.equal(ws.stats.failures[counter], 1);
      ws.transportClosed(1);
      assert.deepEqual(events(ws), [{ type: 'close', code: 1006, reason: '', wasClean: false }]);
    });
  }
});
