import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { IcmpEchoSocket, type IcmpEchoSocketHost } from '../../../src/netstack/socket/icmp-socket.ts';

function host(): IcmpEchoSocketHost & { requests: { destination: IpAddress; identifier: number; sequence: number; payload: Uint8Array }[]; released: number } {
  const h = {
    requests: [] as { destination: IpAddress; identifier: number; sequence: number; payload: Uint8Array }[],
    released: 0,
    sendEchoRequest(destination: IpAddress, identifier: number, sequence: number, payload: Uint8Array) {
      h.requests.push({ destination, identifier, sequence, payload });
    },
    releaseEcho() {
      h.released++;
    },
  };
  return h;
}

const DST = parseIp('10.0.0.2');

describe('IcmpEchoSocket', () => {
  test('sends requests with its identifier and, by default, 56 bytes of data like ping(8)', () => {
    const h = host();
    const s = new IcmpEchoSocket(h, 77);
    s.sendEcho(DST, { sequence: 1 }, 0);
    assert.equal(h.requests[0].identifier, 77);
    assert.equal(h.requests[0].payload.length, 56);
    s.sendEcho(DST, { sequence: 2, payload: new Uint8Array(3) }, 0);
    assert.equal(h.requests[1].payload.length, 3);
  });

  test('a reply carries sentAt and receivedAt in the caller clock, so rtt = receivedAt - sentAt', () => {
    const s = new IcmpEchoSocket(host(), 77);
    s.sendEcho(DST, { sequence: 5 }, 1000);
    s.deliverReply(DST, 5, new Uint8Array(0), 63, 1042);
    const r = s.recv();
    assert.ok(r?.kind === 'reply');
    assert.equal(r.receivedAt - r.sentAt!, 42);
    assert.equal(r.ttl, 63);
    assert.equal(r.duplicate, false);
  });

  test('a second reply to the same sequence is flagged as a duplicate (ping "DUP!")', () => {
    const s = new IcmpEchoSocket(host(), 77);
    s.sendEcho(DST, { sequence: 5 }, 0);
    s.deliverReply(DST, 5, new Uint8Array(0), 64, 1);
    s.deliverReply(DST, 5, new Uint8Array(0), 64, 2);
    assert.equal((s.recv() as { duplicate: boolean }).duplicate, false);
    assert.equal((s.recv() as { duplicate: boolean }).duplicate, true);
  });

  test('a reply to a sequence we never sent (or forgot) has no sentAt', () => {
    const s = new IcmpEchoSocket(host(), 77, { rememberedSequences: 2 });
    for (const seq of [1, 2, 3]) s.sendEcho(DST, { sequence: seq }, seq * 10);
    s.deliverReply(DST, 1, new Uint8Array(0), 64, 100);
    s.deliverReply(DST, 3, new Uint8Array(0), 64, 100);
    assert.equal(s.recv()!.sentAt, undefined, 'sequence 1 was forgotten');
    assert.equal(s.recv()!.sentAt, 30);
  });

  test('errors and replies share one queue, in arrival order', () => {
    const s = new IcmpEchoSocket(host(), 77);
    s.sendEcho(DST, { sequence: 1 }, 0);
    s.deliverError({ type: 'unreachable', icmpVersion: 4, code: 1, reporter: parseIp('10.0.0.254'), destination: DST, sequence: 1, receivedAt: 3 });
    s.deliverReply(DST, 2, new Uint8Array(0), 64, 4);
    const e = s.recv();
    assert.ok(e?.kind === 'error');
    assert.equal(e.sentAt, 0);
    assert.equal(s.recv()?.kind, 'reply');
  });

  test('the queue keeps the newest events and counts what it dropped', () => {
    const s = new IcmpEchoSocket(host(), 77, { queueLength: 2 });
    let wakes = 0;
    s.onReadable = () => wakes++;
    for (const seq of [1, 2, 3]) s.deliverReply(DST, seq, new Uint8Array(0), 64, 0);
    assert.equal(wakes, 3);
    assert.equal(s.dropped, 1);
    assert.equal(s.recv()!.sequence, 2);
  });

  test('rejects bad sequence numbers and sends after close', () => {
    const h = host();
    const s = new IcmpEchoSocket(h, 77);
    assert.throws(() => s.sendEcho(DST, { sequence: 65536 }, 0), RangeError);
    assert.throws(() => s.sendEcho(DST, { sequence: -1 }, 0), RangeError);
    s.close();
    s.close();
    assert.equal(h.released, 1);
    assert.throws(() => s.sendEcho(DST, { sequence: 1 }, 0), TypeError);
  });
});
