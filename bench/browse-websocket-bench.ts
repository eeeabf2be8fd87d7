/**
 * A WebSocket stream in a browsed page (issue #14 item 7), measured in headless Chromium against
 * `wgweb.fetch` of the same number of bytes through the same tunnel in the same run:
 *
 *   ours:     a page in the browse view opens `new WebSocket(...)` (the frame agent's replacement:
 *             frame ─▶ app page ─▶ tunnel worker's RFC 6455 client ─▶ WireGuard + TCP/IP) ─ws─▶ relay
 *             process ─UDP─▶ wireguard-go (namespace) ─▶ the `ws` server, which streams COUNT binary
 *             messages of SIZE bytes ("stream COUNT SIZE", harness/servers/websocket-echo.ts)
 *   baseline: `wgweb.fetch` of COUNT × SIZE bytes from the namespace's HTTP server (/bytes/N), read
 *             to the end in the app page: the same worker, tunnel and relay, one HTTP body instead of
 *             messages that cross the frame boundary one by one
 *
 *   browse.websocket-messages   1 KiB messages, messages/s (baseline: the fetch's bytes/s over 1 KiB)
 *   browse.websocket-throughput 64 KiB messages, MB/s
 *
 * Each figure is the median of N alternating rounds after a warm-up of each; ratio = ours / baseline
 * (1.0: a page's WebSocket moves data as fast as the worker's own fetch). Loopback and the bench's
 * own namespace only; every child stops with the run.
 *
 *   node --import tsx bench/browse-websocket-bench.ts [--quick]
 */
import type { Frame } from 'playwright-core';
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer, startWebSocketServer } from '../harness/ns-servers.ts';
import { browserSkipReason, interopSkipReason } from '../harness/requirements.ts';
import { ensureUiBuilt } from '../harness/browser.ts';
import { median, openConnectedApp } from './browser-tunnel-page.ts';
import { higherIsBetter, runCleanups, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

async function run(options: BenchOptions): Promise<BenchEntry[]> {
  const reason = browserSkipReason() ?? interopSkipReason();
  if (reason) throw new Error(`skipped: ${reason}`);
  const rounds = options.quick ? 3 : 7;
  const cleanups: (() => unknown)[] = [];
  try {
    await ensureUiBuilt();
    const peer = await startWireguardGoPeer({ name: 'bwsbench', logLevel: 'error', address6: null });
    cleanups.push(() => peer.close());
    const ws = await startWebSocketServer(peer);
    cleanups.push(() => ws.close());
    const http = await startHttpServer(peer);
    cleanups.push(() => http.close());
    const page = await openConnectedApp(peer, cleanups);

    // The WebSocket server's small page, browsed: its frame is where the page's WebSocket lives.
    const pageUrl = `${ws.url('/').replace(/^ws:/, 'http:').replace(/\/$/, '')}/page`;
    const browsed = await page.evaluate((u) => window.wgweb.browse(u), pageUrl);
    if (browsed.error) throw new Error(`browse ${pageUrl}: ${browsed.error.code}: ${browsed.error.message}`);
    const frame: Frame | null | undefined = await (await page.locator('wg-browse iframe.viewport').elementHandle())?.contentFrame();
    if (!frame) throw new Error('the browse view has no frame');

    /** ms for the page's WebSocket to receive `count` binary messages of `size` bytes (checked). */
    const stream = (count: number, size: number): Promise<number> =>
      frame.evaluate(
        async ([count, size]) => {
          const socket = new WebSocket(`ws://${location.host}/bench`);
          socket.binaryType = 'arraybuffer';
          await new Promise<void>((resolve, reject) => {
            socket.onopen = () => resolve();
            socket.onerror = () => reject(new Error('the WebSocket did not open'));
          });
          const t0 = performance.now();
          const got = await new Promise<{ messages: number; bytes: number }>((resolve, reject) => {
            let messages = 0;
            let bytes = 0;
            socket.onmessage = (e) => {
              if (typeof e.data === 'string') resolve({ messages, bytes });
              else {
                messages++;
                bytes += (e.data as ArrayBuffer).byteLength;
              }
            };
            socket.onclose = () => reject(new Error(`closed after ${messages} messages`));
            socket.send(`stream ${count} ${size}`);
          });
          const ms = performance.now() - t0;
          socket.onclose = null;
          socket.close();
          if (got.messages !== count || got.bytes !== count * size) throw new Error(`got ${got.messages} messages, ${got.bytes} bytes`);
          return ms;
        },
        [count, size] as const,
      );
    /** ms for wgweb.fetch to read `bytes` bytes to the end (checked). */
    const fetchBytes = (bytes: number, tag: string): Promise<number> =>
      page.evaluate(
        async ([url, bytes]) => {
          const t0 = performance.now();
          const body = await (await window.wgweb.fetch(url)).arrayBuffer();
          const ms = performance.now() - t0;
          if (body.byteLength !== bytes) throw new Error(`fetched ${body.byteLength} of ${bytes} bytes`);
          return ms;
        },
        [http.url(`/bytes/${bytes}?seed=${tag}`), bytes] as const,
      );

    const measure = async (count: number, size: number): Promise<{ ws: number[]; fetch: number[] }> => {
      await stream(count, size);
      await fetchBytes(count * size, '0');
      const out = { ws: [] as number[], fetch: [] as number[] };
      for (let i = 0; i < rounds; i++) {
        out.ws.push(await stream(count, size));
        out.fetch.push(await fetchBytes(count * size, String(i + 1)));
      }
      return out;
    };

    const small = { count: options.quick ? 1000 : 4000, size: 1024 };
    const large = { count: options.quick ? 32 : 128, size: 64 * 1024 };
    const m = await measure(small.count, small.size);
    const t = await measure(large.count, large.size);
    const perSecond = (n: number, ms: number): number => n / (ms / 1000);
    const mbs = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
    const msgsOurs = perSecond(small.count, median(m.ws));
    // The fetch moves the same bytes: how many 1 KiB messages' worth per second.
    const msgsBase = perSecond(small.count, median(m.fetch));
    const bigBytes = large.count * large.size;
    const mbOurs = mbs(bigBytes, median(t.ws));
    const mbBase = mbs(bigBytes, median(t.fetch));
    const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
    return [
      {
        name: 'browse.websocket-messages',
        measured: `${small.count} binary WebSocket messages of ${small.size} B streamed by a ws server behind wireguard-go to a page in the browse view (its own new WebSocket, the frame agent's), median of ${rounds}; baseline wgweb.fetch of the same ${small.count * small.size} bytes over the same tunnel, as 1 KiB messages' worth per second`,
        ours: { label: 'browsed page WebSocket (frame agent → worker RFC 6455 client → tunnel)', value: msgsOurs, unit: 'messages/s' },
        baseline: { label: 'wgweb.fetch of the same bytes, same tunnel', value: msgsBase, unit: 'messages/s' },
        ratio: higherIsBetter(msgsOurs, msgsBase),
        notes: `WebSocket ${spread(m.ws)}, fetch ${spread(m.fetch)}; each message crosses the worker → page → frame boundary on its own`,
      },
      {
        name: 'browse.websocket-throughput',
        measured: `${large.count} binary WebSocket messages of ${large.size / 1024} KiB (${bigBytes / 1048576} MiB) to a page in the browse view, median of ${rounds}; baseline wgweb.fetch of the same bytes over the same tunnel`,
        ours: { label: 'browsed page WebSocket', value: mbOurs, unit: 'MB/s' },
        baseline: { label: 'wgweb.fetch of the same bytes, same tunnel', value: mbBase, unit: 'MB/s' },
        ratio: higherIsBetter(mbOurs, mbBase),
        notes: `WebSocket ${spread(t.ws)}, fetch ${spread(t.fetch)}`,
      },
    ];
  } finally {
    await runCleanups(cleanups);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = { title: 'WebSocket in a browsed page (headless Chromium) against wgweb.fetch', run };

runWhenMain(import.meta.url, run);
