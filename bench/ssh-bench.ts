/**
 * SSH through the tunnel, next to OpenSSH's own client over a kernel WireGuard path in the same run:
 *
 *   ours:     Session (userspace TCP/IP) ──ws──▶ relay ──UDP──▶ wireguard-go ── sshd (server ns)
 *   baseline: ssh (client ns) ─ kernel TCP ─ wireguard-go ──UDP──▶ hop (root ns) ──▶ wireguard-go ── same sshd
 *
 * - ssh.first-output: connect, key exchange, public key login and the first command's output
 *   (`echo ready`), best of N; the baseline is the whole `ssh` process (its start included).
 * - ssh.cat: `head -c N /dev/zero` streamed back (chacha20-poly1305, the default both pick).
 * - ssh.bundle: the worker's SSH chunk (esbuild --minify, gzip).
 * - ssh.console-chunks: what the page loads when the SSH tab opens its first console (vite's lazy
 *   xterm.js, fit addon and terminal CSS chunks in dist/ui), and a check that the entry chunk has
 *   none of it (the console costs nothing until opened).
 *
 *   node --import tsx bench/ssh-bench.ts [--quick]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { build } from 'esbuild';
import { closeAllNamespaces, run } from '../harness/netns.ts';
import { startWireguardGoPeer } from '../harness/wireguard-go-peer.ts';
import { startImpairmentHop } from '../harness/impairment-hop.ts';
import { startSshd } from '../harness/ssh-servers.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import { DIST_UI, ensureUiBuilt } from '../harness/browser.ts';
import { startRelay } from '../src/node/relay/main.ts';
import { createLogger } from '../src/node/relay/log.ts';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { formatEndpoint } from '../src/shared/ip-address.ts';
import { higherIsBetter, lowerIsBetter, runCleanups, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function bundleEntry(): Promise<BenchEntry> {
  const out = await build({
    entryPoints: [join(ROOT, 'src/protocols/ssh/ssh-connector.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.contents;
  return {
    name: 'ssh.bundle',
    measured: 'the SSH client with everything it imports (incl. @noble code WireGuard/TLS may already share), esbuild --minify, then gzip',
    ours: { label: 'SSH chunk (gzip)', value: gzipSync(code).length / 1024, unit: 'KiB' },
    notes: `${(code.length / 1024).toFixed(1)} KiB minified; loaded by import() on the first ssh()`,
  };
}

/** The lazy chunks of the SSH console in the vite build (dist/ui/assets, built if stale). */
async function consoleChunksEntry(): Promise<BenchEntry> {
  await ensureUiBuilt();
  const assets = join(DIST_UI, 'assets');
  const files = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f));
  // xterm.js, its stylesheet (inlined into a small module) and the fit addon.
  const lazy = files.filter((f) => /^(xterm|addon-fit)-/.test(f));
  if (!lazy.some((f) => f.startsWith('xterm-'))) throw new Error(`ssh bench: no xterm chunk in ${assets}: is the console still lazy-loaded?`);
  const entry = files.filter((f) => /^index-.*\.js$/.test(f));
  const eager = entry.filter((f) => readFileSync(join(assets, f), 'utf8').includes('xterm-helper-textarea'));
  if (eager.length) throw new Error(`ssh bench: xterm.js is in the entry chunk ${eager.join(', ')}: the console is no longer lazy`);
  const size = (f: string) => readFileSync(join(assets, f)).length;
  const minified = lazy.reduce((n, f) => n + size(f), 0);
  const gzip = lazy.reduce((n, f) => n + gzipSync(readFileSync(join(assets, f))).length, 0);
  return {
    name: 'ssh.console-chunks',
    measured: 'the chunks the page loads when the SSH tab opens its first console (xterm.js, its CSS, the fit addon), vite build, gzip',
    ours: { label: 'console chunks (gzip)', value: gzip / 1024, unit: 'KiB' },
    notes: `${(minified / 1024).toFixed(1)} KiB minified in ${lazy.length} files (${lazy.join(', ')}); none of it in the entry chunk`,
  };
}

async function runSshBench(options: BenchOptions): Promise<BenchEntry[]> {
  const entries: BenchEntry[] = [await bundleEntry(), await consoleChunksEntry()];
  const reason = interopSkipReason(['sshd', 'ssh', 'ssh-keygen', 'unshare', 'mount', 'openssl']);
  if (reason) return entries;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-ssh-bench-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', keyFile]);
    const privateKey = readFileSync(keyFile, 'utf8');

    const server = await startWireguardGoPeer({ name: 'bssh', logLevel: 'error' });
    cleanups.push(() => server.close());
    const host = server.tunnelAddress4!;
    const sshd = await startSshd(server, { host, authorizedKeys: [readFileSync(keyFile + '.pub', 'utf8').trim()], hostKeyTypes: ['ssh-ed25519'] });
    cleanups.push(() => sshd.close());

    // Baseline client: a second wireguard-go with the kernel's TCP, through a UDP hop in the root namespace.
    const net = host.replace(/\.1$/, '');
    const kclient = await startWireguardGoPeer({ name: 'bsshc', logLevel: 'error', address4: `${net}.3/24`, address6: null });
    cleanups.push(() => kclient.close());
    await server.addPeer({ publicKey: kclient.publicKey, allowedIPs: [`${net}.3/32`] });
    const hop = await startImpairmentHop({ target: server.endpoint, listen: { host: kclient.ns.rootAddress4 } });
    cleanups.push(() => hop.close());
    await kclient.addPeer({ publicKey: server.publicKey, allowedIPs: server.tunnelNetworks, endpoint: hop.endpoint });
    const sshArgs = ['-i', keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${host}`];
    await kclient.ns.exec('ssh', [...sshArgs, 'true'], { timeoutMs: 30_000 }); // handshake + warm-up

    // Ours.
    const client = await server.addClient({ endpoint: server.endpoint });
    const relay = await startRelay({ port: 0, allow: [formatEndpoint(server.endpoint)], logger: createLogger({ level: 'error' }) });
    cleanups.push(() => relay.close());
    const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor, relayBatching: false });
    cleanups.push(() => session.close());
    await session.waitForHandshake(30_000);
    const hostKey = sshd.hostKeys['ssh-ed25519']!.fingerprint;
    const connect = () => session.ssh(host, { username: 'root', privateKey, hostKey });
    (await connect()).close(); // warm-up

    const runs = options.quick ? 3 : 8;
    let oursFirst = Infinity;
    let baseFirst = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const conn = await connect();
      const r = await conn.exec('echo ready');
      oursFirst = Math.min(oursFirst, performance.now() - t0);
      conn.close();
      if (new TextDecoder().decode(r.stdout) !== 'ready\n') throw new Error('ssh bench: unexpected output');
      const t1 = performance.now();
      const b = await kclient.ns.exec('ssh', [...sshArgs, 'echo ready'], { timeoutMs: 30_000 });
      baseFirst = Math.min(baseFirst, performance.now() - t1);
      if (b.stdout !== 'ready\n') throw new Error('ssh bench: unexpected baseline output');
    }
    entries.push({
      name: 'ssh.first-output',
      measured: 'TCP connect, curve25519 key exchange, Ed25519 public key login and `echo ready` output through the tunnel; best of runs',
      ours: { label: 'wgweb Session.ssh', value: oursFirst, unit: 'ms' },
      baseline: { label: 'OpenSSH ssh (kernel WireGuard path, process start included)', value: baseFirst, unit: 'ms' },
      ratio: lowerIsBetter(oursFirst, baseFirst),
      goal: 'ratio ≥ 0.5',
    });

    const bytes = options.quick ? 8 * 1024 * 1024 : 32 * 1024 * 1024;
    const conn = await connect();
    cleanups.push(() => conn.close());
    let oursRate = 0;
    let baseRate = 0;
    for (let i = 0; i < (options.quick ? 1 : 2); i++) {
      const t0 = performance.now();
      const r = await conn.exec(`head -c ${bytes} /dev/zero`);
      const secs = (performance.now() - t0) / 1000;
      if (r.stdout.length !== bytes) throw new Error(`ssh bench: received ${r.stdout.length} of ${bytes} bytes`);
      oursRate = Math.max(oursRate, bytes / secs / 1e6);
      const t1 = performance.now();
      const b = await kclient.ns.exec('sh', ['-c', `ssh ${sshArgs.join(' ')} 'head -c ${bytes} /dev/zero' | wc -c`], { timeoutMs: 300_000 });
      const bsecs = (performance.now() - t1) / 1000;
      if (Number(b.stdout.trim()) !== bytes) throw new Error('ssh bench: baseline byte count differs');
      baseRate = Math.max(baseRate, bytes / bsecs / 1e6);
    }
    entries.push({
      name: 'ssh.cat',
      measured: `\`head -c ${bytes} /dev/zero\` streamed back over one SSH connection (chacha20-poly1305), best of runs`,
      ours: { label: 'wgweb Session.ssh exec', value: oursRate, unit: 'MB/s' },
      baseline: { label: 'OpenSSH ssh (kernel WireGuard path, new connection)', value: baseRate, unit: 'MB/s' },
      ratio: higherIsBetter(oursRate, baseRate),
      goal: 'ratio ≥ 0.3',
      notes: 'ours reuses a connection; the baseline includes its login (small next to the transfer)',
    });
    return entries;
  } finally {
    await runCleanups(cleanups);
    await closeAllNamespaces();
  }
}

export const bench: BenchModule = {
  title: 'SSH through the tunnel',
  run: (options) => runSshBench(options),
};

runWhenMain(import.meta.url, runSshBench);
