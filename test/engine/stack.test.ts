/**
 * createStack: one wg-quick config becomes the tunnel and the interface both runtimes drive,
 * with the config's MTU (or wg-quick's 1420) on the tunnel, the interface and TCP alike; and an
 * outgoing TCP segment becomes its IP packet and its WireGuard message in the same bytes (#19).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStack } from '../../src/engine/stack.ts';
import { DEFAULT_MTU, parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { formatPrefix, parseIp, type Endpoint } from '../../src/shared/ip-address.ts';
import type { WgStack } from '../../src/engine/stack.ts';
import { formatKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';

const priv = generatePrivateKey();
const peerKey = formatKey(publicKeyFromPrivate(generatePrivateKey()));
const config = (extra = ''): string =>
  `[Interface]\nPrivateKey = ${formatKey(priv)}\nAddress = 10.9.0.2/24, fd09::2/64\n${extra}\n[Peer]\nPublicKey = ${peerKey}\nAllowedIPs = 10.9.0.0/24\nEndpoint = 192.0.2.1:51820\n`;

describe('createStack', () => {
  test('the tunnel has the interface key and the interface the configured addresses', () => {
    const { tunnel, net } = createStack(parseWgQuickConfig(config()).config);
    assert.equal(tunnel.publicKey, formatKey(publicKeyFromPrivate(priv)));
    assert.deepEqual(net.addresses.map(formatPrefix), ['10.9.0.2/24', 'fd09::2/64']);
  });

  test('without an MTU line, tunnel and interface use wg-quick\'s 1420', () => {
    const s = createStack(parseWgQuickConfig(config()).config);
    assert.deepEqual([s.mtu, s.tunnel.mtu, s.net.mtu], [DEFAULT_MTU, DEFAULT_MTU, DEFAULT_MTU]);
  });

  test('an MTU line sizes tunnel, interface and TCP alike', () => {
    const s = createStack(parseWgQuickConfig(config('MTU = 1280')).config);
    assert.deepEqual([s.mtu, s.tunnel.mtu, s.net.mtu], [1280, 1280, 1280]);
  });
});

describe('createStack: an outgoing segment is never copied between TCP and the datagram (#19)', () => {
  const keyA = generatePrivateKey();
  const keyB = generatePrivateKey();
  const pub = (k: Uint8Array): string => formatKey(publicKeyFromPrivate(k));
  const A_AT: Endpoint = { host: '192.0.2.2', port: 51820 };
  const B_AT: Endpoint = { host: '192.0.2.1', port: 51820 };
  const stackA = (sinkCopies = false): WgStack => createStack(parseWgQuickConfig(
    `[Interface]\nPrivateKey = ${formatKey(keyA)}\nAddress = 10.9.0.2/24, fd09::2/64\n[Peer]\nPublicKey = ${pub(keyB)}\nAllowedIPs = 10.9.0.1/32, fd09::1/128\nEndpoint = ${B_AT.host}:${B_AT.port}\n`,
  ).config, { sinkCopies });
  const stackB = (): WgStack => createStack(parseWgQuickConfig(
    `[Interface]\nPrivateKey = ${formatKey(keyB)}\nAddress = 10.9.0.1/24, fd09::1/64\n[Peer]\nPublicKey = ${pub(keyA)}\nAllowedIPs = 10.9.0.2/32, fd09::2/128\nEndpoint = ${A_AT.host}:${A_AT.port}\n`,
  ).config, { ownsDatagrams: true });

  interface Sent { packet: Uint8Array; plain: Uint8Array; datagram: Uint8Array }

  /** Moves everything both stacks send until both are quiet, as an EventLoop step would (sans-IO, `now` given). */
  function pump(a: WgStack, b: WgStack, now: number, sentByA: Sent[]): void {
    const deliver = (to: WgStack, data: Uint8Array, from: Endpoint): void => {
      const r = to.tunnel.receiveDatagram(data, from, now);
      for (const p of r.packets) to.net.receive(p.data, now);
      for (const d of r.datagrams) deliver(to === a ? b : a, d.data.slice(), to === a ? A_AT : B_AT);
    };
    for (let round = 0; round < 1000; round++) {
      let moved = 0;
      for (const [from, to, at] of [[a, b, A_AT], [b, a, B_AT]] as const) {
        if (from.tunnel.nextWakeAt() <= now) for (const d of from.tunnel.tick(now).datagrams) deliver(to, d.data.slice(), at);
        for (const p of from.net.poll(now)) {
          const plain = p.slice();
          for (const d of from.tunnel.sendPacket(p, now).datagrams) {
            if (from === a) sentByA.push({ packet: p, plain, datagram: d.data });
            deliver(to, d.data.slice(), at);
            moved++;
          }
        }
      }
      if (moved === 0) return;
    }
  }

  /** Sends `size` bytes from A to B over TCP, pumping both stacks; returns what B read and what A sent. */
  function transfer(a: WgStack, b: WgStack, local: string, remote: string, size: number): { received: Uint8Array; body: Uint8Array; sent: Sent[] } {
    let now = 1000;
    const sent: Sent[] = [];
    const listener = b.net.tcp!.listen({ port: 80 });
    const client = a.net.tcp!.connect({ localAddress: parseIp(local), remoteAddress: parseIp(remote), remotePort: 80 }, now);
    const body = new Uint8Array(size).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const got: Uint8Array[] = [];
    let gotBytes = 0;
    let written = 0;
    let server;
    for (let tick = 0; tick < 20_000 && gotBytes < body.length; tick++) {
      pump(a, b, now, sent);
      server ??= listener.accept();
      if (client.state === 'ESTABLISHED' && written < body.length) written += client.send(body.subarray(written));
      for (let c = server?.recv(); c; c = server?.recv()) (got.push(c), (gotBytes += c.length));
      now += 1;
    }
    const received = new Uint8Array(gotBytes);
    let at = 0;
    for (const c of got) (received.set(c, at), (at += c.length));
    assert.equal(received.length, body.length, `every byte arrived (${client.state}, ${written} written, ${sent.length} sent)`);
    assert.ok(received.every((x, i) => x === body[i]), 'the same bytes');
    return { received, body, sent };
  }

  for (const [family, local, remote] of [['IPv4', '10.9.0.2', '10.9.0.1'], ['IPv6', 'fd09::2', 'fd09::1']] as const) {
    test(`${family}: each data segment's datagram is a view of the bytes the packet was built in, and the peer gets every byte`, () => {
      const { sent } = transfer(stackA(), stackB(), local, remote, 300_000);
      const ipHeader = family === 'IPv4' ? 20 : 40;
      const data = sent.filter((s) => s.plain.length > ipHeader + 40);
      assert.ok(data.length >= 200, `${data.length} data segments sent`);
      for (const s of data) {
        // (ok, not equal: a failing equal on two 256 KiB buffers would print both)
        assert.ok(s.datagram.buffer === s.packet.buffer, 'the datagram lies in the packet\'s buffer');
        assert.equal(s.datagram.byteOffset, s.packet.byteOffset - 16, 'its 16-byte header right before the packet');
        assert.ok(s.packet.subarray(ipHeader).some((x, i) => x !== s.plain[ipHeader + i]), 'the packet was encrypted where it lay');
      }
    });
  }

  test('sinkCopies: every poll builds its segments in the memory of the one before, and every byte still arrives intact', () => {
    const reused = transfer(stackA(true), stackB(), '10.9.0.2', '10.9.0.1', 2_000_000);
    const fresh = transfer(stackA(false), stackB(), '10.9.0.2', '10.9.0.1', 2_000_000);
    const buffers = (sent: Sent[]): number => new Set(sent.map((s) => s.datagram.buffer)).size;
    assert.ok(buffers(fresh.sent) >= 8, `without it, ${buffers(fresh.sent)} slabs for 2 MB`);
    assert.ok(buffers(reused.sent) <= 3, `with it, ${buffers(reused.sent)} slabs for 2 MB`);
  });
});
