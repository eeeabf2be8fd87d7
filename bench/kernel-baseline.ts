/**
 * Baseline for wgweb's bulk download: the same HTTP download between two real wireguard-go peers
 * with the kernel's TCP stack on both ends (curl in a "client" namespace, the test HTTP server on
 * the "server" namespace's tunnel address). wgweb's own download (browser/CLI stack → relay →
 * wireguard-go) is reported as a ratio to this figure measured in the same run.
 *
 *   client ns: curl ─ kernel TCP ─ wireguard-go ──UDP──▶ [veth between the namespaces | hop in root ns]
 *                                                         ──▶ wireguard-go ─ kernel TCP ─ HTTP server (server ns)
 *
 * `path: 'hop'` puts a (clean) userspace UDP forwarder in the root namespace in between, which is
 * closer to wgweb's shape (a Node relay forwards every datagram).
 *
 *   node --import tsx bench/kernel-baseline.ts [--bytes N] [--hop] [--upload N]     prints MB/s
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineBusyMs, machineMsPerMB } from './machine-cpu.ts';
import { deterministicChunks } from '../harness/deterministic-bytes.ts';
import { closeAllNamespaces, linkNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer } from '../harness/ns-servers.ts';
import { startImpairmentHop, type ImpairmentHop } from '../harness/impairment-hop.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import type { Endpoint } from '../src/shared/ip-address.ts';

/** Seed of the uploaded bytes (any: the server hashes what arrives). */
const UPLOAD_SEED = 5;

export interface KernelBaselineOptions {
  /** Bytes to download (default 64 MiB). */
  readonly bytes?: number;
  /** 'veth' (default): the namespaces are linked directly; 'hop': through a UDP forwarder in the root namespace. */
  readonly path?: 'veth' | 'hop';
  /** Downloads to run; the best one is reported (default 1). */
  readonly repeats?: number;
  /**
   * Also upload this many bytes (curl POST to /upload, the server hashes the body), as many times
   * as `repeats`, best reported in {@link KernelBaselineResult.upload}.
   */
  readonly uploadBytes?: number;
}

export interface KernelBaselineResult {
  readonly bytesPerSecond: number;
  /**
   * Busy CPU of the whole machine per MB during the reported download (every process and the
   * kernel's softirq work; curl's start inside the namespace included), see machine-cpu.ts.
   */
  readonly machineMsPerMB?: number;
  /** Transfer time of the reported download, as curl measured it (connect to last byte). */
  readonly seconds: number;
  /** With `uploadBytes`: the best upload (curl: connect until the server's answer arrived). */
  readonly upload?: { readonly bytesPerSecond: number; readonly seconds: number; readonly machineMsPerMB?: number };
}

/**
 * Downloads `bytes` through a wireguard-go ⇄ wireguard-go tunnel with curl and the kernel TCP stack.
 * @throws {Error} when the machine cannot run it (see interopSkipReason) or the transfer fails.
 */
export async function kernelBaselineDownload(options: KernelBaselineOptions = {}): Promise<KernelBaselineResult> {
  const bytes = options.bytes ?? 64 * 1024 * 1024;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`bytes must be a positive integer, got ${bytes}`);
  const repeats = options.repeats ?? 1;
  const reason = interopSkipReason(['curl']);
  if (reason) throw new Error(`kernel baseline cannot run: ${reason}`);

  let server: WgGoPeer | undefined;
  let client: WgGoPeer | undefined;
  let hop: ImpairmentHop | undefined;
  try {
    server = await startWireguardGoPeer({ name: 'bsrv', logLevel: 'error' });
    const net = server.tunnelAddress4!.replace(/\.1$/, '');
    client = await startWireguardGoPeer({ name: 'bcli', logLevel: 'error', address4: `${net}.2/24`, address6: null });
    await server.addPeer({ publicKey: client.publicKey, allowedIPs: [`${net}.2/32`] });
    let endpoint: Endpoint;
    if (options.path === 'hop') {
      hop = await startImpairmentHop({ target: server.endpoint, listen: { host: client.ns.rootAddress4 } });
      endpoint = hop.endpoint;
    } else {
      const link = await linkNamespaces(client.ns, server.ns);
      endpoint = { host: link.addressB4, port: server.listenPort };
    }
    await client.addPeer({ publicKey: server.publicKey, allowedIPs: server.tunnelNetworks, endpoint });
    const http = await startHttpServer(server, { hosts: [server.tunnelAddress4!] });
    // Handshake and warm-up outside the measurement.
    await client.ns.exec('curl', ['-sS', '--noproxy', '*', '--max-time', '30', '-o', '/dev/null', http.url('/bytes/65536')], {
      timeoutMs: 40_000,
    });

    let best: KernelBaselineResult | undefined;
    for (let i = 0; i < repeats; i++) {
      const cpu0 = machineBusyMs();
      const r = await client.ns.exec(
        'curl',
        ['-sS', '--noproxy', '*', '--max-time', '600', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', http.url(`/bytes/${bytes}?sha=0`)],
        { timeoutMs: 620_000 },
      );
      const [size, secs] = r.stdout.trim().split(/\s+/).map(Number);
      const machine = machineMsPerMB(cpu0, machineBusyMs(), bytes);
      if (size !== bytes) throw new Error(`kernel baseline: curl downloaded ${size} bytes, expected ${bytes}`);
      const result = { bytesPerSecond: bytes / secs, seconds: secs, machineMsPerMB: machine };
      if (!best || result.bytesPerSecond > best.bytesPerSecond) best = result;
    }
    if (options.uploadBytes !== undefined) return { ...best!, upload: await upload(client, http.url('/upload'), options.uploadBytes, repeats) };
    return best!;
  } finally {
    await hop?.close();
    await client?.close();
    await server?.close();
  }
}

/** POSTs `bytes` deterministic bytes from a file with curl in the client namespace; the best of `repeats`. */
async function upload(client: WgGoPeer, url: string, bytes: number, repeats: number): Promise<NonNullable<KernelBaselineResult['upload']>> {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`uploadBytes must be a positive integer, got ${bytes}`);
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-kernel-upload-'));
  try {
    const file = join(dir, 'body.bin');
    writeFileSync(file, Buffer.concat([...deterministicChunks(bytes, UPLOAD_SEED)]));
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    let best: { bytesPerSecond: number; seconds: number; machineMsPerMB?: number } | undefined;
    for (let i = 0; i < repeats; i++) {
      const cpu0 = machineBusyMs();
      const r = await client.ns.exec(
        'curl',
        ['-sS', '--noproxy', '*', '--max-time', '600', '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', '--data-binary', `@${file}`, '-w', '\n%{size_upload} %{time_total}', url],
        { timeoutMs: 620_000 },
      );
      const machine = machineMsPerMB(cpu0, machineBusyMs(), bytes);
      const [answer, figures] = r.stdout.trim().split('\n');
      const { length, sha256: got } = JSON.parse(answer) as { length: number; sha256: string };
      if (length !== bytes || got !== sha256) throw new Error(`kernel baseline: the server received ${length} bytes (SHA-256 ${got}), expected ${bytes} (${sha256})`);
      const secs = Number(figures.split(' ')[1]);
      const result = { bytesPerSecond: bytes / secs, seconds: secs, machineMsPerMB: machine };
      if (!best || result.bytesPerSecond > best.bytesPerSecond) best = result;
    }
    return best!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--bytes');
  const bytes = at >= 0 ? Number(args[at + 1]) : undefined;
  const path = args.includes('--hop') ? 'hop' : 'veth';
  const up = args.indexOf('--upload');
  const uploadBytes = up >= 0 ? Number(args[up + 1]) : undefined;
  try {
    const r = await kernelBaselineDownload({ bytes, path, uploadBytes });
    const mb = r.bytesPerSecond / 1e6;
    console.log(
      `kernel baseline (${path}): ${mb.toFixed(1)} MB/s (${(bytes ?? 64 * 1024 * 1024).toLocaleString('en')} bytes in ${r.seconds.toFixed(3)} s; machine CPU ${r.machineMsPerMB?.toFixed(0) ?? '?'} ms/MB)`,
    );
    if (r.upload) console.log(`upload: ${(r.upload.bytesPerSecond / 1e6).toFixed(1)} MB/s (${uploadBytes!.toLocaleString('en')} bytes in ${r.upload.seconds.toFixed(3)} s; machine CPU ${r.upload.machineMsPerMB?.toFixed(0) ?? '?'} ms/MB)`);
  } finally {
    await closeAllNamespaces();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
