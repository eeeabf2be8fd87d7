/**
 * EventLoop's receive batching: datagrams that arrive in one synchronous burst (what the `ws`
 * package does with a socket read) are all fed to the tunnel and the stack before the stack is
 * polled, at most MAX_DATAGRAMS_PER_STEP at a time; app wakes still coalesce into one step.
 * The tunnel and interface are counting fakes: only the loop's scheduling is under test here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoop, MAX_DATAGRAMS_PER_STEP } from '../../src/engine/event-loop.ts';
import type { Tunnel } from '../../src/wireguard/tunnel.ts';
import type { NetInterface } from '../../src/netstack/net-interface.ts';

const FROM = { host: '192.0.2.1', port: 51820 };
const empty = { datagrams: [], packets: [], events: [] };

function fakes(): { loop: EventLoop; log: string[] } {
  const log: string[] = [];
  const tunnel = {
    receiveDatagram: (d: Uint8Array) => {
      log.push(`rx${d[0]}`);
      return { ...empty, packets: [{ peer: 0, data: d }] };
    },
    sendPacket: () => empty,
    tick: () => empty,
    connect: () => empty,
    nextWakeAt: () => Infinity,
    close: () => undefined,
  } as unknown as Tunnel;
  const net = {
    receive: (p: Uint8Array) => log.push(`in${p[0]}`),
    poll: () => {
      log.push('poll');
      return [];
    },
    pollAt: () => Infinity,
  } as unknown as NetInterface;
  return { loop: new EventLoop({ tunnel, net, output: () => undefined }), log };
}

const microtasks = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('EventLoop receive batching', () => {
  test('a burst of datagrams is all delivered to the stack before one poll', async () => {
    const { loop, log } = fakes();
    for (let i = 1; i <= 3; i++) loop.datagramIn(new Uint8Array([i]), FROM);
    assert.deepEqual(log, ['rx1', 'in1', 'rx2', 'in2', 'rx3', 'in3'], 'nothing polled inside the burst');
    await microtasks();
    assert.deepEqual(log.slice(6), ['poll'], 'one poll after the burst');
    loop.close();
  });

  test('the counters say a burst of datagrams cost one step and one poll (what browser-ab --trace prints per MB)', async () => {
    const { loop } = fakes();
    for (let i = 1; i <= 5; i++) loop.datagramIn(new Uint8Array([i]), FROM);
    await microtasks();
    assert.deepEqual(loop.stats(), { steps: 1, polls: 1, packetsOut: 0, datagramsIn: 5, datagramsOut: 0, timersSet: 0 });
    loop.wake();
    await microtasks();
    assert.deepEqual([loop.stats().steps, loop.stats().polls], [2, 2]);
    loop.close();
  });

  test(`a long burst is polled every ${MAX_DATAGRAMS_PER_STEP} datagrams, and once more for the rest`, async () => {
    const { loop, log } = fakes();
    const n = 2 * MAX_DATAGRAMS_PER_STEP + 3;
    for (let i = 0; i < n; i++) loop.datagramIn(new Uint8Array([i & 0xff]), FROM);
    const pollsInside = log.filter((e) => e === 'poll').length;
    assert.equal(pollsInside, 2);
    assert.equal(log.indexOf('poll'), 2 * MAX_DATAGRAMS_PER_STEP, `the first poll follows datagram ${MAX_DATAGRAMS_PER_STEP}`);
    await microtasks();
    assert.equal(log.filter((e) => e === 'poll').length, 3, 'the last 3 datagrams get their poll too');
    loop.close();
  });

  test('datagrams in separate tasks each get their own poll (no added latency)', async () => {
    const { loop, log } = fakes();
    loop.datagramIn(new Uint8Array([1]), FROM);
    await microtasks();
    loop.datagramIn(new Uint8Array([2]), FROM);
    await microtasks();
    assert.deepEqual(log, ['rx1', 'in1', 'poll', 'rx2', 'in2', 'poll']);
    loop.close();
  });

  test('app wakes and datagrams in the same tick share one step; nothing runs after close', async () => {
    const { loop, log } = fakes();
    loop.wake();
    loop.datagramIn(new Uint8Array([1]), FROM);
    loop.wake();
    await microtasks();
    assert.equal(log.filter((e) => e === 'poll').length, 1);
    loop.datagramIn(new Uint8Array([2]), FROM);
    loop.close();
    await microtasks();
    assert.equal(log.filter((e) => e === 'poll').length, 1, 'the step queued before close does not run');
  });
});

describe('EventLoop timer', () => {
  /** A loop whose stack asks to be polled at `deadline.at`, on fake timers that record each call. */
  function timed(): { loop: EventLoop; deadline: { at: number }; calls: string[]; fire(): void; clock: { now: number } } {
    const deadline = { at: Infinity };
    const clock = { now: 0 };
    const calls: string[] = [];
    let pending: (() => void) | undefined;
    const tunnel = { receiveDatagram: () => empty, sendPacket: () => empty, tick: () => empty, connect: () => empty, nextWakeAt: () => Infinity, close: () => undefined } as unknown as Tunnel;
    const net = { receive: () => undefined, poll: () => [], pollAt: () => deadline.at } as unknown as NetInterface;
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        calls.push(`set ${ms}`);
        pending = fn;
        return calls.length;
      },
      clearTimeout: () => {
        calls.push('clear');
        pending = undefined;
      },
    };
    const loop = new EventLoop({ tunnel, net, output: () => undefined, clock: () => clock.now, timers });
    return { loop, deadline, calls, clock, fire: () => pending?.() };
  }

  test('a deadline that moves later keeps the armed timer (no clear and set per step)', () => {
    const { loop, deadline, calls } = timed();
    deadline.at = 200;
    loop.step();
    for (const at of [210, 230, 260]) {
      deadline.at = at;
      loop.step();
    }
    assert.deepEqual(calls, ['set 200'], 'armed once; the later deadlines wait for that timer');
    loop.close();
  });

  test('an earlier deadline re-arms at once, and an early firing re-arms for the deadline that moved', () => {
    const { loop, deadline, calls, clock, fire } = timed();
    deadline.at = 200;
    loop.step();
    deadline.at = 40;
    loop.step();
    assert.deepEqual(calls, ['set 200', 'clear', 'set 40']);
    deadline.at = 300;
    clock.now = 40;
    fire();
    assert.deepEqual(calls.slice(3), ['set 260'], 'the timer fired at 40, before the deadline of 300: armed again for the rest');
    loop.close();
  });
});
