import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, applyMask, emitFrame, isFrameError, parseFrameHeader, type FrameHeader } from '../../../src/protocols/websocket/websocket-frame.ts';
import { fromHex } from '../../../src/shared/bytes.ts';

const HELLO = new TextEncoder().encode('Hello');
const KEY = fromHex('37fa213d');

function header(hex: string, max = 1 << 30): FrameHeader {
  const r = parseFrameHeader(fromHex(hex), max);
  assert.ok(r && !isFrameError(r), `expected a header, got ${JSON.stringify(r)}`);
  return r;
}

describe('RFC 6455 §5.7 example frames', () => {
  test('a single-frame unmasked text message "Hello" is 81 05 48656c6c6f', () => {
    assert.deepEqual(emitFrame({ fin: true, opcode: Opcode.TEXT, payload: HELLO }), fromHex('810548656c6c6f'));
    const h = header('810548656c6c6f');
    assert.deepEqual([h.fin, h.opcode, h.payloadLength, h.headerLength, h.maskKey], [true, 1, 5, 2, undefined]);
  });

  test('a single-frame masked text message "Hello" with key 37fa213d is 81 85 37fa213d 7f9f4d5158', () => {
    const bytes = emitFrame({ fin: true, opcode: Opcode.TEXT, payload: HELLO, maskKey: KEY });
    assert.deepEqual(bytes, fromHex('818537fa213d7f9f4d5158'));
    const h = header('818537fa213d7f9f4d5158');
    assert.deepEqual(h.maskKey, KEY);
    const payload = bytes.slice(h.headerLength);
    applyMask(payload, h.maskKey!);
    assert.deepEqual(payload, HELLO);
  });

  test('a fragmented unmasked text message is 01 03 "Hel" then 80 02 "lo"', () => {
    assert.deepEqual(emitFrame({ fin: false, opcode: Opcode.TEXT, payload: HELLO.subarray(0, 3) }), fromHex('010348656c'));
    assert.deepEqual(emitFrame({ fin: true, opcode: Opcode.CONTINUATION, payload: HELLO.subarray(3) }), fromHex('80026c6f'));
    assert.equal(header('010348656c').fin, false);
  });

  test('an unmasked ping and a masked pong carrying "Hello"', () => {
    assert.deepEqual(emitFrame({ fin: true, opcode: Opcode.PING, payload: HELLO }), fromHex('890548656c6c6f'));
    assert.deepEqual(emitFrame({ fin: true, opcode: Opcode.PONG, payload: HELLO, maskKey: KEY }), fromHex('8a8537fa213d7f9f4d5158'));
  });

  test('256 bytes of binary use the 16-bit length (82 7e 0100), 64 KiB the 64-bit one (82 7f 0000000000010000)', () => {
    const b256 = emitFrame({ fin: true, opcode: Opcode.BINARY, payload: new Uint8Array(256) });
    assert.deepEqual(b256.subarray(0, 4), fromHex('827e0100'));
    assert.equal(b256.length, 260);
    const b64k = emitFrame({ fin: true, opcode: Opcode.BINARY, payload: new Uint8Array(65536) });
    assert.deepEqual(b64k.subarray(0, 10), fromHex('827f0000000000010000'));
    assert.equal(header('827f0000000000010000').payloadLength, 65536);
    assert.equal(header('827e0100').payloadLength, 256);
  });
});

describe('parseFrameHeader', () => {
  test('asks for more bytes until the whole header is there', () => {
    for (const hex of ['81', '827e01', '827f00000000000100', '818537fa21']) assert.equal(parseFrameHeader(fromHex(hex), 1 << 30), undefined, hex);
  });

  test('rejects what §5.2 forbids with 1002, and a frame above the limit with 1009', () => {
    const cases: [string, number, RegExp][] = [
      ['8300', 1002, /reserved opcode/],
      ['8b00', 1002, /reserved opcode/],
      ['c100', 1002, /reserved bits/],
      ['0900', 1002, /fragmented control/],
      ['897e007e', 1002, /control frame of more than 125/],
      ['827e0005', 1002, /minimal/],
      ['827f000000000000ffff', 1002, /minimal/],
      ['827f8000000000000000', 1002, /top bit/],
      ['827e0100', 1009, /above the limit of 100/],
    ];
    for (const [hex, code, message] of cases) {
      const r = parseFrameHeader(fromHex(hex), 100);
      assert.ok(isFrameError(r), hex);
      assert.equal(r.closeCode, code, hex);
      assert.match(r.error, message, hex);
    }
  });

  test('accepts the RSV bits an extension defines', () => {
    assert.ok(isFrameError(parseFrameHeader(fromHex('c100'), 100, 0)));
    assert.equal((parseFrameHeader(fromHex('c100'), 100, 4) as FrameHeader).rsv, 4);
  });
});

describe('applyMask', () => {
  test('masks in pieces, at any offset and alignment, the same as all at once', () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const whole = data.slice();
    applyMask(whole, KEY);
    for (const split of [1, 3, 5, 17, 998]) {
      const buf = new Uint8Array(1003);
      const view = buf.subarray(3);
      view.set(data);
      applyMask(view.subarray(0, split), KEY, 0);
      applyMask(view.subarray(split), KEY, split);
      assert.deepEqual(view, whole, `split ${split}`);
    }
    applyMask(whole, KEY);
    assert.deepEqual(whole, data, 'masking twice restores the data');
  });

  test('a caller passing a key of the wrong size gets a RangeError', () => {
    assert.throws(() => applyMask(new Uint8Array(4), new Uint8Array(3)), RangeError);
  });
});
