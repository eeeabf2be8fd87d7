/**
 * What a user does through the tunnel besides bulk transfers, each answered by a real server in
 * the wireguard-go namespace (kernel TCP/UDP/ICMP): ping, DNS, tcping, TCP echo with half-close,
 * and the failures a user must see named precisely (refused port, server resetting mid-body).
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel ── HTTP :80, DNS :53, echo :7, ICMP echo
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { deterministicBytes, deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import { parseIp } from '../../src/shared/ip-address.ts';
import { digestBody, startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };

/** Asserts that `promise` rejects with a WgwebError of `code` whose message matches `message`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<WgwebError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WgwebError, `expected a WgwebError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Reads a body until it ends or fails; returns how many bytes came and the failure, if any. */
async function readUntilFailure(body: ReadableStream<Uint8Array>): Promise<{ received: number; failure: unknown }> {
  let received = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { received, failure: undefined };
      received += value.length;
    }
  } catch (e) {
    return { received, failure: e };
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('Session services through the relay and wireguard-go, answered by the kernel', { skip: interopSkipReason() }, () => {
  let fx: SessionFixture;
  let v4: string;
  let v6: string;
  before(async () => {
    fx = await startSessionFixture({ name: 'svc' });
    v4 = fx.peer.tunnelAddress4!;
    v6 = fx.peer.tunnelAddress6!;
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  test('status() reads like wg show: up, our public key, the peer with a handshake and traffic', SLOW, async () => {
    const st = fx.session.status();
    assert.equal(st.state, 'up');
    assert.equal(st.interface.publicKey, fx.client.publicKey);
    assert.equal(st.peers.length, 1);
    assert.equal(st.peers[0].publicKey, fx.peer.publicKey);
    assert.ok(st.peers[0].latestHandshakeAt! > 0 && st.peers[0].rxBytes > 0 && st.peers[0].txBytes > 0);
    const row = await fx.peer.waitForHandshake(fx.client.publicKey);
    assert.ok(row.endpoint, 'wireguard-go learned our endpoint (the relay) from the handshake');
  });

  describe('ping', () => {
    test('IPv4: every echo request is answered by the peer kernel', SLOW, async () => {
      const replies: unknown[] = [];
      const s = await fx.session.ping(v4, { count: 3, intervalMs: 50 }, (r) => replies.push(r));
      assert.deepEqual({ t: s.transmitted, r: s.received, loss: s.lossPercent }, { t: 3, r: 3, loss: 0 });
      assert.equal(s.address, v4);
      assert.ok(s.rttMinMs! >= 0 && s.rttMinMs! <= s.rttAvgMs! && s.rttAvgMs! <= s.rttMaxMs!);
      assert.equal(replies.length, 3);
      for (const r of replies) assert.equal((r as { from?: string }).from, v4);
    });

    test('IPv6: ICMPv6 echo is answered too', SLOW, async () => {
      const s = await fx.session.ping(v6, { count: 3, intervalMs: 50 });
      assert.equal(s.received, 3);
      assert.equal(s.address, v6);
    });
  });

  describe('DNS, asked of the server inside the namespace', () => {
    test('an A lookup returns the tunnel IPv4 address', SLOW, async () => {
      const r = await fx.session.dns('server.wgweb.test', 'A');
      assert.deepEqual(r.addresses, [v4]);
      assert.equal(r.server, v4);
      assert.ok(r.ttl > 0);
      await waitFor('the DNS server to report the query', () => fx.dns.events().some((e) => e.event === 'dns' && e.name === 'server.wgweb.test' && e.type === 'A'));
    });

    test('an AAAA lookup returns the tunnel IPv6 address', SLOW, async () => {
      const r = await fx.session.dns('server.wgweb.test', 'AAAA');
      assert.deepEqual(r.addresses, [v6]);
    });

    test('a name with two A records returns both', SLOW, async () => {
      const r = await fx.session.dns('multi.wgweb.test', 'A');
      assert.deepEqual([...r.addresses].sort(), [v4, '10.77.255.254'].sort());
    });

    test('an unknown name is DNS_NXDOMAIN, naming the name', SLOW, async () => {
      await rejectsWith(fx.session.dns('no-such-host.wgweb.test', 'A'), ErrorCode.DNS_NXDOMAIN, /no-such-host\.wgweb\.test/);
    });

    test('a known name without the asked type has no addresses (NODATA), not an error', SLOW, async () => {
      const r = await fx.session.dns('v4only.wgweb.test', 'AAAA');
      assert.deepEqual(r.addresses, []);
    });

    test('fetch by host name resolves through the tunnel DNS and gets the page', SLOW, async () => {
      const res = await fx.session.fetch('http://server.wgweb.test/hello.txt');
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello from the wgweb test server\n');
    });
  });

  describe('tcping', () => {
    test('an open port (HTTP on 80) is "open", over IPv4 and IPv6', SLOW, async () => {
      const a = await fx.session.tcping(v4, 80);
      assert.equal(a.result, 'open');
      assert.equal(a.address, v4);
      const b = await fx.session.tcping(v6, 80);
      assert.equal(b.result, 'open');
    });

    test('a closed port is "refused" (the kernel answers the SYN with RST)', SLOW, async () => {
      const a = await fx.session.tcping(v4, 81);
      assert.equal(a.result, 'refused');
      const b = await fx.session.tcping(v6, 81);
      assert.equal(b.result, 'refused');
    });
  });

  describe('raw TCP against the kernel echo server', () => {
    test('256 KiB written come back byte for byte, and our FIN is answered with the server FIN', SLOW, async () => {
      const conn = await fx.session.dialer.connectTcp(parseIp(v4), 7, { timeoutMs: 10_000 });
      const data = deterministicBytes(256 * 1024 + 9, 21);
      const writer = conn.writable.getWriter();
      const writing = (async () => {
        for (let o = 0; o < data.length; o += 10_000) await writer.write(data.subarray(o, o + 10_000));
        await writer.close(); // half-close: the echo server ends after it has echoed everything
      })();
      const got = await digestBody(conn.readable);
      await writing;
      assert.equal(got.length, data.length);
      assert.equal(got.sha256, deterministicSha256(data.length, 21));
      await conn.closed;
    });
  });

  describe('failures a user must see named', () => {
    test('fetching from a closed port is CONNECTION_REFUSED, and the message names the address', SLOW, async () => {
      await rejectsWith(fx.session.fetch(`http://${v4}:81/`), ErrorCode.CONNECTION_REFUSED, new RegExp(escape(`${v4}:81`)));
      await rejectsWith(fx.session.fetch(`http://[${v6}]:81/`), ErrorCode.CONNECTION_REFUSED, new RegExp(escape(`[${v6}]:81`)));
    });

    test('a server resetting the connection mid-body is HTTP_CLOSED_EARLY naming the server and the byte counts, after at most the half it sent', SLOW, async () => {
      // The HTTP client's contract (test/protocols/http/http-client.test.ts): a FIN or an RST
      // before the promised length is HTTP_CLOSED_EARLY (the reset is its cause). /close-mid-body resets.
      const size = 2 * 1024 * 1024;
      const res = await fx.session.fetch(fx.http.url(`/close-mid-body/${size}`));
      assert.equal(res.status, 200);
      const { received, failure } = await readUntilFailure(res.body!);
      assert.ok(failure instanceof WgwebError, `the body ended with an error, not cleanly after ${received} bytes`);
      assert.equal(failure.code, ErrorCode.HTTP_CLOSED_EARLY, failure.message);
      assert.match(failure.message, new RegExp(`the server reset the connection after \\d+ of ${size} body bytes`));
      assert.match(failure.message, new RegExp(escape(`${v4}`)));
      assert.ok(received <= size / 2, `received ${received} of the ${size / 2} sent`);
    });

    test('a server closing (FIN) mid-body is HTTP_CLOSED_EARLY, after exactly the bytes it sent', SLOW, async () => {
      const port = 8081;
      const half = 300_000;
      // A kernel-TCP server that promises twice what it sends, then ends the connection normally.
      const script = `
        const net = require('node:net');
        const body = Buffer.alloc(${half}, 0x61);
        const server = net.createServer((s) => {
          s.on('error', () => {});
          s.once('data', () => {
            s.write('HTTP/1.1 200 OK\\r\\nContent-Length: ${2 * half}\\r\\nConnection: close\\r\\n\\r\\n');
            s.end(body);
          });
        });
        server.listen({ host: process.argv[1], port: ${port} }, () => console.log('ready'));`;
      let ready!: () => void;
      const listening = new Promise<void>((r) => (ready = r));
      const proc = fx.peer.ns.spawn(process.execPath, ['-e', script, v4], { onLine: (l) => l === 'ready' && ready() });
      try {
        await Promise.race([listening, proc.exited.then(() => Promise.reject(new Error(`FIN server exited: ${proc.output()}`)))]);
        const res = await fx.session.fetch(`http://${v4}:${port}/`);
        assert.equal(res.status, 200);
        const { received, failure } = await readUntilFailure(res.body!);
        assert.ok(failure instanceof WgwebError, `the body ended with an error, not cleanly after ${received} bytes`);
        assert.equal(failure.code, ErrorCode.HTTP_CLOSED_EARLY, failure.message);
        assert.equal(received, half, 'every byte the server sent before its FIN was delivered');
        assert.match(failure.message, new RegExp(`after ${half} of ${2 * half} body bytes`));
      } finally {
        await proc.stop();
      }
    });

    test('an address outside every AllowedIPs fails at once, naming the cause: fetch HOST_UNREACHABLE, tcping "unreachable", ping NO_ROUTE', SLOW, async () => {
      // Cryptokey routing has no peer for 10.78.0.1 (the tunnel is 10.77.X.0/24): nothing is sent.
      const outside = '10.78.0.1';
      await rejectsWith(fx.session.fetch(`http://${outside}/`), ErrorCode.HOST_UNREACHABLE, /10\.78\.0\.1:80 is unreachable: no \[Peer\]'s AllowedIPs include it/);
      const t = await fx.session.tcping(outside, 22);
      assert.equal(t.result, 'unreachable');
      await rejectsWith(fx.session.ping(outside, { count: 1 }), ErrorCode.NO_ROUTE, /cannot ping 10\.78\.0\.1: no \[Peer\]'s AllowedIPs/);
      const drops = (fx.session.diagnostics().tunnel as { drops?: Record<string, number> }).drops ?? {};
      assert.equal(drops['no-route'] ?? 0, 0, 'not even a SYN reached the tunnel');
    });

    test('an HTTP error status is a Response, not an exception', SLOW, async () => {
      const res = await fx.session.fetch(fx.http.url('/status/404'));
      assert.equal(res.status, 404);
      assert.equal(await res.text(), 'status 404\n');
    });

    test('after the failures, the same session still serves requests (nothing wedged)', SLOW, async () => {
      const res = await fx.session.fetch(fx.http.url('/redirect?to=/json'));
      assert.equal(res.status, 200);
      const body = (await res.json()) as { remoteAddress: string };
      assert.equal(body.remoteAddress, fx.client.address4!.replace(/\/32$/, ''));
    });
  });
});
