/**
 * HyStart++ (RFC 9406) on its own: rounds are fed as ACK sequence numbers with RTT samples, and
 * the phase it returns is checked against the RFC's rules.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HyStart, HYSTART_CSS_ROUNDS, HYSTART_N_RTT_SAMPLE } from '../../../src/netstack/socket/tcp-hystart.ts';

/**
 * Feeds one round: `samples` ACKs with RTT `rtt` each, the first one covering the previous
 * round's end (so a new round starts), each later one inside the round. Returns the last phase.
 */
function round(h: HyStart, state: { seq: number }, rtt: number, samples = HYSTART_N_RTT_SAMPLE): string {
  const start = state.seq;
  const end = start + 100 * samples;
  let phase = '';
  for (let i = 0; i < samples; i++) phase = h.onAck(start + 1 + i, end, rtt);
  state.seq = end;
  return phase;
}

describe('HyStart++ (RFC 9406)', () => {
  test('stays in slow start while the round minimum RTT holds', () => {
    const h = new HyStart();
    const st = { seq: 0 };
    for (let r = 0; r < 10; r++) assert.equal(round(h, st, 10), 'slow-start');
    assert.equal(h.cssEntries, 0);
  });

  test('a round whose minimum RTT rose by the threshold (max(4 ms, lastMin/8)) enters Conservative Slow Start', () => {
    const h = new HyStart();
    const st = { seq: 0 };
    round(h, st, 10);
    assert.equal(round(h, st, 13.9), 'slow-start', '3.9 ms above a 10 ms minimum: below the 4 ms floor');
    assert.equal(round(h, st, 18), 'css', '4.1 ms above the last round’s 13.9');
    assert.equal(h.cssEntries, 1);
  });

  test('the threshold scales with the RTT (lastMin/8) and is capped at 16 ms', () => {
    const h = new HyStart();
    const st = { seq: 0 };
    round(h, st, 80);
    assert.equal(round(h, st, 89), 'slow-start', '+9 ms < 80/8 = 10 ms');
    const g = new HyStart();
    const gs = { seq: 0 };
    round(g, gs, 400);
    assert.equal(round(g, gs, 415), 'slow-start', '+15 ms < the 16 ms cap');
    assert.equal(round(g, gs, 431), 'css', '+16 ms on 415');
  });

  test('decides nothing on fewer than N_RTT_SAMPLE samples in a round', () => {
    const h = new HyStart();
    const st = { seq: 0 };
    round(h, st, 10);
    assert.equal(round(h, st, 50, HYSTART_N_RTT_SAMPLE - 1), 'slow-start');
  });

  test('an RTT back below the CSS baseline resumes slow start', () => {
    const h = new HyStart();
    const st = { seq: 0 };
    round(h, st, 10);
    assert.equal(round(h, st, 20), 'css');
    assert.equal(round(h, st, 12), 'slow-start');
  });

  test(`after ${HYSTART_CSS_ROUNDS} rounds of CSS, slow start is over (congestion avoidance)`, () => {
    const h = new HyStart();
    const st = { seq: 0 };
    round(h, st, 10);
    assert.equal(round(h, st, 20), 'css');
    for (let r = 1; r < HYSTART_CSS_ROUNDS; r++) assert.equal(round(h, st, 20), 'css', `CSS round ${r + 1}`);
    assert.equal(h.onAck(st.seq + 1, st.seq + 1000, 20), 'avoidance');
    assert.equal(h.exits, 1);
    assert.equal(round(h, st, 5), 'avoidance', 'for good');
  });

  test('end() (a loss ended slow start) stops it', () => {
    const h = new HyStart();
    h.end();
    assert.equal(h.onAck(1, 100, 10), 'avoidance');
  });
});
