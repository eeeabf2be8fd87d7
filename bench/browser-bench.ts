/**
 * The browser app, measured in headless Chromium: the built UI (dist/ui) served by a `wgweb relay`
 * process, driven through `window.wgweb` against a real wireguard-go in a network namespace.
 *
 *   Chromium page (UI, reads the Response) ⇄ tunnel worker (WireGuard + TCP/IP) ──ws──▶ relay process
 *       ──UDP──▶ wireguard-go (namespace) ── kernel TCP ── HTTP server (/bytes/N)
 *
 *   browser.download     HTTP download (100 MiB; 20 MiB --quick) through wgweb.fetch, the body read to
 *                        the end in the page and its bytes counted (what curl -o /dev/null does for
 *                        the kernel baseline); one more, untimed round checks it (length and a
 *                        SHA-256 over 1 MiB blocks in the page) and its rate is in the notes.
 *                        Baseline: a raw WebSocket in a dedicated worker of the same page, over the
 *                        same relay process, from a UDP sender next to wireguard-go streaming
 *                        full-size WireGuard-shaped datagrams against credit (no WireGuard, no TCP):
 *                        what the browser's WebSocket and the relay path carry, the tunnel's ceiling.
 *   browser.download-vs-kernel, browser.upload
 *                        the download, and a 20 MiB upload from the page, against the same transfer
 *                        between two wireguard-go peers with the kernel's TCP (kernel-baseline.ts,
 *                        kept up through the run), in interleaved pairs K B, B K, … (4; 6 in a full
 *                        run: an even count, so each order runs as often; paired-rounds.ts): the row's ratio is the median of the pairs' ratios,
 *                        its value and baseline the median rates; the notes give every pair (machine
 *                        CPU per MB, idle, load), the UDP drops and TCP retransmissions of both paths,
 *                        and for the upload the relay's drops and our TCP sender's counters. Every
 *                        wireguard-go gets 7 MiB UDP socket buffers (socket-buffers.ts), as current
 *                        wireguard-go sets for itself (`--wg-udp-buffer 0` leaves Debian's default).
 *   browser.long-tasks   share of the page's main-thread time in long tasks (PerformanceObserver
 *                        'longtask', ≥ 50 ms) during that download, against the same page idle (the
 *                        noise floor of a shared machine); the browser's own fetch() of the same
 *                        bytes (same reading code) in the notes.
 *   browser.worker-heap  the tunnel worker's V8 heap (CDP Runtime.getHeapUsage on the worker target,
 *                        after HeapProfiler.collectGarbage) after the downloads, against the same
 *                        worker before them: retained memory. Peak during the transfer in the notes.
 *   browser.connect      wgweb.connect → first ping reply (worker session, WebSocket, Noise handshake
 *                        with wireguard-go, ICMP), against a raw WebSocket open → first datagram
 *                        echoed through the same relay (the floor of any relayed design).
 *   browser.bundle       gzip size of what the browser loads (HTML + JS + CSS in dist/ui, source maps
 *                        excluded); no baseline; the largest contributors from the source maps.
 *
 * Loopback and the bench's own namespace only; the browser, the relay and wireguard-go stop with
 * the run (also on failure: every child is tied to this process with --pdeathsig).
 *
 *   node --import tsx bench/browser-bench.ts [--quick] [--bytes N] [--profile DIR] [--relay-prof DIR] [--relay-args '--batch-delay 0']
 *                                            [--carrier websocket|websocketstream|fetch-stream] [--pairs N] [--wg-udp-buffer BYTES]
 *
 * `--profile DIR` runs the connects, one extra download and one extra upload with the V8 sampling
 * profiler on in the tunnel worker and the page (CDP), writes the .cpuprofile files to DIR and prints self time by
 * original source file and function (through dist/ui's source maps) and each function's inclusive
 * share of the busy samples. The connect figure of a profiled run includes the profiler's cost.
 *
 * `--relay-prof DIR` runs the relay process under `node --cpu-prof` (its .cpuprofile lands in DIR
 * when the run ends) and writes DIR/windows.json, the measured browser downloads and uploads as
 * CLOCK_MONOTONIC µs (the profile's clock); `node --import tsx bench/relay-profile.ts DIR` then
 * prints where the relay's time went in those windows only (#19, docs/benchmarks.md section 10).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { namespaceLosses, startKernelPath, type KernelTransfer } from './kernel-baseline.ts';
import { parseDropMetrics } from './upload-trace.ts';
import { cpuSplit, machineBusyMs, machineCpuTimes, machineMsPerMB, type CpuSplit } from './machine-cpu.ts';
import { formatPairSummary, median, pairOrder, summarizePairs, type PairSummary, type Side } from './paired-rounds.ts';
import { forceUdpBuffers } from './socket-buffers.ts';
import { closeAllNamespaces, type NsProcess } from '../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer } from '../harness/ns-servers.ts';
import { browserSkipReason, interopSkipReason } from '../harness/requirements.ts';
import { deterministicChunks } from '../harness/deterministic-bytes.ts';
import { DIST_UI, ensureUiBuilt } from '../harness/browser.ts';
import { launchCdpChromium, type CdpBrowser, type CdpPage, type CdpSession } from '../harness/cdp-chromium.ts';
import { buildRelayUrl } from '../src/shared/relay-protocol.ts';
import { formatEndpoint, type Endpoint } from '../src/shared/ip-address.ts';
import type { TcpSocketStats } from '../src/netstack/socket/tcp-socket.ts';
import { cpuShares, descendantCpu, threadCpu } from './bench-child.ts';
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.ts';
import { higherIsBetter, lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions, runCleanups } from './bench-entry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const MB = 1e6;
/** The page hashes the body in blocks of this size (crypto.subtle has no streaming digest). */
const HASH_BLOCK = MiB;
const SEED = 11;
const FULL_DATAGRAM = 1452;
const PING_DATAGRAM = 128;
/** The UDP sender's port inside the namespace. */
const UDP_SOURCE_PORT = 9998;
/** Raw download: datagrams in flight, and credit granted per that many received (one "ACK" per 16). */
const RAW_WINDOW = 64;
const RAW_CREDIT_EVERY = 16;
const RAW_WORKER_FILE = 'bench-raw-ws.js';
/**
 * #19's sweep: WebSocket message sizes from one datagram per message to 256 KiB, received by a
 * worker of the page from a `ws` server on loopback. In flight: about 1 MiB (at least 4 messages).
 */
const SWEEP_SIZES = [FULL_DATAGRAM, 4096, 16384, 65535, 262144];
const MAX_SWEEP_MESSAGE = 262144;
const SWEEP_WINDOW_BYTES = MiB;
const NATIVE_FILE = 'bench-native.bin';

// -----------------------------------------------------------------------------------------------
// The far end of the raw path and the bench-only worker

/**
 * Inside the namespace on its veth address: echoes every datagram, except a 36-byte credit request
 * (type 4, "GIVE" at 16, u32 LE count at 20), which it answers with that many full-size datagrams.
 */
const UDP_SOURCE = `
const s = require('node:dgram').createSocket('udp4');
const full = Buffer.alloc(${FULL_DATAGRAM}); full[0] = 4;
s.on('message', (m, r) => {
  if (m.length === 36 && m.toString('latin1', 16, 20) === 'GIVE') {
    for (let i = m.readUInt32LE(20); i > 0; i--) s.send(full, r.port, r.address);
  } else s.send(m, r.port, r.address);
});
s.on('error', () => {});
s.bind(${UDP_SOURCE_PORT}, process.argv[1], () => {
  try { s.setRecvBufferSize(4 << 20); s.setSendBufferSize(4 << 20); } catch {}
  console.log('ready');
});`;

/**
 * A dedicated worker served next to the UI (same origin, so the page's CSP allows it): a raw
 * WebSocket to the relay with no WireGuard and no TCP, the baseline for the tunnel worker.
 */
const RAW_WORKER = `// wgweb bench only (bench/browser-bench.ts): a raw WebSocket through the relay.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shaped = (size) => { const d = new Uint8Array(size); d[0] = 4; return d; };
const credit = (n, size) => { const d = shaped(36); d.set([0x47, 0x49, 0x56, 0x45], 16); new DataView(d.buffer).setUint32(20, n, true); if (size) new DataView(d.buffer).setUint32(24, size, true); return d; };
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'wgweb.v1');
    ws.binaryType = 'arraybuffer';
    const timer = setTimeout(() => reject(new Error('raw WebSocket did not open within 10 s')), 10000);
    ws.onopen = () => { clearTimeout(timer); ws.onclose = null; ws.onerror = null; resolve(ws); };
    ws.onerror = () => { clearTimeout(timer); reject(new Error('raw WebSocket failed')); };
    ws.onclose = (e) => { clearTimeout(timer); reject(new Error('raw WebSocket closed ' + e.code + ' ' + e.reason)); };
  });
}
async function download({ url, ms, warmupMs, window, every, size }) {
  const ws = await open(url);
  let bytes = 0, messages = 0, since = 0, measuring = false, last = performance.now();
  ws.onmessage = (e) => {
    last = performance.now();
    if (measuring) { bytes += e.data.byteLength; messages++; }
    if (++since >= every) { since = 0; ws.send(credit(every, size)); }
  };
  ws.send(credit(window, size));
  // The relay drops instead of buffering: a window lost on a saturated path is granted again.
  const restart = setInterval(() => { if (performance.now() - last > 200) { since = 0; ws.send(credit(window, size)); } }, 100);
  await sleep(warmupMs);
  measuring = true;
  const t0 = performance.now();
  await sleep(ms);
  measuring = false;
  const t1 = performance.now();
  clearInterval(restart);
  ws.close();
  return { bytes, messages, seconds: (t1 - t0) / 1000 };
}
// #19 item 3: the same credit protocol over WebSocketStream (Chromium), whose reads are a stream
// with backpressure instead of one task per message event.
async function downloadStream({ url, ms, warmupMs, window, every, size }) {
  if (typeof WebSocketStream !== 'function') throw new Error('no WebSocketStream in this browser');
  const wss = new WebSocketStream(url, { protocols: ['wgweb.v1'] });
  const { readable, writable } = await Promise.race([wss.opened, sleep(10000).then(() => { throw new Error('WebSocketStream did not open within 10 s'); })]);
  const reader = readable.getReader();
  const writer = writable.getWriter();
  let bytes = 0, messages = 0, since = 0, measuring = false, stop = false;
  writer.write(credit(window, size));
  const pump = (async () => {
    while (!stop) {
      const { value, done } = await reader.read();
      if (done) break;
      if (measuring) { bytes += value.byteLength; messages++; }
      if (++since >= every) { since = 0; writer.write(credit(every, size)); }
    }
  })();
  await sleep(warmupMs);
  measuring = true;
  const t0 = performance.now();
  await sleep(ms);
  measuring = false;
  const t1 = performance.now();
  stop = true;
  wss.close();
  await Promise.race([pump.catch(() => {}), sleep(2000)]);
  return { bytes, messages, seconds: (t1 - t0) / 1000 };
}
async function firstReply({ url, size }) {
  const t0 = performance.now();
  const ws = await open(url);
  const got = new Promise((resolve, reject) => { ws.onmessage = resolve; setTimeout(() => reject(new Error('no echo within 10 s')), 10000); });
  ws.send(shaped(size));
  await got;
  const ms = performance.now() - t0;
  ws.close();
  return { ms };
}
onmessage = async ({ data }) => {
  try {
    postMessage({ ok: true, result: data.op === 'download' ? await download(data) : data.op === 'download-stream' ? await downloadStream(data) : await firstReply(data) });
  } catch (e) {
    postMessage({ ok: false, error: String(e && e.message || e) });
  }
};
`;

/**
 * The same credit protocol straight from a `ws` server on loopback (no relay, no UDP): how fast the
 * browser's WebSocket alone takes in full-size messages. Runs in this process.
 */
async function startWsSource(): Promise<{ url: string; close(): Promise<void> }> {
  const full = Buffer.alloc(FULL_DATAGRAM);
  full[0] = 4;
  const bySize = new Map<number, Buffer>();
  const sized = (size: number): Buffer => {
    let b = bySize.get(size);
    if (!b) bySize.set(size, (b = Buffer.alloc(Math.min(size, MAX_SWEEP_MESSAGE), 4)));
    return b;
  };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: (p) => p.values().next().value ?? false });
  wss.on('connection', (ws) => {
    ws.on('message', (m: Buffer) => {
      if (m.length === 36 && m.toString('latin1', 16, 20) === 'GIVE') {
        // Message size at 24 (0: a full-size datagram), for the message-size sweep.
        const size = m.readUInt32LE(24);
        const msg = size ? sized(size) : full;
        for (let i = m.readUInt32LE(20); i > 0; i--) ws.send(msg);
      } else ws.send(m);
    });
    ws.on('error', () => undefined);
  });
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function startUdpSource(peer: WgGoPeer): Promise<{ endpoint: Endpoint; process: NsProcess }> {
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const proc = peer.ns.spawn(process.execPath, ['-e', UDP_SOURCE, peer.ns.nsAddress4], { onLine: (l) => l === 'ready' && ready() });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      listening,
      proc.exited.then(() => Promise.reject(new Error(`UDP source exited: ${proc.output()}`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('UDP source did not start within 20 s')), 20_000))),
    ]);
  } catch (e) {
    await proc.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { endpoint: { host: peer.ns.nsAddress4, port: UDP_SOURCE_PORT }, process: proc };
}

/** SHA-256 over the SHA-256 of each {@link HASH_BLOCK}-byte block: what the page computes. */
function blockwiseSha256(chunks: Iterable<Uint8Array>): string {
  const digests: Buffer[] = [];
  let block = createHash('sha256');
  let fill = 0;
  for (const c of chunks) {
    for (let off = 0; off < c.length; ) {
      const k = Math.min(HASH_BLOCK - fill, c.length - off);
      block.update(c.subarray(off, off + k));
      fill += k;
      off += k;
      if (fill === HASH_BLOCK) {
        digests.push(block.digest());
        block = createHash('sha256');
        fill = 0;
      }
    }
  }
  if (fill > 0) digests.push(block.digest());
  return createHash('sha256').update(Buffer.concat(digests)).digest('hex');
}

async function writeDeterministicFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (const c of deterministicChunks(bytes, SEED)) if (!out.write(c)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const STATIC_PREFIX = 'wgweb-bench-static-';

/** Removes the static directories (with their big file) of earlier runs that were killed before cleaning up. */
function sweepStaticDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${STATIC_PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
    if (!alive) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Long tasks as a share of the watched time, %. */
function longTaskShare(d: { longTasks: number[]; ms: number }): number {
  return (100 * d.longTasks.reduce((a, b) => a + b, 0)) / d.ms;
}

// -----------------------------------------------------------------------------------------------
// The tunnel worker's heap, through CDP

interface HeapUsage {
  /** V8 heap in use. */
  readonly usedSize: number;
  /** V8 heap reserved. */
  readonly totalSize: number;
  /** ArrayBuffer backing stores (outside the V8 heap): packet and stream buffers live here. */
  readonly backingStorageSize: number;
}

/**
 * DevTools sessions to the tunnel worker and to the page (harness/cdp-chromium.ts: only the
 * domains used here are enabled, so the worker's WebSocket frames are not reported to anyone).
 */
export class WorkerInspector {
  /** The page's own session (main thread). */
  readonly page: CdpSession;
  readonly #worker: CdpSession;

  private constructor(page: CdpSession, worker: CdpSession) {
    this.page = page;
    this.#worker = worker;
  }

  /** Attaches to the page's worker whose script URL contains `urlPart`. */
  static async attach(browser: CdpBrowser, urlPart: string): Promise<WorkerInspector> {
    return new WorkerInspector(browser.page, await browser.attachWorker(urlPart));
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return withTimeout(this.#worker.send<T>(method, params), 30_000, `CDP ${method} on the worker`);
  }

  heap(): Promise<HeapUsage> {
    return this.send<HeapUsage>('Runtime.getHeapUsage');
  }

  async heapAfterGc(): Promise<HeapUsage> {
    await this.send('HeapProfiler.collectGarbage');
    return this.heap();
  }
}

// -----------------------------------------------------------------------------------------------
// What runs in the page

export interface PageDownload {
  readonly bytes: number;
  readonly ms: number;
  readonly sha256: string;
  /** Durations of the long tasks seen while the body was read. */
  readonly longTasks: number[];
  /** The largest delay of a 20 ms interval timer beyond its period (main-thread stall), ms. */
  readonly maxLagMs: number;
  /** Chunks the page's reader got (for the tunnel: what crossed from the worker, #19). */
  readonly chunks: number;
}

/**
 * Reads `url` to the end in the page, through `wgweb.fetch` (tunnel) or the browser's own fetch
 * (native), watching the main thread. With `hash` it also hashes the body block by block with
 * crypto.subtle (the integrity round); without, it only counts the bytes, which is all the kernel
 * baseline's `curl -o /dev/null` does, so timed rounds run without it (#19: the digest and the
 * block copies cost the renderer ~15–20 ms/MB that the baseline does not pay). `sha256` is '' then.
 */
export function pageDownload(page: CdpPage, args: { url: string; via: 'tunnel' | 'native'; block: number; hash: boolean }): Promise<PageDownload> {
  return page.evaluate(async ({ url, via, block: blockSize, hash }) => {
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: 'longtask' });
    let maxLagMs = 0;
    let last = performance.now();
    const lag = setInterval(() => {
      const t = performance.now();
      maxLagMs = Math.max(maxLagMs, t - last - 20);
      last = t;
    }, 20);
    try {
      const t0 = performance.now();
      const res = via === 'tunnel' ? await window.wgweb.fetch(url) : await fetch(url, { cache: 'no-store' });
      if (res.status !== 200 || !res.body) throw new Error(`download: HTTP ${res.status}`);
      const reader = res.body.getReader();
      const block = new Uint8Array(hash ? blockSize : 0);
      const digests: Promise<ArrayBuffer>[] = [];
      let fill = 0;
      let bytes = 0;
      let chunks = 0;
      let lastChunk = performance.now();
      const stall = setInterval(() => {
        if (performance.now() - lastChunk > 30_000) void reader.cancel(new Error('no data for 30 s'));
      }, 1000);
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          lastChunk = performance.now();
          bytes += value.length;
          chunks++;
          if (!hash) continue;
          for (let off = 0; off < value.length; ) {
            const k = Math.min(blockSize - fill, value.length - off);
            block.set(value.subarray(off, off + k), fill);
            fill += k;
            off += k;
            // digest() copies its input when called, so the block buffer is reused at once.
            if (fill === blockSize) {
              digests.push(crypto.subtle.digest('SHA-256', block));
              fill = 0;
            }
          }
        }
      } finally {
        clearInterval(stall);
      }
      const ms = performance.now() - t0;
      for (const e of observer.takeRecords()) longTasks.push(e.duration);
      if (!hash) return { bytes, ms, sha256: '', longTasks, maxLagMs, chunks };
      if (fill > 0) digests.push(crypto.subtle.digest('SHA-256', block.subarray(0, fill)));
      const all = await Promise.all(digests);
      const joined = new Uint8Array(all.length * 32);
      all.forEach((d, i) => joined.set(new Uint8Array(d), i * 32));
      const sha = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
      return { bytes, ms, sha256: [...sha].map((b) => b.toString(16).padStart(2, '0')).join(''), longTasks, maxLagMs, chunks };
    } finally {
      observer.disconnect();
      clearInterval(lag);
    }
  }, args);
}

/** The same main-thread watch on the page doing nothing for `ms`: the machine's noise floor. */
function pageIdle(page: CdpPage, ms: number): Promise<PageDownload> {
  return page.evaluate(async (ms) => {
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: 'longtask' });
    let maxLagMs = 0;
    let last = performance.now();
    const lag = setInterval(() => {
      const t = performance.now();
      maxLagMs = Math.max(maxLagMs, t - last - 20);
      last = t;
    }, 20);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    for (const e of observer.takeRecords()) longTasks.push(e.duration);
    observer.disconnect();
    clearInterval(lag);
    return { bytes: 0, ms: performance.now() - t0, sha256: '', longTasks, maxLagMs, chunks: 0 };
  }, ms);
}

export interface PageUpload {
  readonly ms: number;
  /** What the server said it received. */
  readonly length: number;
  readonly ok: boolean;
}

/**
 * POSTs `bytes` pseudo-random bytes (made and hashed in the page before the clock starts) with
 * `wgweb.fetch` to the HTTP server's /upload, which answers with the length and SHA-256 it
 * received; timed from the call until that answer is parsed.
 */
export function pageUpload(page: CdpPage, args: { url: string; bytes: number; seed: number }): Promise<PageUpload> {
  return page.evaluate(async ({ url, bytes, seed }) => {
    const body = new Uint8Array(bytes);
    const words = new Uint32Array(body.buffer, 0, bytes >>> 2);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < words.length; i++) {
      // xorshift32: cheap, and not something a compressor or a cache could shortcut.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    const sha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const t0 = performance.now();
    const res = await window.wgweb.fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    const answer = (await res.json()) as { length: number; sha256: string };
    const ms = performance.now() - t0;
    return { ms, length: answer.length, ok: res.status === 200 && answer.length === bytes && answer.sha256 === sha };
  }, args);
}

/** Runs one job in the bench-only raw WebSocket worker (created once per page). */
function rawWorker<T>(page: CdpPage, job: Record<string, unknown>): Promise<T> {
  return page.evaluate(
    async ({ file, job }) => {
      const w = window as unknown as { __wgwebBenchRaw?: Worker };
      w.__wgwebBenchRaw ??= new Worker(`./${file}`);
      const worker = w.__wgwebBenchRaw;
      const reply = await new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => resolve({ ok: false, error: e.message });
        worker.postMessage(job);
      });
      if (!reply.ok) throw new Error(reply.error);
      return reply.result;
    },
    { file: RAW_WORKER_FILE, job },
  ) as Promise<T>;
}

// -----------------------------------------------------------------------------------------------
// The bundle

/**
 * Decodes the `mappings` of a v3 source map (Source Map Revision 3: base64 VLQ segments, `;` per
 * generated line) into absolute segments per line: [generated column, source, line, column, name?]
 * (a 1-field segment maps to nothing and has source -1).
 */
export function decodeMappings(mappings: string): number[][][] {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const decode = (seg: string): number[] => {
    const out: number[] = [];
    let value = 0;
    let shift = 0;
    for (const ch of seg) {
      const digit = B64.indexOf(ch);
      value += (digit & 31) * 2 ** shift;
      if (digit & 32) shift += 5;
      else {
        out.push(value % 2 ? -Math.floor(value / 2) : value / 2);
        value = 0;
        shift = 0;
      }
    }
    return out;
  };
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  return mappings.split(';').map((text) => {
    let col = 0;
    return (text ? text.split(',') : []).map((seg) => {
      const f = decode(seg);
      col += f[0];
      if (f.length < 4) return [col, -1];
      source += f[1];
      line += f[2];
      column += f[3];
      if (f.length < 5) return [col, source, line, column];
      name += f[4];
      return [col, source, line, column, name];
    });
  });
}

/** Bytes of generated code attributed to each source of a v3 source map (by mapping segments). */
export function attributeBySource(code: string, map: { sources: string[]; mappings: string }): Map<string, number> {
  const lines = code.split('\n');
  const out = new Map<string, number>();
  const add = (src: number, n: number): void => {
    if (n <= 0) return;
    const name = src >= 0 ? (map.sources[src] ?? '(unknown)') : '(unmapped)';
    out.set(name, (out.get(name) ?? 0) + n);
  };
  // A segment runs to the next one; code before a line's first segment (the rest of a multi-line
  // template literal, such as a Lit css`` block) belongs to the last segment of the lines above.
  let prevSrc = -1;
  const decoded = decodeMappings(map.mappings);
  // A map may end before the code does (trailing lines without segments).
  for (let li = 0; li < Math.max(lines.length, decoded.length); li++) {
    let prevCol = 0;
    for (const [col, src] of decoded[li] ?? []) {
      add(prevSrc, col - prevCol);
      prevCol = col;
      prevSrc = src;
    }
    add(prevSrc, (lines[li]?.length ?? 0) - prevCol);
  }
  return out;
}

/** Groups a source path: an npm package by name, our code by its top directories. */
function contributor(source: string): string {
  const nm = source.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = source.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const parts = source.replace(/^(\.\.\/)+/, '').split('/');
  if (parts[0] === 'src' && parts.length > 2) return `${parts[0]}/${parts[1]}/`;
  return parts.length > 1 ? `${parts[0]}/` : parts[0];
}

interface BundleReport {
  readonly gzipBytes: number;
  readonly rawBytes: number;
  readonly files: { name: string; raw: number; gzip: number }[];
  readonly contributors: { name: string; bytes: number }[];
}

export function analyseBundle(dir: string): BundleReport {
  const files: BundleReport['files'] = [];
  const contributors = new Map<string, number>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (/\.(js|mjs|css|html)$/.test(e.name)) {
        const body = readFileSync(join(dir, path));
        files.push({ name: path, raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
        if (/\.m?js$/.test(e.name)) {
          try {
            const map = JSON.parse(readFileSync(join(dir, `${path}.map`), 'utf8')) as { sources: string[]; mappings: string };
            for (const [src, n] of attributeBySource(body.toString('utf8'), map)) {
              const c = contributor(src);
              contributors.set(c, (contributors.get(c) ?? 0) + n);
            }
          } catch {
            contributors.set('(no source map)', (contributors.get('(no source map)') ?? 0) + body.length);
          }
        }
      }
    }
  };
  walk('');
  files.sort((a, b) => b.gzip - a.gzip);
  return {
    gzipBytes: files.reduce((a, f) => a + f.gzip, 0),
    rawBytes: files.reduce((a, f) => a + f.raw, 0),
    files,
    contributors: [...contributors].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

// -----------------------------------------------------------------------------------------------
// CPU profiles (--profile): where the worker and the page spend their time, by original source

export interface CpuProfile {
  readonly nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/**
 * Self time by original source file and by function (through dist/ui's source maps), top first, and
 * inclusive time by function (a function and what it called, counted once per sample however often
 * it recurs on the stack). V8 folds inlined callees into the caller's self time.
 */
export function summarizeProfile(
  profile: CpuProfile,
  distDir: string,
): { files: { name: string; ms: number }[]; functions: { name: string; ms: number }[]; inclusive: { name: string; ms: number }[] } {
  const maps = new Map<string, { sources: string[]; names: string[]; lines: number[][][] } | null>();
  const lookup = (url: string, line: number, column: number): { file: string; fn: string } | undefined => {
    const m = /\/(assets\/[^/?#]+\.js)/.exec(url);
    if (!m) return undefined;
    if (!maps.has(m[1])) {
      try {
        const raw = JSON.parse(readFileSync(join(distDir, `${m[1]}.map`), 'utf8')) as { sources: string[]; names?: string[]; mappings: string };
        maps.set(m[1], { sources: raw.sources, names: raw.names ?? [], lines: decodeMappings(raw.mappings) });
      } catch {
        maps.set(m[1], null);
      }
    }
    const map = maps.get(m[1]);
    const segs = map?.lines[line];
    if (!map || !segs?.length) return undefined;
    let lo = 0;
    for (let hi = segs.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid][0] <= column) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo];
    if (seg[1] < 0) return undefined;
    const file = map.sources[seg[1]].replace(/^(\.\.\/)+/, '').replace(/^.*node_modules\//, '');
    return { file, fn: `${seg[4] !== undefined ? map.names[seg[4]] : '(anonymous)'} ${file}:${seg[2] + 1}` };
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const names = new Map<number, { file: string; fn: string }>();
  const nameOf = (id: number): { file: string; fn: string } => {
    let known = names.get(id);
    if (!known) {
      const cf = byId.get(id)!.callFrame;
      const where = lookup(cf.url, cf.lineNumber, cf.columnNumber);
      const file = where?.file ?? (cf.url ? cf.url.replace(/^.*\//, '') : `(${cf.functionName || 'native'})`);
      known = { file, fn: where?.fn ?? `${cf.functionName || '(anonymous)'} ${file}` };
      names.set(id, known);
    }
    return known;
  };
  const files = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (!us || !byId.has(id)) continue;
    const { file, fn } = nameOf(id);
    files.set(file, (files.get(file) ?? 0) + us / 1000);
    functions.set(fn, (functions.get(fn) ?? 0) + us / 1000);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined && byId.has(at); at = parent.get(at)) {
      const name = nameOf(at).fn;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us / 1000);
    }
  }
  const top = (m: Map<string, number>): { name: string; ms: number }[] => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { files: top(files), functions: top(functions), inclusive: top(inclusive) };
}

export async function startProfiles(inspector: WorkerInspector): Promise<void> {
  for (const send of [inspector.send.bind(inspector), inspector.page.send.bind(inspector.page)] as ((m: string, p?: Record<string, unknown>) => Promise<unknown>)[]) {
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 500 });
    await send('Profiler.start');
  }
}

/** Stops both profilers, writes DIR/browser-{worker,page}-NAME.cpuprofile and prints summaries. */
export async function stopProfiles(inspector: WorkerInspector, dir: string, name: string, what: string, distDir = DIST_UI): Promise<void> {
  const { profile: worker } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
  const { profile: main } = (await inspector.page.send('Profiler.stop')) as unknown as { profile: CpuProfile };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `browser-worker-${name}.cpuprofile`), JSON.stringify(worker));
  writeFileSync(join(dir, `browser-page-${name}.cpuprofile`), JSON.stringify(main));
  process.stderr.write(`  profiled ${what}; profiles in ${dir}\n`);
  printProfile(`${name}: tunnel worker`, worker, distDir);
  printProfile(`${name}: page main thread`, main, distDir);
}

/**
 * The CPU budget of both paths: the whole machine's busy CPU per MB (every process plus the
 * kernel's softirq work). Where both are CPU-bound, their MB/s ratio tends to the inverse ratio.
 */
function machineText(ours: number | undefined, kernel: number | undefined): string {
  if (ours === undefined || kernel === undefined) return 'machine CPU per MB not read (no /proc/stat)';
  return `the whole machine's busy CPU per MB (${cpus().length} cores, every process and the kernel's softirq work): this path ${ours.toFixed(0)} ms, the kernel path ${kernel.toFixed(0)} ms, so ≈ ${(kernel / ours).toFixed(2)} of the kernel's rate where both are CPU-bound (read on a quiet machine: under other work every path shows cores ÷ rate)`;
}

function printProfile(what: string, profile: CpuProfile, distDir: string): void {
  const { files, functions, inclusive } = summarizeProfile(profile, distDir);
  const total = files.reduce((a, f) => a + f.ms, 0);
  const pct = (ms: number): string => `${((100 * ms) / total).toFixed(1)}%`;
  // Inclusive shares of the busy samples (idle excluded), without the synthetic root.
  const idle = functions.find((f) => f.name.startsWith('(idle)'))?.ms ?? 0;
  const busy = total - idle;
  const busyPct = (ms: number): string => `${((100 * ms) / busy).toFixed(1)}%`;
  const calls = inclusive.filter((f) => !f.name.startsWith('(root)') && !f.name.startsWith('(idle)'));
  process.stderr.write(`  ${what}: ${total.toFixed(0)} ms sampled\n    by file: ${files.slice(0, 14).map((f) => `${f.name} ${pct(f.ms)}`).join(', ')}\n`);
  process.stderr.write(`    by function:\n${functions.slice(0, 25).map((f) => `      ${pct(f.ms).padStart(6)}  ${f.name}`).join('\n')}\n`);
  process.stderr.write(`    inclusive, share of the ${busy.toFixed(0)} busy ms:\n${calls.slice(0, 25).map((f) => `      ${busyPct(f.ms).padStart(6)}  ${f.name}`).join('\n')}\n`);
}

// -----------------------------------------------------------------------------------------------
// Interleaved pairs with the kernel path (#19 item 6, docs/benchmarks.md section 18)

/**
 * UDP socket buffers of every wireguard-go in the run, ours and the kernel path's: what current
 * wireguard-go sets for itself (7 MB, forced as root), which Debian's 0.0.20220316 does not
 * (bench/socket-buffers.ts: with the 208 KiB default the kernel path lost ≈ 15 % of its datagrams).
 */
const WG_UDP_BUFFER = 7 << 20;

/** One browser transfer: rate, the machine's and each process's CPU, what the kernel dropped. */
interface OurTransfer {
  readonly bytesPerSecond: number;
  /** The whole machine's busy CPU per MB (machine-cpu.ts). */
  readonly machineMsPerMB?: number;
  readonly split?: CpuSplit;
  /** CPU per process kind, % of one core. */
  readonly shares: [string, number][];
  /** UDP receive-buffer drops (wireguard-go's socket) and TCP retransmissions (the HTTP server's kernel TCP) in our peer's namespace. */
  readonly udpRcvbufErrors: number;
  readonly tcpRetransSegs: number;
  /** Packets the namespace's interfaces dropped (wireguard-go's TUN queue, the veth). */
  readonly interfaceDrops: number;
  /** Uploads: the relay's drops by reason during the transfer (its /metrics; only this session forwards then). */
  readonly relayDrops?: Record<string, number>;
  /** Uploads: our TCP sender's counters for the transfer (wgweb.report(), the connection that sent most). */
  readonly tcp?: UploadTcp;
}

/** One interleaved pair: the load when it started, the kernel path's transfer and ours. */
interface Pair {
  readonly order: [Side, Side];
  readonly loadAverage: number;
  readonly kernel: KernelTransfer;
  readonly ours: OurTransfer;
}

/** Runs `n` pairs in {@link pairOrder}'s order. */
async function runPairs(n: number, kernel: () => Promise<KernelTransfer>, ours: (i: number) => Promise<OurTransfer>): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const [i, order] of pairOrder(n).entries()) {
    const loadAverage = loadavg()[0]!;
    let k: KernelTransfer | undefined;
    let o: OurTransfer | undefined;
    for (const side of order) {
      if (side === 'baseline') k = await kernel();
      else o = await ours(i);
    }
    out.push({ order, loadAverage, kernel: k!, ours: o! });
  }
  return out;
}

/** The relay's drop counters by reason, from its /metrics (served on its loopback listener); undefined when unread. */
async function relayDrops(relayUrl: string): Promise<Record<string, number> | undefined> {
  try {
    const res = await fetch(new URL('/metrics', relayUrl), { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const drops = parseDropMetrics(await res.text());
    return Object.keys(drops).length ? drops : undefined;
  } catch {
    return undefined;
  }
}

/** after − before per reason, non-zero only. */
export function dropDifference(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** What the upload's connection did during one upload (TcpSocketStats differences; maxCwnd and srttMs as at the end). */
export type UploadTcp = Pick<TcpSocketStats, 'bytesSent' | 'segmentsSent' | 'retransmittedSegments' | 'fastRecoveries' | 'timeouts' | 'maxCwnd' | 'srttMs' | 'sendLimitedMs'>;

/** One connection in wgweb.report()'s counters.tcpConnections (the fields read here). */
type TcpCounters = UploadTcp & { readonly localPort: number };

async function uploadConnections(page: CdpPage): Promise<TcpCounters[]> {
  try {
    return await page.evaluate(async () => ((await window.wgweb.report()).report.counters as { tcpConnections?: TcpCounters[] }).tcpConnections ?? []);
  } catch {
    return [];
  }
}

/**
 * The connection that sent the most bytes between two reports, as a difference (a kept-alive
 * connection carries earlier transfers too); undefined when none sent anything.
 */
export function uploadTcpDifference(before: readonly TcpCounters[], after: readonly TcpCounters[]): UploadTcp | undefined {
  let best: UploadTcp | undefined;
  for (const a of after) {
    const b = before.find((c) => c.localPort === a.localPort && c.bytesSent <= a.bytesSent);
    const d = (k: 'bytesSent' | 'segmentsSent' | 'retransmittedSegments' | 'fastRecoveries' | 'timeouts'): number => a[k] - (b?.[k] ?? 0);
    const lim = (k: 'cwnd' | 'rwnd' | 'app'): number => a.sendLimitedMs[k] - (b?.sendLimitedMs[k] ?? 0);
    const t: UploadTcp = {
      bytesSent: d('bytesSent'),
      segmentsSent: d('segmentsSent'),
      retransmittedSegments: d('retransmittedSegments'),
      fastRecoveries: d('fastRecoveries'),
      timeouts: d('timeouts'),
      maxCwnd: a.maxCwnd,
      srttMs: a.srttMs,
      sendLimitedMs: { cwnd: lim('cwnd'), rwnd: lim('rwnd'), app: lim('app') },
    };
    if (t.bytesSent > 0 && (!best || t.bytesSent > best.bytesSent)) best = t;
  }
  return best;
}

/** One pair in a note: "1 K→B: kernel 38.1, ours 24.0 MB/s = 0.63; machine ms/MB 82 / 47 (idle 3 / 9 %); load 2.1". */
function pairText(p: Pair, i: number): string {
  const order = p.order.map((s) => (s === 'baseline' ? 'K' : 'B')).join('→');
  const ms = (v: number | undefined): string => (v === undefined ? '?' : v.toFixed(0));
  const idle = (s: CpuSplit | undefined): string => (s ? s.idle.toFixed(0) : '?');
  return (
    `${i + 1} ${order}: kernel ${(p.kernel.bytesPerSecond / MB).toFixed(1)}, ours ${(p.ours.bytesPerSecond / MB).toFixed(1)} MB/s = ${(p.ours.bytesPerSecond / p.kernel.bytesPerSecond).toFixed(2)}; ` +
    `machine ms/MB ours ${ms(p.ours.machineMsPerMB)} / kernel ${ms(p.kernel.machineMsPerMB)} (idle ${idle(p.ours.split)} / ${idle(p.kernel.detail.split)} %); load ${p.loadAverage.toFixed(1)}`
  );
}

/** The notes' part about the pairs: the ratio's spread, each pair, and what the kernel dropped. */
function pairsNotes(pairs: readonly Pair[], summary: PairSummary, udpBuffer: number): string {
  const kernelDetail = pairs.map((p) => `${p.kernel.detail.udpRcvbufErrors}/${p.kernel.detail.interfaceDrops}/${p.kernel.detail.tcpRetransSegs}`).join(', ');
  const ourDetail = pairs.map((p) => `${p.ours.udpRcvbufErrors}/${p.ours.interfaceDrops}/${p.ours.tcpRetransSegs}`).join(', ');
  const wg = (p: Pair): string => `${p.kernel.detail.wgClientMsPerMB.toFixed(0)}+${p.kernel.detail.wgServerMsPerMB.toFixed(0)}`;
  return (
    `ratio = median of ${pairs.length} interleaved pairs ${formatPairSummary(summary)}; value and baseline = the median rates; ` +
    `pairs: ${pairs.map(pairText).join('; ')}; ` +
    `UDP receive-buffer drops / interface (TUN, veth) drops / kernel TCP retransmissions per pair, kernel path: ${kernelDetail}; our peer's namespace: ${ourDetail} ` +
    `(${udpBuffer ? `every wireguard-go with ${(udpBuffer / MiB).toFixed(1)} MiB UDP buffers` : "wireguard-go's default UDP buffers"}); the kernel path's wireguard-go CPU ms/MB (client+server) per pair: ${pairs.map(wg).join(', ')}`
  );
}

/** The upload's relay drops and TCP counters, one per pair. */
function uploadCountersNotes(pairs: readonly Pair[]): string {
  const drops = (d: Record<string, number> | undefined): string =>
    d === undefined ? '?' : Object.keys(d).length === 0 ? 'none' : Object.entries(d).map(([k, v]) => `${k} ${v}`).join(' ');
  const tcp = (t: UploadTcp | undefined): string =>
    t === undefined
      ? 'no counters'
      : `${t.retransmittedSegments} of ${t.segmentsSent} segments retransmitted, ${t.fastRecoveries} recoveries, ${t.timeouts} timeouts, max cwnd ${(t.maxCwnd / 1024).toFixed(0)} KiB, srtt ${t.srttMs?.toFixed(1) ?? '?'} ms, ` +
        `send-limited ms cwnd ${t.sendLimitedMs.cwnd.toFixed(0)} / peer window ${t.sendLimitedMs.rwnd.toFixed(0)} / app ${t.sendLimitedMs.app.toFixed(0)}`;
  return (
    `relay drops per pair (its /metrics, this session only): ${pairs.map((p) => drops(p.ours.relayDrops)).join('; ')}; ` +
    `our TCP sender per pair (wgweb.report() counters.tcpConnections): ${pairs.map((p, i) => `${i + 1}: ${tcp(p.ours.tcp)}`).join('; ')}`
  );
}

// -----------------------------------------------------------------------------------------------
// The run

/**
 * The Node client on the same path: a Session in this process (the `ws` package as its WebSocket,
 * the browser's default framing), `rounds` downloads and uploads, best of each in bytes/s.
 */
async function nodeTransfers(
  configText: string,
  relayUrl: string,
  downloadUrl: string,
  uploadUrl: string,
  bytes: number,
  uploadBytes: number,
  rounds: number,
): Promise<{ download: number; upload: number }> {
  const session = await Session.start({ configText, relayUrl, WebSocketImpl: NodeWebSocket as unknown as RelayWebSocketConstructor });
  try {
    await session.waitForHandshake(20_000);
    const body = new Uint8Array(uploadBytes).fill(0x5a);
    let download = 0;
    let upload = 0;
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      const res = await session.fetch(downloadUrl);
      let n = 0;
      const reader = res.body!.getReader();
      for (let c = await reader.read(); !c.done; c = await reader.read()) n += c.value.length;
      if (n !== bytes) throw new Error(`Node client download: ${n} bytes, expected ${bytes}`);
      download = Math.max(download, (bytes / (performance.now() - t0)) * 1000);
      t0 = performance.now();
      const up = await session.fetch(uploadUrl, { method: 'POST', body, headers: [['content-type', 'application/octet-stream']] });
      const answer = (await up.json()) as { length: number };
      if (answer.length !== uploadBytes) throw new Error(`Node client upload: the server received ${answer.length} bytes, expected ${uploadBytes}`);
      upload = Math.max(upload, (uploadBytes / (performance.now() - t0)) * 1000);
    }
    return { download, upload };
  } finally {
    await session.close();
  }
}

export interface BrowserBenchOptions extends BenchOptions {
  /**
   * Profile the connects, and one more download after the measured rounds, in the worker and the
   * page; the .cpuprofile files go here and summaries to stderr (profiled figures are slower).
   */
  readonly profileDir?: string;
  /** Override the download size (bytes). */
  readonly bytes?: number;
  /** Extra `wgweb relay` arguments (A/B runs of a relay option, e.g. `--batch-delay 0`). */
  readonly relayArgs?: readonly string[];
  /** Run the relay under `node --cpu-prof` into this directory, with the transfer windows (see the module comment). */
  readonly relayProfileDir?: string;
  /** wgweb.connect's relayCarrier for the transfers (undefined: the browsers' default, fetch-stream). */
  readonly carrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
  /** Interleaved kernel/browser pairs per direction (default 4, full run 6; keep it even: each order as often). */
  readonly pairs?: number;
  /** UDP socket buffer bytes of every wireguard-go, ours and the kernel path's (default 7 MiB; 0 leaves wireguard-go's own). */
  readonly wgUdpBuffer?: number;
}

/** Runs the browser benchmarks; see the module comment. */
export async function runBrowserBench(options: BrowserBenchOptions): Promise<BenchEntry[]> {
  const skip = browserSkipReason() ?? interopSkipReason();
  if (skip) throw new Error(`browser bench cannot run: ${skip}`);
  const bytes = options.bytes ?? (options.quick ? 20 * MiB : 100 * MiB);
  const rounds = options.quick ? 1 : 2;
  /** Kernel ⇄ browser pairs per direction (paired-rounds.ts); the raw WebSocket runs in the first `rounds`. */
  // Even, so K→B and B→K pairs are as many: the order matters (docs/benchmarks.md section 18).
  const pairs = options.pairs ?? (options.quick ? 4 : 6);
  let udpBuffer = options.wgUdpBuffer ?? WG_UDP_BUFFER;
  const rawMs = options.quick ? 1500 : 3000;
  const connects = options.quick ? 3 : 7;
  /** #19: a 20 MB upload from the page, measured like the download. */
  const uploadBytes = 20 * MiB;
  const sizeText = bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
  const entries: BenchEntry[] = [];
  const closers: (() => Promise<unknown> | void)[] = [];
  sweepStaticDirs();
  const staticDir = mkdtempSync(join(tmpdir(), `${STATIC_PREFIX}${process.pid}-`));
  closers.push(() => rmSync(staticDir, { recursive: true, force: true }));
  try {
    await ensureUiBuilt();
    const bundle = analyseBundle(DIST_UI);
    const expected = blockwiseSha256(deterministicChunks(bytes, SEED));
    writeFileSync(join(staticDir, RAW_WORKER_FILE), RAW_WORKER);
    await writeDeterministicFile(join(staticDir, NATIVE_FILE), bytes);

    const peer = await startWireguardGoPeer({ name: 'bbench', logLevel: 'error', address6: null });
    closers.push(() => peer.close());
    // The goal's baseline, kept up through the run: two wireguard-go peers with the kernel's TCP.
    const kernelPath = await startKernelPath();
    closers.push(() => kernelPath.close());
    if (udpBuffer) {
      try {
        await forceUdpBuffers(peer.process.pid, udpBuffer);
        await kernelPath.setUdpBuffers(udpBuffer);
      } catch (e) {
        // Both paths keep what they have (the first call fails before either is set on a machine without pidfd_getfd).
        process.stderr.write(`  wireguard-go UDP buffers left as they are: ${(e as Error).message}\n`);
        udpBuffer = 0;
      }
    }
    const http = await startHttpServer(peer, { hosts: [peer.tunnelAddress4!] });
    closers.push(() => http.close());
    const source = await startUdpSource(peer);
    closers.push(() => source.process.stop());
    const client = await peer.addClient();
    // The relay's session.close lines (log level info) count what each session sent the browser.
    const sessionCloses: Record<string, unknown>[] = [];
    const relay: RelayProcess = await startRelayProcess({
      browse: true,
      logLevel: 'info',
      onLog: (e) => {
        if (e.msg === 'session.close') sessionCloses.push(e);
      },
      allow: [formatEndpoint(peer.endpoint), formatEndpoint(source.endpoint)],
      args: ['--static', DIST_UI, '--static', staticDir, ...(options.relayArgs ?? [])],
      // SIGTERM: a clean exit writes the --cpu-prof profile.
      ...(options.relayProfileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', options.relayProfileDir], closeWith: 'SIGTERM' as const } : {}),
    });
    closers.push(() => relay.close());
    /** The measured transfers as CLOCK_MONOTONIC µs, the clock of the relay's --cpu-prof samples. */
    const relayWindows: { what: 'download' | 'upload'; startUs: number; endUs: number; bytes: number }[] = [];
    const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
    if (options.relayProfileDir) {
      closers.push(() => {
        mkdirSync(options.relayProfileDir!, { recursive: true });
        writeFileSync(join(options.relayProfileDir!, 'windows.json'), JSON.stringify(relayWindows, null, 1));
      });
    }
    const rawUrl = buildRelayUrl(relay.wsUrl, source.endpoint);
    /** Readings before a browser transfer, for {@link measureEnd}. */
    const measureStart = () => ({ cpu: descendantCpu(), times: machineCpuTimes(), busy: machineBusyMs(), losses: namespaceLosses(peer.process.pid), t0: performance.now() });
    /** What a browser transfer of `n` bytes that took `ms` (page clock) cost. */
    const measureEnd = (m0: ReturnType<typeof measureStart>, n: number, ms: number): OurTransfer => {
      const busy = machineBusyMs();
      const times = machineCpuTimes();
      const shares = cpuShares(m0.cpu, descendantCpu(), performance.now() - m0.t0);
      const losses = namespaceLosses(peer.process.pid);
      return {
        bytesPerSecond: (n / ms) * 1000,
        machineMsPerMB: machineMsPerMB(m0.busy, busy, n),
        split: cpuSplit(m0.times, times),
        shares,
        udpRcvbufErrors: losses.udpRcvbufErrors - m0.losses.udpRcvbufErrors,
        tcpRetransSegs: losses.tcpRetransSegs - m0.losses.tcpRetransSegs,
        interfaceDrops: losses.interfaceDrops - m0.losses.interfaceDrops,
      };
    };

    // A bare DevTools pipe, not Playwright: Playwright enables the Network domain in every worker,
    // and DevTools then copies each of the tunnel's WebSocket frames to the driver (see
    // harness/cdp-chromium.ts); that made the browser process the second-largest CPU user.
    const browser: CdpBrowser = await launchCdpChromium();
    closers.push(() => browser.close());
    const page = browser.page;
    await withTimeout(
      (async () => {
        await page.goto(relay.url);
        await page.waitForFunction(() => typeof window.wgweb === 'object');
        await page.evaluate(() => window.wgweb.ready);
      })(),
      60_000,
      'loading the UI',
    );
    const inspector = await WorkerInspector.attach(browser, 'tunnel-worker');

    // --- connect → first reply, alternating with the raw floor ------------------------------------
    const tunnelConnect: number[] = [];
    /** The part until wgweb.connect() resolved (config parsed, worker session and relay WebSocket started). */
    const connectCall: number[] = [];
    const rawConnect: number[] = [];
    const profiling = options.profileDir !== undefined;
    if (profiling) await startProfiles(inspector);
    for (let i = 0; i < connects; i++) {
      // A responder ignores an initiation within 20 ms of the last one with the same key.
      await sleep(60);
      const ms = await withTimeout(
        page.evaluate(
          async ({ config, relayUrl, address }) => {
            const t0 = performance.now();
            await window.wgweb.connect(config, relayUrl);
            const connected = performance.now();
            const r = await window.wgweb.ping(address, 1);
            const t1 = performance.now();
            await window.wgweb.disconnect();
            if (r.received !== 1) throw new Error(`connect bench: the first ping got no reply (${JSON.stringify(r)})`);
            return { total: t1 - t0, connect: connected - t0 };
          },
          { config: client.config, relayUrl: relay.wsUrl, address: peer.tunnelAddress4! },
        ),
        60_000,
        'connect → first ping reply',
      );
      tunnelConnect.push(ms.total);
      connectCall.push(ms.connect);
      rawConnect.push((await withTimeout(rawWorker<{ ms: number }>(page, { op: 'first-reply', url: rawUrl, size: PING_DATAGRAM }), 30_000, 'raw first reply')).ms);
    }
    if (profiling) await stopProfiles(inspector, options.profileDir!, 'connect', `${connects} connects (median ${median(tunnelConnect).toFixed(1)} ms, profiler on)`);

    // --- the download, alternating with the raw WebSocket ceiling ---------------------------------
    await sleep(60);
    await withTimeout(
      page.evaluate(({ config, relayUrl, carrier }) => window.wgweb.connect(config, relayUrl, carrier ? { relayCarrier: carrier } : undefined), {
        config: client.config,
        relayUrl: relay.wsUrl,
        carrier: options.carrier,
      }),
      60_000,
      'connect',
    );
    const url = (n: number): string => http.url(`/bytes/${n}?sha=0&seed=${SEED}`);
    await withTimeout(pageDownload(page, { url: url(4 * MiB), via: 'tunnel', block: HASH_BLOCK, hash: false }), 120_000, 'warm-up download'); // JIT, congestion window
    // Which carrier the transfers ran on (the fetch stream attaches right after connect; after the
    // warm-up it runs unless it fell back, and then the reason says why).
    const carrierText = await page.evaluate(async () => {
      const relayStatus = (await window.wgweb.status())?.relay;
      return `${relayStatus?.carrier ?? '?'}${relayStatus?.carrierFallback ? ` (fell back: ${relayStatus.carrierFallback.code})` : ''}`;
    });
    const heapBefore = await inspector.heapAfterGc();
    let best = 0;
    /** CPU per process kind during the best tunnel download, % of one core. */
    let bestShares: [string, number][] = [];
    /** The renderer's CPU ms per MB by thread during the best tunnel download. */
    let bestThreads: [string, number][] = [];
    let worst: PageDownload | undefined;
    let rawBest = 0;
    let peak: HeapUsage = heapBefore;
    /** One browser download round (with a raw WebSocket download before it in the first `rounds`). */
    const browserDownload = async (i: number): Promise<OurTransfer> => {
      if (i < rounds) {
        const raw = await withTimeout(
          rawWorker<{ bytes: number; seconds: number }>(page, { op: 'download', url: rawUrl, ms: rawMs, warmupMs: 300, window: RAW_WINDOW, every: RAW_CREDIT_EVERY }),
          rawMs + 30_000,
          'raw WebSocket download',
        );
        rawBest = Math.max(rawBest, raw.bytes / raw.seconds);
      }
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const h = await inspector.heap().catch(() => undefined);
          if (h && h.usedSize + h.backingStorageSize > peak.usedSize + peak.backingStorageSize) peak = h;
          await sleep(250);
        }
      })();
      let d: PageDownload;
      const threads0 = threadCpu('chromium renderer');
      const m0 = measureStart();
      const startUs = monotonicUs();
      try {
        d = await withTimeout(pageDownload(page, { url: url(bytes), via: 'tunnel', block: HASH_BLOCK, hash: false }), 600_000, `${sizeText} tunnel download`);
      } finally {
        sampling = false;
        await sampler;
      }
      relayWindows.push({ what: 'download', startUs, endUs: monotonicUs(), bytes });
      const ours = measureEnd(m0, bytes, d.ms);
      const threads1 = threadCpu('chromium renderer');
      if (d.bytes !== bytes) throw new Error(`browser download: got ${d.bytes} bytes, expected ${bytes}`);
      if (ours.bytesPerSecond > best) {
        best = ours.bytesPerSecond;
        bestShares = ours.shares;
        bestThreads = [...threads1]
          .map(([name, ms]): [string, number] => [name, (ms - (threads0.get(name) ?? 0)) / (bytes / MB)])
          .filter(([, msPerMB]) => msPerMB >= 0.5)
          .sort((a, b) => b[1] - a[1]);
      }
      if (!worst || longTaskShare(d) > longTaskShare(worst)) worst = d;
      return ours;
    };
    // #19 item 6: kernel and browser rounds interleaved in pairs (K B, B K, K B, …), one ratio per pair.
    const downloadPairs = await runPairs(pairs, () => kernelPath.download(bytes), browserDownload);
    // --- the integrity round: the same download, hashed in the page (untimed for the entries) -----
    // The timed rounds only count bytes, as curl -o /dev/null does for the kernel baseline; this
    // round checks that the same path delivers the right bytes (SHA-256 per 1 MiB block).
    const checked = await withTimeout(pageDownload(page, { url: url(bytes), via: 'tunnel', block: HASH_BLOCK, hash: true }), 600_000, `${sizeText} checked tunnel download`);
    if (checked.bytes !== bytes) throw new Error(`browser download (checked round): got ${checked.bytes} bytes, expected ${bytes}`);
    if (checked.sha256 !== expected) throw new Error(`browser download (checked round): the body's blockwise SHA-256 is ${checked.sha256}, expected ${expected}`);
    const checkedRate = (bytes / checked.ms) * 1000;

    // --- the upload: 20 MiB from the page, POSTed through the tunnel, paired with curl's ------------
    const browserUpload = async (i: number): Promise<OurTransfer> => {
      const relay0 = await relayDrops(relay.url);
      const tcp0 = await uploadConnections(page);
      const m0 = measureStart();
      const startUs = monotonicUs();
      const u = await withTimeout(pageUpload(page, { url: http.url('/upload'), bytes: uploadBytes, seed: 7 + i }), 600_000, 'tunnel upload');
      relayWindows.push({ what: 'upload', startUs, endUs: monotonicUs(), bytes: uploadBytes });
      const ours = measureEnd(m0, uploadBytes, u.ms);
      if (!u.ok) throw new Error(`browser upload: the server received ${u.length} bytes or other bytes than sent (${uploadBytes})`);
      const relay1 = await relayDrops(relay.url);
      return { ...ours, relayDrops: relay0 && relay1 ? dropDifference(relay0, relay1) : undefined, tcp: uploadTcpDifference(tcp0, await uploadConnections(page)) };
    };
    const uploadPairs = await runPairs(pairs, () => kernelPath.upload(uploadBytes), browserUpload);
    const heapAfter = await inspector.heap();
    const heapAfterGc = await inspector.heapAfterGc();
    if (profiling) {
      await startProfiles(inspector);
      const d = await withTimeout(pageDownload(page, { url: url(bytes), via: 'tunnel', block: HASH_BLOCK, hash: false }), 600_000, 'profiled download');
      await stopProfiles(inspector, options.profileDir!, 'download', `${sizeText} download at ${((bytes / d.ms) * 1000 / MB).toFixed(1)} MB/s (profiler on)`);
      await startProfiles(inspector);
      const u = await withTimeout(pageUpload(page, { url: http.url('/upload'), bytes: uploadBytes, seed: 99 }), 600_000, 'profiled upload');
      if (!u.ok) throw new Error(`profiled upload: the server received ${u.length} bytes or other bytes than sent (${uploadBytes})`);
      await stopProfiles(inspector, options.profileDir!, 'upload', `${uploadBytes / MiB} MiB upload at ${((uploadBytes / u.ms) * 1000 / MB).toFixed(1)} MB/s (profiler on)`);
    }
    const closesBefore = sessionCloses.length;
    await withTimeout(page.evaluate(() => window.wgweb.disconnect()), 30_000, 'disconnect');
    await sleep(200);
    await inspector.heapAfterGc();
    await sleep(1000);
    const heapClosed = await inspector.heapAfterGc();
    // The tunnel session of the measured transfers (its close line came after the disconnect).
    const tunnelClose = sessionCloses.slice(closesBefore).find((e) => e.protocol !== 'wgweb.v1');
    const relayMessages = tunnelClose
      ? `relay → browser over the measured session (${String(tunnelClose.protocol)}): ${Number(tunnelClose.fromPeer)} datagrams in ${Number(tunnelClose.messagesToClient)} WebSocket messages, ${(Number(tunnelClose.bytesFromPeer) / Math.max(1, Number(tunnelClose.messagesToClient)) / 1024).toFixed(1)} KiB per message on average (downloads, upload ACKs and pings together); `
      : '';

    // --- the browser's WebSocket alone: the same credit protocol from a ws server on loopback -----
    const wsSource = await startWsSource();
    closers.push(() => wsSource.close());
    let direct = 0;
    for (let r = 0; r < rounds; r++) {
      const d = await withTimeout(
        rawWorker<{ bytes: number; seconds: number }>(page, { op: 'download', url: wsSource.url, ms: rawMs, warmupMs: 300, window: RAW_WINDOW, every: RAW_CREDIT_EVERY }),
        rawMs + 30_000,
        'direct WebSocket download',
      );
      direct = Math.max(direct, d.bytes / d.seconds);
    }

    /** One raw download of `size`-byte messages over a carrier, with the renderer's CPU per MB. */
    const sweepStep = async (op: 'download' | 'download-stream', size: number, what: string) => {
      const window = Math.max(4, Math.round(SWEEP_WINDOW_BYTES / size));
      const cpu0 = descendantCpu();
      const t0 = performance.now();
      const d = await withTimeout(
        rawWorker<{ bytes: number; messages: number; seconds: number }>(page, { op, url: wsSource.url, ms: rawMs, warmupMs: 300, window, every: Math.max(1, window >> 2), size }),
        rawMs + 30_000,
        `${size}-byte ${what}`,
      );
      // The renderer's CPU over the whole job (warm-up included) per MB received in the measured part.
      const wall = performance.now() - t0;
      const renderer = cpuShares(cpu0, descendantCpu(), wall).find(([label]) => label === 'chromium renderer')?.[1] ?? 0;
      const received = (d.bytes / d.seconds) * (wall / 1000);
      return { size, bytesPerSecond: d.bytes / d.seconds, messagesPerSecond: d.messages / d.seconds, rendererMsPerMB: ((renderer / 100) * wall) / (received / MB) };
    };
    const sweep: { size: number; bytesPerSecond: number; messagesPerSecond: number; rendererMsPerMB: number }[] = [];
    for (const size of SWEEP_SIZES) sweep.push(await sweepStep('download', size, 'message sweep'));

    // #19 item 3, another carrier: WebSocketStream, same sizes and credit protocol (measured only).
    const streamSweep: { size: number; bytesPerSecond: number; rendererMsPerMB: number }[] = [];
    let streamProblem = '';
    for (const size of [FULL_DATAGRAM, 16384, 65535]) {
      try {
        const { bytesPerSecond, rendererMsPerMB } = await sweepStep('download-stream', size, 'WebSocketStream sweep');
        streamSweep.push({ size, bytesPerSecond, rendererMsPerMB });
      } catch (e) {
        streamProblem = `WebSocketStream: ${(e as Error).message}`;
        break;
      }
    }

    // --- the browser's own fetch of the same bytes (main-thread baseline) -------------------------
    const native = await withTimeout(pageDownload(page, { url: `./${NATIVE_FILE}`, via: 'native', block: HASH_BLOCK, hash: false }), 300_000, 'native fetch');
    if (native.bytes !== bytes) throw new Error(`native fetch: got ${native.bytes} bytes, expected ${bytes}`);
    const idleMs = options.quick ? 2000 : 5000;
    const idle = await withTimeout(pageIdle(page, idleMs), idleMs + 30_000, 'idle page');

    // --- the same transfers from the Node client (Session in this process), same relay and peer ---
    const nodeClient = await peer.addClient();
    const node = await nodeTransfers(nodeClient.config, relay.wsUrl, url(bytes), http.url('/upload'), bytes, uploadBytes, rounds);

    const down = summarizePairs(downloadPairs.map((p) => ({ ours: p.ours.bytesPerSecond, baseline: p.kernel.bytesPerSecond })));
    const up = summarizePairs(uploadPairs.map((p) => ({ ours: p.ours.bytesPerSecond, baseline: p.kernel.bytesPerSecond })));
    const downMid = downloadPairs[down.medianPair]!;
    const upMid = uploadPairs[up.medianPair]!;

    // --- entries ----------------------------------------------------------------------------------
    entries.push({
      name: 'browser.download',
      measured: `HTTP download of ${sizeText} in headless Chromium: wgweb.fetch in the page, body read to the end and its bytes counted (as curl -o /dev/null; a separate untimed round checks SHA-256 per 1 MiB block), tunnel worker → relay process → wireguard-go, best of the ${pairs} rounds of browser.download-vs-kernel; baseline (best of ${rounds}, run just before the first tunnel rounds): a raw WebSocket in a worker of the same page over the same relay, ${FULL_DATAGRAM}-byte datagrams from a UDP sender next to wireguard-go, ${RAW_WINDOW} in flight, credit per ${RAW_CREDIT_EVERY}`,
      ours: { label: 'wgweb in Chromium', value: best / MB, unit: 'MB/s' },
      baseline: { label: 'raw WebSocket over the relay (no WireGuard, no TCP)', value: rawBest / MB, unit: 'MB/s' },
      ratio: higherIsBetter(best, rawBest),
      notes:
        `relay carrier: ${carrierText}; ` +
        `the integrity round (same download, SHA-256 per 1 MiB block in the page, checked): ${(checkedRate / MB).toFixed(1)} MB/s; the same raw download straight from a ws server on loopback (no relay): ${(direct / MB).toFixed(1)} MB/s; the browser's own fetch() of the same bytes from the relay's static files: ${((bytes / native.ms) * 1000 / MB).toFixed(0)} MB/s; ` +
        `CPU during the best tunnel download, % of one core (${cpus().length} cores): ${bestShares.map(([l, p]) => `${l} ${p.toFixed(0)}`).join(', ')}; ` +
        `the same as CPU ms per MB: ${bestShares.map(([l, p]) => `${l} ${((p * 10) / (best / MB)).toFixed(0)}`).join(', ')}; ` +
        `the renderer's by thread, ms per MB: ${bestThreads.map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ')}${relayMessages ? `; ${relayMessages.slice(0, -2)}` : ''}`,
    });
    const mbs = (v: number): string => `${(v / MB).toFixed(1)} MB/s`;
    const sharesText = (shares: [string, number][], rate: number): string =>
      `% of one core (${cpus().length} cores): ${shares.map(([l, p]) => `${l} ${p.toFixed(0)}`).join(', ')}; as CPU ms per MB: ${shares.map(([l, p]) => `${l} ${((p * 10) / (rate / MB)).toFixed(0)}`).join(', ')}`;
    entries.push({
      name: 'browser.download-vs-kernel',
      measured: `the browser download above (${sizeText}, read to the end and counted in the page; integrity checked in a separate round) against the same download between two wireguard-go peers with the kernel's TCP on both ends (curl, direct veth), in ${pairs} interleaved pairs (K B, B K, …) in the same minutes: value and baseline are the median rates, the ratio is the median of the pairs' ratios (its spread in the notes)`,
      ours: { label: 'wgweb in Chromium', value: down.ours / MB, unit: 'MB/s' },
      baseline: { label: 'kernel TCP over wireguard-go ⇄ wireguard-go', value: down.baseline / MB, unit: 'MB/s' },
      ratio: down.ratio,
      goal: 'ratio ≥ 0.6 (#19); the project aims at 1.0',
      notes:
        `${pairsNotes(downloadPairs, down, udpBuffer)}; the median pair (${down.medianPair + 1}): ${machineText(downMid.ours.machineMsPerMB, downMid.kernel.machineMsPerMB)}; its CPU by process ${sharesText(downMid.ours.shares, downMid.ours.bytesPerSecond)}; ` +
        `the Node client (Session, same relay and peer) ${mbs(node.download)}, so Chromium reaches ${(down.ours / node.download).toFixed(2)} of Node; the browser's own fetch() of the same bytes from the relay ${mbs((bytes / native.ms) * 1000)}; the integrity round (hashed in the page) ${mbs(checkedRate)}, ${(checkedRate / down.baseline).toFixed(2)} of the median kernel rate`,
    });
    entries.push({
      name: 'browser.upload',
      measured: `HTTP upload of ${uploadBytes / MiB} MiB from the page: wgweb.fetch POST to the HTTP server next to wireguard-go, which answers with the length and SHA-256 it received (checked), timed until that answer is parsed; baseline: curl POSTing the same size between two wireguard-go peers with the kernel's TCP (direct veth); ${pairs} interleaved pairs (K B, B K, …): value and baseline are the median rates, the ratio is the median of the pairs' ratios (its spread in the notes)`,
      ours: { label: 'wgweb in Chromium', value: up.ours / MB, unit: 'MB/s' },
      baseline: { label: 'kernel TCP over wireguard-go ⇄ wireguard-go', value: up.baseline / MB, unit: 'MB/s' },
      ratio: up.ratio,
      goal: 'ratio ≥ 0.6 (#19), as for the download',
      notes:
        `relay carrier: ${carrierText}; ${pairsNotes(uploadPairs, up, udpBuffer)}; ${uploadCountersNotes(uploadPairs)}; ` +
        `the median pair (${up.medianPair + 1}): ${machineText(upMid.ours.machineMsPerMB, upMid.kernel.machineMsPerMB)}; its CPU by process ${sharesText(upMid.ours.shares, upMid.ours.bytesPerSecond)}; ` +
        `the Node client (Session, same relay and peer) ${mbs(node.upload)}, so Chromium reaches ${(up.ours / node.upload).toFixed(2)} of Node`,
    });
    const sweepAt = (size: number) => sweep.find((p) => p.size === size)!;
    entries.push({
      name: 'browser.message-size',
      measured: `WebSocket messages of ${SWEEP_SIZES.join(', ')} bytes from a ws server on loopback to a worker of the page (about 1 MiB in flight, credit per quarter window), ${rawMs / 1000} s each; ours: 65535-byte messages (the wgweb.v2 batch limit); baseline: ${FULL_DATAGRAM}-byte messages (one datagram per message, wgweb.v1)`,
      ours: { label: '65535-byte messages', value: sweepAt(65535).bytesPerSecond / MB, unit: 'MB/s' },
      baseline: { label: `${FULL_DATAGRAM}-byte messages`, value: sweepAt(FULL_DATAGRAM).bytesPerSecond / MB, unit: 'MB/s' },
      ratio: higherIsBetter(sweepAt(65535).bytesPerSecond, sweepAt(FULL_DATAGRAM).bytesPerSecond),
      notes:
        `MB/s (messages/s; Chromium renderer CPU ms per MB) by message size: ${sweep.map((p) => `${p.size} B ${(p.bytesPerSecond / MB).toFixed(1)} (${p.messagesPerSecond.toFixed(0)}/s; ${p.rendererMsPerMB.toFixed(0)} ms/MB)`).join(', ')}; ` +
        (streamSweep.length
          ? `the same over WebSocketStream (another carrier, #19): ${streamSweep.map((p) => `${p.size} B ${(p.bytesPerSecond / MB).toFixed(1)} (${p.rendererMsPerMB.toFixed(0)} ms/MB)`).join(', ')}`
          : streamProblem || 'WebSocketStream not measured'),
    });
    const totalMs = (d: PageDownload): number => d.longTasks.reduce((a, b) => a + b, 0);
    const watch = (d: PageDownload): string =>
      `${d.longTasks.length} long task${d.longTasks.length === 1 ? '' : 's'}, ${totalMs(d).toFixed(0)} ms in ${(d.ms / 1000).toFixed(1)} s, longest ${Math.max(0, ...d.longTasks).toFixed(0)} ms, largest 20 ms-timer delay ${d.maxLagMs.toFixed(0)} ms`;
    const ours = longTaskShare(worst!);
    const base = longTaskShare(idle);
    entries.push({
      name: 'browser.long-tasks',
      measured: `share of the page's main-thread time spent in long tasks (PerformanceObserver "longtask", ≥ 50 ms) while it reads the ${sizeText} tunnel download (worst of ${pairs}); baseline: the same page idle for ${idleMs / 1000} s (the machine's noise floor: a descheduled renderer also makes long tasks)`,
      ours: { label: 'reading a wgweb.fetch body', value: ours, unit: '%' },
      baseline: { label: 'idle page', value: base, unit: '%' },
      ratio: ours === 0 ? (base === 0 ? 1 : undefined) : base === 0 ? undefined : lowerIsBetter(ours, base),
      goal: 'no long task: the main thread stays responsive',
      notes: `tunnel: ${watch(worst!)}; idle: ${watch(idle)}; the browser's own fetch() of the same bytes: ${watch(native)}`,
    });
    const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
    const js = (h: HeapUsage): number => h.usedSize + h.backingStorageSize;
    entries.push({
      name: 'browser.worker-heap',
      measured: `JavaScript memory of the tunnel worker after garbage collection, V8 heap in use + ArrayBuffer backing stores (CDP Runtime.getHeapUsage after HeapProfiler.collectGarbage on the worker target), after ${pairs + 1} × ${sizeText} downloads (the integrity round included) and ${pairs} uploads, still connected; baseline: the same worker connected and warmed up (4 MiB), before them`,
      ours: { label: 'after the downloads', value: js(heapAfterGc) / MiB, unit: 'MiB' },
      baseline: { label: 'before the downloads', value: js(heapBefore) / MiB, unit: 'MiB' },
      ratio: lowerIsBetter(js(heapAfterGc), js(heapBefore)),
      goal: 'bounded: no growth with the amount transferred',
      notes:
        `heap + ArrayBuffers: before ${mib(heapBefore.usedSize)} + ${mib(heapBefore.backingStorageSize)}; peak sampled during a transfer ${mib(peak.usedSize)} + ${mib(peak.backingStorageSize)} (heap reserved ${mib(peak.totalSize)}); ` +
        `right after, before GC ${mib(heapAfter.usedSize)} + ${mib(heapAfter.backingStorageSize)}; after GC ${mib(heapAfterGc.usedSize)} + ${mib(heapAfterGc.backingStorageSize)}; after disconnect + GC ${mib(heapClosed.usedSize)} + ${mib(heapClosed.backingStorageSize)}. ` +
        'The packet capture is on by default and keeps copies of the last 10,000 inner packets (≤ 32 MiB): about 10 MiB after a bulk download, kept after disconnect for the pcapng download',
    });
    entries.push({
      name: 'browser.connect',
      measured: `wgweb.connect → first ping reply in the page (worker session, WebSocket, Noise IKpsk2 with wireguard-go, ICMP echo), median of ${connects}; baseline: a raw WebSocket in a worker, open → first ${PING_DATAGRAM}-byte datagram echoed through the same relay`,
      ours: { label: 'wgweb in Chromium', value: median(tunnelConnect), unit: 'ms' },
      baseline: { label: 'raw WebSocket through the relay', value: median(rawConnect), unit: 'ms' },
      ratio: lowerIsBetter(median(tunnelConnect), median(rawConnect)),
      notes: `min ${Math.min(...tunnelConnect).toFixed(1)} ms, max ${Math.max(...tunnelConnect).toFixed(1)} ms; wgweb.connect() itself resolved after ${median(connectCall).toFixed(1)} ms (median), the rest is handshake + first echo`,
    });
    const kib = (n: number): string => `${(n / 1024).toFixed(1)}`;
    entries.push({
      name: 'browser.bundle',
      measured: 'what the browser loads: HTML + JS + CSS in dist/ui (source maps excluded), each file gzip -9, summed',
      ours: { label: 'dist/ui', value: bundle.gzipBytes / 1024, unit: 'KiB gzip' },
      notes:
        `${kib(bundle.rawBytes)} KiB minified; files (KiB gzip): ${bundle.files.map((f) => `${f.name.replace(/^assets\//, '').replace(/-[\w-]{8}\./, '.')} ${kib(f.gzip)}`).join(', ')}; ` +
        `largest contributors (KiB minified, from the source maps): ${bundle.contributors.slice(0, 8).map((c) => `${c.name} ${kib(c.bytes)}`).join(', ')}`,
    });
    if (browser.errors.length) process.stderr.write(`  browser console errors: ${browser.errors.slice(0, 5).join(' | ')}\n`);
    return entries;
  } finally {
    await runCleanups(closers);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = {
  title: 'browser: the app in headless Chromium',
  run: runBrowserBench,
};

/** `--carrier`: one of the three, or absent (the default). */
function carrierOption(s: string | undefined): BrowserBenchOptions['carrier'] {
  if (s === undefined || s === 'websocket' || s === 'websocketstream' || s === 'fetch-stream') return s;
  throw new TypeError(`--carrier: websocket, websocketstream or fetch-stream, not ${s}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  runBrowserBench({
    quick: args.includes('--quick'),
    profileDir: value('--profile'),
    bytes: value('--bytes') ? Number(value('--bytes')) : undefined,
    relayArgs: value('--relay-args')?.split(' ').filter(Boolean),
    relayProfileDir: value('--relay-prof'),
    carrier: carrierOption(value('--carrier')),
    pairs: value('--pairs') ? Number(value('--pairs')) : undefined,
    wgUdpBuffer: value('--wg-udp-buffer') !== undefined ? Number(value('--wg-udp-buffer')) : undefined,
  }).then(
    (entries) => {
      for (const e of entries) {
        const base = e.baseline ? `  baseline ${e.baseline.value.toFixed(2)} ${e.baseline.unit} (${e.baseline.label})` : '';
        console.log(`${e.name}: ${e.ours.value.toFixed(2)} ${e.ours.unit}${base}${e.ratio !== undefined ? `  ratio ${e.ratio.toFixed(2)}` : ''}`);
        if (e.notes) console.log(`  ${e.notes}`);
      }
    },
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exitCode = 1;
    },
  );
}
