/**
 * The sender's loss-recovery state: fast recovery entered on the third duplicate ACK (RFC 5681
 * §3.2) and left at the recovery point (RFC 6582 §3.2), partial ACKs, RFC 3042 limited transmit,
 * the 'loss' phase after an RTO and its backoff count, and the re-retransmission of holes whose
 * retransmission was lost (with a SACK scoreboard). Sequence numbers straddle 2^32 on purpose.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LossRecovery } from '../../../src/netstack/socket/tcp-loss-recovery.ts';
import { SackScoreboard } from '../../../src/netstack/socket/tcp-sack-scoreboard.ts';

const BASE = 0xffff_f000;
const s = (off: number) => (BASE + off) >>> 0;
const MSS = 1000;

describe('LossRecovery', () => {
  test('starts open, with no duplicate ACKs and no timeouts', () => {
    const r = new LossRecovery();
    assert.equal(r.phase, 'open');
    assert.equal(r.dupAcks, 0);
    assert.equal(r.timeouts, 0);
    assert.equal(r.retransmitPending, false);
  });

  test('the first two duplicate ACKs allow limited transmit; the third enters fast recovery (RFC 5681 §3.2, RFC 3042)', () => {
    const r = new LossRecovery();
    assert.equal(r.onDupAck(), 'limited-transmit');
    assert.equal(r.limitedTransmitSegments(), 1);
    assert.equal(r.onDupAck(), 'limited-transmit');
    assert.equal(r.limitedTransmitSegments(), 2);
    assert.equal(r.onDupAck(), 'enter-recovery');
    assert.equal(r.limitedTransmitSegments(), 0, 'not once the threshold is reached');
  });

  test('fast recovery remembers SND.MAX as the recovery point and asks for one retransmission', () => {
    const r = new LossRecovery();
    r.enterFastRecovery(s(0), s(10_000));
    assert.equal(r.phase, 'recovery');
    assert.equal(r.inFastRecovery, true);
    assert.equal(r.recoveryPoint, s(10_000));
    assert.equal(r.nextRetransmitFrom(s(0)), s(0));
    assert.equal(r.takeForcedRetransmit(), true);
    assert.equal(r.takeForcedRetransmit(), false, 'taken once');
    assert.equal(r.onDupAck(), 'inflate', 'further duplicates inflate the window (RFC 6582 §3.2 step 4)');
  });

  test('an ACK below the recovery point is partial; one at it ends recovery (RFC 6582 §3.2 steps 3 and 5)', () => {
    const r = new LossRecovery();
    r.onDupAck();
    r.enterFastRecovery(s(0), s(10_000));
    assert.equal(r.onNewAck(s(4000)), 'partial');
    assert.equal(r.dupAcks, 0, 'a new ACK resets the duplicate count');
    assert.equal(r.phase, 'recovery');
    assert.equal(r.onNewAck(s(10_000)), 'recovered');
    assert.equal(r.phase, 'open');
    assert.equal(r.onNewAck(s(11_000)), 'normal');
  });

  test('an RTO enters the loss phase until SND.MAX of that moment is acknowledged', () => {
    const r = new LossRecovery();
    r.enterFastRecovery(s(0), s(5000));
    assert.equal(r.noteTimeout(), 1);
    r.enterLoss(s(8000));
    assert.equal(r.phase, 'loss');
    assert.equal(r.retransmitPending, false, 'go-back-N replaces the forced retransmission');
    assert.equal(r.onDupAck(), 'ignored');
    assert.equal(r.onNewAck(s(7000)), 'normal');
    assert.equal(r.phase, 'loss');
    assert.equal(r.onNewAck(s(8000)), 'normal');
    assert.equal(r.phase, 'open');
  });

  test('consecutive timeouts are counted until progress resets them (RFC 6298 §5.5 backoff)', () => {
    const r = new LossRecovery();
    assert.equal(r.noteTimeout(), 1);
    assert.equal(r.noteTimeout(), 2);
    assert.equal(r.timeouts, 2);
    r.resetTimeouts();
    assert.equal(r.timeouts, 0);
  });

  test('a path-MTU drop turns fast recovery into the loss phase, and leaves other phases alone', () => {
    const r = new LossRecovery();
    r.onPathMtuDrop();
    assert.equal(r.phase, 'open');
    r.enterFastRecovery(s(0), s(5000));
    r.onPathMtuDrop();
    assert.equal(r.phase, 'loss');
  });

  test('NextSeg moves past each retransmission, never below SND.UNA', () => {
    const r = new LossRecovery();
    r.enterFastRecovery(s(0), s(10_000));
    r.noteRetransmission(s(0), s(1000), s(10_000), true);
    assert.equal(r.nextRetransmitFrom(s(0)), s(1000));
    assert.equal(r.nextRetransmitFrom(s(3000)), s(3000));
  });

  test('a retransmission is lost again once data sent after it is SACKed well beyond it; its hole is sent again', () => {
    const r = new LossRecovery();
    const board = new SackScoreboard();
    // Segments 0..9 sent; 0 lost; 1..9 SACKed: fast recovery, retransmit [0, 1000) while SND.MAX is 10 000.
    board.update([s(1000), s(10_000)], s(0), s(10_000));
    r.enterFastRecovery(s(0), s(10_000));
    r.noteRetransmission(s(0), s(1000), s(10_000), true);
    // New data 10..12 goes out and is SACKed, but the hole at 0 stays open: the retransmission was lost.
    board.update([s(1000), s(11_000)], s(0), s(13_000));
    r.onSackUpdate(board, s(0), s(13_000), MSS);
    assert.equal(r.takeRelostHole(board, s(0), s(13_000)), undefined, 'one segment SACKed past it is not yet enough');
    board.update([s(1000), s(13_000)], s(0), s(13_000));
    r.onSackUpdate(board, s(0), s(13_000), MSS);
    assert.deepEqual(r.takeRelostHole(board, s(0), s(13_000)), { start: s(0), end: s(1000) });
    assert.equal(r.takeRelostHole(board, s(0), s(13_000)), undefined, 'each hole once');
  });

  test('retransmissions are not logged outside SACK fast recovery', () => {
    const r = new LossRecovery();
    const board = new SackScoreboard();
    r.enterFastRecovery(s(0), s(10_000));
    r.noteRetransmission(s(0), s(1000), s(10_000), false); // no SACK: nothing logged
    board.update([s(1000), s(13_000)], s(0), s(13_000));
    r.onSackUpdate(board, s(0), s(13_000), MSS);
    assert.equal(r.takeRelostHole(board, s(0), s(13_000)), undefined);
  });
});
