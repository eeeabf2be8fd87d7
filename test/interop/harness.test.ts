/**
 * The interop harness proves itself with no wgweb code involved: two real wireguard-go peers in two
 * namespaces, the kernel's TCP stack (curl, ping) on both ends, the test servers, and the
 * impairment hop in the root namespace between them.
 *
 *   "client" namespace                    root namespace                     "server" namespace
 *   wireguard-go 10.77.X.2  ──veth──▶  hop on the client veth's  ──veth──▶  wireguard-go 10.77.X.1
 *   curl, ping, node (DNS)              root address (loss 3%)               HTTP :80, echo :7, DNS :53
 *                   └──────────── or a direct veth between the two namespaces ───────────┘
 */
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, createNamespace, linkNamespaces, liveNamespaces, sweepStaleNamespaces, type Namespace } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { curlInNamespace, startDnsServer, startEchoServer, startHttpServer } from '../../harness/ns-servers.ts';
import { startImpairmentHop, type ImpairmentHop, type ImpairmentHopOptions } from '../../harness/impairment-hop.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import type { Endpoint } from '../../src/shared/ip-address.ts';

const skip = interopSkipReason(['curl', 'ping']);
const SLOW = { timeout: 180_000 };

function netnsNames(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Pair {
  readonly server: WgGoPeer;
  readonly client: WgGoPeer;
  readonly hop?: ImpairmentHop;
}

/**
 * A server peer and a client peer whose endpoint for the server is either the server's address on
 * a direct veth between the two namespaces, or an impairment hop in the root namespace.
 */
async function startPair(
  t: TestContext,
  via: { hop?: Omit<ImpairmentHopOptions, 'target' | 'listen'>; outer?: 4 | 6 },
): Promise<Pair> {
  const server = await startWireguardGoPeer({ name: 'server' });
  t.after(() => server.close());
  const net = server.tunnelAddress4!.replace(/\.1$/, '');
  const net6 = server.tunnelAddress6!.replace(/::1$/, '');
  const client = await startWireguardGoPeer({ name: 'client', address4: `${net}.2/24`, address6: `${net6}::2/64` });
  t.after(() => client.close());
  await server.addPeer({ publicKey: client.publicKey, allowedIPs: [`${net}.2/32`, `${net6}::2/128`] });

  let endpoint: Endpoint;
  let hop: ImpairmentHop | undefined;
  if (via.hop) {
    // UDP leaves the client namespace to the root side of its veth, where the hop listens, and the
    // hop (a root-namespace process) sends on to the server's veth address: no forwarding needed.
    const v6 = via.outer === 6;
    hop = await startImpairmentHop({
      ...via.hop,
      target: v6 ? server.endpointV6 : server.endpoint,
      listen: { host: v6 ? client.ns.rootAddress6 : client.ns.rootAddress4 },
    });
    t.after(() => hop!.close());
    endpoint = hop.endpoint;
  } else {
    const link = await linkNamespaces(client.ns, server.ns);
    endpoint = { host: link.addressB4, port: server.listenPort };
  }
  await client.addPeer({ publicKey: server.publicKey, allowedIPs: server.tunnelNetworks, endpoint });
  return { server, client, hop };
}

describe('interop harness: real wireguard-go peers, the Linux TCP stack, the impairment hop', { skip }, () => {
  after(closeAllNamespaces);

  test('a namespace has a veth to the root namespace, reachable over IPv4 and IPv6, and closes without traces', async () => {
    const ns = await createNamespace({ name: 'probe' });
    assert.ok(netnsNames().includes(ns.name));
    for (const addr of [ns.nsAddress4, ns.nsAddress6]) {
      const r = spawnSync('ping', ['-c', '1', '-W', '5', addr], { encoding: 'utf8' });
      assert.equal(r.status, 0, `ping ${addr} from the root namespace: ${r.stdout}${r.stderr}`);
    }
    const sleeper = ns.spawn('sleep', ['600']);
    const inside = await ns.exec('ip', ['-o', 'addr', 'show', 'dev', ns.vethNs]);
    assert.match(inside.stdout, new RegExp(ns.nsAddress4.replace(/\./g, '\\.')));
    await ns.close();
    assert.ok(!netnsNames().includes(ns.name), 'namespace deleted');
    assert.ok(!linkExists(ns.vethRoot), 'veth deleted');
    assert.ok(!pidAlive(sleeper.pid), 'process started in it was killed');
    await assert.rejects(ns.exec('true', []), /closed/);
  });

  test('two peers over a direct namespace link: handshake, ping over IPv4 and IPv6, HTTP download with matching SHA-256', SLOW, async (t) => {
    const { server, client } = await startPair(t, {});
    const http = await startHttpServer(server);
    for (const addr of [server.tunnelAddress4!, server.tunnelAddress6!]) {
      const r = await client.ns.exec('ping', ['-c', '3', '-i', '0.2', '-w', '20', addr], { timeoutMs: 30_000 });
      assert.match(r.stdout, / 0% packet loss/);
    }
    const row = await server.waitForHandshake(client.publicKey);
    assert.ok(row.latestHandshake > 0);
    assert.ok(row.endpoint, 'the server learned the client endpoint from its handshake');

    const size = 4 * 1024 * 1024 + 123;
    for (const family of [4, 6] as const) {
      const r = await curlInNamespace(client.ns, http.url(`/bytes/${size}?seed=9`, family));
      assert.equal(r.status, 200);
      assert.equal(r.length, size);
      assert.equal(r.headers['x-sha256'], r.sha256);
      assert.equal(r.sha256, deterministicSha256(size, 9));
    }
    const requests = http.events().filter((e) => e.event === 'request');
    assert.ok(requests.some((e) => e.remoteAddress === client.tunnelAddress4), 'the server saw the client tunnel address');
    const after = (await server.show()).peers.find((p) => p.publicKey === client.publicKey)!;
    assert.ok(after.rxBytes > 0 && after.txBytes > 2 * size, 'the bytes crossed the tunnel');
  });

  test('through a clean hop in the root namespace, over IPv6 UDP: the peer is reached on its veth address and replies come back', SLOW, async (t) => {
    const { server, client, hop } = await startPair(t, { hop: { seed: 1 }, outer: 6 });
    const http = await startHttpServer(server);
    await client.ns.exec('ping', ['-c', '2', '-i', '0.2', '-w', '20', server.tunnelAddress4!], { timeoutMs: 30_000 });
    const r = await curlInNamespace(client.ns, http.url('/bytes/1000000'));
    assert.equal(r.sha256, deterministicSha256(1_000_000));
    const s = hop!.stats();
    assert.ok(s.toTarget.forwarded > 0 && s.toClient.forwarded > 0);
    assert.equal(s.toTarget.lost + s.toClient.lost, 0);
    assert.equal(s.client?.host, client.ns.nsAddress6, 'the hop tracks the client like a NAT');
    const row = (await server.show()).peers[0];
    assert.ok(row.endpoint?.startsWith(`[${server.ns.rootAddress6}]:`), `the server sees the hop as the client: ${row.endpoint}`);
  });

  test('through the hop with 3% loss each way: a download still completes intact', SLOW, async (t) => {
    const { server, client, hop } = await startPair(t, { hop: { seed: 3, loss: 0.03 } });
    const http = await startHttpServer(server);
    const size = 1024 * 1024;
    const r = await curlInNamespace(client.ns, http.url(`/bytes/${size}?seed=5`), { timeoutMs: 120_000 });
    assert.equal(r.status, 200);
    assert.equal(r.length, size);
    assert.equal(r.sha256, deterministicSha256(size, 5));
    const s = hop!.stats();
    assert.ok(s.toTarget.lost + s.toClient.lost > 0, `the hop dropped datagrams: ${JSON.stringify(s)}`);
  });

  test('through the hop with delay, jitter, duplication and reordering: upload and download intact', SLOW, async (t) => {
    const { server, client, hop } = await startPair(t, {
      hop: { seed: 11, delayMs: 2, jitterMs: 2, duplicate: 0.02, reorder: 0.02 },
    });
    const http = await startHttpServer(server);
    const down = await curlInNamespace(client.ns, http.url('/bytes/500000?seed=2'), { timeoutMs: 120_000 });
    assert.equal(down.sha256, deterministicSha256(500_000, 2));
    const up = await client.ns.exec(
      'sh',
      ['-c', `head -c 300000 /dev/zero | curl -sS --noproxy '*' --max-time 100 --data-binary @- ${http.url('/upload')}`],
      { timeoutMs: 120_000 },
    );
    const body = JSON.parse(up.stdout) as { length: number; sha256: string };
    assert.equal(body.length, 300_000);
    assert.equal(body.sha256, '886715e4051e827f4fe215df3053af3f85ad0d352db2c829c7487af6d78efe30');
    const s = hop!.stats();
    assert.ok(s.toTarget.duplicated + s.toClient.duplicated > 0);
    assert.ok(s.toTarget.reordered + s.toClient.reordered > 0);
  });

  test('DNS (UDP and TCP) and TCP echo answer across the tunnel', SLOW, async (t) => {
    const { server, client } = await startPair(t, {});
    const [dns, echo] = await Promise.all([startDnsServer(server), startEchoServer(server)]);
    // Node's resolver (c-ares) in the client namespace, asking the server's tunnel address.
    const script = `
      const { Resolver } = require('node:dns').promises;
      const r = new Resolver({ timeout: 3000, tries: 5 });
      r.setServers([process.argv[1]]);
      (async () => {
        const out = { a: await r.resolve4('server.wgweb.test'), aaaa: await r.resolve6('SERVER.wgweb.test'), multi: await r.resolve4('multi.wgweb.test') };
        try { await r.resolve4('nope.wgweb.test'); out.nx = 'resolved?'; } catch (e) { out.nx = e.code; }
        try { await r.resolve6('v4only.wgweb.test'); out.nodata = 'resolved?'; } catch (e) { out.nodata = e.code; }
        const net = require('node:net');
        out.echo = await new Promise((res, rej) => {
          const s = net.connect({ host: process.argv[2], port: 7 }, () => s.end('ping over the tunnel'));
          let got = ''; s.setEncoding('utf8'); s.on('data', (d) => (got += d)); s.on('end', () => res(got)); s.on('error', rej);
        });
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await client.ns.exec(process.execPath, ['-e', script, server.tunnelAddress4!, server.tunnelAddress6!], { timeoutMs: 60_000 });
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.a, [server.tunnelAddress4]);
    assert.deepEqual(out.aaaa, [server.tunnelAddress6]);
    assert.deepEqual(out.multi, [server.tunnelAddress4, '10.77.255.254']);
    assert.equal(out.nx, 'ENOTFOUND');
    assert.equal(out.nodata, 'ENODATA');
    assert.equal(out.echo, 'ping over the tunnel');
    assert.ok(dns.events().some((e) => e.event === 'dns' && e.name === 'server.wgweb.test'));
    assert.ok(echo.events().some((e) => e.event === 'connection' && e.remoteAddress === client.tunnelAddress6));

    // TCP DNS (RFC 1035 §4.2.2), with a hand-made query, straight to the server over the tunnel.
    const tcp = await client.ns.exec(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').connect({ host: process.argv[1], port: 53 }, () => {
           const q = Buffer.from('1234010000010000000000000673657276657205776777656204746573740000010001', 'hex');
           const len = Buffer.alloc(2); len.writeUInt16BE(q.length); s.write(Buffer.concat([len, q]));
         });
         let b = Buffer.alloc(0);
         s.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) { console.log(b.subarray(2).toString('hex')); s.end(); } });`,
        server.tunnelAddress4!,
      ],
      { timeoutMs: 30_000 },
    );
    const reply = Buffer.from(tcp.stdout.trim(), 'hex');
    assert.equal(reply.readUInt16BE(0), 0x1234, 'id echoed');
    assert.equal(reply.readUInt16BE(2) & 0x800f, 0x8000, 'a response, NOERROR');
    assert.equal(reply.readUInt16BE(6), 1, 'one answer');
    assert.deepEqual([...reply.subarray(reply.length - 4)], server.tunnelAddress4!.split('.').map(Number));
  });

  test('clientConfigFor / addClient produce a wg-quick config matching the peer', async (t) => {
    const server = await startWireguardGoPeer({ name: 'cfg' });
    t.after(() => server.close());
    const c = await server.addClient({ presharedKey: true, dns: [server.tunnelAddress4!], persistentKeepalive: 25 });
    assert.match(c.config, /^\[Interface\]\nPrivateKey = [A-Za-z0-9+/]{43}=\nAddress = 10\.77\.\d+\.2\/32, fd77:[0-9a-f]+::2\/128\nDNS = /);
    assert.ok(c.config.includes(`PublicKey = ${server.publicKey}\n`));
    assert.ok(c.config.includes(`Endpoint = ${server.endpoint.host}:${server.endpoint.port}\n`));
    assert.ok(c.config.includes(`AllowedIPs = ${server.tunnelNetworks.join(', ')}\n`));
    assert.ok(c.config.includes('PersistentKeepalive = 25\n'));
    const row = (await server.show()).peers.find((p) => p.publicKey === c.publicKey);
    assert.ok(row, 'the client is a peer of the server');
    assert.equal(row.presharedKey, c.presharedKey);
    assert.deepEqual(row.allowedIPs.sort(), [c.address4, c.address6].sort());
    const second = await server.addClient();
    assert.notEqual(second.address4, c.address4);
  });

  test('a stale namespace of a dead harness run is swept; a live one is not', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    assert.ok(!pidAlive(deadPid));
    const stale = `wgwh-${deadPid}-1-stale`;
    const mine = `wgwh-${process.pid}-9999-live`;
    for (const n of [stale, mine]) assert.equal(spawnSync('ip', ['netns', 'add', n]).status, 0);
    try {
      const removed = sweepStaleNamespaces();
      assert.ok(removed.includes(stale));
      assert.ok(!netnsNames().includes(stale));
      assert.ok(netnsNames().includes(mine), 'a namespace whose owner lives is left alone');
    } finally {
      spawnSync('ip', ['netns', 'del', stale]);
      spawnSync('ip', ['netns', 'del', mine]);
    }
  });

  test('bad options are rejected with a precise message, and a half-built peer leaves nothing behind', async () => {
    const before = liveNamespaces().length;
    await assert.rejects(startWireguardGoPeer({ name: 'bad', listenPort: 0 }), RangeError);
    await assert.rejects(
      startWireguardGoPeer({ name: 'bad', peers: [{ publicKey: 'not a key' }] }),
      /peer public key must be 32 bytes of base64/,
    );
    assert.equal(liveNamespaces().length, before);
  });

  test('after everything closes, no namespace, veth or process of this run remains', async () => {
    const owned: Namespace[] = liveNamespaces();
    await closeAllNamespaces();
    for (const ns of owned) assert.ok(ns.closed);
    const mine = netnsNames().filter((n) => n.startsWith(`wgwh-${process.pid}-`));
    assert.deepEqual(mine, []);
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    for (const ns of owned) assert.ok(!links.includes(ns.vethRoot));
  });
});

describe('impairment hop (loopback only)', () => {
  async function echoTarget(t: TestContext): Promise<Endpoint> {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    s.on('message', (m, r) => s.send(m, r.port, r.address));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    t.after(() => new Promise<void>((r) => s.close(() => r())));
    return { host: '127.0.0.1', port: s.address().port };
  }

  /** Every datagram sent so far has been forwarded, dropped or received: nothing is in flight. */
  function quiescent(hop: ImpairmentHop, sent: number, got: number): boolean {
    const { toTarget: a, toClient: b } = hop.stats();
    const settled = (d: typeof a): boolean => d.forwarded + d.lost + d.queueDrops + d.noClient === d.received + d.duplicated;
    return a.received === sent && settled(a) && b.received === a.forwarded && settled(b) && got === b.forwarded;
  }

  /**
   * Sends `count` numbered datagrams through the hop to an echo target in batches, waiting for
   * quiescence after each batch so no socket buffer can overflow: any loss is the hop's.
   */
  async function sendAndCollect(hop: ImpairmentHop, count: number): Promise<number[]> {
    const { createSocket } = await import('node:dgram');
    const c = createSocket('udp4');
    const got: number[] = [];
    c.on('message', (m) => got.push(m.readUInt32BE(0)));
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    try {
      for (let i = 0; i < count; ) {
        for (const end = Math.min(count, i + 25); i < end; i++) {
          const b = Buffer.alloc(4);
          b.writeUInt32BE(i);
          c.send(b, hop.endpoint.port, hop.endpoint.host);
        }
        for (let w = 0; !quiescent(hop, i, got.length); w++) {
          if (w > 2000) throw new Error(`hop did not settle after ${i} datagrams: ${JSON.stringify(hop.stats())}, got ${got.length}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    } finally {
      await new Promise<void>((r) => c.close(() => r()));
    }
    return got;
  }

  test('forwards both ways like a NAT and counts what it does', async (t) => {
    const target = await echoTarget(t);
    const hop = await startImpairmentHop({ target });
    t.after(() => hop.close());
    const got = await sendAndCollect(hop, 100);
    assert.deepEqual(got, [...Array(100).keys()]);
    const s = hop.stats();
    assert.equal(s.toTarget.forwarded, 100);
    assert.equal(s.toClient.forwarded, 100);
    assert.equal(s.client?.host, '127.0.0.1');
  });

  test('the same seed drops the same datagrams; another seed drops others', async (t) => {
    const target = await echoTarget(t);
    const run = async (seed: number): Promise<number[]> => {
      const hop = await startImpairmentHop({ target, seed, toTarget: { loss: 0.2 } });
      try {
        const got = await sendAndCollect(hop, 500);
        return got.sort((a, b) => a - b);
      } finally {
        await hop.close();
      }
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.length > 300 && a.length < 480, `about 20% lost: ${500 - a.length}`);
  });

  test('duplicates, reorders and delays without losing anything', async (t) => {
    const target = await echoTarget(t);
    const hop = await startImpairmentHop({ target, seed: 5, toTarget: { duplicate: 0.1, reorder: 0.1, delayMs: 1, jitterMs: 1 } });
    t.after(() => hop.close());
    const got = await sendAndCollect(hop, 300);
    const s = hop.stats();
    assert.ok(s.toTarget.duplicated > 0 && s.toTarget.reordered > 0);
    assert.equal(got.length, 300 + s.toTarget.duplicated);
    assert.deepEqual([...new Set(got)].sort((x, y) => x - y), [...Array(300).keys()]);
    assert.ok(got.some((v, i) => i > 0 && v < got[i - 1]), 'some datagram arrived out of order');
  });

  test('update({ loss: 1 }) blackholes; bad profiles are RangeErrors', async (t) => {
    const target = await echoTarget(t);
    const hop = await startImpairmentHop({ target });
    t.after(() => hop.close());
    hop.update({ loss: 1 }, 'toClient');
    await sendAndCollect(hop, 20);
    assert.equal(hop.stats().toClient.forwarded, 0);
    assert.throws(() => hop.update({ loss: 1.5 }), RangeError);
    await assert.rejects(startImpairmentHop({ target, jitterMs: -1 }), /jitterMs/);
    await assert.rejects(startImpairmentHop({ target: { host: '127.0.0.1', port: 0 } }), RangeError);
  });
});

describe('requirements', () => {
  test('a binary .ci/packages.txt does not list is refused in and outside CI, so no suite can depend on a hand-installed tool', async () => {
    const { interopSkipReason: reason } = await import('../../harness/requirements.ts');
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      assert.throws(() => reason(['wgwh-no-such-binary']), { name: 'TypeError', message: /wgwh-no-such-binary.*\.ci\/packages\.txt/ });
      process.env.CI = 'true';
      assert.throws(() => reason(['wgwh-no-such-binary']), { name: 'TypeError', message: /wgwh-no-such-binary.*\.ci\/packages\.txt/ });
      // Every part this machine has: no reason to skip, in CI or not.
      assert.equal(reason(['curl', 'ping']), undefined);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
