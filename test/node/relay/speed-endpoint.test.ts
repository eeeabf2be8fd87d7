/**
 * The relay's `/speed` endpoint (issue #15 item 1, tunnel vs direct) on loopback with `ws`: a
 * download and an upload of exactly N bytes with the relay's report; the limits: a size over the
 * relay's maximum, a client already holding its session slots (a speed test takes one, and gives
 * it back when it ends), a token where the relay requires one, more bytes than announced; and off
 * means 404. measureDirect (the client the app and CLI use) times a download.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startRelay, type RelayHandle } from '../../../src/node/relay/main.ts';
import { silentLogger } from '../../../src/node/relay/log.ts';
import { SPEED_CHUNK_BYTES, SPEED_SUBPROTOCOL, buildSpeedUrl, parseSpeedRequest } from '../../../src/shared/speed-protocol.ts';
import { relayTokenProtocol, RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import { measureDirect } from '../../../src/session/direct-speed.ts';
import type { RelayWebSocketConstructor } from '../../../src/engine/relay-transport.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;
const TOKEN = 'speed-test-token-0123456789abcdef';

interface Outcome {
  received: number;
  report?: { bytes: number; ms: number };
  code: number;
  reason: string;
}

/** Opens a speed test; `send` bytes go up once open (in SPEED_CHUNK_BYTES messages); resolves at close. */
function speed(url: string, options: { send?: number; protocols?: string[]; hold?: (ws: WebSocket) => void } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [SPEED_SUBPROTOCOL]);
    const out: Outcome = { received: 0, code: 0, reason: '' };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within 20 s; so far ${JSON.stringify(out)}`));
    }, 20_000);
    ws.on('open', () => {
      options.hold?.(ws);
      let left = options.send ?? 0;
      while (left > 0) {
        const n = Math.min(SPEED_CHUNK_BYTES, left);
        ws.send(Buffer.alloc(n, 1));
        left -= n;
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) out.received += data.length;
      else out.report = JSON.parse(data.toString());
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ ...out, code: res.statusCode ?? 0, reason: 'http' });
    });
    ws.on('error', () => {});
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ ...out, code, reason: reason.toString() });
    });
  });
}

test('speed URLs: /wg and page URLs become /speed with one direction; requests are read strictly', () => {
  assert.equal(buildSpeedUrl('http://127.0.0.1:8080/', 'down', 10), 'ws://127.0.0.1:8080/speed?down=10');
  assert.equal(buildSpeedUrl('wss://relay.example/wgweb/wg', 'up', 5), 'wss://relay.example/wgweb/speed?up=5');
  assert.throws(() => buildSpeedUrl('ftp://x', 'down', 1), TypeError);
  assert.throws(() => buildSpeedUrl('ws://x', 'down', 0), RangeError);
  assert.deepEqual(parseSpeedRequest('/speed?down=100', 1000), { ok: true, direction: 'down', bytes: 100 });
  assert.equal(parseSpeedRequest('/speed?down=1001', 1000).ok, false);
  assert.equal(parseSpeedRequest('/speed?down=1&up=1', 1000).ok, false);
  assert.equal(parseSpeedRequest('/speed?down=0x10', 1000).ok, false);
  assert.equal(parseSpeedRequest('/speed', 1000).ok, false);
});

describe('the /speed endpoint of a relay', () => {
  let relay: RelayHandle;
  let base: string;
  before(async () => {
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], maxSessionsPerClient: 2, speedTest: { maxBytes: 4 * 1024 * 1024 } });
    base = relay.wsUrl;
  });
  after(async () => {
    await relay?.close();
  });

  test('a download sends exactly N bytes, then the report, then closes 1000', async () => {
    const n = 1_000_001;
    const r = await speed(buildSpeedUrl(base, 'down', n));
    assert.equal(r.code, 1000, r.reason);
    assert.equal(r.received, n);
    assert.equal(r.report?.bytes, n);
    assert.ok(r.report!.ms >= 0);
  });

  test('an upload of N bytes is counted and answered with the report', async () => {
    const n = 300_000;
    const r = await speed(buildSpeedUrl(base, 'up', n), { send: n });
    assert.equal(r.code, 1000, r.reason);
    assert.deepEqual(r.report?.bytes, n);
  });

  test('more than the relay allows per request is refused with the limit named', async () => {
    const r = await speed(buildSpeedUrl(base, 'down', 4 * 1024 * 1024 + 1));
    assert.equal(r.code, RelayCloseCode.BAD_REQUEST);
    assert.match(r.reason, /at most 4194304 bytes/);
    assert.equal(r.received, 0);
  });

  test('more bytes than announced end the upload with 1008', async () => {
    const r = await speed(buildSpeedUrl(base, 'up', 1000), { send: 2000 });
    assert.equal(r.code, 1008);
    assert.match(r.reason, /more than the 1000 bytes/);
  });

  test('a text message in an upload ends it with 1008: only binary bytes count', async () => {
    const r = await speed(buildSpeedUrl(base, 'up', 1000), { hold: (ws) => ws.send('1000 bytes, honestly') });
    assert.equal(r.code, 1008);
    assert.match(r.reason, /binary messages only/);
  });

  test('a running test holds one of the client\'s session slots: over the per-client limit it is refused, and the slot comes back', async () => {
    const holders: WebSocket[] = [];
    // Two uploads that never send: each holds a slot until closed.
    const held = [1, 2].map(() => speed(buildSpeedUrl(base, 'up', 10), { hold: (ws) => holders.push(ws) }));
    for (let i = 0; i < 200 && holders.filter((w) => w.readyState === WebSocket.OPEN).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(holders.length, 2);
    const third = await speed(buildSpeedUrl(base, 'down', 10));
    assert.equal(third.code, RelayCloseCode.CLIENT_LIMIT, third.reason);
    for (const ws of holders) ws.close();
    await Promise.all(held);
    const again = await speed(buildSpeedUrl(base, 'down', 10));
    assert.equal(again.code, 1000, 'the slots were given back');
  });

  test('measureDirect times a download: all bytes, a positive rate', async () => {
    const t = await measureDirect({ relayUrl: base, bytes: 2_000_000, WebSocketImpl: WS, now: () => performance.now() });
    assert.equal(t.bytes, 2_000_000);
    assert.ok(t.bitsPerSecond > 0 && t.ms > 0, JSON.stringify(t));
  });
});

describe('the /speed endpoint with authentication, and turned off', () => {
  let authed: RelayHandle;
  let off: RelayHandle;
  before(async () => {
    authed = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], auth: { mode: 'static', tokens: [TOKEN] } });
    off = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], speedTest: false });
  });
  after(async () => {
    await authed?.close();
    await off?.close();
  });

  test('without a token the relay refuses (AUTH_REQUIRED); with one the test runs', async () => {
    const none = await speed(buildSpeedUrl(authed.wsUrl, 'down', 10));
    assert.equal(none.code, RelayCloseCode.AUTH_REQUIRED, none.reason);
    const ok = await speed(buildSpeedUrl(authed.wsUrl, 'down', 10), { protocols: [SPEED_SUBPROTOCOL, relayTokenProtocol(TOKEN)] });
    assert.equal(ok.code, 1000, ok.reason);
    await assert.rejects(measureDirect({ relayUrl: authed.wsUrl, bytes: 10, WebSocketImpl: WS, now: () => performance.now() }), { code: 'RELAY_REFUSED' });
    assert.equal((await measureDirect({ relayUrl: authed.wsUrl, bytes: 10, WebSocketImpl: WS, token: TOKEN, now: () => performance.now() })).bytes, 10);
  });

  test('turned off, /speed is not there (HTTP 404)', async () => {
    const r = await speed(buildSpeedUrl(off.wsUrl, 'down', 10));
    assert.deepEqual([r.code, r.reason], [404, 'http']);
  });
});
