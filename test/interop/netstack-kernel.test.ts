/**
 * wgweb's NetInterface against the real Linux IP stack, with no WireGuard in between: a TUN
 * device inside a throwaway network namespace gives the kernel the same layer-3 link a WireGuard
 * interface would, and a small Python bridge relays its raw IP packets over UDP (via the harness
 * veth) to this process, where a NetInterface plays the peer.
 *
 *   kernel (10.77.0.1, fd77::1) ─ TUN ─ python bridge ─ UDP over veth ─ this test ─ NetInterface (10.77.0.2, fd77::2)
 *
 * Checks: Linux's ping(8) gets answers from us (also 3000-byte pings, fragmented both ways); our
 * pings get answers from Linux; UDP round trips with a kernel socket (small and 20000 bytes);
 * ICMP port unreachable both ways (our sockets hear Linux's; Linux's sockets get ECONNREFUSED
 * from ours).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { parseIp, parsePrefix } from '../../src/shared/ip-address.ts';
import { NetInterface } from '../../src/netstack/net-interface.ts';
import { closeAllNamespaces, createNamespace, waitFor, type Namespace } from '../../harness/netns.ts';
import { interopSkipReason } from '../../harness/requirements.ts';

const BRIDGE_PORT = 7419;
const KERNEL4 = '10.77.0.1';
const KERNEL6 = 'fd77::1';
const OURS4 = '10.77.0.2';
const OURS6 = 'fd77::2';

// Creates the TUN device, then relays packets: TUN -> UDP datagram to the first sender, and UDP
// datagrams -> TUN. One datagram is one IP packet.
const BRIDGE = `
import fcntl, os, select, socket, struct, sys
tun = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tun, 0x400454ca, struct.pack('16sH', b'wgwtun0', 0x1001))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
u.bind(('0.0.0.0', int(sys.argv[1])))
print('ready', flush=True)
peer = None
while True:
    r, _, _ = select.select([tun, u], [], [])
    if u in r:
        d, a = u.recvfrom(65535)
        if peer is None or d == b'hello':
            peer = a
            continue
        os.write(tun, d)
    if tun in r:
        p = os.read(tun, 65535)
        if peer is not None:
            u.sendto(p, peer)
`;

const ECHO_SERVER = `
import select, socket
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(('${KERNEL4}', 7777))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind(('${KERNEL6}', 7777))
for s in (s4, s6): s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
print('ready', flush=True)
while True:
    r, _, _ = select.select([s4, s6], [], [])
    for s in r:
        d, a = s.recvfrom(65535)
        s.sendto(d, a)
`;

describe('NetInterface against the Linux kernel over a TUN device', { skip: interopSkipReason(['python3', 'ping']) }, () => {
  let ns: Namespace;
  let net: NetInterface;
  let udp: Socket;
  let pump: ReturnType<typeof setInterval> | undefined;
  const now = (): number => performance.now();

  const flush = (): void => {
    for (const p of net.poll(now())) udp.send(p, BRIDGE_PORT, ns.nsAddress4);
  };

  before(async () => {
    ns = await createNamespace({ name: 'tunk' });
    let ready = false;
    const bridge = ns.spawn('python3', ['-c', BRIDGE, String(BRIDGE_PORT)], { onLine: (l) => void (l === 'ready' && (ready = true)) });
    await waitFor('the TUN bridge', () => ready, { context: () => bridge.output() });
    await ns.exec('ip', ['-batch', '-'], {
      input: [
        'link set wgwtun0 mtu 1420 up',
        `addr add ${KERNEL4}/24 dev wgwtun0`,
        `addr add ${KERNEL6}/64 dev wgwtun0 nodad`,
        '',
      ].join('\n'),
    });
    net = new NetInterface({ addresses: [parsePrefix(`${OURS4}/24`), parsePrefix(`${OURS6}/64`)] });
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, ns.rootAddress4, resolve));
    udp.on('message', (msg) => {
      net.receive(Uint8Array.from(msg), now());
      flush();
    });
    udp.send('hello', BRIDGE_PORT, ns.nsAddress4);
    // The sans-IO core has timers too (reassembly); a coarse pump stands in for the event loop.
    pump = setInterval(flush, 20);
    let serverReady = false;
    const server = ns.spawn('python3', ['-c', ECHO_SERVER], { onLine: (l) => void (l === 'ready' && (serverReady = true)) });
    await waitFor('the kernel UDP echo server', () => serverReady, { context: () => server.output() });
  });

  after(async () => {
    if (pump) clearInterval(pump);
    udp?.close();
    await ns?.close();
    await closeAllNamespaces();
  });

  for (const [family, target, flag] of [['IPv4', OURS4, '-4'], ['IPv6', OURS6, '-6']] as const) {
    test(`Linux's ping(8) gets answers from NetInterface (${family})`, async () => {
      const r = await ns.exec('ping', [flag, '-c', '3', '-i', '0.2', '-W', '5', target], { check: false, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 received/);
    });

    test(`a 3000-byte ping is fragmented by Linux, reassembled and answered in fragments Linux reassembles (${family})`, async () => {
      const before = net.stats().reassembled;
      const r = await ns.exec('ping', [flag, '-c', '2', '-i', '0.2', '-W', '5', '-s', '3000', target], { check: false, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3008 bytes from/);
      assert.ok(net.stats().reassembled >= before + 2);
    });
  }

  for (const [family, kernel] of [['IPv4', KERNEL4], ['IPv6', KERNEL6]] as const) {
    test(`our echo requests get replies from Linux (${family})`, async () => {
      const ping = net.icmpEcho();
      try {
        ping.sendEcho(parseIp(kernel), { sequence: 1 }, now());
        ping.sendEcho(parseIp(kernel), { sequence: 2, payload: new Uint8Array(2500).fill(0x5a) }, now());
        flush();
        const got = new Map<number, number>();
        await waitFor('two echo replies', () => {
          for (let e = ping.recv(); e; e = ping.recv()) if (e.kind === 'reply') got.set(e.sequence, e.data.length);
          return got.size === 2 || undefined;
        });
        assert.deepEqual([...got].sort(), [[1, 56], [2, 2500]]);
      } finally {
        ping.close();
      }
    });

    test(`UDP round trips with a kernel socket, small and 20000 bytes (${family})`, async () => {
      const s = net.udpBind();
      try {
        const big = Uint8Array.from({ length: 20000 }, (_, i) => (i * 11) & 0xff);
        s.send(parseIp(kernel), 7777, new TextEncoder().encode('ping'));
        s.send(parseIp(kernel), 7777, big);
        flush();
        const got: Uint8Array[] = [];
        await waitFor('two echoed datagrams', () => {
          for (let d = s.recv(); d; d = s.recv()) got.push(Uint8Array.from(d.data));
          return got.length === 2 || undefined;
        });
        got.sort((a, b) => a.length - b.length);
        assert.equal(new TextDecoder().decode(got[0]), 'ping');
        assert.deepEqual(got[1], big);
      } finally {
        s.close();
      }
    });

    test(`our UDP socket hears Linux's port unreachable (${family})`, async () => {
      const s = net.udpBind();
      try {
        s.send(parseIp(kernel), 9, new Uint8Array(4));
        flush();
        const e = await waitFor('an ICMP error', () => s.recvError());
        assert.equal(e.kind, 'unreachable');
        assert.equal(e.portUnreachable, true);
        assert.equal(e.port, 9);
      } finally {
        s.close();
      }
    });
  }

  test('a Linux UDP socket gets ECONNREFUSED from our port unreachable (IPv4 and IPv6)', async () => {
    const script = `
import socket
for fam, dst in ((socket.AF_INET, '${OURS4}'), (socket.AF_INET6, '${OURS6}')):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((dst, 9))
    s.send(b'x')
    try:
        s.recv(10)
        print('answered')
    except ConnectionRefusedError:
        print('refused')
    except socket.timeout:
        print('timeout')
`;
    const r = await ns.exec('python3', ['-c', script], { timeoutMs: 20_000 });
    assert.deepEqual(r.stdout.trim().split('\n'), ['refused', 'refused']);
  });
});
