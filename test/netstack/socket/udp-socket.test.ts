import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { UdpSocket, type UdpSocketError, type UdpSocketHost } from '../../../src/netstack/socket/udp-socket.ts';

/** A host that records what the socket asks of it. */
function host(): UdpSocketHost & { sent: { localPort: number; address: IpAddress; port: number; data: Uint8Array }[]; released: UdpSocket[] } {
  const sent: { localPort: number; address: IpAddress; port: number; data: Uint8Array }[] = [];
  const released: UdpSocket[] = [];
  return {
    sent,
    released,
    sendUdp: (localPort, address, port, data) => sent.push({ localPort, address, port, data }) <= 2,
    releaseUdp: (s) => void released.push(s),
  };
}

const datagram = (n: number) => ({ address: parseIp('10.0.0.2'), port: 53, data: new Uint8Array([n]), localAddress: parseIp('10.0.0.1'), receivedAt: n });
const error = (port: number): UdpSocketError => ({
  kind: 'unreachable', icmpVersion: 4, code: 3, portUnreachable: true, reporter: parseIp('10.0.0.2'), address: parseIp('10.0.0.2'), port, receivedAt: 0,
});

describe('UdpSocket', () => {
  test('send hands the datagram to the interface from the bound port, and says whether it was queued', () => {
    const h = host(); // this host queues two datagrams, then reports a full queue
    const s = new UdpSocket(h, 5000);
    assert.equal(s.send(parseIp('10.0.0.2'), 53, new Uint8Array([1])), true);
    assert.equal(h.sent[0].localPort, 5000);
    assert.equal(h.sent[0].port, 53);
    assert.equal(s.send(parseIp('10.0.0.2'), 53, new Uint8Array([2])), true);
    assert.equal(s.send(parseIp('10.0.0.2'), 53, new Uint8Array([3])), false);
    assert.equal(s.stats().sent, 2);
  });

  test('received datagrams queue in order and wake the owner each time', () => {
    const s = new UdpSocket(host(), 5000);
    let wakes = 0;
    s.onReadable = () => wakes++;
    s.deliver(datagram(1));
    s.deliver(datagram(2));
    assert.equal(wakes, 2);
    assert.equal(s.pending, 2);
    assert.equal(s.recv()!.data[0], 1);
    assert.equal(s.recv()!.data[0], 2);
    assert.equal(s.recv(), undefined);
  });

  test('a full queue drops new datagrams and counts them, without waking the owner', () => {
    const s = new UdpSocket(host(), 5000, { queueLength: 1 });
    let wakes = 0;
    s.onReadable = () => wakes++;
    s.deliver(datagram(1));
    s.deliver(datagram(2));
    assert.equal(wakes, 1);
    assert.deepEqual(s.stats(), { sent: 0, received: 1, dropped: 1, errors: 0 });
  });

  test('ICMP errors wait in their own bounded queue, keeping the newest', () => {
    const s = new UdpSocket(host(), 5000, { errorQueueLength: 2 });
    for (const p of [1, 2, 3]) s.deliverError(error(p));
    assert.equal(s.recvError()!.port, 2);
    assert.equal(s.recvError()!.port, 3);
    assert.equal(s.recvError(), undefined);
    assert.equal(s.stats().errors, 3);
  });

  test('close releases the port once; queued data stays readable; send then throws', () => {
    const h = host();
    const s = new UdpSocket(h, 5000);
    s.deliver(datagram(7));
    s.close();
    s.close();
    assert.equal(h.released.length, 1);
    assert.equal(s.closed, true);
    assert.equal(s.recv()!.data[0], 7);
    assert.throws(() => s.send(parseIp('10.0.0.2'), 53, new Uint8Array(0)), TypeError);
  });

  test('queue limits must be positive integers', () => {
    assert.throws(() => new UdpSocket(host(), 1, { queueLength: 0 }), RangeError);
    assert.throws(() => new UdpSocket(host(), 1, { errorQueueLength: 1.5 }), RangeError);
  });
});
