/**
 * The browse view, measured in headless Chromium: how long a page with 30 subresources (10
 * stylesheets, 10 images, 10 scripts, ~2 KiB each) takes to render through the tunnel, next to the
 * same page from the same server code loaded directly from loopback in the same run.
 *
 *   ours:     wgweb.browse(url): frame (browse origin) ─▶ Service Worker ─▶ app page ─▶ tunnel worker
 *             (WireGuard + TCP/IP) ─ws─▶ relay process ─UDP─▶ wireguard-go (namespace) ─▶ intranet site
 *   baseline: an <iframe> of the app page loading the same page from the same site script run on
 *             127.0.0.1 (the browser's own network stack, no tunnel)
 *
 *   browse.page-30   time from navigation start to the frame's load event (every subresource
 *                    loaded), median of N alternating runs after a warm-up of each; ratio =
 *                    direct / tunnel (1.0 would be "as fast as no tunnel at all").
 *
 * Loopback and the bench's own namespace only; every child stops with the run.
 *
 *   node --import tsx bench/browse-bench.ts [--quick]
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closeAllNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startIntranetSite } from '../harness/intranet-site.ts';
import { browserSkipReason, interopSkipReason } from '../harness/requirements.ts';
import { ensureUiBuilt } from '../harness/browser.ts';
import { startBenchChild } from './bench-child.ts';
import { median, openConnectedApp } from './browser-tunnel-page.ts';
import { lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions, runCleanups } from './bench-entry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SITE_SCRIPT = fileURLToPath(new URL('../harness/servers/intranet-site.ts', import.meta.url));
const SUBRESOURCES = 30;

async function run(options: BenchOptions): Promise<BenchEntry[]> {
  const reason = browserSkipReason() ?? interopSkipReason();
  if (reason) throw new Error(`skipped: ${reason}`);
  const rounds = options.quick ? 5 : 15;
  const closers: (() => Promise<unknown> | void)[] = [];
  try {
    await ensureUiBuilt();
    const peer = await startWireguardGoPeer({ name: 'brbench', logLevel: 'error', address6: null });
    closers.push(() => peer.close());
    const site = await startIntranetSite(peer);
    closers.push(() => site.close());
    // The same site script on loopback for the direct baseline (its port from its ready line).
    const direct = await startBenchChild(
      [
        '--import',
        'tsx',
        SITE_SCRIPT,
        JSON.stringify({ main: { hosts: ['127.0.0.1'], port: 0 }, second: { hosts: [], port: 0 }, links: { main: 'http://127.0.0.1', second: 'http://127.0.0.1', outside: 'http://198.51.100.7/' } }),
      ],
      /"event":"ready".*"port":(\d+)/,
      { name: 'direct site' },
    );
    closers.push(() => direct.stop());
    const directBase = `http://127.0.0.1:${direct.match[1]}`;
    const page = await openConnectedApp(peer, closers);

    const tunnelLoad = (tag: string): Promise<number> =>
      page.evaluate(
        async ([url]) => {
          const t0 = performance.now();
          const r = await window.wgweb.browse(url);
          if (r.error) throw new Error(`${r.error.code}: ${r.error.message}`);
          return performance.now() - t0;
        },
        [`${site.main}/bench/page?n=${SUBRESOURCES}&t=${tag}`],
      );
    const directLoad = (tag: string): Promise<number> =>
      page.evaluate(
        ([url]) =>
          new Promise<number>((resolve, reject) => {
            const frame = document.createElement('iframe');
            frame.style.cssText = 'position:fixed;left:0;top:0;width:800px;height:600px;border:0;visibility:hidden';
            const t0 = performance.now();
            frame.onload = () => {
              resolve(performance.now() - t0);
              frame.remove();
            };
            frame.onerror = () => reject(new Error(`${url} did not load`));
            frame.src = url;
            document.body.append(frame);
          }),
        [`${directBase}/bench/page?n=${SUBRESOURCES}&t=${tag}`],
      );

    // Warm-up: the Service Worker, its backend port and the tunnel's TCP connections; the direct
    // server's sockets likewise.
    await tunnelLoad('warm');
    await directLoad('warm');
    const tunnel: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < rounds; i++) {
      tunnel.push(await tunnelLoad(`t${i}`));
      plain.push(await directLoad(`d${i}`));
    }
    const subresourcesSeen = site.events().filter((e) => e.path.startsWith('/bench/r/')).length;
    const ours = median(tunnel);
    const base = median(plain);
    return [
      {
        name: 'browse.page-30',
        measured: `a page with ${SUBRESOURCES} subresources (CSS, images, scripts) until its load event in the browse view through the tunnel, median of ${rounds} after a warm-up; baseline the same page from the same server script loaded directly from loopback in an iframe of the same page`,
        ours: { label: 'wgweb browse view (Service Worker → tunnel worker → wireguard-go)', value: ours, unit: 'ms' },
        baseline: { label: 'direct load on loopback, no tunnel', value: base, unit: 'ms' },
        ratio: lowerIsBetter(ours, base),
        goal: 'ratio ≥ 0.1 (a tenth of an unencrypted loopback load)',
        notes: `tunnel min/max ${Math.min(...tunnel).toFixed(0)}/${Math.max(...tunnel).toFixed(0)} ms, direct ${Math.min(...plain).toFixed(0)}/${Math.max(...plain).toFixed(0)} ms; ${subresourcesSeen} subresource requests reached the intranet server`,
      },
    ];
  } finally {
    await runCleanups(closers);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = { title: 'Browse view (headless Chromium, Service Worker through the tunnel)', run };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const entries = await run({ quick: process.argv.includes('--quick') });
  for (const e of entries) {
    process.stdout.write(`${e.name}: ${e.ours.value.toFixed(1)} ${e.ours.unit} vs ${e.baseline?.value.toFixed(1)} ${e.baseline?.unit}, ratio ${e.ratio?.toFixed(3)}\n  ${e.notes}\n`);
  }
}
