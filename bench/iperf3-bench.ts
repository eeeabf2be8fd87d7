/**
 * iperf3 throughput through the tunnel (#15 item 9): wgweb's iperf3 client from the CLI (`wgweb
 * iperf3 --json`, run in this process) and from headless Chromium (`window.wgweb.iperf3` in the
 * built UI), each against a stock `iperf3 -s` behind wireguard-go; the baseline is the stock
 * iperf3 client between two wireguard-go peers over the same kind of path (a userspace UDP
 * forwarder in the root namespace, as the relay is one), measured in the same run.
 *
 *   wgweb (CLI Session | Chromium worker) ──ws──▶ relay process ──UDP──▶ wireguard-go (ns S) ── iperf3 -s
 *   iperf3 -c (ns C) ── wireguard-go (ns C) ──UDP──▶ forwarder (root ns) ──UDP──▶ wireguard-go (ns S) ── iperf3 -s
 *
 *   iperf3.cli-upload / iperf3.cli-download        `wgweb iperf3 -t S [-R]` receiver figure, against
 *                                                  `iperf3 -c -t S [-R]` between the two wireguard-go peers
 *   iperf3.browser-upload / iperf3.browser-download `wgweb.iperf3(host, { seconds: S, reverse })` in the
 *                                                  tab, against the same baseline
 *
 * Each figure is iperf3's receiver line (what arrived), the best of `repeats` runs that alternate
 * with the baseline. Loopback and the bench's own namespaces only; everything stops with the run.
 *
 *   node --import tsx bench/iperf3-bench.ts [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeAllNamespaces, type NsProcess } from '../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { startImpairmentHop, type ImpairmentHop } from '../harness/impairment-hop.ts';
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.ts';
import { browserSkipReason, interopSkipReason } from '../harness/requirements.ts';
import { DIST_UI, ensureUiBuilt } from '../harness/browser.ts';
import { launchCdpChromium, type CdpBrowser } from '../harness/cdp-chromium.ts';
import { main as cli } from '../src/node/cli/main.ts';
import { createMemoryIo } from '../src/node/cli/cli-io.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';
import { higherIsBetter, type BenchEntry, type BenchModule, type BenchOptions, runCleanups } from './bench-entry.ts';

const PORT = 5201;
const Mbit = 1e6;

interface Direction {
  readonly reverse: boolean;
  readonly label: 'upload' | 'download';
}
const DIRECTIONS: readonly Direction[] = [
  { reverse: false, label: 'upload' },
  { reverse: true, label: 'download' },
];

/** Rejects with `what` when `p` takes longer than `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Waits until something listens on TCP `port` in `peer`'s namespace (5 s at most). */
async function listening(peer: WgGoPeer, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await peer.ns.exec('ss', ['-Htln', `sport = :${port}`], { check: false });
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`iperf3 -s did not listen on ${port}`);
}

/** The stock iperf3 client in `client`'s namespace: the receiver's bits per second. */
async function stockClient(client: WgGoPeer, host: string, seconds: number, reverse: boolean): Promise<number> {
  const args = ['-c', host, '-p', String(PORT), '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])];
  const r = await client.ns.exec('iperf3', args, { timeoutMs: (seconds + 30) * 1000 });
  const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  const bps = j.end?.sum_received?.bits_per_second;
  if (!bps) throw new Error(`iperf3 -c ${args.join(' ')}: ${j.error ?? r.stdout.slice(0, 300)}`);
  return bps;
}

/** `wgweb iperf3 --json` in this process: the receiver's bits per second. */
async function wgwebCli(configFile: string, relayUrl: string, host: string, seconds: number, reverse: boolean): Promise<number> {
  const io = createMemoryIo();
  const code = await cli(['iperf3', '--config', configFile, '--relay', relayUrl, '-t', String(seconds), '--json', ...(reverse ? ['-R'] : []), host], io);
  if (code !== 0) throw new Error(`wgweb iperf3 exited ${code}: ${io.stderrText()}`);
  return (JSON.parse(io.stdoutText()) as { receiver: { bitsPerSecond: number } }).receiver.bitsPerSecond;
}

async function run(options: BenchOptions): Promise<BenchEntry[]> {
  const reason = interopSkipReason(['iperf3']) ?? browserSkipReason();
  if (reason) throw new Error(`iperf3 bench cannot run: ${reason}`);
  const seconds = options.quick ? 3 : 8;
  const repeats = options.quick ? 1 : 2;
  const closers: (() => Promise<void> | void)[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-iperf3-bench-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await ensureUiBuilt();
    const server = await startWireguardGoPeer({ name: 'ipsrv', logLevel: 'error', address6: null });
    closers.push(() => server.close());
    const host = server.tunnelAddress4!;
    const iperf: NsProcess = server.ns.spawn('iperf3', ['-s', '-B', host, '-p', String(PORT)]);
    closers.push(async () => void (await iperf.stop()));
    await listening(server, PORT);

    // The baseline: a second wireguard-go peer with the stock client, through a root-namespace forwarder.
    const net = host.replace(/\.1$/, '');
    const client = await startWireguardGoPeer({ name: 'ipcli', logLevel: 'error', address4: `${net}.250/24`, address6: null });
    closers.push(() => client.close());
    await server.addPeer({ publicKey: client.publicKey, allowedIPs: [`${net}.250/32`] });
    const hop: ImpairmentHop = await startImpairmentHop({ target: server.endpoint, listen: { host: client.ns.rootAddress4 } });
    closers.push(() => hop.close());
    await client.addPeer({ publicKey: server.publicKey, allowedIPs: server.tunnelNetworks, endpoint: hop.endpoint });

    // wgweb: the relay as its own process (also serving the built UI), one client config per runtime.
    const relay: RelayProcess = await startRelayProcess({ browse: true, logLevel: 'warn', allow: [formatEndpoint(server.endpoint)], args: ['--static', DIST_UI] });
    closers.push(() => relay.close());
    const cliClient = await server.addClient();
    const configFile = join(dir, 'cli.conf');
    writeFileSync(configFile, cliClient.config, { mode: 0o600 });
    const tabClient = await server.addClient();
    const browser: CdpBrowser = await launchCdpChromium();
    closers.push(() => browser.close());
    const page = browser.page;
    await withTimeout(
      (async () => {
        await page.goto(relay.url);
        await page.waitForFunction(() => typeof window.wgweb === 'object');
        await page.evaluate(() => window.wgweb.ready);
        await page.evaluate(({ config, relayUrl }) => window.wgweb.connect(config, relayUrl), { config: tabClient.config, relayUrl: relay.wsUrl });
        await page.waitForFunction(() => window.wgweb.status().then((s) => s?.state === 'up'), 60_000);
      })(),
      90_000,
      'loading the UI and connecting',
    );
    const tab = (reverse: boolean): Promise<number> =>
      page.evaluate(
        async ({ host, seconds, reverse }) => (await window.wgweb.iperf3(host, { seconds, reverse })).receiver.bitsPerSecond,
        { host, seconds, reverse },
      );

    // Warm-up (handshakes, JIT) outside the figures.
    await stockClient(client, host, 1, false);
    await wgwebCli(configFile, relay.wsUrl, host, 1, false);
    await withTimeout(tab(false), 60_000, 'warm-up iperf3 in the tab');

    const entries: BenchEntry[] = [];
    const best = { baseline: new Map<string, number>(), cli: new Map<string, number>(), tab: new Map<string, number>() };
    const keep = (m: Map<string, number>, k: string, v: number): void => void m.set(k, Math.max(m.get(k) ?? 0, v));
    for (let i = 0; i < repeats; i++) {
      for (const d of DIRECTIONS) {
        keep(best.baseline, d.label, await stockClient(client, host, seconds, d.reverse));
        keep(best.cli, d.label, await wgwebCli(configFile, relay.wsUrl, host, seconds, d.reverse));
        keep(best.tab, d.label, await withTimeout(tab(d.reverse), (seconds + 60) * 1000, `iperf3 ${d.label} in the tab`));
      }
    }
    const baselineLabel = 'stock iperf3 client, wireguard-go ⇄ forwarder ⇄ wireguard-go';
    for (const d of DIRECTIONS) {
      const base = best.baseline.get(d.label)! / Mbit;
      const how = d.reverse ? ' -R (server sends)' : ' (client sends)';
      for (const [kind, figures, what] of [
        ['cli', best.cli, `\`wgweb iperf3 -t ${seconds}${d.reverse ? ' -R' : ''} --json\` (Session in Node → relay process → wireguard-go)`],
        ['browser', best.tab, `\`wgweb.iperf3(host, { seconds: ${seconds}${d.reverse ? ', reverse: true' : ''} })\` in headless Chromium (worker → relay process → wireguard-go)`],
      ] as const) {
        const ours = figures.get(d.label)! / Mbit;
        entries.push({
          name: `iperf3.${kind}-${d.label}`,
          measured: `iperf3${how} receiver Mbit/s against a stock \`iperf3 -s\` behind wireguard-go: ${what}, best of ${repeats}; baseline: \`iperf3 -c -t ${seconds}${d.reverse ? ' -R' : ''}\` between two wireguard-go peers through a root-namespace UDP forwarder, same run`,
          ours: { label: kind === 'cli' ? 'wgweb iperf3 (CLI)' : 'wgweb.iperf3 (Chromium)', value: ours, unit: 'Mbit/s' },
          baseline: { label: baselineLabel, value: base, unit: 'Mbit/s' },
          ratio: higherIsBetter(ours, base),
        });
      }
    }
    return entries;
  } finally {
    await runCleanups(closers);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = { title: 'iperf3 throughput (CLI and Chromium vs stock iperf3 over wireguard-go)', run };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  run({ quick })
    .then((entries) => {
      for (const e of entries) console.log(`${e.name}: ${e.ours.value.toFixed(1)} ${e.ours.unit} vs ${e.baseline!.value.toFixed(1)} (ratio ${e.ratio!.toFixed(2)})`);
    })
    .catch((e: Error) => {
      console.error(e.message);
      process.exitCode = 1;
    });
}
