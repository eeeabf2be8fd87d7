/**
 * A/B(/C) runs of the browser tunnel: the same download (and upload) through two builds of the UI, or
 * one build with the packet capture on and off, or one build over different relay carriers
 * (websocket, websocketstream, fetch-stream), alternating in the same minutes on the same peer,
 * so that a change to the worker's data path can be judged against the load of a shared machine
 * (#19; docs/benchmarks.md, "Profile of the browser download").
 *
 *   wireguard-go peer + HTTP server (namespace) ◀──UDP── relay A (--static DIR_A)   relay B (--static DIR_B)
 *   round r: for each variant: fresh Chromium (bare DevTools pipe) → its relay's UI → connect →
 *            warm-up 4 MiB → download N bytes in the page (read + checked) → upload → close
 *
 * Each variant gets its own relay process (serving its dist/ui) and a fresh browser per round, so
 * nothing one variant warmed up helps the other. Figures: MB/s, and CPU ms per MB of the Chromium
 * renderer and of its tunnel worker thread (DedicatedWorker), from /proc.
 *
 *   node --import tsx bench/browser-ab.ts --a DIR [--b DIR] [--capture-b off]
 *                                         [--carrier-a|--carrier-b|--carrier-c websocket|websocketstream|fetch-stream]
 *                                         [--rounds 3] [--bytes N] [--upload]
 *
 * Without --b both variants use DIR_A (a control, or with --capture-b off: the capture's cost).
 * --carrier-c adds a third variant C (DIR_A). Each round also records the connect time (the
 * wgweb.connect call), the median of 5 tunnel pings, and the renderer's busiest threads.
 * `--trace DIR` (with --upload): after each upload, prints the upload connection's TCP counters
 * from wgweb.report() (cwnd, peer window, RTT, retransmissions, recoveries, time limited by cwnd /
 * peer window / the application) and writes the packet capture's TCP packets to
 * DIR/round-R-V.pcapng for a sequence plot (the capture holds the last 10,000 packets).
 * `--profile DIR`: one more download (and with --upload one more upload) per variant in the last
 * round under V8's sampling profiler (tunnel worker and page), summaries on stderr, profiles in DIR.
 */
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer } from '../harness/ns-servers.ts';
import { launchCdpChromium, type CdpPage } from '../harness/cdp-chromium.ts';
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';
import { descendantCpu, threadCpu } from './bench-child.ts';
import { pageDownload, pageUpload, startProfiles, stopProfiles, WorkerInspector } from './browser-bench.ts';
import { runCleanups } from './bench-entry.ts';
import { UploadTracer, type ClientSample } from './upload-trace.ts';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1 << 20;
const MB = 1e6;

interface Variant {
  readonly label: string;
  readonly dist: string;
  readonly capture: boolean;
  /** wgweb.connect's relayCarrier; undefined: the default. */
  readonly carrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
}

function carrierArg(s: string | undefined): 'websocket' | 'websocketstream' | 'fetch-stream' | undefined {
  if (s === undefined || s === 'websocket' || s === 'websocketstream' || s === 'fetch-stream') return s;
  throw new TypeError(`--carrier-a/--carrier-b/--carrier-c: websocket, websocketstream or fetch-stream, not ${s}`);
}

/** The four busiest threads as "name ms/MB, …". */
function busiest(names: Iterable<string>, msPerMb: (name: string) => number): string {
  return [...names]
    .map((k) => [k, msPerMb(k)] as const)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 4)
    .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
    .join(', ');
}

/** Runs in the page: the upload connection's TCP counters and the relay WebSocket's queue (upload-trace.ts). */
async function pageClientSample(): Promise<ClientSample> {
  const { report } = await window.wgweb.report();
  const conns = ((report.counters as { tcpConnections?: ClientSample['tcp'][] }).tcpConnections ?? []) as NonNullable<ClientSample['tcp']>[];
  const tcp = conns.sort((x, y) => y.bytesSent - x.bytesSent)[0];
  const relay = report.relays[0];
  return { tcp, bufferedAmount: relay?.bufferedAmount, bufferedAmountPeak: relay?.bufferedAmountPeak, transportDrops: relay?.drops };
}

/** The event loop's counters and the relay's message counts from wgweb.report(), summed over relays. */
async function loopCounters(page: CdpPage): Promise<Record<string, number>> {
  return await page.evaluate(async () => {
    const { report } = await window.wgweb.report();
    const out: Record<string, number> = { ...((report.counters as { eventLoop?: Record<string, number> }).eventLoop ?? {}) };
    for (const r of (report as { relays?: { messagesSent?: number; messagesReceived?: number }[] }).relays ?? []) {
      out.wsMessagesSent = (out.wsMessagesSent ?? 0) + (r.messagesSent ?? 0);
      out.wsMessagesReceived = (out.wsMessagesReceived ?? 0) + (r.messagesReceived ?? 0);
    }
    return out;
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const a = value('--a');
  if (!a) throw new TypeError('--a DIR (a built dist/ui) is required');
  const b = value('--b') ?? a;
  const rounds = Number(value('--rounds') ?? 3);
  const bytes = Number(value('--bytes') ?? 20 * MiB);
  const upload = args.includes('--upload');
  const traceDir = value('--trace');
  const profileDir = value('--profile');
  if (traceDir) mkdirSync(traceDir, { recursive: true });
  const variants: Variant[] = [
    { label: 'A', dist: a, capture: true, carrier: carrierArg(value('--carrier-a')) },
    { label: 'B', dist: b, capture: value('--capture-b') !== 'off', carrier: carrierArg(value('--carrier-b')) },
  ];
  if (value('--carrier-c')) variants.push({ label: 'C', dist: a, capture: true, carrier: carrierArg(value('--carrier-c')) });
  const closers: (() => Promise<unknown> | void)[] = [];
  try {
    const peer = await startWireguardGoPeer({ name: 'bab', logLevel: 'error', address6: null });
    closers.push(() => peer.close());
    const http = await startHttpServer(peer, { hosts: [peer.tunnelAddress4!] });
    closers.push(() => http.close());
    const client = await peer.addClient();
    const relays = new Map<string, RelayProcess>();
    for (const v of variants) {
      const relay = await startRelayProcess({ allow: [formatEndpoint(peer.endpoint)], args: ['--static', v.dist] });
      closers.push(() => relay.close());
      relays.set(v.label, relay);
    }
    const results = new Map<string, { mbps: number[]; renderer: number[]; worker: number[]; up: number[]; upRenderer: number[]; upWorker: number[]; connectMs: number[]; pingMs: number[] }>();
    for (let r = 0; r < rounds; r++) {
      // Rotate the order too, so no variant always runs first.
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const v of r % 2 === 0 ? order : order.reverse()) {
        const relay = relays.get(v.label)!;
        const browser = await launchCdpChromium();
        try {
          const page = browser.page;
          let connectMs = 0;
          await withTimeout(
            (async () => {
              await page.goto(relay.url);
              await page.waitForFunction(() => typeof window.wgweb === 'object');
              await page.evaluate(() => window.wgweb.ready);
              const c0 = performance.now();
              await page.evaluate(
                ({ config, relayUrl, carrier }) => window.wgweb.connect(config, relayUrl, carrier ? { relayCarrier: carrier } : undefined),
                { config: client.config, relayUrl: relay.wsUrl, carrier: v.carrier },
              );
              connectMs = performance.now() - c0;
              // fetch-stream attaches its body right after the WebSocket opens: wait for it (bounded).
              const carrierNow = (): Promise<string | undefined> => page.evaluate(async () => (await window.wgweb.status())?.relay.carrier);
              for (let i = 0; v.carrier && (await carrierNow()) !== v.carrier; i++) {
                if (i >= 100) throw new Error(`asked for ${v.carrier}, the session uses ${await carrierNow()}`);
                await new Promise((res) => setTimeout(res, 100));
              }
              if (!v.capture) await page.evaluate(() => window.wgweb.capture.stop());
            })(),
            60_000,
            'loading the UI and connecting',
          );
          const url = (n: number): string => http.url(`/bytes/${n}?sha=0&seed=11`);
          await withTimeout(pageDownload(page, { url: url(4 * MiB), via: 'tunnel', block: MiB, hash: false }), 120_000, 'warm-up download');
          const pings = await page.evaluate((addr) => window.wgweb.ping(addr, 5), peer.tunnelAddress4!);
          const load = loadavg()[0];
          const t0 = threadCpu('chromium renderer');
          const p0 = descendantCpu();
          const d = await withTimeout(pageDownload(page, { url: url(bytes), via: 'tunnel', block: MiB, hash: false }), 300_000, 'download');
          const t1 = threadCpu('chromium renderer');
          const p1 = descendantCpu();
          if (d.bytes !== bytes) throw new Error(`download: ${d.bytes} bytes, expected ${bytes}`);
          const used = (name?: string): number =>
            [...t1].filter(([k]) => name === undefined || k === name).reduce((s, [k, ms]) => s + ms - (t0.get(k) ?? 0), 0) / (bytes / MB);
          const res = results.get(v.label) ?? { mbps: [], renderer: [], worker: [], up: [], upRenderer: [], upWorker: [], connectMs: [], pingMs: [] };
          results.set(v.label, res);
          res.connectMs.push(connectMs);
          res.pingMs.push(pings.rttAvgMs ?? NaN);
          const threads = busiest(t1.keys(), used);
          // The other processes a carrier moves work between (network service, browser, relay).
          const perLabel = new Map<string, number>();
          for (const [pid, p] of p1) perLabel.set(p.label, (perLabel.get(p.label) ?? 0) + p.cpuMs - (p0.get(pid)?.cpuMs ?? 0));
          const processes = ['chromium browser', 'chromium network service', 'relay']
            .map((l) => `${l.replace('chromium ', '')} ${((perLabel.get(l) ?? 0) / (bytes / MB)).toFixed(1)}`)
            .join(', ');
          res.mbps.push((bytes / d.ms) * 1000 / MB);
          res.renderer.push(used());
          res.worker.push(used('DedicatedWorker'));
          let upText = '';
          if (upload) {
            if (traceDir) await page.evaluate(() => window.wgweb.capture.clear());
            const c0 = traceDir ? await loopCounters(page) : undefined;
            const tracer = traceDir
              ? new UploadTracer({
                  client: () => page.evaluate(pageClientSample),
                  relayMetricsUrl: `${relay.url}metrics`,
                  relayPid: relay.pid,
                  wireguardGoPid: peer.process.pid,
                  wireguardIfname: peer.ifname,
                })
              : undefined;
            tracer?.start();
            const u0 = threadCpu('chromium renderer');
            const q0 = descendantCpu();
            const u = await withTimeout(pageUpload(page, { url: http.url('/upload'), bytes: 20 * MiB, seed: 7 + r }), 300_000, 'upload');
            const u1 = threadCpu('chromium renderer');
            const q1 = descendantCpu();
            const timeline = tracer ? await tracer.stop() : '';
            if (!u.ok) throw new Error(`upload: the server received ${u.length} bytes or other bytes`);
            // The page makes and hashes the body before its clock starts; that CPU is counted here too.
            const upUsed = (name?: string): number =>
              [...u1].filter(([k]) => name === undefined || k === name).reduce((s, [k, ms]) => s + ms - (u0.get(k) ?? 0), 0) / ((20 * MiB) / MB);
            res.up.push((20 * MiB) / u.ms / 1000);
            res.upRenderer.push(upUsed());
            res.upWorker.push(upUsed('DedicatedWorker'));
            const upThreads = busiest(u1.keys(), upUsed);
            upText = `, upload ${res.up.at(-1)!.toFixed(2)} MB/s (renderer ${res.upRenderer.at(-1)!.toFixed(1)}, worker ${res.upWorker.at(-1)!.toFixed(1)} ms/MB; ${upThreads})`;
            if (traceDir) {
              const upLabel = new Map<string, number>();
              for (const [pid, p] of q1) upLabel.set(p.label, (upLabel.get(p.label) ?? 0) + p.cpuMs - (q0.get(pid)?.cpuMs ?? 0));
              const perMb = [...upLabel].sort((x, y) => y[1] - x[1]).map(([l, ms]) => `${l} ${(ms / ((20 * MiB) / MB)).toFixed(1)}`);
              const report = await page.evaluate(async () => (await window.wgweb.report()).report.counters);
              const conns = (report as { tcpConnections?: { bytesSent: number }[] }).tcpConnections ?? [];
              const tcp = conns.sort((x, y) => y.bytesSent - x.bytesSent)[0];
              const pcap = await page.evaluate(async () => {
                const { bytes } = await window.wgweb.capture.download('tcp');
                let bin = '';
                for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
                return btoa(bin);
              });
              const file = join(traceDir, `round-${r + 1}-${v.label}.pcapng`);
              writeFileSync(file, Buffer.from(pcap, 'base64'));
              const c1 = await loopCounters(page);
              const perMbCounts = Object.entries(c1).map(([k, n]) => `${k} ${((n - (c0?.[k] ?? 0)) / ((20 * MiB) / MB)).toFixed(0)}`);
              upText += `\n  upload processes ms/MB: ${perMb.join(', ')}\n  upload per MB (event loop, relay messages): ${perMbCounts.join(', ')}\n  upload TCP: ${JSON.stringify(tcp)}\n  capture: ${file}\n  timeline (the trace's own sampling costs CPU too):\n${timeline}`;
            }
          }
          if (profileDir && r === rounds - 1) {
            const inspector = await WorkerInspector.attach(browser, 'tunnel-worker');
            await startProfiles(inspector);
            const pd = await withTimeout(pageDownload(page, { url: url(bytes), via: 'tunnel', block: MiB, hash: false }), 300_000, 'profiled download');
            await stopProfiles(inspector, profileDir, `download-${v.label}`, `${(bytes / MiB).toFixed(0)} MiB download at ${((bytes / pd.ms) * 1000 / MB).toFixed(1)} MB/s (profiler on)`, v.dist);
            if (upload) {
              await startProfiles(inspector);
              const u = await withTimeout(pageUpload(page, { url: http.url('/upload'), bytes: 20 * MiB, seed: 99 }), 300_000, 'profiled upload');
              await stopProfiles(inspector, profileDir, `upload-${v.label}`, `20 MiB upload at ${((20 * MiB) / u.ms / 1000).toFixed(1)} MB/s (profiler on)`, v.dist);
            }
          }
          process.stdout.write(
            `round ${r + 1} ${v.label}${v.capture ? '' : ' (capture off)'}${v.carrier ? ` (${v.carrier})` : ''}: ${res.mbps.at(-1)!.toFixed(2)} MB/s, renderer ${res.renderer.at(-1)!.toFixed(1)} ms/MB, tunnel worker ${res.worker.at(-1)!.toFixed(1)} ms/MB${upText}, connect ${connectMs.toFixed(0)} ms, ping ${res.pingMs.at(-1)!.toFixed(2)} ms, load ${load.toFixed(1)}\n` +
              `  renderer threads ms/MB: ${threads}; processes ms/MB: ${processes}; the page read ${d.chunks} chunks (${((bytes / d.chunks) / 1024).toFixed(1)} KiB each)\n`,
          );
        } finally {
          await browser.close().catch(() => undefined);
        }
      }
    }
    const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
    for (const [label, res] of results) {
      process.stdout.write(
        `${label}: median ${med(res.mbps).toFixed(2)} MB/s (${Math.min(...res.mbps).toFixed(2)}–${Math.max(...res.mbps).toFixed(2)}), renderer ${med(res.renderer).toFixed(1)} ms/MB, worker ${med(res.worker).toFixed(1)} ms/MB${res.up.length ? `, upload ${med(res.up).toFixed(2)} MB/s (${Math.min(...res.up).toFixed(2)}–${Math.max(...res.up).toFixed(2)}; renderer ${med(res.upRenderer).toFixed(1)}, worker ${med(res.upWorker).toFixed(1)} ms/MB)` : ''}, connect ${med(res.connectMs).toFixed(0)} ms, ping ${med(res.pingMs).toFixed(2)} ms\n`,
      );
    }
  } finally {
    await runCleanups(closers);
    await closeAllNamespaces();
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
