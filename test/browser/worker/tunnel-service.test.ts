/**
 * The worker contract end to end, minus the protocol: the page's TunnelClient talks to a real
 * TunnelService over a real MessageChannel (comlink, structured clone, transferred streams), with a
 * scripted session standing in for Session. Checks that data, progress callbacks, events, coded
 * errors, aborts and streamed HTTP bodies all cross the boundary intact.
 */
import { buildDiagnosticReport, type ReportRuntime } from '../../../src/session/diagnostic-report.ts';
import { parseWgQuickConfig } from '../../../src/shared/wg-quick-config.ts';
import { toBase64 } from '../../../src/shared/bytes.ts';
import { generatePrivateKey, publicKeyFromPrivate } from '../../../src/wireguard/noise-keys.ts';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { expose } from 'comlink';
import { WgwebError } from '../../../src/shared/errors.ts';
import { TunnelService, type SessionLike, type StartSession } from '../../../src/browser/worker/tunnel-service.ts';
import { TunnelClient } from '../../../src/browser/ui/tunnel-client.ts';
import type { PingReply, SessionEvent, TraceHop, TunnelStatus } from '../../../src/browser/worker/tunnel-api.ts';
import type { HttpRequestInit } from '../../../src/protocols/http/http-client.ts';

const STATUS: TunnelStatus = {
  state: 'up',
  relay: { url: 'ws://127.0.0.1:1/wg', state: 'open' },
  interface: { publicKey: 'A'.repeat(43) + '=', addresses: ['10.8.0.2/32'] },
  peers: [{ publicKey: 'B'.repeat(43) + '=', endpoint: '192.0.2.1:51820', allowedIPs: ['0.0.0.0/0'], rxBytes: 10, txBytes: 20, state: 'up' }],
};

class ScriptedSession implements SessionLike {
  listeners = new Set<(e: SessionEvent) => void>();
  closed = false;
  lastFetch?: { url: string; init?: HttpRequestInit; body?: string };
  hangPing = false;
  pingSignal?: AbortSignal;

  status(): TunnelStatus {
    return STATUS;
  }
  onEvent(listener: (e: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: SessionEvent): void {
    for (const l of this.listeners) l(e);
  }
  async ping(address: string, options?: { count?: number }, onReply?: (r: PingReply) => void, signal?: AbortSignal) {
    this.pingSignal = signal;
    if (this.hangPing) return new Promise<never>(() => {});
    const count = options?.count ?? 2;
    for (let seq = 1; seq <= count; seq++) onReply?.({ seq, from: address, bytes: 64, ttl: 64, rttMs: seq });
    return { address, transmitted: count, received: count, lossPercent: 0, rttMinMs: 1, rttAvgMs: 1.5, rttMaxMs: 2, rttMdevMs: 0.5 };
  }
  async dns(name: string, type: 'A' | 'AAAA' = 'A') {
    if (name === 'nx.example') throw new WgwebError('DNS_NXDOMAIN', `${name} does not exist`, { rcode: 3 });
    return { name, type, addresses: ['192.0.2.7'], ttl: 60, server: '10.8.0.1', elapsedMs: 3 };
  }
  async tcping(host: string, port: number) {
    return { host, address: host, port, result: 'open' as const, elapsedMs: 2 };
  }
  async dnsQuery(name: string, type = 'A', options: { server?: string } = {}) {
    if (type === 'HINFO') throw new RangeError('DNS type must be one of A, AAAA, …, not HINFO');
    const server = options.server ?? '10.8.0.1';
    const answers = [{ name, type, ttl: 60, data: '10 mail.example.' }];
    return { name, type, question: name, rcode: 'NOERROR', answers, authorities: [], additionals: [], cnameChain: [], server, transport: 'udp' as const, elapsedMs: 3, queries: [{ name, elapsedMs: 3 }] };
  }
  portsSignal?: AbortSignal;
  async tcpingPorts(host: string, ports: readonly number[], _o: unknown, onResult?: (r: { host: string; address: string; port: number; result: 'open' | 'refused' | 'timeout' | 'unreachable'; elapsedMs: number }) => void, signal?: AbortSignal) {
    this.portsSignal = signal;
    const results = ports.slice(0, 2).map((port) => ({ host, address: host, port, result: port === 22 ? ('open' as const) : ('refused' as const), elapsedMs: 1 }));
    for (const r of results) onResult?.(r);
    if (ports.length > 2) await new Promise<never>(() => {}); // hangs until aborted
    return { host, address: host, results, open: [22], closed: results.filter((r) => r.port !== 22).map((r) => r.port), filtered: [], unreachable: [], skipped: 0 };
  }
  traceOptions?: { method?: string; maxHops?: number; resolveNames?: boolean; signal?: AbortSignal };
  async traceroute(host: string, options: { method?: 'udp' | 'icmp'; maxHops?: number; resolveNames?: boolean; signal?: AbortSignal } = {}, onHop?: (hop: TraceHop) => void) {
    this.traceOptions = options;
    const hops: TraceHop[] = [
      { ttl: 1, probes: [{ kind: 'time-exceeded', from: '10.8.0.1', name: 'gw.lan', rttMs: 1 }] },
      { ttl: 2, probes: [{ kind: 'timeout' }] },
    ];
    for (const h of hops) onHop?.(h);
    if (host === 'hang') await new Promise<never>((_, reject) => options.signal?.addEventListener('abort', () => reject(new WgwebError('ABORTED', 'The traceroute was stopped.'))));
    return { host, address: host, family: 4 as const, method: options.method ?? 'udp', port: 33434, maxHops: options.maxHops ?? 30, hops, reached: false };
  }
  async fetch(url: string, init?: HttpRequestInit) {
    init?.onTiming?.({ url, method: init.method ?? 'GET', status: 201, reusedConnection: false, retried: false, startTime: 0, requestSent: 1, firstByte: 2, done: 3, bodyBytes: 200_000, outcome: 'complete' });
    const body = init?.body ? new TextDecoder().decode(init.body as ArrayBuffer) : undefined;
    this.lastFetch = { url, init, body };
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(big.subarray(0, 100_000));
        c.enqueue(big.subarray(100_000));
        c.close();
      },
    });
    const response = new Response(stream, { status: 201, statusText: 'Created', headers: [['X-One', '1'], ['Content-Type', 'application/octet-stream']] });
    return response;
  }
  async close() {
    this.closed = true;
    this.emit({ at: 1, type: 'closed', level: 'info', message: 'Session closed.' });
  }
}

function pair(start: StartSession) {
  const { port1, port2 } = new MessageChannel();
  const service = new TunnelService(start);
  expose(service, port1 as unknown as Parameters<typeof expose>[1]);
  const client = new TunnelClient(port2 as unknown as ConstructorParameters<typeof TunnelClient>[0]);
  const done = () => {
    client.dispose();
    port1.close();
    port2.close();
  };
  return { client, service, done };
}

/** Round-trips through the channel until `done()` holds: messages on other ports have then arrived. */
async function settle(client: TunnelClient, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    await client.status();
    await new Promise((r) => setImmediate(r));
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WgwebError, `expected a WgwebError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a rejection');
}

describe('TunnelService through TunnelClient', () => {
  test('before connect, status is null and tools reject with NOT_CONNECTED', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    assert.equal(await client.status(), null);
    assert.equal(await codeOf(client.ping('10.0.0.1')), 'NOT_CONNECTED');
    assert.equal(await codeOf(client.fetch('http://10.0.0.1/')), 'NOT_CONNECTED');
    done();
  });

  test('several relay URLs reach the session as a failover list, with the relay token; bad lists and tokens are USAGE', async () => {
    let seen: Parameters<StartSession>[0] | undefined;
    const { client, done } = pair(async (o) => ((seen = o), new ScriptedSession()));
    await client.connect('c', ['ws://a:1/wg', 'ws://b:2/wg'], { relayToken: 'tok' });
    assert.deepEqual(seen?.relayUrl, ['ws://a:1/wg', 'ws://b:2/wg']);
    assert.equal(seen?.relayToken, 'tok');
    await client.connect('c', ['ws://a:1/wg']);
    assert.equal(seen?.relayUrl, 'ws://a:1/wg');
    assert.equal('relayToken' in seen!, false, 'no token: none passed');
    const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);
    assert.equal(await codeOf(client.connect('c', [])), 'USAGE');
    assert.equal(await codeOf(client.connect('c', ['ws://a:1/wg', ''])), 'USAGE');
    assert.equal(await codeOf(client.connect('c', 'ws://a:1/wg', { relayToken: 3 as unknown as string })), 'USAGE');
    done();
  });

  test('connect hands config and relay URL to the session and returns its status', async () => {
    let seen: Parameters<StartSession>[0] | undefined;
    const { client, done } = pair(async (o) => ((seen = o), new ScriptedSession()));
    const status = await client.connect('[Interface]\n', 'ws://127.0.0.1:1/wg');
    const { onPacket, onEvent, onSession, ...rest } = seen ?? { configText: '', relayUrl: '' };
    assert.deepEqual(rest, { configText: '[Interface]\n', relayUrl: 'ws://127.0.0.1:1/wg' });
    assert.equal(typeof onSession, 'function', 'the session, for a report even when its handshake fails');
    assert.equal(typeof onPacket, 'function', 'the packet capture hook');
    assert.equal(typeof onEvent, 'function', 'the events of the connect itself');
    assert.deepEqual(status, STATUS);
    assert.deepEqual(await client.status(), STATUS);
    done();
  });

  test('a connect whose handshake failed can still be reported: the report and its HTML cross to the page', async () => {
    const privateKey = toBase64(generatePrivateKey());
    const config = parseWgQuickConfig(`[Interface]\nPrivateKey = ${privateKey}\nAddress = 10.8.0.2/32\n\n[Peer]\nPublicKey = ${toBase64(publicKeyFromPrivate(generatePrivateKey()))}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.8.0.0/24\n`).config;
    let runtimeSeen: ReportRuntime | undefined;
    const failed = Object.assign(new ScriptedSession(), {
      quality: () => ({ intervalMs: 5000, capacity: 720, samples: [] }),
      report: (runtime: ReportRuntime) => {
        runtimeSeen = runtime;
        const events = [{ at: 0, type: 'handshake-failed', level: 'error' as const, message: 'no handshake response from 192.0.2.1:51820' }];
        return buildDiagnosticReport({ generatedAt: 0, runtime, config, status: { ...STATUS, state: 'down' }, relays: [], events, tools: [], quality: { intervalMs: 5000, capacity: 720, samples: [] }, checks: [], counters: {} });
      },
    });
    const { client, done } = pair(async (o) => {
      o.onSession?.(failed);
      throw new WgwebError('HANDSHAKE_TIMEOUT', 'no handshake response from 192.0.2.1:51820');
    });
    await assert.rejects(client.report(), { code: 'NOT_CONNECTED' }, 'nothing to report before any connect');
    await assert.rejects(client.connect('x', 'ws://127.0.0.1:1/wg'), { code: 'HANDSHAKE_TIMEOUT' });
    const { report, html } = await client.report({ wgwebVersion: '9.9.9', userAgent: 'TestBrowser/1' });
    assert.deepEqual(runtimeSeen, { wgwebVersion: '9.9.9', kind: 'browser', userAgent: 'TestBrowser/1' });
    assert.equal(report.status.state, 'down');
    assert.match(html, /no handshake response from 192\.0\.2\.1:51820/);
    assert.equal(html.includes(privateKey), false, 'no private key');
    assert.deepEqual(await client.quality(), { intervalMs: 5000, capacity: 720, samples: [] });
    done();
  });

  test('a failing start crosses as a WgwebError with its code, message and detail', async () => {
    const { client, done } = pair(async () => {
      throw new WgwebError('CONFIG_INVALID', 'line 3: PublicKey must be 32 bytes of base64', { line: 3 });
    });
    try {
      await client.connect('x', 'ws://127.0.0.1:1/wg');
      assert.fail('connect should reject');
    } catch (e) {
      assert.ok(e instanceof WgwebError);
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.equal(e.message, 'line 3: PublicKey must be 32 bytes of base64');
      assert.deepEqual(e.detail, { line: 3 });
    }
    done();
  });

  test('bad caller input is USAGE; an uncoded crash is INTERNAL', async () => {
    const { client, done } = pair(async () => {
      throw new Error('boom');
    });
    assert.equal(await codeOf(client.connect('x', '')), 'USAGE');
    assert.equal(await codeOf(client.connect('x', 'ws://h/wg')), 'INTERNAL');
    done();
  });

  test('ping streams each reply through the callback, then resolves with the summary', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    await client.connect('c', 'ws://h/wg');
    const replies: PingReply[] = [];
    const summary = await client.ping('10.8.0.1', { count: 3 }, (r) => replies.push(r));
    assert.equal(summary.received, 3);
    // Callbacks travel on their own port, yet all have run before the summary arrives.
    assert.deepEqual(replies.map((r) => r.seq), [1, 2, 3]);
    done();
  });

  test('aborting a ping rejects it with ABORTED', async () => {
    const session = new ScriptedSession();
    session.hangPing = true;
    const { client, done } = pair(async () => session);
    await client.connect('c', 'ws://h/wg');
    const ac = new AbortController();
    const p = client.ping('10.8.0.1', {}, undefined, ac.signal);
    ac.abort();
    assert.equal(await codeOf(p), 'ABORTED');
    assert.equal(session.pingSignal?.aborted, true, 'the session was told to stop');
    done();
  });

  test('dns and tcping results and coded DNS errors cross intact', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    await client.connect('c', 'ws://h/wg');
    assert.deepEqual((await client.dns('example.com', 'A')).addresses, ['192.0.2.7']);
    assert.equal(await codeOf(client.dns('nx.example')), 'DNS_NXDOMAIN');
    assert.equal(await codeOf(client.dns('example.com', 'MX' as 'A')), 'USAGE');
    assert.equal((await client.tcping('10.8.0.1', 22)).result, 'open');
    assert.equal(await codeOf(client.tcping('10.8.0.1', 70000)), 'USAGE');
    done();
  });

  test('full DNS queries cross with every section; a bad type from the session is USAGE', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    await client.connect('c', 'ws://h/wg');
    const r = await client.dnsQuery(' example.com ', 'mx' as 'MX', { server: ' 10.8.0.53 ' });
    assert.deepEqual([r.type, r.server, r.answers[0].data, r.question], ['MX', '10.8.0.53', '10 mail.example.', 'example.com']);
    assert.equal(await codeOf(client.dnsQuery('example.com', 'HINFO' as 'A')), 'USAGE');
    assert.equal(await codeOf(client.dnsQuery('')), 'USAGE');
    done();
  });

  test('a port list streams each port to the page, resolves with the ports by outcome, and stops on abort', async () => {
    const session = new ScriptedSession();
    const { client, done } = pair(async () => session);
    await client.connect('c', 'ws://h/wg');
    const seen: number[] = [];
    const r = await client.tcpingPorts('10.8.0.1', [22, 81], {}, (x) => seen.push(x.port));
    // Every callback has run by the time the result arrives (they travel on another port).
    assert.deepEqual([seen, r.open, r.closed], [[22, 81], [22], [81]]);
    const abort = new AbortController();
    const long = client.tcpingPorts('10.8.0.1', [22, 81, 82], {}, undefined, abort.signal);
    await settle(client, () => session.portsSignal !== undefined && seen.length >= 2);
    abort.abort();
    assert.equal(await codeOf(long), 'ABORTED');
    assert.equal(session.portsSignal?.aborted, true, 'the session saw the abort and stops starting ports');
    assert.equal(await codeOf(client.tcpingPorts('10.8.0.1', [])), 'USAGE');
    done();
  });

  test('traceroute streams each hop to the page with names and * probes, passes the options, checks them, and stops on abort', async () => {
    const session = new ScriptedSession();
    const { client, done } = pair(async () => session);
    await client.connect('c', 'ws://h/wg');
    const seen: string[] = [];
    const r = await client.traceroute('10.8.0.9', { method: 'icmp', maxHops: 5, resolveNames: false }, (h) => seen.push(h.probes.map((p) => (p.kind === 'timeout' ? `${h.ttl} *` : `${h.ttl} ${p.name} ${p.from}`)).join()));
    // Every hop has reached the page before the result does.
    assert.deepEqual(seen, ['1 gw.lan 10.8.0.1', '2 *']);
    assert.deepEqual([r.method, r.maxHops, r.hops.length], ['icmp', 5, 2]);
    assert.deepEqual([session.traceOptions?.method, session.traceOptions?.maxHops, session.traceOptions?.resolveNames], ['icmp', 5, false]);
    const abort = new AbortController();
    const long = client.traceroute('hang', {}, undefined, abort.signal);
    await settle(client, () => session.traceOptions?.signal !== undefined && session.traceOptions.maxHops === 30);
    abort.abort();
    assert.equal(await codeOf(long), 'ABORTED');
    assert.equal(session.traceOptions?.signal?.aborted, true);
    assert.equal(await codeOf(client.traceroute('')), 'USAGE');
    assert.equal(await codeOf(client.traceroute('10.8.0.9', { method: 'tcp' as 'udp' })), 'USAGE');
    assert.equal(await codeOf(client.traceroute('10.8.0.9', { maxHops: 256 })), 'USAGE');
    assert.equal(await codeOf(client.traceroute('10.8.0.9', { probesPerHop: 0 })), 'USAGE');
    done();
  });

  test('fetch sends method, headers and body, and returns a standard Response with a streamed body', async () => {
    const session = new ScriptedSession();
    const { client, done } = pair(async () => session);
    await client.connect('c', 'ws://h/wg');
    const response = await client.fetch('http://10.8.0.1/upload', {
      method: 'post',
      headers: { Host: 'internal.example', 'X-Test': 'yes' },
      body: 'hello',
    });
    assert.equal(session.lastFetch?.init?.method, 'POST');
    assert.equal(session.lastFetch?.body, 'hello');
    const sent = new Headers(session.lastFetch?.init?.headers);
    assert.equal(sent.get('host'), 'internal.example', 'Host is not filtered: the tunnel makes the request');
    assert.equal(sent.get('content-type'), 'text/plain;charset=UTF-8');
    assert.ok(response instanceof Response);
    assert.equal(response.status, 201);
    assert.equal(response.statusText, 'Created');
    assert.equal(response.headers.get('x-one'), '1');
    assert.equal(response.url, 'http://10.8.0.1/upload');
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(bytes.length, 200_000);
    assert.equal(bytes[123_457], 123_457 & 0xff);
    done();
  });

  test("a byte body is sent as exactly the view's bytes, copied (the caller keeps its buffer), with no Content-Type added", async () => {
    const session = new ScriptedSession();
    const { client, done } = pair(async () => session);
    await client.connect('c', 'ws://h/wg');
    const whole = new TextEncoder().encode('xxhello bytesyy');
    const view = whole.subarray(2, 13);
    await client.fetch('http://10.8.0.1/upload', { method: 'POST', body: view });
    assert.equal(session.lastFetch?.body, 'hello bytes');
    assert.equal(new Headers(session.lastFetch?.init?.headers).get('content-type'), null);
    assert.equal(whole.buffer.byteLength, 15, "the caller's buffer was not transferred away");
    whole.fill(0);
    assert.equal(new TextDecoder().decode(session.lastFetch?.init?.body as ArrayBuffer), 'hello bytes', 'the sent body is a copy');
    await client.fetch('http://10.8.0.1/upload', { method: 'POST', body: new TextEncoder().encode('buffer').buffer });
    assert.equal(session.lastFetch?.body, 'buffer');
    done();
  });

  test('fetch timing reports reach the page callback (the waterfall in the HTTP tool)', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    await client.connect('c', 'ws://h/wg');
    const timings: { done?: number; status?: number }[] = [];
    const { head, response } = await client.fetchWithHead('http://10.8.0.1/', { onTiming: (t) => timings.push(t) });
    assert.equal(head.status, 201);
    assert.ok(head.timing.headersMs >= 0);
    await response.arrayBuffer();
    await settle(client, () => timings.length === 1);
    assert.deepEqual([timings[0].status, timings[0].done], [201, 3]);
    done();
  });

  test('a GET with a body is refused on the page with USAGE', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    await client.connect('c', 'ws://h/wg');
    assert.equal(await codeOf(client.fetch('http://10.8.0.1/', { body: 'x' })), 'USAGE');
    done();
  });

  test('session events reach subscribers in batches, including those sent while closing', async () => {
    const session = new ScriptedSession();
    const { client, done } = pair(async () => session);
    const seen: SessionEvent[] = [];
    let batches = 0;
    const unsubscribe = await client.subscribe((events) => {
      batches++;
      seen.push(...events);
    });
    await client.connect('c', 'ws://h/wg');
    session.emit({ at: 1, type: 'handshake-sent', level: 'info', message: 'Handshake sent.' });
    session.emit({ at: 2, type: 'handshake-answered', level: 'info', message: 'Handshake answered.' });
    await client.disconnect();
    assert.equal(session.closed, true);
    await settle(client, () => seen.length === 3);
    assert.deepEqual(seen.map((e) => e.type), ['handshake-sent', 'handshake-answered', 'closed']);
    assert.ok(batches <= 2, `expected batching, got ${batches} batches`);
    assert.equal(await client.status(), null);
    await unsubscribe();
    done();
  });

  test('trust settings set before connect reach every new session, with page-API certificates on top, and updates reach the running one', async () => {
    const calls: string[][] = [];
    let n = 0;
    const { client, done } = pair(async () => {
      const mine: string[] = [];
      calls.push(mine);
      n++;
      return Object.assign(new ScriptedSession(), {
        setTrust: async (json: unknown) => void mine.push(`set ${JSON.stringify(json)}`),
        addTrustedCertificate: async (pem: string) => (mine.push(`add ${pem.length}`), [{ subject: 'CN=ca', sha256: 'ab' }]),
      });
    });
    const pins = { version: 1, certificates: [], pins: { 'nas.lan': 'ab'.repeat(32) }, insecureHosts: [] };
    await client.setTrust(pins);
    await client.connect('[Interface]\n', 'ws://127.0.0.1:1/wg');
    const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
    await client.addTrustedCertificate(pem);
    assert.deepEqual(calls[0], [`set ${JSON.stringify(pins)}`, `add ${pem.length}`]);
    const later = { ...pins, pins: {} };
    await client.setTrust(later);
    assert.deepEqual(calls[0]!.slice(2), [`set ${JSON.stringify(later)}`, `add ${pem.length}`], 'the running session gets the new settings, page-API certificates kept');
    await client.connect('[Interface]\n', 'ws://127.0.0.1:1/wg');
    assert.equal(n, 2);
    assert.deepEqual(calls[1], [`set ${JSON.stringify(later)}`, `add ${pem.length}`], 'a new session starts with the latest settings');
    assert.equal(await codeOf(client.setTrust('nope' as unknown as object)), 'USAGE');
    done();
  });

  test('a second connect closes the first session', async () => {
    const sessions: ScriptedSession[] = [];
    const { client, done } = pair(async () => {
      const s = new ScriptedSession();
      sessions.push(s);
      return s;
    });
    await client.connect('a', 'ws://h/wg');
    await client.connect('b', 'ws://h/wg');
    assert.deepEqual(sessions.map((s) => s.closed), [true, false]);
    done();
  });

  test('key generation matches wg: 44-character base64 keys, and the public key derives from the private one', async () => {
    const { client, done } = pair(async () => new ScriptedSession());
    const pair1 = await client.generateKeyPair();
    assert.match(pair1.privateKey, /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(await client.derivePublicKey(pair1.privateKey), pair1.publicKey);
    // RFC 7748 §6.1 Alice's key pair.
    assert.equal(
      await client.derivePublicKey(Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64')),
      Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64'),
    );
    assert.equal(await codeOf(client.derivePublicKey('not a key')), 'KEY_INVALID');
    assert.match(await client.generatePresharedKey(), /^[A-Za-z0-9+/]{43}=$/);
    done();
  });
});

/** A session whose onEvent replays its history first, as Session's does. */
class ReplayingSession extends ScriptedSession {
  history: SessionEvent[] = [];
  override onEvent(listener: (e: SessionEvent) => void): () => void {
    for (const e of this.history) listener(e);
    return super.onEvent(listener);
  }
  override emit(e: SessionEvent): void {
    this.history.push(e);
    super.emit(e);
  }
}

const event = (type: string, at: number): SessionEvent => ({ at, type, level: type === 'handshake-timeout' ? 'error' : 'info', message: type });

test('the events of a connect reach the page as they happen, each once, whether it succeeds or fails (#18 item 5)', async () => {
  // A starter like tunnel-worker.ts: subscribes onEvent, emits while the handshake runs, then resolves.
  let release!: () => void;
  const session = new ReplayingSession();
  const { client, done } = pair(async (o) => {
    const { onEvent } = o as { onEvent?: (e: SessionEvent) => void };
    session.emit(event('relay-open', 1));
    if (onEvent) session.onEvent(onEvent);
    session.emit(event('handshake-initiation-sent', 2));
    session.emit(event('handshake-retry', 3));
    await new Promise<void>((r) => (release = r));
    session.emit(event('session-established', 4));
    return session;
  });
  const seen: string[] = [];
  const unsubscribe = await client.subscribe((events) => seen.push(...events.map((e) => e.type)));
  const connected = client.connect('c', 'ws://h/wg');
  await settle(client, () => seen.length === 3);
  assert.deepEqual(seen, ['relay-open', 'handshake-initiation-sent', 'handshake-retry'], 'shown while the connect is still waiting');
  release();
  await connected;
  session.emit(event('keepalive-sent', 5));
  await settle(client, () => seen.length === 5);
  assert.deepEqual(seen, ['relay-open', 'handshake-initiation-sent', 'handshake-retry', 'session-established', 'keepalive-sent'], 'no duplicates from the replay');

  const failing = pair(async (o) => {
    const { onEvent } = o as { onEvent?: (e: SessionEvent) => void };
    onEvent?.(event('handshake-initiation-sent', 1));
    onEvent?.(event('handshake-timeout', 2));
    throw new WgwebError('HANDSHAKE_TIMEOUT', 'no handshake response from 192.0.2.1:51820: ...');
  });
  const failed: string[] = [];
  const unsubscribeFailed = await failing.client.subscribe((events) => failed.push(...events.map((e) => e.type)));
  assert.equal(await codeOf(failing.client.connect('c', 'ws://h/wg')), 'HANDSHAKE_TIMEOUT');
  await settle(failing.client, () => failed.length === 2);
  assert.deepEqual(failed, ['handshake-initiation-sent', 'handshake-timeout'], 'a failed connect still shows its steps and why');
  await unsubscribeFailed();
  failing.done();
  await unsubscribe();
  done();
});

test('events from before the page subscribed are delivered once it does', async () => {
  const session = new ScriptedSession();
  const { client, done } = pair(async () => session);
  await client.connect('c', 'ws://h/wg');
  session.emit({ at: 1, type: 'early', level: 'info', message: 'Before anyone listened.' });
  await client.status();
  const seen: SessionEvent[] = [];
  const unsubscribe = await client.subscribe((events) => seen.push(...events));
  await settle(client, () => seen.length === 1);
  assert.equal(seen[0]?.type, 'early');
  await unsubscribe();
  done();
});
