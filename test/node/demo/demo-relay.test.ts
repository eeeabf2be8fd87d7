/**
 * The zero-config path end to end on loopback, with nothing but wgweb: a relay started with the
 * demo peer, `GET /api/demo/config`, a Session (the CLI's and the worker's class, with `ws`)
 * through the relay to the demo peer, and the demo's services through the tunnel. Then the API's
 * limits, and registrations expiring under a fake clock.
 *
 *   fetch /api/demo/config ──▶ wg-quick text ──▶ Session ──ws──▶ relay ──UDP 127.0.0.1──▶ DemoPeer
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { startRelay, type RelayHandle } from '../../../src/node/relay/main.ts';
import { main } from '../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { silentLogger } from '../../../src/node/relay/log.ts';
import { Session } from '../../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../../src/engine/relay-transport.ts';
import { parseWgQuickConfig } from '../../../src/shared/wg-quick-config.ts';
import { formatKey, publicKeyFromPrivate } from '../../../src/wireguard/noise-keys.ts';
import { parseIp } from '../../../src/shared/ip-address.ts';
import { FakeClock } from '../../../harness/fake-clock.ts';
import { deterministicSha256 } from '../../../harness/deterministic-bytes.ts';
import { waitUntil } from '../../helpers/wait-until.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

describe('relay with the demo peer: GET /api/demo/config, then a Session through the relay', () => {
  let relay: RelayHandle;
  let session: Session;
  let configText: string;

  before(async () => {
    relay = await startRelay({ port: 0, logger: silentLogger, demo: { api: { rateBurst: 50 } } });
    const res = await fetch(`${relay.url}api/demo/config`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    configText = await res.text();
    session = await Session.start({ configText, relayUrl: relay.wsUrl, WebSocketImpl: WS });
    await session.waitForHandshake(15_000);
  });
  after(async () => {
    await session?.close();
    await relay?.close();
  });

  test('the config is an ordinary wg-quick file for the demo peer, allowed by the relay', () => {
    const { config } = parseWgQuickConfig(configText);
    const demo = relay.demo!;
    assert.equal(config.interface.addresses.length, 2);
    assert.deepEqual(config.interface.dnsServers.map((a) => [...a]), [[10, 44, 0, 1]]);
    assert.equal(formatKey(config.peers[0].publicKey), demo.publicKey);
    assert.deepEqual(config.peers[0].endpoint, demo.endpoint);
    assert.equal(config.peers[0].persistentKeepalive, 25);
    assert.ok(relay.policy.rules.some((r) => r.text === `127.0.0.1:${demo.endpoint.port}`), 'the demo endpoint is allowed');
    const registered = formatKey(publicKeyFromPrivate(config.interface.privateKey));
    assert.ok(demo.peer.loop.tunnel.peerIds().includes(registered), 'the client key is a peer of the demo');
  });

  test('ping reaches both of the demo peer’s addresses', async () => {
    assert.equal((await session.ping('10.44.0.1', { count: 3, intervalMs: 50 })).received, 3);
    assert.equal((await session.ping('fd44::1', { count: 3, intervalMs: 50 })).received, 3);
  });

  test('DNS: intranet.demo A and AAAA, www through its CNAME, NXDOMAIN for an unknown name', async () => {
    assert.deepEqual((await session.dns('intranet.demo', 'A')).addresses, ['10.44.0.1']);
    assert.deepEqual((await session.dns('intranet.demo', 'AAAA')).addresses, ['fd44::1']);
    assert.deepEqual((await session.dns('www.intranet.demo', 'A')).addresses, ['10.44.0.1']);
    await assert.rejects(session.dns('nope.intranet.demo', 'A'), (e: { code?: string }) => e.code === 'DNS_NXDOMAIN');
  });

  test('the site by name: the welcome page and /api/whoami know who we are', async () => {
    const page = await session.fetch('http://intranet.demo/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /You made it through the tunnel/);
    const who = (await (await session.fetch('http://intranet.demo/api/whoami')).json()) as { you: { publicKey: string; address4: string }; handshake: { session: string } };
    const { config } = parseWgQuickConfig(configText);
    assert.equal(who.you.publicKey, formatKey(publicKeyFromPrivate(config.interface.privateKey)));
    assert.equal(who.handshake.session, 'established');
    for (const path of ['/path', '/handshake', '/services', '/guestbook', '/style.css', '/logo.svg']) {
      const r = await session.fetch(`http://intranet.demo${path}`);
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    const redirect = await session.fetch('http://intranet.demo/home');
    assert.equal(redirect.redirected, true);
    assert.equal(redirect.status, 200);
    await redirect.text();
  });

  test('/bytes/2M over IPv6 matches its x-sha256; POST /upload hashes 1 MB', async () => {
    const n = 2 * 1024 * 1024;
    const r = await session.fetch(`http://[fd44::1]/bytes/2M?seed=9`);
    const body = new Uint8Array(await r.arrayBuffer());
    assert.equal(body.length, n);
    const sha = createHash('sha256').update(body).digest('hex');
    assert.equal(r.headers.get('x-sha256'), sha);
    assert.equal(sha, deterministicSha256(n, 9));
    const data = new Uint8Array(1_000_000).map((_, i) => i * 7);
    const up = (await (await session.fetch('http://intranet.demo/upload', { method: 'POST', body: data })).json()) as { length: number; sha256: string };
    assert.deepEqual([up.length, up.sha256], [data.length, createHash('sha256').update(data).digest('hex')]);
  });

  test('tcping: port 80 open, port 81 refused (RST from the demo’s TCP)', async () => {
    assert.equal((await session.tcping('10.44.0.1', 80)).result, 'open');
    assert.equal((await session.tcping('10.44.0.1', 81)).result, 'refused');
  });

  test('TCP echo on port 7 returns what was sent', async () => {
    const conn = await session.dialer.connectTcp(parseIp('10.44.0.1'), 7, {});
    const w = conn.writable.getWriter();
    const sent = new TextEncoder().encode('echo through wgweb, both ends\n'.repeat(1000));
    void w.write(sent).then(() => w.close());
    const chunks: Uint8Array[] = [];
    const reader = conn.readable.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
    }
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(sent));
  });

  test('UDP echo on port 7 sends each datagram back from port 7', async () => {
    const udp = session.dialer.openUdp();
    try {
      udp.send(parseIp('fd44::1'), 7, new TextEncoder().encode('ping over udp'));
      const d = await udp.receive(AbortSignal.timeout(10_000));
      assert.equal(new TextDecoder().decode(d.data), 'ping over udp');
      assert.equal(d.port, 7);
    } finally {
      udp.close();
    }
  });

  test('DNS over TCP on port 53 (2-byte length framing) answers like UDP', async () => {
    const { emitDnsMessage, parseDnsMessage, queryFlags } = await import('../../../src/protocols/dns/dns-message.ts');
    const q = emitDnsMessage({ id: 77, flags: queryFlags(), questions: [{ name: 'echo.intranet.demo', type: 28, class: 1 }], answers: [], authorities: [], additionals: [] });
    const conn = await session.dialer.connectTcp(parseIp('10.44.0.1'), 53, {});
    const w = conn.writable.getWriter();
    const framed = new Uint8Array(2 + q.length);
    framed[1] = q.length;
    framed.set(q, 2);
    await w.write(Uint8Array.from([...framed, ...framed])); // two queries back to back
    const reader = conn.readable.getReader();
    let buf = new Uint8Array(0);
    const answers: number[] = [];
    while (answers.length < 2) {
      const r = await reader.read();
      assert.ok(!r.done, 'the server keeps the connection for both answers');
      buf = Uint8Array.from([...buf, ...r.value]);
      while (buf.length >= 2 && buf.length >= 2 + ((buf[0] << 8) | buf[1])) {
        const len = (buf[0] << 8) | buf[1];
        const m = parseDnsMessage(buf.subarray(2, 2 + len));
        assert.ok(m.ok);
        assert.equal(m.message.id, 77);
        answers.push(m.message.answers.length);
        buf = buf.subarray(2 + len);
      }
    }
    assert.deepEqual(answers, [1, 1]);
    conn.close();
  });

  test('GET /api/demo/info shows public facts only', async () => {
    const info = (await (await fetch(`${relay.url}api/demo/info`)).json()) as Record<string, unknown>;
    assert.equal(info.enabled, true);
    assert.equal(info.publicKey, relay.demo!.publicKey);
    assert.equal(info.address4, '10.44.0.1');
    assert.deepEqual(info.networks, ['10.44.0.0/24', 'fd44::/64']);
    assert.ok((info.registrations as { count: number }).count >= 1);
    assert.doesNotMatch(JSON.stringify(info), /private/i);
  });

  test('?format=json gives the same config with its parts', async () => {
    const j = (await (await fetch(`${relay.url}api/demo/config?format=json`)).json()) as Record<string, string>;
    assert.match(j.config, /^\[Interface\]$/m);
    assert.equal(formatKey(publicKeyFromPrivate(parseWgQuickConfig(j.config).config.interface.privateKey)), j.publicKey);
    assert.match(j.address4, /^10\.44\.0\.\d+\/32$/);
    assert.match(j.address6, /^fd44::[0-9a-f]+\/128$/);
    assert.equal(j.peerPublicKey, relay.demo!.publicKey);
  });
});

describe('the demo API refuses', () => {
  let relay: RelayHandle;
  before(async () => {
    relay = await startRelay({ port: 0, logger: silentLogger, demo: { maxClients: 2, api: { rateBurst: 3, rateIntervalMs: 60_000 } } });
  });
  after(() => relay?.close());

  test('1. other methods with 405 (HEAD too: every answer creates a client)', async () => {
    for (const method of ['PUT', 'HEAD', 'DELETE']) {
      const r = await fetch(`${relay.url}api/demo/config`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'GET, POST');
    }
  });

  test('2. a request from another site with 403', async () => {
    const r = await fetch(`${relay.url}api/demo/config`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'CROSS_SITE');
    const o = await fetch(`${relay.url}api/demo/config`, { method: 'POST', headers: { Origin: 'http://evil.example' } });
    assert.equal(o.status, 403);
  });

  test('3. a full demo peer with 503 DEMO_FULL, and a client IP over its rate with 429', async () => {
    const statuses: number[] = [];
    const bodies: { error?: { code: string; message: string } }[] = [];
    const headers: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${relay.url}api/demo/config?format=json`);
      statuses.push(r.status);
      headers.push(r.headers.get('retry-after'));
      bodies.push((await r.json()) as { error?: { code: string; message: string } });
    }
    assert.deepEqual(statuses, [200, 200, 503, 429]);
    assert.equal(bodies[2].error?.code, 'DEMO_FULL');
    assert.match(bodies[2].error!.message, /2 clients already/);
    assert.equal(bodies[3].error?.code, 'RATE_LIMITED');
    assert.ok(Number(headers[3]) >= 1, 'Retry-After says when');
  });
});

test('a relay without the demo answers /api/demo/config with 404 and the reason, and /api/demo/info with enabled: false', async () => {
  const relay = await startRelay({ port: 0, logger: silentLogger, demoDisabledReason: 'this relay was started with --no-demo' });
  try {
    assert.equal(relay.demo, undefined);
    const r = await fetch(`${relay.url}api/demo/config`);
    assert.equal(r.status, 404);
    assert.deepEqual(await r.json(), { enabled: false, error: { code: 'DEMO_DISABLED', message: 'this relay was started with --no-demo' } });
    const info = await fetch(`${relay.url}api/demo/info`);
    assert.equal(info.status, 200, 'the UI asks on every page load; "no demo" is not an error');
    assert.equal(((await info.json()) as { enabled: boolean }).enabled, false);
  } finally {
    await relay.close();
  }
});

test('wgweb relay --demo --public is a usage error (exit 2) before anything listens', async () => {
  const io = createMemoryIo();
  assert.equal(await main(['relay', '--demo', '--public'], io), 2);
  assert.match(io.stderrText(), /--demo cannot be used with --public/);
});

describe('registrations expire (fake clock)', () => {
  test('an unused config after 5 minutes, a used one 10 minutes after its traffic stopped; the peer is removed', async () => {
    const clock = new FakeClock(1_000);
    const relay = await startRelay({ port: 0, logger: silentLogger, demo: { now: () => clock.now, sweepIntervalMs: 0 } });
    try {
      const demo = relay.demo!;
      const get = async () => (await (await fetch(`${relay.url}api/demo/config?format=json`)).json()) as { config: string; publicKey: string };
      const unused = await get();
      const used = await get();
      const s = await Session.start({ configText: used.config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
      try {
        await s.waitForHandshake(15_000);
        assert.equal((await s.ping('10.44.0.1', { count: 1 })).received, 1);
      } finally {
        await s.close(); // no traffic from now on
      }
      assert.deepEqual(demo.sweep(), [], 'nothing expires yet; the used one is now known to be active');

      clock.advance(5 * 60_000);
      assert.deepEqual(demo.sweep(), [{ publicKey: unused.publicKey, reason: 'never-connected' }]);
      assert.ok(!demo.peer.loop.tunnel.peerIds().includes(unused.publicKey), 'removed from the tunnel');

      clock.advance(5 * 60_000 - 1);
      assert.deepEqual(demo.sweep(), [], 'idle for 10 min minus 1 ms');
      clock.advance(1);
      assert.deepEqual(demo.sweep(), [{ publicKey: used.publicKey, reason: 'idle' }]);
      assert.equal(demo.info().registrations.count, 0);

      // The expired config no longer gets a handshake: the demo peer drops it as an unknown peer.
      const before = demo.peer.loop.tunnel.stats().drops['unknown-peer'];
      const stale = await Session.start({ configText: used.config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
      try {
        await waitUntil(() => demo.peer.loop.tunnel.stats().drops['unknown-peer'] > before, 'the demo peer to drop the stale initiation', 15_000);
      } finally {
        await stale.close();
      }
    } finally {
      await relay.close();
    }
  });
});

test('demo configs are rate-limited per /24 and /64, not per address: 50 loopback addresses share one bucket', async () => {
  const { clientNetwork } = await import('../../../src/node/demo/demo-routes.ts');
  assert.equal(clientNetwork('127.0.0.9'), '127.0.0.0/24');
  assert.equal(clientNetwork('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  const relay = await startRelay({ port: 0, logger: silentLogger, browse: false, demo: { api: { rateBurst: 3 } } });
  try {
    const http = await import('node:http');
    const statusFrom = (localAddress: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: relay.port, path: '/api/demo/config', localAddress }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    const statuses: number[] = [];
    for (let i = 2; i < 52; i++) statuses.push(await statusFrom(`127.0.0.${i}`));
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(statuses.slice(3).every((s) => s === 429), `the 4th and later are refused: ${statuses.join(',')}`);
    assert.equal(relay.demo!.registry.size, 3);
  } finally {
    await relay.close();
  }
});
