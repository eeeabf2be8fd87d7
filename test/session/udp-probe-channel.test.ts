/**
 * UDP probes against an in-memory interface: each probe goes to its own port with its TTL, and the
 * ICMP error or datagram that comes back settles the probe whose (address, port) it quotes; others
 * are ignored; silence is a timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../../src/shared/ip-address.ts';
import { Ipv4Packet } from '../../src/netstack/wire/ipv4.ts';
import { UdpProbeChannel } from '../../src/session/udp-probe-channel.ts';
import { icmpPacket, makeInterface, udpPacket } from '../netstack/net-test-kit.ts';

const ME = parseIp('10.0.0.1');
const TARGET = parseIp('10.9.0.2');

function setup() {
  const net = makeInterface(['10.0.0.1/24']);
  let clock = 100;
  const socket = net.udpBind(40000);
  const channel = new UdpProbeChannel(socket, () => {}, () => clock);
  return { net, channel, advance: (ms: number) => (clock += ms) };
}

test('a Time Exceeded quoting probe 33435 settles that probe, not the one to 33434, with the router and the RTT', async () => {
  const { net, channel, advance } = setup();
  const first = channel.send(TARGET, 33434, 1, 5000);
  const second = channel.send(TARGET, 33435, 2, 5000);
  const [p1, p2] = net.poll(0);
  assert.deepEqual([Ipv4Packet.unchecked(p1).ttl, Ipv4Packet.unchecked(p2).ttl], [1, 2]);
  advance(7);
  net.receive(icmpPacket(parseIp('10.0.0.254'), ME, { kind: 'time-exceeded', code: 0, quote: p2.subarray(0, 28) }), 107);
  const o2 = await second;
  assert.ok(o2.kind === 'error');
  assert.deepEqual([o2.error.kind, formatIp(o2.error.reporter), o2.error.port, o2.error.receivedAt - o2.sentAt], ['time-exceeded', '10.0.0.254', 33435, 7]);
  net.receive(icmpPacket(TARGET, ME, { kind: 'destination-unreachable', code: 3, quote: p1.subarray(0, 28) }), 110);
  const o1 = await first;
  assert.ok(o1.kind === 'error' && o1.error.portUnreachable);
  channel.close();
});

test('a datagram back from the probed port is an answer; an error for another port settles nothing; silence times out', async () => {
  const { net, channel } = setup();
  const probe = channel.send(TARGET, 33500, 3, 50);
  const [p] = net.poll(0);
  const other = new Uint8Array(p.subarray(0, 28));
  other[22] = 0x99; // the quoted destination port's low byte: another probe's port
  net.receive(icmpPacket(TARGET, ME, { kind: 'destination-unreachable', code: 3, quote: other }), 1);
  assert.equal((await probe).kind, 'timeout');
  const answered = channel.send(TARGET, 33501, 3, 5000);
  net.receive(udpPacket(TARGET, ME, 33501, 40000, new Uint8Array([1])), 2);
  const o = await answered;
  assert.ok(o.kind === 'answer');
  assert.equal(o.datagram.port, 33501);
  assert.throws(() => channel.send(TARGET, 0, 1, 10), RangeError);
  channel.close();
});

test('a second probe to a port whose probe still waits is refused: an answer could not say which one it was', async () => {
  const { channel } = setup();
  const waiting = channel.send(TARGET, 33600, 1, 5000);
  assert.throws(() => channel.send(TARGET, 33600, 2, 5000), /already waiting/);
  channel.close();
  assert.equal((await waiting).kind, 'timeout', 'close ends the wait');
});
