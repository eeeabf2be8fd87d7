import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayWindow } from '../../src/wireguard/replay-window.ts';
import { REJECT_AFTER_MESSAGES, REPLAY_WINDOW_SIZE } from '../../src/wireguard/constants.ts';

const W = REPLAY_WINDOW_SIZE; // 8160

/**
 * Each row feeds one counter to the same window, in order, and states whether it is accepted.
 * The rows read as a story: the numbers make failures easy to locate.
 */
type Row = [n: number, counter: number | bigint, accepted: boolean, why: string];

function runTable(rows: Row[]): void {
  const w = new ReplayWindow();
  for (const [n, counter, accepted, why] of rows) {
    assert.equal(w.checkCounter(counter), accepted, `row ${n} check: ${why}`);
    assert.equal(w.acceptCounter(counter), accepted, `row ${n}: counter ${counter} ${why}`);
  }
}

describe('replay window (RFC 6479)', () => {
  test('the window keeps at least 2048 counters of history (the kernel keeps 8160)', () => {
    assert.ok(ReplayWindow.SIZE >= 2048);
    assert.equal(ReplayWindow.SIZE, 8160);
  });

  test('in order, out of order, duplicates, too old, window advance', () => {
    runTable([
      [1, 0, true, 'first counter'],
      [2, 0, false, 'duplicate of the first'],
      [3, 1, true, 'next in order'],
      [4, 2, true, 'next in order'],
      [5, 10, true, 'skips ahead'],
      [6, 5, true, 'out of order, inside the window'],
      [7, 5, false, 'duplicate of an out-of-order counter'],
      [8, 3, true, 'another gap filled'],
      [9, 10, false, 'duplicate of the greatest'],
      [10, 9, true, 'just below the greatest'],
      [11, 10 + W, true, 'advances the window by exactly its size'],
      [12, 10, false, 'exactly SIZE behind is still inside the window, and 10 was seen'],
      [13, 4, false, 'never seen, but SIZE + 6 behind: too old'],
      [14, 11, true, 'never seen, SIZE − 1 behind: accepted'],
    ]);
  });

  test('boundary at the back of the window', () => {
    runTable([
      [1, 20_000, true, 'start high'],
      [2, 20_000 - W, true, 'exactly SIZE behind is accepted'],
      [3, 20_000 - W - 1, false, 'one further back is too old'],
      [4, 20_000 - W, false, 'duplicate at the back edge'],
      [5, 19_999, true, 'fills a gap at the front'],
    ]);
  });

  test('counter jumps clear stale bits so old positions can be reused by new counters', () => {
    runTable([
      [1, 0, true, 'first'],
      [2, 100, true, 'gap'],
      [3, 100 + 8192, true, 'same ring slot as 100, one lap later: must not be mistaken for a replay'],
      [4, 100 + 8192 * 2, true, 'and again'],
      [5, 100 + 8192, false, 'now too old (SIZE behind + 32)'],
      [6, 1_000_000, true, 'large jump clears the whole ring'],
      [7, 1_000_000 - 1, true, 'just behind after the jump'],
      [8, 1_000_000 - 5000, true, 'inside the window after the jump'],
      [9, 1_000_000 - W - 1, false, 'too old after the jump'],
    ]);
  });

  test('64-bit counters across the 2^32 boundary and up to the reject limit', () => {
    const two32 = 2n ** 32n;
    runTable([
      [1, two32 - 2n, true, 'just below 2^32'],
      [2, two32 + 3n, true, 'crosses into the high word'],
      [3, two32 - 1n, true, 'behind, across the word boundary, inside the window'],
      [4, two32 - 2n, false, 'duplicate across the boundary'],
      [5, two32 + 3n - BigInt(W) - 1n, false, 'too old across the boundary'],
      [6, 2n ** 40n, true, 'high word jump'],
      [7, REJECT_AFTER_MESSAGES - 1n, true, 'the last valid counter'],
      [8, REJECT_AFTER_MESSAGES, false, 'REJECT_AFTER_MESSAGES itself is never valid'],
      [9, 2n ** 64n - 1n, false, 'nor anything above it'],
      [10, REJECT_AFTER_MESSAGES - 2n, true, 'behind the last valid counter, unseen'],
    ]);
  });

  test('check never changes the window; reset forgets everything', () => {
    const w = new ReplayWindow();
    assert.equal(w.checkCounter(5), true);
    assert.equal(w.checkCounter(5), true);
    assert.equal(w.acceptCounter(5), true);
    assert.equal(w.checkCounter(5), false);
    assert.equal(w.greatest, 5n);
    w.reset();
    assert.equal(w.acceptCounter(5), true);
  });

  test('a dense in-order stream is fully accepted and every replay of it rejected', () => {
    const w = new ReplayWindow();
    for (let i = 0; i < 20_000; i++) assert.equal(w.acceptCounter(i), true);
    for (let i = 20_000 - W; i < 20_000; i++) assert.equal(w.acceptCounter(i), false);
  });
});
