/**
 * Authentication on a real relay on loopback (--auth static|signed): who gets a session, which
 * close code the others get, the per-token session cap, token file reloads, and that the client
 * (RelayTransport) carries its token as a subprotocol value, never in the URL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { RELAY_SUBPROTOCOL, RelayCloseCode, relayTokenProtocol } from '../../../src/shared/relay-protocol.ts';
import { RelayTransport, type RelayWebSocketConstructor } from '../../../src/engine/relay-transport.ts';
import { RelayAuth, parseTokenFile, ruleCoversNamedEndpoint } from '../../../src/node/relay/relay-auth.ts';
import { mintRelayToken } from '../../../src/node/relay/relay-token.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { main } from '../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { markerOf, sendBinary, testRelay, transportMessage, udpPeer, waitUntil, wsClient, type UdpPeer } from './relay-fixtures.ts';

const secret = new TextEncoder().encode('relay-auth-test-secret-0123456789abcdef');
const nowS = (): number => Math.floor(Date.now() / 1000);

function offer(token?: string): string[] {
  return token === undefined ? [RELAY_SUBPROTOCOL] : [RELAY_SUBPROTOCOL, relayTokenProtocol(token)];
}

describe('--auth signed: HS256 tokens with expiry, endpoints and a session cap', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`, '127.0.0.2'], auth: { mode: 'signed', secret } });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });
  const url = (to = `127.0.0.1:${peer.port}`): string => `${relay.wsUrl}?to=${encodeURIComponent(to)}`;

  test('a valid token for the endpoint opens a session that forwards both ways', async () => {
    const c = wsClient(url(), offer(mintRelayToken(secret, { exp: nowS() + 60, allow: [`127.0.0.1:${peer.port}`] })));
    await c.opened;
    assert.equal(c.protocol(), RELAY_SUBPROTOCOL, 'the relay selects the framing, never the token');
    await sendBinary(c.ws, transportMessage(64, 7));
    await waitUntil(() => c.messages.length === 1, 'the echo');
    assert.equal(markerOf(c.messages[0]), 7);
    c.ws.close();
    await c.closed;
  });

  test('no token: AUTH_REQUIRED (4009)', async () => {
    const r = await wsClient(url(), offer()).closed;
    assert.deepEqual(r, { code: RelayCloseCode.AUTH_REQUIRED, reason: 'this relay requires an access token' });
  });

  test('expired: AUTH_FAILED (4010) saying so', async () => {
    const r = await wsClient(url(), offer(mintRelayToken(secret, { exp: nowS() - 3600 }, nowS() - 7200))).closed;
    assert.deepEqual(r, { code: RelayCloseCode.AUTH_FAILED, reason: 'the token has expired' });
  });

  test('another endpoint than the token allows: 4010, even though the relay allows it', async () => {
    const t = mintRelayToken(secret, { exp: nowS() + 60, allow: [`127.0.0.1:${peer.port}`] });
    const r = await wsClient(url('127.0.0.2:51820'), offer(t)).closed;
    assert.deepEqual(r, { code: RelayCloseCode.AUTH_FAILED, reason: 'the token does not allow this endpoint' });
  });

  test('tampered (payload widened after signing): 4010', async () => {
    const [h, p, s] = mintRelayToken(secret, { exp: nowS() + 60, allow: ['127.0.0.9:1'] }).split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...claims, allow: ['127.0.0.0/8'] })).toString('base64url');
    const r = await wsClient(url(), offer(`${h}.${widened}.${s}`)).closed;
    assert.deepEqual(r, { code: RelayCloseCode.AUTH_FAILED, reason: 'the token signature does not match' });
  });

  test('over the token cap: TOKEN_SESSION_LIMIT (4011); the slot frees when a session ends', async () => {
    const t = mintRelayToken(secret, { exp: nowS() + 60, max_sessions: 2 });
    const a = wsClient(url(), offer(t));
    const b = wsClient(url(), offer(t));
    await Promise.all([a.opened, b.opened]);
    await waitUntil(() => relay.stats().activeSessions === 2, 'two sessions');
    const third = await wsClient(url(), offer(t)).closed;
    assert.equal(third.code, RelayCloseCode.TOKEN_SESSION_LIMIT);
    // Another token is not affected by this one's cap.
    const other = wsClient(url(), offer(mintRelayToken(secret, { exp: nowS() + 60, max_sessions: 1 })));
    await other.opened;
    a.ws.close();
    await a.closed;
    await waitUntil(() => relay.stats().activeSessions === 2, 'a session ended');
    const again = wsClient(url(), offer(t));
    await again.opened;
    await waitUntil(() => relay.stats().activeSessions === 3, 'the freed slot taken');
    for (const c of [b, other, again]) c.ws.close();
    await Promise.all([b.closed, other.closed, again.closed]);
  });

  test('refusals are counted by name', () => {
    const r = relay.stats().refused;
    assert.ok((r.AUTH_REQUIRED ?? 0) >= 1 && (r.AUTH_FAILED ?? 0) >= 3 && (r.TOKEN_SESSION_LIMIT ?? 0) >= 1, JSON.stringify(r));
  });

  test('RelayTransport sends its token as a subprotocol value and keeps it out of the URL', async () => {
    const token = mintRelayToken(secret, { exp: nowS() + 60 });
    const got: Uint8Array[] = [];
    const t = new RelayTransport({
      relayUrl: relay.wsUrl,
      endpoint: `127.0.0.1:${peer.port}`,
      WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor,
      token,
      onDatagram: (d) => got.push(d.slice()),
    });
    assert.ok(!t.url.includes(token.slice(0, 20)));
    await waitUntil(() => t.state === 'open', 'open');
    t.send(transportMessage(48, 9));
    await waitUntil(() => got.length === 1, 'the echo through the transport');
    t.close();
  });

  test('RelayTransport without a token ends closed with RELAY_REFUSED naming the token', async () => {
    let error: Error | undefined;
    const t = new RelayTransport({
      relayUrl: relay.wsUrl,
      endpoint: `127.0.0.1:${peer.port}`,
      WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor,
      onDatagram: () => {},
      onState: (s, d) => {
        if (s === 'closed') error = d.error;
      },
    });
    await waitUntil(() => t.state === 'closed', 'closed');
    assert.equal((error as { code?: string }).code, 'RELAY_REFUSED');
    assert.match(error!.message, /access token/);
  });
});

describe('--auth static: a token file, reloaded on demand (SIGHUP)', () => {
  let dir: string;
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-auth-'));
    writeFileSync(join(dir, 'tokens'), '# operators\nfirst-token-0123456789\n\n');
    peer = await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], auth: { mode: 'static', tokenFile: join(dir, 'tokens') } });
  });
  after(async () => {
    await relay.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (): string => `${relay.wsUrl}?to=127.0.0.1:${peer.port}`;

  test('a listed token opens a session, an unlisted one gets 4010', async () => {
    const ok = wsClient(url(), offer('first-token-0123456789'));
    await ok.opened;
    ok.ws.close();
    await ok.closed;
    assert.equal((await wsClient(url(), offer('second-token-0123456789')).closed).code, RelayCloseCode.AUTH_FAILED);
  });

  test('after a reload the new list holds; a broken file keeps the old list', async () => {
    writeFileSync(join(dir, 'tokens'), 'second-token-0123456789\n');
    assert.equal(relay.auth.reload(), 1);
    assert.equal((await wsClient(url(), offer('first-token-0123456789')).closed).code, RelayCloseCode.AUTH_FAILED);
    const ok = wsClient(url(), offer('second-token-0123456789'));
    await ok.opened;
    ok.ws.close();
    await ok.closed;
    writeFileSync(join(dir, 'tokens'), 'short\n');
    assert.throws(() => relay.auth.reload(), /at least 16 characters/);
    const still = wsClient(url(), offer('second-token-0123456789'));
    await still.opened;
    still.ws.close();
    await still.closed;
  });
});

describe('the pieces', () => {
  test('token files: comments and blank lines ignored; short or odd tokens name their line', () => {
    assert.equal(parseTokenFile('# x\n\n  abcdefghijklmnop  \r\n').size, 1);
    assert.throws(() => parseTokenFile('abcdefghijklmnop\nshort'), /line 2/);
    assert.throws(() => parseTokenFile('abcdefghijklmnop qrs'), /line 1/);
  });

  test('token endpoints match the endpoint as named: addresses by prefix and port, names exactly', () => {
    assert.ok(ruleCoversNamedEndpoint('10.0.0.0/8:51820', { host: '10.1.2.3', port: 51820 }));
    assert.ok(!ruleCoversNamedEndpoint('10.0.0.0/8:51820', { host: '10.1.2.3', port: 51821 }));
    assert.ok(ruleCoversNamedEndpoint('vpn.example.com:51820', { host: 'VPN.example.com.', port: 51820 }));
    assert.ok(!ruleCoversNamedEndpoint('vpn.example.com:51820', { host: 'evil.example.com', port: 51820 }));
    assert.ok(!ruleCoversNamedEndpoint('10.0.0.0/8', { host: 'ten.example', port: 1 }));
  });

  test('a mode without its file is a usage error', () => {
    assert.throws(() => new RelayAuth({ mode: 'static' }), /--token-file/);
    assert.throws(() => new RelayAuth({ mode: 'signed' }), /--token-secret-file/);
    assert.throws(() => new RelayAuth({ mode: 'signed', secret: new Uint8Array(8) }), /at least 32/);
  });

  test('wgweb relay --public refuses to start without authentication (exit 2)', async () => {
    const io = createMemoryIo();
    assert.equal(await main(['relay', '--public', '--listen', '127.0.0.1:0', '--no-browse'], io), 2);
    assert.match(io.stderrText(), /--public needs authentication/);
  });
});
