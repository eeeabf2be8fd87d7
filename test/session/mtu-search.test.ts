/**
 * The MTU search against scripted paths: a router that reports its MTU, a path that drops big
 * packets silently (an RFC 4821 black hole), a lossy path, a host that does not answer at all,
 * and a path that carries the whole interface MTU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MtuNoReplyError, searchMtu, type MtuProbeOutcome } from '../../src/session/mtu-search.ts';

const V4 = { headerBytes: 28, low: 40, high: 1392 };

/** A path whose largest packet is `pathMtu`; over it a router reports (`icmp`) or stays silent. */
function path(pathMtu: number, icmp: boolean, log: number[] = []) {
  return async (size: number): Promise<MtuProbeOutcome> => {
    log.push(size);
    if (size + 28 <= pathMtu) return { kind: 'ok', rttMs: 1, from: '10.0.0.2' };
    return icmp ? { kind: 'too-big', mtu: pathMtu, from: '10.0.0.1' } : { kind: 'timeout' };
  };
}

test('a router that reports its MTU: the search tries exactly that size next and stops there', async () => {
  const log: number[] = [];
  const r = await searchMtu({ ...V4, probe: path(1300, true, log) });
  assert.deepEqual([r.largestPayload, r.largestPacket, r.reportedMtu, r.limitedByInterface], [1272, 1300, 1300, false]);
  // high (too big, mtu 1300: nothing over 1272 fits), low, then 1272 itself: three probes.
  assert.deepEqual(log, [1392, 40, 1272]);
  assert.deepEqual(r.steps.map((s) => s.outcome), ['too-big', 'ok', 'ok']);
  assert.equal(r.steps[0].from, '10.0.0.1');
});

test('a black hole (no ICMP): silence counts as too big after every try, and the search still converges', async () => {
  const log: number[] = [];
  const r = await searchMtu({ ...V4, probe: path(1280, false, log), tries: 2 });
  assert.equal(r.largestPacket, 1280);
  assert.equal(r.reportedMtu, undefined);
  const silent = r.steps.filter((s) => s.outcome === 'timeout');
  assert.ok(silent.length > 0 && silent.every((s) => s.tries === 2));
  assert.equal(log.length, r.steps.reduce((a, s) => a + s.tries, 0), 'each try is one probe');
});

test('one lost probe is not a verdict: the second try of the same size passes', async () => {
  let lost = false;
  const probe = async (size: number): Promise<MtuProbeOutcome> => {
    if (size === 716 && !lost) {
      lost = true;
      return { kind: 'timeout' };
    }
    return size + 28 <= 1420 - 100 ? { kind: 'ok', rttMs: 1, from: 'x' } : { kind: 'timeout' };
  };
  const r = await searchMtu({ ...V4, probe });
  assert.equal(r.largestPacket, 1320);
  assert.equal(r.steps.find((s) => s.size === 716)?.tries, 2);
});

test('the whole interface MTU passes: one probe, and the result says the path may carry more', async () => {
  const log: number[] = [];
  const r = await searchMtu({ ...V4, probe: path(9000, true, log) });
  assert.deepEqual([r.largestPayload, r.limitedByInterface, log], [1392, true, [1392]]);
});

test('a host that answers nothing: MtuNoReplyError with the steps taken', async () => {
  const err = await searchMtu({ ...V4, probe: async () => ({ kind: 'timeout' }), tries: 1 }).catch((e) => e);
  assert.ok(err instanceof MtuNoReplyError);
  assert.deepEqual(err.steps.map((s: { size: number }) => s.size), [1392, 40]);
  const unreachable = await searchMtu({ ...V4, probe: async () => ({ kind: 'unreachable', message: 'unreachable from 10.0.0.1' }) }).catch((e) => e);
  assert.ok(unreachable instanceof MtuNoReplyError);
  assert.equal(unreachable.steps.length, 1, 'unreachable ends the search at once');
});

test('stops when the signal fires; refuses a reversed range', async () => {
  const ac = new AbortController();
  const probe = async (size: number): Promise<MtuProbeOutcome> => {
    if (size === 40) ac.abort();
    return { kind: 'timeout' };
  };
  await assert.rejects(searchMtu({ ...V4, probe, signal: ac.signal, tries: 1 }), { name: 'AbortError' });
  await assert.rejects(searchMtu({ ...V4, low: 1400, high: 1392, probe: path(1300, true) }), RangeError);
});
