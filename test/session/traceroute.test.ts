/**
 * The traceroute walk against scripted paths on a fake clock: routers that answer Time Exceeded,
 * a silent hop (`*`), a target that answers, a path that never reaches it, an unreachable, and
 * the lines traceroute(8) would print.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTraceHop, reachedTarget, runTraceroute, type TraceProbeOutcome } from '../../src/session/traceroute.ts';

/**
 * A path of `routers` (null: a hop that never answers) then `target`; each hop adds 1 ms on a fake
 * clock, so hop n answers after n ms.
 */
function path(routers: (string | null)[], target: string | null, log: number[] = []) {
  let clock = 0;
  return async (ttl: number): Promise<TraceProbeOutcome> => {
    log.push(ttl);
    const sentAt = clock;
    clock += ttl;
    const rttMs = clock - sentAt;
    if (ttl <= routers.length) {
      const r = routers[ttl - 1];
      return r === null ? { kind: 'timeout' } : { kind: 'time-exceeded', from: r, rttMs };
    }
    return target === null ? { kind: 'timeout' } : { kind: 'reply', from: target, rttMs };
  };
}

test('each hop is probed with its TTL, probesPerHop times, and the walk stops at the echo reply', async () => {
  const log: number[] = [];
  const r = await runTraceroute({ probe: path(['10.0.0.1', '10.1.0.1'], '10.2.0.2', log), probesPerHop: 2 });
  assert.equal(r.reached, true);
  assert.deepEqual(log, [1, 1, 2, 2, 3, 3]);
  assert.deepEqual(r.hops.map((h) => h.probes.map((p) => (p.kind === 'timeout' ? '*' : p.from))), [
    ['10.0.0.1', '10.0.0.1'],
    ['10.1.0.1', '10.1.0.1'],
    ['10.2.0.2', '10.2.0.2'],
  ]);
  assert.deepEqual(r.hops[1].probes.map((p) => (p.kind === 'timeout' ? 0 : p.rttMs)), [2, 2], 'rtt from the fake clock');
});

test('a silent hop shows * and the walk goes on past it', async () => {
  const r = await runTraceroute({ probe: path(['10.0.0.1', null], '10.2.0.2'), probesPerHop: 3 });
  assert.equal(r.reached, true);
  assert.equal(formatTraceHop(r.hops[1]), ' 2  * * *');
  assert.equal(formatTraceHop(r.hops[0]), ' 1  10.0.0.1  1.000 ms  1.000 ms  1.000 ms');
});

test('a target that never answers: every hop up to maxHops, not reached', async () => {
  const log: number[] = [];
  const r = await runTraceroute({ probe: path(['10.0.0.1'], null, log), maxHops: 4, probesPerHop: 1 });
  assert.equal(r.reached, false);
  assert.deepEqual(log, [1, 2, 3, 4]);
  assert.equal(r.hops.length, 4);
});

test('an unreachable ends the walk and prints traceroute(8)s mark (!H)', async () => {
  const r = await runTraceroute({
    probe: async (ttl) => (ttl === 1 ? { kind: 'time-exceeded', from: '10.0.0.1', rttMs: 1 } : { kind: 'unreachable', from: '10.0.0.1', rttMs: 2, code: 1, icmpVersion: 4 }),
    probesPerHop: 1,
  });
  assert.equal(r.reached, false);
  assert.equal(r.hops.length, 2);
  assert.equal(formatTraceHop(r.hops[1]), ' 2  10.0.0.1  2.000 ms !H');
});

test('the address is printed again only when the answering router changes within a hop', () => {
  const line = formatTraceHop({
    ttl: 12,
    probes: [
      { kind: 'time-exceeded', from: '10.0.0.1', rttMs: 1.5 },
      { kind: 'timeout' },
      { kind: 'time-exceeded', from: '10.0.0.9', rttMs: 0.25 },
    ],
  });
  assert.equal(line, '12  10.0.0.1  1.500 ms * 10.0.0.9  0.250 ms');
});

test('onHop sees each hop as it completes; an abort stops the walk; bad limits are RangeErrors', async () => {
  const seen: number[] = [];
  const ac = new AbortController();
  const probe = path(['a', 'b', 'c', 'd'], 'e');
  await assert.rejects(
    runTraceroute({ probe, probesPerHop: 1, signal: ac.signal, onHop: (h) => (seen.push(h.ttl), h.ttl === 2 && ac.abort(new Error('stop'))) }),
    /stop/,
  );
  assert.deepEqual(seen, [1, 2]);
  await assert.rejects(runTraceroute({ probe, maxHops: 0 }), RangeError);
  await assert.rejects(runTraceroute({ probe, probesPerHop: 11 }), RangeError);
});

test('a Port Unreachable from the target (UDP probes) reaches it, with no mark; admin prohibited ends unreached with !X', async () => {
  const udpPath = async (ttl: number): Promise<TraceProbeOutcome> =>
    ttl === 1 ? { kind: 'time-exceeded', from: 'fd00::1', rttMs: 1 } : { kind: 'unreachable', from: 'fd00::2', rttMs: 2, code: 4, icmpVersion: 6 };
  const r = await runTraceroute({ probe: udpPath, probesPerHop: 2 });
  assert.deepEqual([r.reached, r.hops.length], [true, 2]);
  assert.equal(formatTraceHop(r.hops[1]), ' 2  fd00::2  2.000 ms  2.000 ms');
  const v4 = await runTraceroute({ probe: async () => ({ kind: 'unreachable', from: '10.0.0.2', rttMs: 1, code: 3, icmpVersion: 4 }), probesPerHop: 1 });
  assert.equal(v4.reached, true, 'ICMPv4 port unreachable is code 3');
  const admin = await runTraceroute({ probe: async () => ({ kind: 'unreachable', from: '10.0.0.2', rttMs: 1, code: 13, icmpVersion: 4 }), probesPerHop: 1 });
  assert.equal(admin.reached, false);
  assert.equal(formatTraceHop(admin.hops[0]), ' 1  10.0.0.2  1.000 ms !X');
  assert.deepEqual([reachedTarget({ kind: 'unreachable', from: 'x', rttMs: 0, code: 3, icmpVersion: 6 }), reachedTarget({ kind: 'timeout' })], [false, false], 'ICMPv6 code 3 is address unreachable');
});

test('each answering address is named once by resolveName and printed as name (address); unnamed ones stay numeric', async () => {
  const asked: string[] = [];
  const names: Record<string, string> = { '10.0.0.1': 'peer.lan', '10.2.0.2': 'far.lan' };
  const seen: string[] = [];
  const r = await runTraceroute({
    probe: path(['10.0.0.1', '10.1.0.1'], '10.2.0.2'),
    probesPerHop: 2,
    resolveName: async (a) => (asked.push(a), names[a]),
    onHop: (h) => seen.push(formatTraceHop(h)),
  });
  assert.deepEqual(asked, ['10.0.0.1', '10.1.0.1', '10.2.0.2']);
  assert.deepEqual(seen, [
    ' 1  peer.lan (10.0.0.1)  1.000 ms  1.000 ms',
    ' 2  10.1.0.1  2.000 ms  2.000 ms',
    ' 3  far.lan (10.2.0.2)  3.000 ms  3.000 ms',
  ]);
  assert.equal(r.hops[0].probes[0].kind !== 'timeout' && r.hops[0].probes[0].name, 'peer.lan');
});
