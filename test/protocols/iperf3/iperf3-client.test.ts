/**
 * The sans-IO iperf3 client against a scripted server: the control channel's bytes in order, the
 * intervals on a fake clock, the summary from both sides' figures, and the server's refusals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Iperf3Client, type Iperf3Event } from '../../../src/protocols/iperf3/iperf3-client.ts';
import { COOKIE_SIZE, Iperf3State, encodeJsonFrame, streamId } from '../../../src/protocols/iperf3/iperf3-messages.ts';
import { ErrorCode } from '../../../src/shared/errors.ts';

const fixedRandom = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

function drain(c: Iperf3Client): { tx: Uint8Array[]; events: Iperf3Event[] } {
  const tx: Uint8Array[] = [];
  const events: Iperf3Event[] = [];
  for (let t = c.pollTransmit(); t; t = c.pollTransmit()) tx.push(t);
  for (let e = c.pollEvent(); e; e = c.pollEvent()) events.push(e);
  return { tx, events };
}

function jsonOf(frame: Uint8Array): Record<string, unknown> {
  const len = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
  assert.equal(frame.length, 4 + len);
  return JSON.parse(new TextDecoder().decode(frame.subarray(4))) as Record<string, unknown>;
}

function serverResults(bytes: number[], secs = 3, retransmits = -1): Uint8Array {
  return encodeJsonFrame({
    cpu_util_total: 1,
    cpu_util_user: 0.5,
    cpu_util_system: 0.5,
    sender_has_retransmits: retransmits >= 0 ? 1 : -1,
    streams: bytes.map((b, i) => ({ id: streamId(i), bytes: b, retransmits, jitter: 0, errors: 0, packets: 0, start_time: 0, end_time: secs })),
  });
}

/** Runs a whole test: `perTick` bytes per stream every 250 ms of fake time. */
function runTest(c: Iperf3Client, perTick: number, server: Uint8Array): { tx: Uint8Array[]; events: Iperf3Event[] } {
  const all = { tx: [] as Uint8Array[], events: [] as Iperf3Event[] };
  const take = (): void => {
    const d = drain(c);
    all.tx.push(...d.tx);
    all.events.push(...d.events);
  };
  take();
  c.receive(Uint8Array.of(Iperf3State.PARAM_EXCHANGE), 0);
  c.receive(Uint8Array.of(Iperf3State.CREATE_STREAMS), 1);
  c.receive(Uint8Array.of(Iperf3State.TEST_START, Iperf3State.TEST_RUNNING), 10);
  take();
  for (let t = 10; c.running; t += 250) {
    for (let i = 0; i < c.streams; i++) c.countBytes(i, perTick, t);
    if (t + 250 >= c.pollAt()) c.handleTimeout(c.pollAt());
    take();
  }
  c.receive(Uint8Array.of(Iperf3State.EXCHANGE_RESULTS), 3100);
  c.receive(server.subarray(0, 5), 3101);
  c.receive(server.subarray(5), 3102);
  c.receive(Uint8Array.of(Iperf3State.DISPLAY_RESULTS), 3103);
  take();
  return all;
}

describe('Iperf3Client', () => {
  it('sends the cookie, then the parameters when the server asks for them', () => {
    const c = new Iperf3Client({ seconds: 3, streams: 2, reverse: true, randomBytes: fixedRandom });
    const first = drain(c);
    assert.equal(first.tx.length, 1);
    assert.equal(first.tx[0].length, COOKIE_SIZE);
    assert.equal(first.tx[0][COOKIE_SIZE - 1], 0, 'the cookie ends with NUL');
    assert.match(new TextDecoder().decode(first.tx[0].subarray(0, 36)), /^[a-z2-7]{36}$/);
    c.receive(Uint8Array.of(Iperf3State.PARAM_EXCHANGE), 0);
    const { tx } = drain(c);
    const params = jsonOf(tx[0]);
    assert.equal(params.tcp, true);
    assert.equal(params.time, 3);
    assert.equal(params.parallel, 2);
    assert.equal(params.reverse, true);
    assert.equal(params.len, 128 * 1024);
  });

  it('asks for the data streams and reports one interval per second, then sends TEST_END at the end', () => {
    const c = new Iperf3Client({ seconds: 3, streams: 2, randomBytes: fixedRandom });
    const { tx, events } = runTest(c, 1000, serverResults([11_000, 12_000]));
    assert.deepEqual(events.find((e) => e.type === 'create-streams'), { type: 'create-streams', count: 2 });
    const intervals = events.flatMap((e) => (e.type === 'interval' ? [e.interval] : []));
    assert.equal(intervals.length, 3);
    assert.deepEqual(intervals.map((i) => [i.start, i.end]), [[0, 1], [1, 2], [2, 3]]);
    assert.equal(intervals[0].bytes, 8000, '4 ticks × 2 streams × 1000 bytes');
    assert.equal(intervals[0].bitsPerSecond, 64_000);
    const order = tx.map((t) => (t.length === 1 ? t[0] : t.length === COOKIE_SIZE ? 'cookie' : 'json'));
    assert.deepEqual(order, ['cookie', 'json', Iperf3State.TEST_END, 'json', Iperf3State.IPERF_DONE]);
    assert.ok(events.findIndex((e) => e.type === 'test-end') > events.findIndex((e) => e.type === 'interval'));
  });

  it('sends its per-stream results with iperf3 stream ids, minus what the peer never acknowledged', () => {
    const c = new Iperf3Client({ seconds: 3, streams: 3, randomBytes: fixedRandom });
    let reported = false;
    const orig = c.handleTimeout.bind(c);
    c.handleTimeout = (now: number) => {
      orig(now);
      if (!c.running && !reported) {
        reported = true;
        c.reportStreams([{ unacknowledged: 500, retransmits: 2 }, { unacknowledged: 0, retransmits: 0 }, { unacknowledged: 100, retransmits: 1 }]);
      }
    };
    const { tx, events } = runTest(c, 1000, serverResults([11_000, 12_000, 11_900]));
    const ours = jsonOf(tx[3]);
    const streams = ours.streams as { id: number; bytes: number; retransmits: number }[];
    assert.deepEqual(streams.map((s) => s.id), [1, 3, 4]);
    assert.deepEqual(streams.map((s) => s.bytes), [11_500, 12_000, 11_900]);
    assert.deepEqual(streams.map((s) => s.retransmits), [2, 0, 1]);
    assert.equal(ours.sender_has_retransmits, 1);
    const done = events.find((e) => e.type === 'done');
    assert.ok(done && done.type === 'done');
    assert.equal(done.summary.senderSide, 'client');
    assert.equal(done.summary.sender.bytes, 35_400);
    assert.equal(done.summary.sender.retransmits, 3);
    assert.equal(done.summary.receiver.bytes, 34_900);
    assert.equal(done.summary.receiver.seconds, 3);
    assert.equal(Math.round(done.summary.receiver.bitsPerSecond), Math.round((34_900 * 8) / 3));
  });

  it('in reverse mode the server is the sender, with its retransmits, and we are the receiver', () => {
    const c = new Iperf3Client({ seconds: 3, reverse: true, randomBytes: fixedRandom });
    const { tx, events } = runTest(c, 2000, serverResults([30_000], 3, 7));
    const ours = jsonOf(tx[3]);
    assert.equal(ours.sender_has_retransmits, -1);
    const done = events.find((e) => e.type === 'done');
    assert.ok(done && done.type === 'done');
    assert.equal(done.summary.senderSide, 'server');
    assert.equal(done.summary.sender.bytes, 30_000);
    assert.equal(done.summary.sender.retransmits, 7);
    assert.equal(done.summary.receiver.bytes, 24_000, '12 ticks × 2000');
  });

  it('counts until TEST_END goes out, however late the timer ran, and nothing after it', () => {
    const c = new Iperf3Client({ seconds: 1, randomBytes: fixedRandom });
    drain(c);
    c.receive(Uint8Array.of(Iperf3State.PARAM_EXCHANGE, Iperf3State.CREATE_STREAMS, Iperf3State.TEST_START), 0);
    c.countBytes(0, 100, 500);
    c.countBytes(0, 100, 1200);
    c.handleTimeout(1300);
    c.countBytes(0, 100, 1301);
    assert.deepEqual(c.streamTotals(), [200]);
    const last = drain(c).events.flatMap((e) => (e.type === 'interval' ? [e.interval] : []));
    assert.deepEqual(last.map((i) => [i.start, i.end, i.bytes]), [[0, 1.3, 200]], 'one interval, closed when the test really ended');
  });

  it('reports a busy server, a server error with its codes, and a stranger on the port as IPERF3_FAILED', () => {
    const busy = new Iperf3Client({ seconds: 1 });
    busy.receive(Uint8Array.of(0xff), 0);
    const e1 = drain(busy).events.find((e) => e.type === 'error');
    assert.ok(e1 && e1.type === 'error');
    assert.equal(e1.error.code, ErrorCode.IPERF3_FAILED);
    assert.match(e1.error.message, /busy/);

    const err = new Iperf3Client({ seconds: 1 });
    err.receive(Uint8Array.of(0xfe, 0, 0, 0), 0);
    assert.equal(drain(err).events.length, 0, 'waits for both codes');
    err.receive(Uint8Array.of(5, 0, 0, 0, 0), 0);
    const e2 = drain(err).events.find((e) => e.type === 'error');
    assert.ok(e2 && e2.type === 'error');
    assert.deepEqual(e2.error.detail, { iperfError: 5, errno: 0 });

    const http = new Iperf3Client({ seconds: 1 });
    http.receive(new TextEncoder().encode('HTTP/1.1 400'), 0);
    const e3 = drain(http).events.find((e) => e.type === 'error');
    assert.ok(e3 && e3.type === 'error');
    assert.match(e3.error.message, /is that port an iperf3 server/);
    assert.ok(http.finished);
  });

  it('fails when the control connection closes mid-test or the results are not an iperf3 object', () => {
    const a = new Iperf3Client({ seconds: 1 });
    a.transportClosed();
    assert.match((drain(a).events[0] as { error: Error }).error.message, /closed the control connection/);
    const b = new Iperf3Client({ seconds: 1 });
    b.receive(Uint8Array.of(Iperf3State.EXCHANGE_RESULTS), 0);
    b.receive(encodeJsonFrame({ streams: 'no' }), 0);
    assert.match((drain(b).events.find((e) => e.type === 'error') as { error: Error }).error.message, /not an iperf3 results object/);
  });

  it('refuses settings iperf3 would not run', () => {
    assert.throws(() => new Iperf3Client({ seconds: 0 }), RangeError);
    assert.throws(() => new Iperf3Client({ seconds: 1, streams: 17 }), RangeError);
    assert.throws(() => new Iperf3Client({ seconds: 1, blockSize: 0 }), RangeError);
    assert.throws(() => streamId(-1), RangeError);
  });
});
