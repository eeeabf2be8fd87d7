/**
 * The relay's fetch-stream downstream (`wgweb.v3.stream`, relay-stream-endpoint.ts) on loopback: a
 * real relay, a `ws` client that asks for it, Node's fetch reading the body, and a UDP socket
 * standing in for the WireGuard endpoint. A client that asks gets its stream id as the first
 * message and its datagrams in the body (not on the WebSocket); old clients and a relay with the
 * stream off are unchanged; every refusal (method, Origin, Host, unknown/used/foreign/ended id) is
 * checked; the body ends with its session; a body the client drops hands the downstream back to
 * the WebSocket; a body nobody reads is bounded by --max-buffer (drops counted).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket } from 'ws';
import { DatagramBatchWriter, parseDatagramBatch } from '../../../src/shared/datagram-batch.ts';
import { DatagramStreamReader } from '../../../src/shared/datagram-stream-reader.ts';
import { buildRelayUrl, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOLS, V3_DOWNSTREAM_BATCH_LIMITS } from '../../../src/shared/relay-protocol.ts';
import { parseStreamControlMessage, parseStreamWrittenNotice, relayStreamUrl, RELAY_SUBPROTOCOL_V3_STREAM, STREAM_WRITTEN_NOTICE, streamWrittenNotice } from '../../../src/shared/relay-stream-protocol.ts';
import { writtenNotices } from '../../../src/node/relay/relay-stream-endpoint.ts';
import type { RelayHandle, RelayOptions } from '../../../src/node/relay/main.ts';
import { markerOf, testRelay, transportMessage, udpPeer, waitUntil, type UdpPeer } from './relay-fixtures.ts';
import { FakeTimers } from '../../helpers/fake-timers.ts';

const STREAM_OFFER = [RELAY_SUBPROTOCOL_V3_STREAM, ...RELAY_SUBPROTOCOLS];

interface Client {
  readonly ws: WebSocket;
  readonly url: string;
  /** Text messages, in order. */
  readonly texts: string[];
  /** Datagrams received on the WebSocket (batches split). */
  readonly wsDatagrams: Uint8Array[];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
}

function client(relay: RelayHandle, peer: UdpPeer, protocols: string[], headers: Record<string, string> = {}): Client {
  const url = buildRelayUrl(relay.wsUrl, `127.0.0.1:${peer.port}`);
  const ws = new WebSocket(url, protocols, { headers });
  const texts: string[] = [];
  const wsDatagrams: Uint8Array[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) texts.push(data.toString('utf8'));
    else {
      const p = parseDatagramBatch(data, V3_DOWNSTREAM_BATCH_LIMITS);
      assert.ok(p.ok, 'the WebSocket carries well-formed batches');
      wsDatagrams.push(...p.datagrams);
    }
  });
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, url, texts, wsDatagrams, opened, closed };
}

/** Sends datagrams with these markers up the WebSocket in one v2 batch (the peer echoes them). */
function sendUp(c: Client, markers: number[], size = 200): void {
  const w = new DatagramBatchWriter();
  for (const m of markers) w.add(transportMessage(size, m));
  c.ws.send(w.take()!, { binary: true });
}

/** The stream id the relay announced (its first message). */
async function streamId(c: Client): Promise<string> {
  await waitUntil(() => c.texts.length > 0, 'the stream control message');
  const id = parseStreamControlMessage(c.texts[0]);
  assert.ok(id, `a control message, not ${c.texts[0]}`);
  return id;
}

/** Reads a body's records until `until()` or its end. */
async function readRecords(body: ReadableStream<Uint8Array>, out: Uint8Array[], until: () => boolean): Promise<'done' | 'enough'> {
  const reader = body.getReader();
  const parser = new DatagramStreamReader(V3_DOWNSTREAM_BATCH_LIMITS);
  try {
    while (!until()) {
      const { value, done } = await reader.read();
      if (done) return 'done';
      assert.ok(parser.push(value, (span) => {
        const p = parseDatagramBatch(span, V3_DOWNSTREAM_BATCH_LIMITS);
        assert.ok(p.ok);
        out.push(...p.datagrams);
      }));
    }
    return 'enough';
  } finally {
    reader.releaseLock();
  }
}

function post(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', ...init });
}

describe('relay fetch-stream downstream (wgweb.v3.stream)', () => {
  let relay: RelayHandle;
  let peer: UdpPeer;
  const open: Client[] = [];
  const start = async (options: RelayOptions = {}): Promise<void> => {
    peer = await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], ...options });
  };
  const connect = async (protocols = STREAM_OFFER, headers: Record<string, string> = {}): Promise<Client> => {
    const c = client(relay, peer, protocols, headers);
    open.push(c);
    await c.opened;
    return c;
  };
  afterEach(async () => {
    for (const c of open.splice(0)) c.ws.terminate();
    await relay?.close();
    await peer?.close();
  });

  test('a client that asks gets wgweb.v3.stream, its id first, and its datagrams in the body instead of the WebSocket', async () => {
    await start();
    const c = await connect();
    assert.equal(c.ws.protocol, RELAY_SUBPROTOCOL_V3_STREAM);
    const id = await streamId(c);
    const res = await post(relayStreamUrl(c.url, id));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-accel-buffering'), 'no', 'nginx-style proxies pass it unbuffered');
    await waitUntil(() => relay.stats().streams?.active === 1, 'the stream attached');
    assert.equal(c.texts.length, 1, 'no notice before anything was written');
    sendUp(c, [1, 2, 3]);
    const got: Uint8Array[] = [];
    await readRecords(res.body!, got, () => got.length >= 3);
    sendUp(c, [4]);
    await readRecords(res.body!, got, () => got.length >= 4);
    assert.deepEqual(got.map(markerOf), [1, 2, 3, 4]);
    assert.equal(c.wsDatagrams.length, 0, 'nothing came down the WebSocket');
    await waitUntil(() => c.texts.length >= 2, 'the notice');
    assert.equal(c.texts[1], STREAM_WRITTEN_NOTICE, 'the control message, then the "written" notice');
    // Then one notice a second with the relay's ms since its first write.
    await waitUntil(() => c.texts.length >= 3, 'the first timed notice');
    assert.ok(parseStreamWrittenNotice(c.texts[2])! >= 1000, c.texts[2]);
    await res.body!.cancel();
  });

  test('the body ends with its session', async () => {
    await start();
    const c = await connect();
    const res = await post(relayStreamUrl(c.url, await streamId(c)));
    await waitUntil(() => relay.stats().streams?.active === 1, 'the stream attached');
    c.ws.close(1000);
    assert.equal(await readRecords(res.body!, [], () => false), 'done');
    await waitUntil(() => relay.stats().streams?.active === 0, 'no stream left');
  });

  test('a body the client drops hands the downstream back to the WebSocket', async () => {
    await start();
    const c = await connect();
    const abort = new AbortController();
    const res = await post(relayStreamUrl(c.url, await streamId(c)), { signal: abort.signal });
    await waitUntil(() => relay.stats().streams?.active === 1, 'the stream attached');
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
    await waitUntil(() => relay.stats().streams?.active === 0, 'the relay saw the stream go');
    sendUp(c, [7, 8]);
    await waitUntil(() => c.wsDatagrams.length === 2, 'both datagrams on the WebSocket');
    assert.deepEqual(c.wsDatagrams.map(markerOf), [7, 8]);
    assert.equal(c.ws.readyState, WebSocket.OPEN, 'the session lives on');
  });

  test('clients that do not ask (v3, v2) are unchanged: no control message, datagrams on the WebSocket', async () => {
    await start();
    for (const offer of [[...RELAY_SUBPROTOCOLS], [RELAY_SUBPROTOCOL_V2]]) {
      const c = await connect(offer);
      assert.equal(c.ws.protocol, offer[0]);
      sendUp(c, [5]);
      await waitUntil(() => c.wsDatagrams.length === 1, 'the echo on the WebSocket');
      assert.deepEqual(c.texts, []);
    }
    assert.equal(relay.stats().streams?.offered, 0);
  });

  test('a relay with the stream off selects wgweb.v3 for a client that asks, and serves no stream', async () => {
    await start({ fetchStream: false });
    const c = await connect();
    assert.equal(c.ws.protocol, RELAY_SUBPROTOCOL_V3);
    sendUp(c, [9]);
    await waitUntil(() => c.wsDatagrams.length === 1, 'the echo on the WebSocket');
    assert.deepEqual(c.texts, []);
    assert.equal(relay.stats().streams, undefined);
    // The path is just a file path then: the static files answer POST with 405.
    const res = await post(relayStreamUrl(c.url, 'A'.repeat(22)));
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('content-type')?.startsWith('application/octet-stream'), false);
    await res.arrayBuffer();
  });

  test('a client offering only wgweb.v3.stream to a relay with it off is refused with BAD_REQUEST, not given v1', async () => {
    await start({ fetchStream: false });
    const c = client(relay, peer, [RELAY_SUBPROTOCOL_V3_STREAM]);
    open.push(c);
    assert.equal(await c.closed, 4000);
  });

  test('refusals: GET is 405; unknown, malformed, used, foreign and ended ids are one and the same 404', async () => {
    await start({ trustProxy: true });
    const c = await connect(STREAM_OFFER, { 'X-Forwarded-For': '192.0.2.1' });
    const id = await streamId(c);
    const url = relayStreamUrl(c.url, id);
    const answers: [string, number, string][] = [];
    const ask = async (what: string, u: string, init: RequestInit = {}): Promise<void> => {
      const r = await fetch(u, { method: 'POST', ...init });
      answers.push([what, r.status, await r.text()]);
    };
    const g = await fetch(url);
    assert.equal(g.status, 405);
    assert.equal(g.headers.get('allow'), 'POST');
    await g.text();
    await ask('unknown', relayStreamUrl(c.url, 'B'.repeat(22)));
    await ask('malformed', url.replace(id, 'short'));
    await ask('another client', url, { headers: { 'X-Forwarded-For': '192.0.2.2' } });
    // Refused tries do not use the id up: its own client still gets it, once.
    const ok = await post(url, { headers: { 'X-Forwarded-For': '192.0.2.1' } });
    assert.equal(ok.status, 200);
    await ask('used', url, { headers: { 'X-Forwarded-For': '192.0.2.1' } });
    await ok.body!.cancel();
    // A second session's id after the session ended.
    const d = await connect(STREAM_OFFER, { 'X-Forwarded-For': '192.0.2.1' });
    const dUrl = relayStreamUrl(d.url, await streamId(d));
    d.ws.close(1000);
    await d.closed;
    await waitUntil(() => relay.stats().activeSessions === 1, 'the second session gone');
    await ask('ended', dUrl, { headers: { 'X-Forwarded-For': '192.0.2.1' } });
    for (const [what, status, body] of answers) assert.deepEqual([what, status, body], [what, 404, 'not found\n']);
    assert.equal(relay.stats().refused.STREAM_NOT_FOUND, answers.length);
  });

  test('the Origin and Host checks of the WebSocket apply: a foreign page or a rebound host name is 403', async () => {
    await start({ allowOrigins: ['https://app.example'] });
    const c = await connect();
    const url = relayStreamUrl(c.url, await streamId(c));
    const foreign = await post(url, { headers: { Origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    await foreign.text();
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { Host: 'rebound.evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound, 403);
    assert.equal(relay.stats().refused.ORIGIN_NOT_ALLOWED, 2);
    // An allowed origin gets the body, readable cross-origin (CORS).
    const allowed = await post(url, { headers: { Origin: 'https://app.example' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    await allowed.body!.cancel();
  });

  test('a body nobody reads is bounded: above --max-buffer the datagrams are dropped and counted', async () => {
    await start({ maxBufferedBytes: 64 * 1024 });
    const c = await connect();
    const id = await streamId(c);
    // A raw request whose response is never read: the relay's writes back up.
    const req = http.request(relayStreamUrl(c.url, id), { method: 'POST' });
    req.on('error', () => {});
    const paused = new Promise<http.IncomingMessage>((resolve) => req.on('response', (res) => { res.pause(); resolve(res); }));
    req.end();
    const res = await paused;
    assert.equal(res.statusCode, 200);
    await waitUntil(() => relay.stats().streams?.active === 1, 'the stream attached');
    sendUp(c, [1]);
    await waitUntil(() => peer.received.length === 1, 'the peer heard the session');
    const to = peer.received[0].from;
    const big = Buffer.from(transportMessage(1400, 0));
    // Keep sending (in bursts the relay's UDP socket can take) until the relay drops some.
    const deadline = Date.now() + 20_000;
    while (relay.stats().totals.drops.backpressure === 0) {
      if (Date.now() > deadline) throw new Error(`no backpressure drops; stats ${JSON.stringify(relay.stats().totals)}`);
      for (let i = 0; i < 200; i++) peer.socket.send(big, to.port, to.address);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(c.wsDatagrams.length, 0, 'nothing moved to the WebSocket');
    res.destroy();
  });
});

describe('the relay\'s "stream written" notices (fake clock)', () => {
  test('one at the first write, then one a second with the ms since, ten of them, then none', () => {
    const clock = new FakeTimers();
    const sent: string[] = [];
    writtenNotices((t) => sent.push(t), () => clock.now, clock);
    assert.deepEqual(sent, [STREAM_WRITTEN_NOTICE]);
    clock.advance(999);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.deepEqual(sent, [STREAM_WRITTEN_NOTICE, streamWrittenNotice(1000)]);
    clock.advance(60_000);
    assert.deepEqual(sent.slice(1).map((t) => parseStreamWrittenNotice(t)), [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    assert.equal(clock.armed, 0, 'no timer left');
  });

  test('a late timer (a busy relay) reports the time that really passed, never less', () => {
    const clock = new FakeTimers();
    const sent: string[] = [];
    let lag = 0;
    writtenNotices((t) => sent.push(t), () => clock.now + lag, clock);
    lag = 2500; // the relay's event loop ran the timer 2.5 s late
    clock.advance(1000);
    assert.equal(parseStreamWrittenNotice(sent[1]), 3500);
  });

  test('stopped (the body closed): no more notices', () => {
    const clock = new FakeTimers();
    const sent: string[] = [];
    const stop = writtenNotices((t) => sent.push(t), () => clock.now, clock);
    clock.advance(2000);
    stop();
    assert.equal(clock.armed, 0);
    clock.advance(20_000);
    assert.equal(sent.length, 3);
  });

  test('the notice format: "stream written" alone is 0 ms; anything else is not a notice', () => {
    assert.equal(parseStreamWrittenNotice('stream written'), 0);
    assert.equal(parseStreamWrittenNotice('stream written 5000'), 5000);
    for (const t of ['stream written ', 'stream written -1', 'stream written 1e3', 'stream written 5000 ', 'stream writtenx', 'stream AAAAAAAAAAAAAAAAAAAAAA', 'stream written 1234567890']) {
      assert.equal(parseStreamWrittenNotice(t), undefined, t);
    }
    assert.equal(streamWrittenNotice(0), STREAM_WRITTEN_NOTICE);
    assert.throws(() => streamWrittenNotice(-1), RangeError);
    assert.throws(() => streamWrittenNotice(1.5), RangeError);
  });
});
