/**
 * The receiver's ACK decision (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): quick ACKs at the start,
 * every second full segment at once, otherwise one delayed ACK per deadline; the RFC 5961 §7
 * challenge-ACK limit. Times are a fake clock's milliseconds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy } from '../../../src/netstack/socket/tcp-ack-policy.ts';
import { CHALLENGE_ACK_LIMIT_PER_SECOND, QUICK_ACK_SEGMENTS } from '../../../src/netstack/socket/tcp-constants.ts';

const MSS = 1000;

describe('AckPolicy', () => {
  test('owes nothing at the start', () => {
    const a = new AckPolicy(40);
    assert.equal(a.due, false);
    assert.equal(a.pending, false);
    assert.equal(a.deadline, Infinity);
  });

  test('the first data segments of a connection are acknowledged at once (quick ACK)', () => {
    const a = new AckPolicy(40, 2);
    for (let i = 0; i < 2; i++) {
      a.onInOrderData(100, MSS, 0);
      assert.equal(a.due, true, `segment ${i + 1}`);
      a.onAckSent();
    }
    a.onInOrderData(100, MSS, 0);
    assert.equal(a.due, false, 'the third small segment waits');
    assert.equal(a.deadline, 40);
  });

  test('the default quick-ACK budget is QUICK_ACK_SEGMENTS segments', () => {
    const a = new AckPolicy(40);
    let quick = 0;
    for (let i = 0; i < QUICK_ACK_SEGMENTS + 5; i++) {
      a.onInOrderData(10, MSS, 0);
      if (a.due) quick++;
      a.onAckSent();
    }
    assert.equal(quick, QUICK_ACK_SEGMENTS);
  });

  test('after quick ACKs, every second full-sized segment is acknowledged at once (RFC 9293 §3.8.6.3)', () => {
    const a = new AckPolicy(40, 0);
    a.onInOrderData(MSS, MSS, 0);
    assert.equal(a.due, false);
    assert.equal(a.deadline, 40, 'one full segment arms the delayed ACK');
    a.onInOrderData(MSS, MSS, 5);
    assert.equal(a.due, true, 'the second full segment makes the ACK due');
    a.onAckSent();
    assert.equal(a.pending, false, 'sending the ACK clears the count and the deadline');
    a.onInOrderData(MSS, MSS, 6);
    assert.equal(a.due, false, 'the count started over');
  });

  test('a delayed ACK keeps its first deadline and becomes due only when it passes', () => {
    const a = new AckPolicy(40, 0);
    a.onInOrderData(10, MSS, 100);
    a.onInOrderData(10, MSS, 120);
    assert.equal(a.deadline, 140, 'later data does not push the deadline out');
    assert.equal(a.pending, true);
    a.onTimer(139);
    assert.equal(a.due, false);
    a.onTimer(140);
    assert.equal(a.due, true);
    assert.equal(a.deadline, Infinity);
  });

  test('ackNow makes an ACK due without a deadline', () => {
    const a = new AckPolicy(40);
    a.ackNow();
    assert.equal(a.due, true);
    assert.equal(a.deadline, Infinity);
  });

  test('cancelDelayed drops only the waiting ACK; cancel drops a due one too', () => {
    const a = new AckPolicy(40, 0);
    a.onInOrderData(10, MSS, 0);
    a.ackNow();
    a.cancelDelayed();
    assert.equal(a.deadline, Infinity);
    assert.equal(a.due, true);
    a.cancel();
    assert.equal(a.pending, false);
  });

  test('challenge ACKs are limited per second (RFC 5961 §7)', () => {
    const a = new AckPolicy(40);
    let allowed = 0;
    for (let i = 0; i < CHALLENGE_ACK_LIMIT_PER_SECOND + 5; i++) if (a.allowChallengeAck(1000 + i)) allowed++;
    assert.equal(allowed, CHALLENGE_ACK_LIMIT_PER_SECOND);
    assert.equal(a.due, true, 'an allowed challenge makes the ACK due');
    a.onAckSent();
    assert.equal(a.allowChallengeAck(1999), false, 'still the same second');
    assert.equal(a.due, false);
    assert.equal(a.allowChallengeAck(2000), true, 'a new second, a new budget');
  });

  test('rejects a non-positive delay and a bad quick-ACK count', () => {
    assert.throws(() => new AckPolicy(0), RangeError);
    assert.throws(() => new AckPolicy(40, -1), RangeError);
    assert.throws(() => new AckPolicy(40, 1.5), RangeError);
  });
});
