/**
 * The capture half of the worker contract end to end, minus the protocol: the page's TunnelClient
 * talks to a real TunnelService over a real MessageChannel, and a stand-in session feeds packets
 * through the very `onPacket` hook the service hands to Session.start. Summaries, single packets
 * and the pcapng file cross the boundary (the file as a transferred buffer) and read back intact.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expose } from 'comlink';
import { CaptureService, captureFileName, type PacketHook } from '../../../src/browser/capture/capture-service.ts';
import { TunnelService, type SessionLike } from '../../../src/browser/worker/tunnel-service.ts';
import { TunnelClient } from '../../../src/browser/ui/tunnel-client.ts';
import type { TunnelStatus } from '../../../src/browser/worker/tunnel-api.ts';
import { TcpFlag } from '../../../src/netstack/wire/tcp.ts';
import { WgwebError } from '../../../src/shared/errors.ts';
import { kernelPacket } from '../../vectors/netstack/kernel-packets.ts';
import { readPcapng } from '../../helpers/pcapng-reader.ts';
import { tcpPacket } from './packet-fixtures.ts';

const PEER = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const CONFIG = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.8.0.2/32

[Peer]
PublicKey = ${PEER}
AllowedIPs = 10.8.0.0/24, 10.77.0.0/24
Endpoint = 192.0.2.1:51820
`;
const T0 = 1_700_000_000_000.25;

const STATUS: TunnelStatus = {
  state: 'up',
  relay: { url: 'ws://127.0.0.1:1/wg', state: 'open' },
  interface: { publicKey: 'A'.repeat(43) + '=', addresses: ['10.8.0.2/32'] },
  peers: [],
};

/** Just enough of a session; the test drives the packet hook it was started with. */
function quietSession(): SessionLike {
  return {
    status: () => STATUS,
    onEvent: () => () => {},
    ping: async () => assert.fail('unused'),
    dns: async () => assert.fail('unused'),
    tcping: async () => assert.fail('unused'),
    fetch: async () => assert.fail('unused'),
    close: async () => {},
  };
}

function pair(capture = new CaptureService({ now: () => Date.UTC(2025, 0, 2, 3, 4, 5) })) {
  const hooks: PacketHook[] = [];
  const { port1, port2 } = new MessageChannel();
  const service = new TunnelService(async (o) => {
    if (o.onPacket) hooks.push(o.onPacket);
    return quietSession();
  }, capture);
  expose(service, port1 as unknown as Parameters<typeof expose>[1]);
  const client = new TunnelClient(port2 as unknown as ConstructorParameters<typeof TunnelClient>[0]);
  const done = () => {
    client.dispose();
    port1.close();
    port2.close();
  };
  return { client, hooks, done };
}

describe('CaptureService', () => {
  test('each session becomes an interface described from its config; the hook records into it', () => {
    const svc = new CaptureService();
    assert.equal(svc.status().running, true, 'on from the start, so the first packets are in the list');
    const hook = svc.hookFor(CONFIG);
    hook('out', kernelPacket('icmpv4-echo-request'), T0);
    const broken = svc.hookFor('this is not a config');
    broken('in', kernelPacket('icmpv4-echo-reply'), T0 + 1);
    assert.deepEqual(svc.capture.interfaces.map((i) => [i.name, i.peers.length]), [
      ['wgweb0', 1],
      ['wgweb1', 0],
    ]);
    assert.equal(svc.capture.interfaces[0].peers[0].publicKey, PEER);
    assert.equal(svc.capture.interfaces[0].peers[0].endpoint, '192.0.2.1:51820');
    assert.deepEqual(svc.capture.slice(1, 3).map((r) => r.iface), [0, 1]);
  });

  test('file names carry the local date and time', () => {
    const at = new Date(2025, 0, 2, 3, 4, 5).getTime();
    assert.equal(captureFileName(at), 'wgweb-20250102-030405.pcapng');
  });
});

describe('the capture through TunnelClient ⇄ TunnelService', () => {
  test('packets recorded by the session hook come back as pages, single packets and a pcapng file', async () => {
    const { client, hooks, done } = pair();
    try {
      await client.connect(CONFIG, 'ws://127.0.0.1:1/wg');
      assert.equal(hooks.length, 1, 'Session.start got an onPacket hook');
      const syn = tcpPacket('10.8.0.2', '10.8.0.1', { srcPort: 51234, dstPort: 80, flags: TcpFlag.SYN, mss: 1380 });
      hooks[0]('out', kernelPacket('icmpv4-echo-request'), T0);
      hooks[0]('in', kernelPacket('icmpv4-echo-reply'), T0 + 1.5);
      hooks[0]('out', syn, T0 + 2);

      const page = await client.capturePage({ tail: true, limit: 2 });
      assert.equal(page.matched, 3);
      assert.equal(page.status.packets, 3);
      assert.deepEqual(page.rows.map((r) => [r.index, r.direction, r.summary.protocol]), [
        [2, 'in', 'ICMP'],
        [3, 'out', 'TCP'],
      ]);
      // Relative sequence numbers: the capture saw this SYN.
      assert.equal(page.rows[1].summary.info, '51234 → 80 [SYN] Seq=0 Win=65535 Len=0 MSS=1380');
      assert.equal((await client.capturePage({ filter: 'icmp' })).matched, 2);

      const one = await client.capturedPacket(3);
      assert.deepEqual(one?.bytes, syn);
      assert.equal(one?.row.at, T0 + 2);
      assert.equal(await client.capturedPacket(99), null);

      const file = await client.downloadCapture();
      assert.equal(file.filename, captureFileName(Date.UTC(2025, 0, 2, 3, 4, 5)));
      assert.equal(file.packets, 3);
      assert.ok(file.bytes instanceof Uint8Array);
      const f = readPcapng(file.bytes);
      assert.equal(f.packets.length, 3);
      assert.deepEqual(f.packets[2].data, syn);
      assert.equal(f.packets[0].comment, `to peer ${PEER} at 192.0.2.1:51820`);
      assert.equal(f.packets[1].timestamp, 1_700_000_000_001_750n);
      assert.equal((await client.downloadCapture({ filter: 'tcp' })).packets, 1);
    } finally {
      done();
    }
  });

  test('stop keeps what was captured and records nothing more; start resumes; clear restarts numbering', async () => {
    const { client, hooks, done } = pair();
    try {
      await client.connect(CONFIG, 'ws://127.0.0.1:1/wg');
      hooks[0]('out', kernelPacket('icmpv4-echo-request'), T0);
      const stopped = await client.stopCapture();
      assert.equal(stopped.running, false);
      hooks[0]('out', kernelPacket('icmpv4-echo-request'), T0 + 1);
      assert.equal((await client.captureStatus()).packets, 1);
      assert.equal((await client.startCapture()).running, true);
      hooks[0]('out', kernelPacket('icmpv4-echo-request'), T0 + 2);
      assert.deepEqual((await client.capturePage()).rows.map((r) => r.at), [T0, T0 + 2]);
      const cleared = await client.clearCapture();
      assert.deepEqual([cleared.packets, cleared.nextIndex, cleared.running], [0, 1, true]);
      // A reconnect is a new interface; the capture carries on across sessions.
      await client.connect(CONFIG, 'ws://127.0.0.1:1/wg');
      hooks[1]('in', kernelPacket('icmpv4-echo-reply'), T0 + 3);
      assert.equal((await client.capturePage()).rows[0].index, 1);
    } finally {
      done();
    }
  });

  test('bad arguments are USAGE errors', async () => {
    const { client, done } = pair();
    try {
      await assert.rejects(client.capturedPacket(1.5), (e) => e instanceof WgwebError && e.code === 'USAGE');
      await assert.rejects(client.capturePage(null as unknown as object), (e) => e instanceof WgwebError && e.code === 'USAGE');
    } finally {
      done();
    }
  });
});
