/**
 * The quality history on a fake clock: rates from cumulative counters, ping RTT and loss folded
 * into the next sample, the handshake age, a counter that restarts, and the ring that keeps only
 * the newest `capacity` samples in time order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityHistory, type QualityTotals } from '../../src/session/quality-history.ts';

const EPOCH = Date.UTC(2026, 11, 7, 9, 0, 0);
const zero: QualityTotals = { txBytes: 0, rxBytes: 0, tcpRetransmits: 0, relayDrops: 0 };

test('a sample turns the counters moved over the interval into bits per second and counts', () => {
  const h = new QualityHistory({ intervalMs: 5000 });
  h.start(0, zero);
  const s = h.record(5000, EPOCH + 5000, { txBytes: 62_500, rxBytes: 625_000, tcpRetransmits: 3, relayDrops: 1, relayRttMs: 4.26, tcpRttMs: 12.34, latestHandshakeAt: EPOCH + 1000 });
  assert.deepEqual(s, {
    at: EPOCH + 5000,
    intervalMs: 5000,
    txBps: 100_000,
    rxBps: 1_000_000,
    pingsSent: 0,
    pingsLost: 0,
    tcpRetransmits: 3,
    relayDrops: 1,
    relayRttMs: 4.3,
    tcpRttMs: 12.3,
    handshakeAgeMs: 4000,
  });
  // The next interval measures from the last totals, not from the start.
  const t = h.record(10_000, EPOCH + 10_000, { txBytes: 62_500, rxBytes: 1_250_000, tcpRetransmits: 3, relayDrops: 1 });
  assert.equal(t?.txBps, 0);
  assert.equal(t?.rxBps, 1_000_000);
  assert.equal(t?.tcpRetransmits, 0);
  assert.equal(t?.handshakeAgeMs, undefined);
});

test('without start the first reading is only the baseline', () => {
  const h = new QualityHistory();
  assert.equal(h.record(1000, EPOCH, { ...zero, txBytes: 10 }), undefined);
  assert.equal(h.samples().length, 0);
  assert.equal(h.record(6000, EPOCH + 5000, { ...zero, txBytes: 10 + 625 })?.txBps, 1000);
});

test('ping replies average into the next sample and timeouts count as lost, then start over', () => {
  const h = new QualityHistory();
  h.start(0, zero);
  h.notePing(10);
  h.notePing(20);
  h.notePing(undefined);
  const s = h.record(5000, EPOCH, zero);
  assert.equal(s?.pingRttMs, 15);
  assert.equal(s?.pingsSent, 3);
  assert.equal(s?.pingsLost, 1);
  const t = h.record(10_000, EPOCH + 5000, zero);
  assert.equal(t?.pingRttMs, undefined);
  assert.equal(t?.pingsSent, 0);
});

test('a counter that went backwards (a new relay transport) counts from zero, never negative', () => {
  const h = new QualityHistory();
  h.start(0, { ...zero, txBytes: 1_000_000, relayDrops: 50 });
  const s = h.record(1000, EPOCH, { ...zero, txBytes: 125, relayDrops: 2 });
  assert.equal(s?.txBps, 1000);
  assert.equal(s?.relayDrops, 2);
});

test('the ring keeps the newest capacity samples, oldest first', () => {
  const h = new QualityHistory({ intervalMs: 1000, capacity: 3 });
  h.start(0, zero);
  for (let i = 1; i <= 7; i++) h.record(i * 1000, EPOCH + i * 1000, { ...zero, txBytes: i * 125 });
  const samples = h.samples();
  assert.deepEqual(samples.map((s) => s.at - EPOCH), [5000, 6000, 7000]);
  assert.deepEqual(h.snapshot(), { intervalMs: 1000, capacity: 3, samples });
});

test('a clock that did not move adds nothing; bad options are refused', () => {
  const h = new QualityHistory();
  h.start(5, zero);
  assert.equal(h.record(5, EPOCH, zero), undefined);
  assert.equal(h.samples().length, 0);
  assert.throws(() => new QualityHistory({ intervalMs: 0 }), RangeError);
  assert.throws(() => new QualityHistory({ capacity: 0 }), RangeError);
});
