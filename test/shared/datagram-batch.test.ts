import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { DatagramBatchWriter, parseDatagramBatch } from '../../src/shared/datagram-batch.ts';
import { RELAY_V2_MAX_DATAGRAMS, RELAY_V2_MAX_MESSAGE, V3_DOWNSTREAM_BATCH_LIMITS } from '../../src/shared/relay-protocol.ts';

/** `(n)xx` repeats byte xx n times, so fixtures stay readable. */
function hex(spec: string): Uint8Array {
  return fromHex(spec.replace(/\s/g, '').replace(/\((\d+)\)([0-9a-fA-F]{2})/g, (_, n: string, b: string) => b.repeat(Number(n))));
}

describe('parseDatagramBatch splits [u16 length][datagram] records, or names the problem', () => {
  // [row, hex, datagrams (hex) or error pattern, why]
  const rows: [number, string, string[] | RegExp, string][] = [
    [1, '0001 aa', ['aa'], 'one 1-byte record'],
    [2, '0002 aabb 0003 ccddee', ['aabb', 'ccddee'], 'two records'],
    [3, '', /empty/, 'no record at all'],
    [4, '00', /truncated length at byte 0/, 'half a length'],
    [5, '0001 aa 00', /truncated length at byte 3/, 'a record, then half a length'],
    [6, '0000', /zero-length datagram at byte 0/, 'a zero length'],
    [7, '0003 aabb', /3 bytes at byte 0 runs past the end \(2 left\)/, 'a record cut short'],
    [8, '0001aa'.repeat(RELAY_V2_MAX_DATAGRAMS), Array(RELAY_V2_MAX_DATAGRAMS).fill('aa'), 'the most records a message may hold'],
    [9, '0001aa'.repeat(RELAY_V2_MAX_DATAGRAMS + 1), /more than 64 datagrams/, 'one record too many'],
    [10, `fffd (${RELAY_V2_MAX_MESSAGE - 2})11`, [`(${RELAY_V2_MAX_MESSAGE - 2})11`], 'the largest datagram: the message is exactly 65535 bytes'],
    [11, `fffe (${RELAY_V2_MAX_MESSAGE - 1})11`, /message of 65536 bytes/, 'one byte over the message limit'],
  ];
  for (const [row, input, expected, why] of rows) {
    test(`${row}. ${why}`, () => {
      const r = parseDatagramBatch(hex(input));
      if (expected instanceof RegExp) {
        assert.equal(r.ok, false);
        assert.match((r as { reason: string }).reason, expected);
      } else {
        assert.ok(r.ok);
        assert.deepEqual(r.datagrams.map(toHex), expected.map((e) => toHex(hex(e))));
      }
    });
  }

  test('12. datagrams are views into the message, not copies', () => {
    const msg = hex('0002 aabb');
    const r = parseDatagramBatch(msg);
    assert.ok(r.ok);
    assert.equal(r.datagrams[0].buffer, msg.buffer);
    assert.equal(r.datagrams[0].byteOffset, msg.byteOffset + 2);
  });
});

describe('DatagramBatchWriter', () => {
  test('writes what parseDatagramBatch reads, copying each datagram in', () => {
    const w = new DatagramBatchWriter();
    const reused = hex('04000000 (28)44');
    w.add(reused);
    reused.fill(0); // the caller reuses its buffer at once
    w.add(hex('0100'));
    assert.equal(w.count, 2);
    assert.equal(w.byteLength, 2 + 32 + 2 + 2);
    const msg = w.take();
    assert.equal(toHex(msg!), toHex(hex('0020 04000000 (28)44 0002 0100')));
    assert.equal(w.take(), undefined, 'empty after take');
    assert.equal(w.count, 0);
  });

  test('fits() says when the next datagram needs a new message (bytes or record count)', () => {
    const w = new DatagramBatchWriter();
    for (let i = 0; i < 45; i++) w.add(new Uint8Array(1452).fill(4));
    assert.equal(w.byteLength, 45 * 1454);
    assert.equal(w.fits(1452), false, '46 × 1454 > 65535');
    assert.equal(w.fits(RELAY_V2_MAX_MESSAGE - w.byteLength - 2), true);
    const r = parseDatagramBatch(w.take()!);
    assert.ok(r.ok && r.datagrams.length === 45);
    for (let i = 0; i < RELAY_V2_MAX_DATAGRAMS; i++) w.add(new Uint8Array([1]));
    assert.equal(w.fits(1), false, 'record limit');
    assert.throws(() => w.add(new Uint8Array([1])), RangeError);
  });

  test('reuseBuffer: every message is built in the same buffer, so take() returns a view the next add() overwrites', () => {
    const w = new DatagramBatchWriter(undefined, { reuseBuffer: true });
    w.add(new Uint8Array(1452).fill(1));
    const first = w.take()!;
    assert.equal(toHex(first.subarray(0, 3)), '05ac01');
    w.add(new Uint8Array(1452).fill(2));
    const second = w.take()!;
    assert.equal(second.buffer, first.buffer, 'one ArrayBuffer for both messages');
    assert.equal(first[2], 2, 'the first view now shows the second message: send it before the next add');
    const r = parseDatagramBatch(second);
    assert.ok(r.ok && r.datagrams.length === 1 && r.datagrams[0].every((b) => b === 2));
  });

  test('without reuseBuffer each message keeps a buffer of its own', () => {
    const w = new DatagramBatchWriter();
    w.add(new Uint8Array(1452).fill(1));
    const first = w.take()!;
    w.add(new Uint8Array(1452).fill(2));
    const second = w.take()!;
    assert.notEqual(second.buffer, first.buffer);
    assert.ok(first.subarray(2).every((b) => b === 1), 'the first message is untouched');
  });

  test('bad input is a RangeError', () => {
    const w = new DatagramBatchWriter();
    assert.throws(() => w.add(new Uint8Array(0)), /cannot be empty/);
    assert.throws(() => w.add(new Uint8Array(RELAY_V2_MAX_MESSAGE - 1)), /does not fit/);
  });

  test('bad limits are a RangeError', () => {
    assert.throws(() => new DatagramBatchWriter({ maxMessage: 2, maxDatagrams: 1 }), RangeError);
    assert.throws(() => new DatagramBatchWriter({ maxMessage: 100, maxDatagrams: 0 }), RangeError);
  });
});

describe('wgweb.v3 relay → client limits (256 KiB, 256 records) in both the writer and the parser', () => {
  test('a writer with the v3 limits fills a message past 64 KiB that only the v3 parser accepts', () => {
    const w = new DatagramBatchWriter(V3_DOWNSTREAM_BATCH_LIMITS);
    let n = 0;
    while (w.fits(1452)) {
      w.add(new Uint8Array(1452).fill(n & 0xff));
      n++;
    }
    assert.equal(n, 180, '180 × 1454 ≤ 262144 < 181 × 1454');
    const msg = w.take()!;
    assert.equal(msg.length, 180 * 1454);
    const v3 = parseDatagramBatch(msg, V3_DOWNSTREAM_BATCH_LIMITS);
    assert.ok(v3.ok && v3.datagrams.length === 180 && v3.datagrams[179][0] === 179);
    assert.match((parseDatagramBatch(msg) as { reason: string }).reason, /message of 261720 bytes \(at most 65535\)/);
  });

  test('256 records pass, 257 do not; 262144 bytes pass, 262145 do not', () => {
    const v3 = V3_DOWNSTREAM_BATCH_LIMITS;
    assert.ok(parseDatagramBatch(hex('0001aa'.repeat(256)), v3).ok);
    assert.match((parseDatagramBatch(hex('0001aa'.repeat(257)), v3) as { reason: string }).reason, /more than 256 datagrams/);
    const records = (total: number): Uint8Array => {
      const out = new Uint8Array(total);
      for (let at = 0; at < total; ) {
        const len = Math.min(65535, total - at - 2);
        out[at] = len >> 8;
        out[at + 1] = len & 0xff;
        at += 2 + len;
      }
      return out;
    };
    assert.ok(parseDatagramBatch(records(262144), v3).ok);
    assert.match((parseDatagramBatch(records(262145), v3) as { reason: string }).reason, /message of 262145 bytes/);
    const w = new DatagramBatchWriter(v3);
    assert.equal(w.maxDatagram, 65535, 'a record still carries at most a u16 length');
    assert.throws(() => w.add(new Uint8Array(65536)), /does not fit/);
  });
});
