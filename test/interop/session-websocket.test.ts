/**
 * Session.webSocket against a real WebSocket server (the `ws` package) inside the wireguard-go
 * namespace: every frame crosses wgweb's TCP/IP stack, the relay and a real WireGuard tunnel.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── ws server :8080 (harness/servers/websocket-echo.ts)
 *                                                              └── the same behind Node's TLS :8443 (wss:)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { startWebSocketServer, type NsWebSocketServer } from '../../harness/ns-servers.ts';
import { deterministicBytes, sha256Hex } from '../../harness/deterministic-bytes.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import type { WebSocketConnection } from '../../src/protocols/websocket/websocket-connection.ts';
import { TestPki } from '../../harness/test-pki.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };

/** Collects a connection's messages so a test can await them in order. */
function inbox(ws: WebSocketConnection): () => Promise<string | Uint8Array> {
  const queue: (string | Uint8Array)[] = [];
  const waiters: ((m: string | Uint8Array) => void)[] = [];
  ws.onmessage = (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  return () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiters.push(resolve)));
}

describe('Session.webSocket through wireguard-go to the ws package', { skip: interopSkipReason(['openssl']) }, () => {
  let fx: SessionFixture;
  let server: NsWebSocketServer;
  let secure: NsWebSocketServer;
  let deflating: NsWebSocketServer;
  let pki: TestPki;
  let rootPem: string;
  before(async () => {
    fx = await startSessionFixture({ name: 'wsock', servers: ['dns'] });
    server = await startWebSocketServer(fx.peer);
    pki = await TestPki.create();
    const root = pki.ca('ws-root');
    rootPem = root.certPem;
    const leaf = pki.leaf('ws-server', { issuer: root, dns: ['server.wgweb.test'] });
    secure = await startWebSocketServer(fx.peer, { port: 8443, tls: { certFile: leaf.chainFile, keyFile: leaf.keyFile } });
    deflating = await startWebSocketServer(fx.peer, { port: 8081, deflate: true });
  }, SLOW);
  after(async () => {
    await server?.close();
    await secure?.close();
    await deflating?.close();
    await fx?.close();
    await closeAllNamespaces();
    pki?.cleanup();
  });

  test('wss: refused until the CA is trusted (as for https), then text and binary echo inside TLS; by address the name does not match unless insecure', SLOW, async () => {
    const url = 'wss://server.wgweb.test:8443/echo';
    await assert.rejects(fx.session.webSocket(url), (e: WgwebError) => e.code === ErrorCode.TLS_CERT_UNTRUSTED);
    await fx.session.addTrustedCertificate(rootPem);
    const events: string[] = [];
    const stop = fx.session.onEvent((e) => events.push(`${e.type} ${e.message}`));
    const ws = await fx.session.webSocket(url, { protocols: ['echo'] });
    stop();
    assert.equal(ws.protocol, 'echo');
    assert.ok(events.some((e) => e.startsWith('tls-established') && e.includes('server.wgweb.test:8443')), events.join('\n'));
    const next = inbox(ws);
    ws.send('über TLS');
    assert.equal(await next(), 'über TLS');
    const data = deterministicBytes(200_000, 3);
    ws.send(data);
    assert.equal(sha256Hex((await next()) as Uint8Array), sha256Hex(data));
    ws.close(1000);
    assert.deepEqual(await ws.closed, { code: 1000, reason: '', wasClean: true });
    // The server saw a WebSocket handshake for the name (Host without the default port rule: 8443 stays).
    const open = await waitFor('the server to log the upgrade', () => secure.events().find((e) => e.event === 'ws-open'));
    assert.equal((open?.headers as Record<string, string>).host, 'server.wgweb.test:8443');

    const byAddress = secure.url('/echo');
    assert.match(byAddress, /^wss:\/\//);
    await assert.rejects(fx.session.webSocket(byAddress), (e: WgwebError) => e.code === ErrorCode.TLS_HOSTNAME_MISMATCH);
    const unchecked = await fx.session.webSocket(byAddress, { insecure: true });
    const more = inbox(unchecked);
    unchecked.send('unchecked');
    assert.equal(await more(), 'unchecked');
    unchecked.close(1000);
    await unchecked.closed;
  });

  test('permessage-deflate with the ws package (perMessageDeflate on): offered, accepted, 1 MB of text and binary arrive intact through the tunnel with fewer bytes on the wire', SLOW, async () => {
    const ws = await fx.session.webSocket(deflating.url('/deflate'));
    assert.match(ws.extensions, /^permessage-deflate; server_no_context_takeover/);
    const open = await waitFor('the server to log the upgrade', () => deflating.events().find((e) => e.event === 'ws-open'));
    assert.equal((open?.headers as Record<string, string>)['sec-websocket-extensions'], 'permessage-deflate; server_no_context_takeover');
    const next = inbox(ws);
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20_000);
    ws.send(text);
    assert.equal(await next(), text);
    ws.send('fragmented 1048576');
    assert.equal(sha256Hex((await next()) as Uint8Array), sha256Hex(deterministicBytes(1 << 20, 1)));
    // The text compresses well: far fewer bytes came in than the two messages carry.
    assert.ok(ws.stats.bytesIn < text.length / 2 + (1 << 20) + 65_536, `${ws.stats.bytesIn} bytes in`);
    ws.close(1000);
    assert.deepEqual(await ws.closed, { code: 1000, reason: '', wasClean: true });
  });

  test('text and binary echo, with the subprotocol the server prefers among those offered', SLOW, async () => {
    const ws = await fx.session.webSocket(server.url('/echo'), { protocols: ['chat', 'superchat'], headers: { Origin: 'http://intranet.test' } });
    assert.equal(ws.protocol, 'superchat');
    assert.equal(ws.extensions, '');
    const next = inbox(ws);
    ws.send('grüße ☃');
    assert.equal(await next(), 'grüße ☃');
    ws.send(new Uint8Array([0, 255, 1, 254]));
    assert.deepEqual(await next(), new Uint8Array([0, 255, 1, 254]));
    ws.close(1000);
    assert.deepEqual(await ws.closed, { code: 1000, reason: '', wasClean: true });
    const open = server.events().find((e) => e.event === 'ws-open');
    assert.equal((open?.headers as Record<string, string>).origin, 'http://intranet.test');
  });

  test('1 MB messages both ways: ours in 64 KiB fragments, the server\'s fragmented in four', SLOW, async () => {
    const ws = await fx.session.webSocket(server.url('/big', 6), { maxMessageSize: 4 << 20 });
    const next = inbox(ws);
    const data = deterministicBytes(1 << 20, 7);
    ws.send(data);
    const echoed = (await next()) as Uint8Array;
    assert.equal(echoed.length, data.length);
    assert.equal(sha256Hex(echoed), sha256Hex(data));
    assert.ok(ws.stats.framesOut >= 16, `sent in ${ws.stats.framesOut} frames`);
    assert.equal(ws.bufferedAmount, 0);
    ws.send('fragmented 1048576');
    const fragmented = (await next()) as Uint8Array;
    assert.equal(sha256Hex(fragmented), sha256Hex(deterministicBytes(1 << 20, 1)));
    assert.ok(ws.stats.framesIn >= 5, `received ${ws.stats.framesIn} frames`);
    ws.close(1000);
    await ws.closed;
  });

  test('ping/pong both ways: our ping is answered, the server\'s ping gets our pong', SLOW, async () => {
    const ws = await fx.session.webSocket(server.url('/pp'));
    const pong = new Promise<Uint8Array>((resolve) => (ws.onpong = resolve));
    ws.ping(new TextEncoder().encode('are you there'));
    assert.equal(new TextDecoder().decode(await pong), 'are you there');
    ws.send('ping from-server');
    await waitFor('the server to see our pong', () => server.events().some((e) => e.event === 'ws-pong' && e.data === 'from-server'));
    ws.close(1000);
    await ws.closed;
  });

  test('close codes travel both ways', SLOW, async () => {
    const ours = await fx.session.webSocket(server.url('/c1'));
    ours.close(4000, 'client says bye');
    assert.deepEqual(await ours.closed, { code: 4000, reason: 'client says bye', wasClean: true });
    await waitFor('the server to see 4000', () => server.events().some((e) => e.event === 'ws-close' && e.code === 4000 && e.reason === 'client says bye'));
    const theirs = await fx.session.webSocket(server.url('/c2'));
    theirs.send('close 4321 server says bye');
    assert.deepEqual(await theirs.closed, { code: 4321, reason: 'server says bye', wasClean: true });
  });

  test('a host name resolves through the tunnel DNS; a refused upgrade names the status', SLOW, async () => {
    const ws = await fx.session.webSocket(`ws://server.wgweb.test:${server.port}/named`);
    ws.close();
    assert.equal((await ws.closed).code, 1005);
    await assert.rejects(fx.session.webSocket(server.url('/reject')), (e: unknown) => {
      assert.ok(e instanceof WgwebError);
      assert.equal(e.code, ErrorCode.WEBSOCKET_HANDSHAKE);
      assert.match(e.message, /403 Forbidden instead of 101/);
      return true;
    });
  });
});
