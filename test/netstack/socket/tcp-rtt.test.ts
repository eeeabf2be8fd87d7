/**
 * RFC 6298 RTO estimation: first sample, smoothing, the lower and upper bounds, exponential backoff.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RttEstimator } from '../../../src/netstack/socket/tcp-rtt.ts';

describe('RttEstimator', () => {
  test('before any sample the RTO is 1 s (RFC 6298 §2.1)', () => {
    assert.equal(new RttEstimator().rto, 1000);
  });

  test('the first sample R sets SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR (§2.2)', () => {
    const r = new RttEstimator();
    r.sample(400);
    assert.equal(r.srtt, 400);
    assert.equal(r.rttvar, 200);
    assert.equal(r.rto, 1200);
  });

  test('later samples smooth with alpha 1/8 and beta 1/4 (§2.3)', () => {
    const r = new RttEstimator();
    r.sample(400);
    r.sample(200);
    assert.equal(r.rttvar, 0.75 * 200 + 0.25 * 200);
    assert.equal(r.srtt, 0.875 * 400 + 0.125 * 200);
    assert.equal(r.rto, 375 + 4 * 200);
  });

  test('the RTO never goes below the 300 ms floor, whatever the samples', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(1);
    assert.equal(r.rto, 300);
    assert.equal(r.minRtt, 1);
  });

  test('each expiry doubles the RTO, capped at 60 s; a new sample clears the backoff (§5.5)', () => {
    const r = new RttEstimator();
    r.sample(100); // RTO 300
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      r.backoff();
      seen.push(r.rto);
    }
    assert.deepEqual(seen, [600, 1200, 2400, 4800, 9600, 19200, 38400, 60000, 60000, 60000]);
    r.sample(100);
    assert.equal(r.backoffCount, 0);
    assert.equal(r.rto, 300);
  });

  test('bounds are configurable and validated', () => {
    const r = new RttEstimator({ minRtoMs: 1000, maxRtoMs: 2000, initialRtoMs: 1500 });
    assert.equal(r.rto, 1500);
    r.sample(10);
    assert.equal(r.rto, 1000);
    r.backoff();
    r.backoff();
    assert.equal(r.rto, 2000);
    assert.throws(() => new RttEstimator({ minRtoMs: 5, maxRtoMs: 1 }), RangeError);
  });

  test('after a SYN timeout without a sample, data transmission starts with a 3 s RTO (§5.7)', () => {
    const r = new RttEstimator();
    r.backoff();
    r.resetAfterSynTimeout();
    assert.equal(r.rto, 3000);
  });
});
