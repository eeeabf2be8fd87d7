/**
 * The sender's SACK scoreboard (RFC 6675): merging blocks, ignoring bogus ones, IsLost as a
 * boundary, SetPipe, and the holes NextSeg retransmits. Sequence numbers straddle 2^32 on purpose.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SackScoreboard } from '../../../src/netstack/socket/tcp-sack-scoreboard.ts';

const BASE = 0xffff_f000; // wraps past zero after 4096 bytes
const s = (off: number) => (BASE + off) >>> 0;
const MSS = 1000;

describe('SackScoreboard', () => {
  test('blocks are merged and counted once', () => {
    const b = new SackScoreboard();
    assert.equal(b.update([s(2000), s(3000)], s(0), s(10000)), 1000);
    assert.equal(b.update([s(2500), s(5000), s(2000), s(3000)], s(0), s(10000)), 2000);
    assert.equal(b.sacked, 3000);
    assert.equal(b.rangeCount, 1);
    assert.equal(b.isSacked(s(4999)), true);
    assert.equal(b.isSacked(s(5000)), false);
  });

  test('blocks below SND.UNA (D-SACK), above SND.MAX, or inverted are ignored', () => {
    const b = new SackScoreboard();
    assert.equal(b.update([s(0), s(500)], s(1000), s(10000)), 0);
    assert.equal(b.update([s(9000), s(11000)], s(1000), s(10000)), 0);
    assert.equal(b.update([s(5000), s(4000)], s(1000), s(10000)), 0);
    assert.equal(b.sacked, 0);
  });

  test('advance() forgets what the cumulative ACK covers, trimming a straddling range', () => {
    const b = new SackScoreboard();
    b.update([s(1000), s(2000), s(3000), s(4000)], s(0), s(10000));
    b.advance(s(3500));
    assert.equal(b.sacked, 500);
    assert.equal(b.rangeCount, 1);
  });

  test('IsLost: un-SACKed bytes with more than 2·MSS SACKed above them are lost', () => {
    const b = new SackScoreboard();
    b.update([s(1000), s(2000)], s(0), s(10000));
    assert.equal(b.lostBoundary(s(0), MSS, 3), s(0), 'one segment SACKed: nothing lost yet');
    b.update([s(3000), s(5000)], s(0), s(10000));
    assert.equal(b.lostBoundary(s(0), MSS, 3), s(1000), '3 segments SACKed above 0..1000: it is lost; 2000..3000 is not');
  });

  test('SetPipe counts un-SACKed bytes not lost, plus retransmitted ones', () => {
    const b = new SackScoreboard();
    b.update([s(1000), s(4000)], s(0), s(6000));
    const lost = b.lostBoundary(s(0), MSS, 3);
    assert.equal(lost, s(1000));
    assert.equal(b.pipe(s(0), s(6000), lost, s(0)), 2000, 'only 4000..6000 is in flight');
    assert.equal(b.pipe(s(0), s(6000), lost, s(1000)), 3000, 'plus the retransmitted 0..1000');
  });

  test('nextHole() walks the un-SACKed stretches in order', () => {
    const b = new SackScoreboard();
    b.update([s(1000), s(2000), s(3000), s(4000)], s(0), s(6000));
    assert.deepEqual(b.nextHole(s(0), s(6000)), { start: s(0), end: s(1000) });
    assert.deepEqual(b.nextHole(s(1000), s(6000)), { start: s(2000), end: s(3000) });
    assert.deepEqual(b.nextHole(s(3500), s(6000)), { start: s(4000), end: s(6000) });
    assert.deepEqual(b.nextHole(s(0), s(500)), { start: s(0), end: s(500) });
    assert.equal(b.nextHole(s(6000), s(6000)), undefined);
    b.clear();
    assert.equal(b.sacked, 0);
  });
});
