/**
 * Every relay framing carries a real WireGuard session: wgweb.v3 (batched, relay → client batches up
 * to 256 KiB held for a bulk flow, what Session's transport offers by default), wgweb.v2 (64 KiB
 * batches, forced here by a WebSocket that offers wgweb.v2 and wgweb.v1 as a client before v3 did)
 * and wgweb.v1 (one message per datagram, a WebSocket that offers only wgweb.v1, as an older client
 * would). Each one handshakes with wireguard-go through the real relay and downloads 10 MB from the
 * kernel's TCP, checked by SHA-256.
 *
 *   Session ──ws (v1 | v2 | v3)──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── HTTP server
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket as NodeWebSocket } from 'ws';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { digestBody, startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 180_000 };
const SIZE = 10 * 1024 * 1024;

/** A `ws` WebSocket that offers wgweb.v1 alone, whatever the caller asks for: a v1-only client. */
class V1OnlyWebSocket extends NodeWebSocket {
  constructor(url: string, _protocols?: string | string[]) {
    super(url, 'wgweb.v1');
  }
}

/** A `ws` WebSocket that offers wgweb.v2 and wgweb.v1: a client from before wgweb.v3. */
class V2ClientWebSocket extends NodeWebSocket {
  constructor(url: string, _protocols?: string | string[]) {
    super(url, ['wgweb.v2', 'wgweb.v1']);
  }
}

describe('a Session over each relay framing, against wireguard-go', { skip: interopSkipReason() }, () => {
  let fx: SessionFixture;
  before(async () => {
    fx = await startSessionFixture({ name: 'frame', servers: ['http'], session: false });
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  const rows: [string, RelayWebSocketConstructor, string][] = [
    ['the default client', NodeWebSocket as unknown as RelayWebSocketConstructor, 'wgweb.v3'],
    ['a client from before wgweb.v3', V2ClientWebSocket as unknown as RelayWebSocketConstructor, 'wgweb.v2'],
    ['a client forced to wgweb.v1', V1OnlyWebSocket as unknown as RelayWebSocketConstructor, 'wgweb.v1'],
  ];
  for (const [who, WebSocketImpl, protocol] of rows) {
    test(`${who} gets ${protocol}, handshakes and downloads 10 MB intact`, SLOW, async () => {
      const session = await Session.start({ configText: fx.configText, relayUrl: fx.relay.wsUrl, WebSocketImpl });
      try {
        await session.waitForHandshake(30_000);
        const sessions = fx.relay.stats().sessions;
        assert.equal(sessions.length, 1);
        assert.equal(sessions[0].protocol, protocol);
        const res = await session.fetch(fx.http.url(`/bytes/${SIZE}?seed=42`));
        assert.equal(res.status, 200);
        const got = await digestBody(res.body);
        assert.equal(got.length, SIZE);
        assert.equal(got.sha256, deterministicSha256(SIZE, 42));
        const c = fx.relay.stats().sessions[0].counters;
        assert.ok(c.datagramsFromPeer > SIZE / 1500, 'the body came through this relay session');
        assert.equal(c.drops.notWireguard + c.drops.peerNotWireguard, 0);
      } finally {
        await session.close();
      }
    });
  }
});
