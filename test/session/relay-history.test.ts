/**
 * RelayHistory: which relay carried the session and why it moved (#17 item 4), as the status
 * card shows it. Sans-IO: opens and drops are fed with their times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayHistory } from '../../src/session/relay-history.ts';

const A = 'ws://127.0.0.1:8081/wg?to=10.0.0.1:51820';
const B = 'ws://127.0.0.1:8082/wg?to=10.0.0.1:51820';

test('the first open is the start, with the list size and the measured open time; URLs lose their session query', () => {
  const h = new RelayHistory();
  h.noteOpen(A, 1000, 3.5, 2);
  assert.deepEqual(h.entries(), [{ at: 1000, url: 'ws://127.0.0.1:8081/wg', reason: 'start', of: 2, rttMs: 3.5 }]);
});

test('a 1012 close is a drain and the next relay that opens records where the session came from', () => {
  const h = new RelayHistory();
  h.noteOpen(A, 1000, 3.5, 2);
  h.noteDrop(1012);
  h.noteOpen(B, 2000, 4.25, 2);
  assert.deepEqual(h.entries()[1], { at: 2000, url: 'ws://127.0.0.1:8082/wg', reason: 'drained', closeCode: 1012, from: 'ws://127.0.0.1:8081/wg', rttMs: 4.25 });
});

test('a dropped connection is lost; the first cause counts when retries fail through other relays before one opens', () => {
  const h = new RelayHistory();
  h.noteOpen(A, 1000);
  h.noteDrop(1006);
  h.noteDrop(undefined); // the next relay could not be reached either
  h.noteOpen(A, 5000, 2);
  assert.deepEqual(h.entries()[0], { at: 1000, url: 'ws://127.0.0.1:8081/wg', reason: 'start' }, 'one relay: no "fastest of" count');
  const e = h.entries()[1];
  assert.equal(e.reason, 'lost');
  assert.equal(e.closeCode, 1006);
  assert.equal(e.from, undefined, 'the same relay again: a reconnect, not a move');
});

test('the same relay reopening after an idle close is not a move; an idle close followed by another relay is', () => {
  const h = new RelayHistory();
  h.noteOpen(A, 1000);
  h.noteDrop(4004, true);
  h.noteOpen(A, 2000);
  assert.equal(h.entries().length, 1);
  h.noteDrop(4004, true);
  h.noteOpen(B, 3000);
  assert.equal(h.entries().length, 2);
  assert.equal(h.entries()[1].from, 'ws://127.0.0.1:8081/wg');
});

test('it keeps only the newest `limit` entries', () => {
  const h = new RelayHistory(3);
  h.noteOpen(A, 0);
  for (let i = 1; i <= 5; i++) {
    h.noteDrop(1012);
    h.noteOpen(i % 2 ? B : A, i * 1000);
  }
  assert.deepEqual(
    h.entries().map((e) => e.at),
    [3000, 4000, 5000],
  );
  assert.throws(() => new RelayHistory(0), RangeError);
});

test('entries() hands out copies', () => {
  const h = new RelayHistory();
  h.noteOpen(A, 1000);
  h.entries()[0].url = 'changed';
  assert.equal(h.entries()[0].url, 'ws://127.0.0.1:8081/wg');
});
