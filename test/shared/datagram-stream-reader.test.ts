/**
 * DatagramStreamReader: the `wgweb.v3.stream` body (records back to back) read from chunks that cut
 * it anywhere, emitted as batch messages within the transport's limits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatagramBatchWriter, parseDatagramBatch } from '../../src/shared/datagram-batch.ts';
import { DatagramStreamReader } from '../../src/shared/datagram-stream-reader.ts';
import { V3_DOWNSTREAM_BATCH_LIMITS, type BatchLimits } from '../../src/shared/relay-protocol.ts';

function body(sizes: number[]): { bytes: Uint8Array; datagrams: Uint8Array[] } {
  const datagrams = sizes.map((n, i) => new Uint8Array(n).fill((i % 250) + 1));
  const parts: Uint8Array[] = [];
  for (const d of datagrams) {
    const w = new DatagramBatchWriter(V3_DOWNSTREAM_BATCH_LIMITS);
    w.add(d);
    parts.push(w.take()!);
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), datagrams };
}

/** Feeds `bytes` in chunks of `cut` bytes; returns the datagrams of every emitted span, and the spans. */
function feed(bytes: Uint8Array, cut: number, limits: BatchLimits = V3_DOWNSTREAM_BATCH_LIMITS): { datagrams: Uint8Array[]; spans: Uint8Array[]; ok: boolean; reader: DatagramStreamReader } {
  const reader = new DatagramStreamReader(limits);
  const spans: Uint8Array[] = [];
  let ok = true;
  for (let at = 0; at < bytes.length && ok; at += cut) ok = reader.push(bytes.slice(at, at + cut), (s) => spans.push(s));
  const datagrams = spans.flatMap((s) => {
    const p = parseDatagramBatch(s, limits);
    assert.ok(p.ok, 'every span is a well-formed batch within the limits');
    return p.datagrams;
  });
  return { datagrams, spans, ok, reader };
}

describe('DatagramStreamReader', () => {
  test('records cut at every possible place come out whole and in order', () => {
    const { bytes, datagrams } = body([32, 1452, 1, 148, 92, 300, 65535, 64]);
    for (const cut of [1, 2, 3, 7, 100, 1453, 1454, 4096, 70_000, bytes.length]) {
      const r = feed(bytes, cut);
      assert.ok(r.ok);
      assert.deepEqual(r.datagrams, datagrams, `chunks of ${cut}`);
      assert.equal(r.reader.pendingBytes, 0);
      assert.equal(r.reader.bytes, bytes.length);
    }
  });

  test('a chunk of many records becomes views into it, split at the record and byte limits', () => {
    const { bytes, datagrams } = body(Array.from({ length: 10 }, () => 100));
    const r = feed(bytes, bytes.length, { maxMessage: 65537, maxDatagrams: 4 });
    assert.deepEqual(r.spans.map((s) => s.length), [4 * 102, 4 * 102, 2 * 102]);
    assert.equal(r.spans[0].buffer, r.spans[1].buffer, 'views into the one chunk, not copies');
    assert.deepEqual(r.datagrams, datagrams);
    const big = body([40_000, 40_000, 40_000]);
    const rb = feed(big.bytes, big.bytes.length, { maxMessage: 65537 + 10_000, maxDatagrams: 256 });
    assert.deepEqual(rb.spans.map((s) => s.length), [40_002, 40_002, 40_002], 'two records would exceed the byte limit');
  });

  test('a record cut across chunks is emitted from a buffer of its own (the receiver may decrypt in place)', () => {
    const { bytes } = body([100, 100]);
    const r = feed(bytes, 150);
    assert.equal(r.spans.length, 2);
    assert.notEqual(r.spans[1].buffer, r.spans[0].buffer);
    assert.equal(r.spans[1].length, 102);
  });

  test('a zero length ends the stream: the records before it are kept, nothing after, every later push is false', () => {
    const { bytes } = body([50, 60]);
    const broken = new Uint8Array([...bytes, 0, 0, ...body([70]).bytes]);
    const r = feed(broken, broken.length);
    assert.equal(r.ok, false);
    assert.equal(r.reader.failed, true);
    assert.deepEqual(r.datagrams.map((d) => d.length), [50, 60]);
    assert.equal(r.reader.push(body([10]).bytes, () => assert.fail('nothing after the break')), false);
    // A zero length split across two chunks breaks it the same way.
    const s = new DatagramStreamReader(V3_DOWNSTREAM_BATCH_LIMITS);
    assert.equal(s.push(Uint8Array.of(0), () => {}), true);
    assert.equal(s.push(Uint8Array.of(0, 1, 2), () => {}), false);
  });

  test('limits that cannot hold the largest record are a RangeError', () => {
    assert.throws(() => new DatagramStreamReader({ maxMessage: 65535, maxDatagrams: 64 }), RangeError);
    assert.throws(() => new DatagramStreamReader({ maxMessage: 1 << 20, maxDatagrams: 0 }), RangeError);
  });
});
