import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FragmentReassembler, type ReassemblyDrop } from '../../../src/netstack/wire/fragment-reassembler.ts';

const DATA = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);

/** The piece [from, to) of DATA. */
const piece = (from: number, to: number) => DATA.slice(from, to);

function make(options: ConstructorParameters<typeof FragmentReassembler>[0] = {}) {
  const drops: ReassemblyDrop[] = [];
  const r = new FragmentReassembler<string>({ ...options, onDrop: (d) => drops.push(d) });
  return { r, drops };
}

describe('FragmentReassembler: putting datagrams back together', () => {
  test('1. fragments in order give the datagram back on the last one', () => {
    const { r, drops } = make();
    assert.equal(r.add('k', 0, true, piece(0, 1400), 'first', 0), undefined);
    assert.equal(r.add('k', 1400, true, piece(1400, 2800), undefined, 0), undefined);
    const done = r.add('k', 2800, false, piece(2800, 3000), undefined, 0);
    assert.deepEqual(done, { data: DATA, first: 'first' });
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
    assert.deepEqual(drops, []);
  });

  test('2. fragments out of order (last first, first last) give the same datagram', () => {
    const { r } = make();
    assert.equal(r.add('k', 2800, false, piece(2800, 3000), undefined, 0), undefined);
    assert.equal(r.add('k', 1400, true, piece(1400, 2800), undefined, 0), undefined);
    assert.deepEqual(r.add('k', 0, true, piece(0, 1400), 'first', 0), { data: DATA, first: 'first' });
  });

  test('3. different keys reassemble independently', () => {
    const { r } = make();
    r.add('a', 0, true, piece(0, 8), 'A', 0);
    r.add('b', 0, true, piece(0, 8), 'B', 0);
    assert.equal(r.add('a', 8, false, piece(8, 16), undefined, 0)?.first, 'A');
    assert.equal(r.add('b', 8, false, piece(8, 16), undefined, 0)?.first, 'B');
  });

  test('4. the caller may reuse its buffer: fragments are copied', () => {
    const { r } = make();
    const buf = piece(0, 8);
    r.add('k', 0, true, buf, 'f', 0);
    buf.fill(0xee);
    assert.deepEqual(r.add('k', 8, false, piece(8, 16), undefined, 0)?.data, DATA.slice(0, 16));
  });
});

describe('FragmentReassembler: overlaps discard the whole datagram (RFC 5722)', () => {
  test('5. a partial overlap discards the datagram, and its later fragments too', () => {
    const { r, drops } = make();
    r.add('k', 0, true, piece(0, 1400), 'f', 0);
    assert.equal(r.add('k', 1392, true, piece(1392, 2800), undefined, 0), undefined);
    assert.equal(r.add('k', 2800, false, piece(2800, 3000), undefined, 0), undefined);
    assert.deepEqual(drops, ['fragment-overlap', 'fragment-of-discarded']);
    assert.equal(r.bufferedBytes, 0);
  });

  test('6. a fragment inside another one is an overlap', () => {
    const { r, drops } = make();
    r.add('k', 0, true, piece(0, 1400), 'f', 0);
    r.add('k', 8, true, piece(8, 16), undefined, 0);
    assert.deepEqual(drops, ['fragment-overlap']);
  });

  test('7. an exact duplicate is dropped alone; the datagram still completes (RFC 8200 §4.5)', () => {
    const { r, drops } = make();
    r.add('k', 0, true, piece(0, 1400), 'f', 0);
    r.add('k', 0, true, piece(0, 1400), 'f', 0);
    assert.deepEqual(r.add('k', 1400, false, piece(1400, 3000), undefined, 0)?.data, DATA);
    assert.deepEqual(drops, ['fragment-duplicate']);
  });

  test('8. a second, different end is inconsistent', () => {
    const { r, drops } = make();
    r.add('k', 1400, false, piece(1400, 3000), undefined, 0);
    r.add('k', 2800, false, piece(2800, 2808), undefined, 0);
    assert.deepEqual(drops, ['fragment-inconsistent']);
  });

  test('9. data beyond a known end is inconsistent', () => {
    const { r, drops } = make();
    r.add('k', 0, false, piece(0, 16), 'f', 0);
    assert.equal(r.size, 0, 'a single unfragmented piece completes at once');
    r.add('j', 8, false, piece(8, 16), undefined, 0);
    r.add('j', 16, true, piece(16, 24), undefined, 0);
    assert.deepEqual(drops, ['fragment-inconsistent']);
  });
});

describe('FragmentReassembler: limits', () => {
  test('10. a non-final fragment that is not a multiple of 8 is dropped alone', () => {
    const { r, drops } = make();
    r.add('k', 0, true, piece(0, 13), 'f', 0);
    r.add('k', 0, true, new Uint8Array(0), 'f', 0);
    assert.deepEqual(drops, ['fragment-misaligned', 'fragment-misaligned']);
    assert.equal(r.bufferedBytes, 0);
  });

  test('11. a datagram longer than maxLength is discarded (no "ping of death")', () => {
    const { r, drops } = make({ maxLength: 65535 });
    r.add('k', 0, true, piece(0, 8), 'f', 0);
    r.add('k', 65528, false, piece(0, 16), undefined, 0);
    assert.deepEqual(drops, ['fragment-too-long']);
    assert.equal(r.bufferedBytes, 0);
  });

  test('12. too many fragments for one datagram discard it', () => {
    const { r, drops } = make({ maxFragments: 4 });
    for (let i = 0; i < 5; i++) r.add('k', i * 8, true, piece(0, 8), i === 0 ? 'f' : undefined, 0);
    assert.deepEqual(drops, ['too-many-fragments']);
  });

  test('13. too many datagrams at once: the oldest is evicted to make room', () => {
    const { r, drops } = make({ maxReassemblies: 2 });
    r.add('a', 0, true, piece(0, 8), 'A', 0);
    r.add('b', 0, true, piece(0, 8), 'B', 1);
    r.add('c', 0, true, piece(0, 8), 'C', 2);
    assert.deepEqual(drops, ['reassembly-evicted']);
    assert.equal(r.size, 2);
    assert.equal(r.add('a', 8, false, piece(8, 16), undefined, 3), undefined, 'a was forgotten');
    assert.equal(r.add('c', 8, false, piece(8, 16), undefined, 3)?.first, 'C');
  });

  test('14. buffered bytes are capped: older datagrams are evicted first', () => {
    const { r, drops } = make({ maxBufferedBytes: 2000 });
    r.add('a', 0, true, piece(0, 1400), 'A', 0);
    r.add('b', 0, true, piece(0, 1400), 'B', 0);
    assert.deepEqual(drops, ['reassembly-evicted']);
    assert.equal(r.bufferedBytes, 1400);
  });

  test('15. a single fragment larger than the cap is dropped', () => {
    const { r, drops } = make({ maxBufferedBytes: 100 });
    r.add('a', 0, true, piece(0, 200), 'A', 0);
    assert.deepEqual(drops, ['reassembly-memory']);
  });
});

describe('FragmentReassembler: timeouts on the caller clock', () => {
  test('16. pollAt is the first deadline, fixed at the first fragment', () => {
    const { r } = make({ timeoutMs: 30_000 });
    assert.equal(r.pollAt(), Infinity);
    r.add('a', 0, true, piece(0, 8), 'A', 1000);
    r.add('a', 8, true, piece(8, 16), undefined, 20_000); // later fragments do not extend it
    r.add('b', 8, true, piece(8, 16), undefined, 5000);
    assert.equal(r.pollAt(), 31_000);
  });

  test('17. expire before the deadline does nothing; at the deadline it returns first-fragment data', () => {
    const { r, drops } = make({ timeoutMs: 30_000 });
    r.add('a', 0, true, piece(0, 8), 'A', 1000);
    r.add('b', 8, true, piece(8, 16), undefined, 2000); // no first fragment: nothing to report
    assert.deepEqual(r.expire(30_999), []);
    assert.deepEqual(r.expire(31_000), ['A']);
    assert.equal(r.pollAt(), 32_000);
    assert.deepEqual(r.expire(40_000), []);
    assert.deepEqual(drops, ['reassembly-timeout', 'reassembly-timeout']);
    assert.equal(r.size, 0);
    assert.equal(r.bufferedBytes, 0);
  });

  test('18. a discarded datagram is forgotten silently at its deadline, then the key is usable again', () => {
    const { r, drops } = make({ timeoutMs: 1000 });
    r.add('k', 0, true, piece(0, 16), 'f', 0);
    r.add('k', 8, true, piece(8, 24), undefined, 0);
    assert.deepEqual(r.expire(1000), []);
    assert.deepEqual(drops, ['fragment-overlap']);
    r.add('k', 0, true, piece(0, 8), 'f', 2000);
    assert.equal(r.add('k', 8, false, piece(8, 16), undefined, 2000)?.first, 'f');
  });

  test('19. options are validated', () => {
    assert.throws(() => new FragmentReassembler({ timeoutMs: 0 }), RangeError);
    assert.throws(() => new FragmentReassembler({ maxReassemblies: -1 }), RangeError);
  });
});
