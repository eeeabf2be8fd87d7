/**
 * Congestion window control: NewReno growth (RFC 5681 with RFC 3465 byte counting) and reduction,
 * and the CUBIC curve of RFC 9438 (K, W_cubic, beta 0.7, fast convergence, the Reno-friendly region).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cubic, NewReno, createCongestionControl } from '../../../src/netstack/socket/tcp-congestion.ts';

const MSS = 1000;

describe('NewReno', () => {
  test('starts with an initial window of 10 segments (RFC 6928)', () => {
    assert.equal(new NewReno(MSS).cwnd, 10 * MSS);
  });

  test('slow start adds the bytes acknowledged, at most 2 SMSS per ACK (RFC 3465 L=2)', () => {
    const c = new NewReno(MSS);
    c.onAck(1000, 0, 100, true);
    assert.equal(c.cwnd, 11 * MSS);
    c.onAck(5000, 0, 100, true);
    assert.equal(c.cwnd, 13 * MSS);
  });

  test('congestion avoidance adds one SMSS per window of acknowledged bytes', () => {
    const c = new NewReno(MSS);
    c.onCongestionEvent(0, 20 * MSS); // ssthresh = cwnd = 10 segments
    assert.equal(c.ssthresh, 10 * MSS);
    for (let i = 0; i < 9; i++) c.onAck(MSS, 0, 100, true);
    assert.equal(c.cwnd, 10 * MSS);
    c.onAck(MSS, 0, 100, true);
    assert.equal(c.cwnd, 11 * MSS);
  });

  test('a window the application does not fill does not grow (RFC 7661)', () => {
    const c = new NewReno(MSS);
    c.onAck(MSS, 0, 100, false);
    assert.equal(c.cwnd, 10 * MSS);
  });

  test('loss halves the flight size (at least 2 SMSS); an RTO leaves one segment', () => {
    const c = new NewReno(MSS);
    c.onCongestionEvent(0, 3 * MSS);
    assert.equal(c.ssthresh, 2 * MSS);
    c.onRetransmissionTimeout(0, 30 * MSS);
    assert.equal(c.ssthresh, 15 * MSS);
    assert.equal(c.cwnd, MSS);
  });

  test('a smaller MSS keeps the window’s segment count', () => {
    const c = new NewReno(MSS);
    c.setMss(500);
    assert.equal(c.cwnd, 5000);
  });
});

describe('CUBIC (RFC 9438)', () => {
  test('a loss keeps W_max, cuts cwnd and ssthresh by beta = 0.7', () => {
    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onCongestionEvent(0, 100 * MSS);
    assert.equal(c.wMax, 100);
    assert.equal(c.cwnd, 70 * MSS);
    assert.equal(c.ssthresh, 70 * MSS);
  });

  test('K is the time for W_cubic to climb back to W_max: cbrt(W_max·(1-β)/C) (eq. 2)', () => {
    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onCongestionEvent(0, 100 * MSS);
    c.onAck(MSS, 1000, 0, true); // starts the epoch at t = 1000 ms
    assert.ok(Math.abs(c.k - Math.cbrt((100 * 0.3) / 0.4)) < 1e-9);
    assert.ok(Math.abs(c.wCubic(c.k) - 100) < 1e-9);
    assert.ok(Math.abs(c.wCubic(0) - 70) < 1e-9, 'W_cubic(0) = β·W_max');
  });

  test('the window grows concavely back toward W_max, then convexly beyond it', () => {
    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onCongestionEvent(0, 100 * MSS);
    const rtt = 100;
    const at: Record<number, number> = {};
    for (let t = 0; t <= 10_000; t += rtt) {
      // One window of ACKs per RTT.
      const segs = Math.floor(c.cwnd / MSS);
      for (let i = 0; i < segs; i++) c.onAck(MSS, t, rtt, true);
      at[t] = c.cwnd / MSS;
    }
    const k = Math.cbrt(30 / 0.4) * 1000; // ≈ 4217 ms
    assert.ok(at[1000] > 75 && at[1000] < 100, `concave: ${at[1000]}`);
    assert.ok(Math.abs(at[Math.round(k / 100) * 100] - 100) < 5, `≈ W_max at K: ${at[Math.round(k / 100) * 100]}`);
    assert.ok(at[8000] > 110, `convex beyond W_max: ${at[8000]}`);
  });

  test('fast convergence: a second loss below the previous W_max lowers W_max further (§4.7)', () => {
    const c = new Cubic(MSS);
    c.cwnd = 100 * MSS;
    c.onCongestionEvent(0, 0);
    c.cwnd = 80 * MSS;
    c.onCongestionEvent(0, 0);
    assert.equal(c.wMax, (80 * 1.7) / 2);
  });

  test('at small windows and short RTTs it follows the Reno-friendly estimate: +3(1-β)/(1+β) ≈ 0.53 segments per RTT (§4.3)', () => {
    const c = new Cubic(MSS);
    c.onCongestionEvent(0, 0); // W_max 10, cwnd 7: W_cubic needs K ≈ 1.96 s to get back to 10
    const rtts = 200;
    for (let k = 0; k < rtts; k++) {
      const t = k * 10;
      for (let i = 0; i < Math.floor(c.cwnd / MSS); i++) c.onAck(MSS, t, 10, true);
    }
    const expected = 7 + ((3 * 0.3) / 1.7) * rtts;
    assert.ok(Math.abs(c.cwnd / MSS - expected) < 2, `cwnd ${c.cwnd / MSS} segments, expected ≈ ${expected.toFixed(1)}`);
  });

  test('an RTO drops to one segment (§4.8)', () => {
    const c = createCongestionControl('cubic', MSS);
    c.onRetransmissionTimeout(0, 10 * MSS);
    assert.equal(c.cwnd, MSS);
    assert.equal(c.ssthresh, 7 * MSS);
  });
});
