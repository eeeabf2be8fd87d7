/**
 * Baseline for wgweb's bulk transfers: the same HTTP download (and upload) between two real
 * wireguard-go peers with the kernel's TCP stack on both ends (curl in a "client" namespace, the
 * test HTTP server on the "server" namespace's tunnel address). wgweb's own transfers (browser/CLI
 * stack → relay → wireguard-go) are reported as a ratio to this figure measured in the same run.
 *
 *   client ns: curl ─ kernel TCP ─ wireguard-go ──UDP──▶ [veth between the namespaces | hop in root ns]
 *                                                         ──▶ wireguard-go ─ kernel TCP ─ HTTP server (server ns)
 *
 *   startKernelPath() ─▶ path.download(bytes) / path.upload(bytes), as often as wanted, interleaved
 *                        with the transfers it is compared to (browser-bench.ts) ─▶ path.close()
 *   kernelBaselineDownload(): start, best of `repeats`, close (tunnel-bench.ts)
 *
 * Every transfer also reports what it cost and what limited it ({@link KernelTransferDetail}): the
 * machine's CPU split (idle left → not CPU-bound), CPU per MB of each wireguard-go and of the HTTP
 * server, UDP receive-buffer drops and TCP retransmissions in both namespaces (#19: why this
 * baseline moved 1.7× between runs, docs/benchmarks.md section 18).
 *
 * `path: 'hop'` puts a (clean) userspace UDP forwarder in the root namespace in between, which is
 * closer to wgweb's shape (a Node relay forwards every datagram).
 *
 *   node --import tsx bench/kernel-baseline.ts [--bytes N] [--hop] [--upload N] [--repeats N]
 *     prints MB/s and the detail of every transfer
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuSplit, formatCpuSplit, machineCpuTimes, machineBusyMs, machineMsPerMB, type CpuSplit } from './machine-cpu.ts';
import { cpuMs } from './bench-child.ts';
import { forceUdpBuffers, type SocketBufferResult } from './socket-buffers.ts';
import { deterministicChunks } from '../harness/deterministic-bytes.ts';
import { closeAllNamespaces, linkNamespaces } from '../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer, type NsHttpServer } from '../harness/ns-servers.ts';
import { startImpairmentHop, type ImpairmentHop } from '../harness/impairment-hop.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import type { Endpoint } from '../src/shared/ip-address.ts';

/** Seed of the uploaded bytes (any: the server hashes what arrives). */
const UPLOAD_SEED = 5;
const MB = 1e6;

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

/** What one transfer cost and what limited it. */
export interface KernelTransferDetail {
  /** Where all cores' time went during the transfer (machine-cpu.ts); idle > 0 means not CPU-bound. */
  readonly split?: CpuSplit;
  /** CPU ms per MB of the client's wireguard-go (curl's side), the server's, and the HTTP server. */
  readonly wgClientMsPerMB: number;
  readonly wgServerMsPerMB: number;
  readonly httpMsPerMB: number;
  /** UDP datagrams the kernel dropped for a full receive buffer, both namespaces (wireguard-go's sockets). */
  readonly udpRcvbufErrors: number;
  /** TCP segments retransmitted, both namespaces (the sender's side of the transfer). */
  readonly tcpRetransSegs: number;
  /** Packets the namespaces' interfaces dropped (the TUN queues, the veth), both namespaces. */
  readonly interfaceDrops: number;
  /** The 1-minute load average when the transfer started. */
  readonly loadAverage: number;
}

/** One transfer over the kernel path. */
export interface KernelTransfer {
  readonly bytesPerSecond: number;
  /** Transfer time as curl measured it (connect to last byte; for an upload, until the server's answer). */
  readonly seconds: number;
  /**
   * Busy CPU of the whole machine per MB during the transfer (every process and the kernel's
   * softirq work; curl's start inside the namespace included), see machine-cpu.ts.
   */
  readonly machineMsPerMB?: number;
  readonly detail: KernelTransferDetail;
}

export interface KernelBaselineResult extends KernelTransfer {
  /** With `uploadBytes`: the best upload (curl: connect until the server's answer arrived). */
  readonly upload?: KernelTransfer;
}

/** The two peers, their link and the HTTP server, kept up between transfers. */
export interface KernelPath {
  /** Downloads `bytes` with curl (-o /dev/null). @throws {Error} when fewer bytes arrive. */
  download(bytes: number): Promise<KernelTransfer>;
  /** POSTs `bytes` deterministic bytes with curl; the server's length and SHA-256 are checked. */
  upload(bytes: number): Promise<KernelTransfer>;
  /** Sets both wireguard-go processes' UDP socket buffers (socket-buffers.ts); what each socket got. */
  setUdpBuffers(bytes: number): Promise<SocketBufferResult[]>;
  close(): Promise<void>;
}

/**
 * One protocol's table of a /proc/PID/net/snmp or /proc/PID/net/netstat text (proc(5)): a header
 * line `Proto: Name1 Name2 …` then a value line `Proto: 1 2 …`, as { Name: value }; {} when absent.
 */
export function parseProcNetTable(text: string, proto: string): Record<string, number> {
  const rows = text.split('\n').filter((l) => l.startsWith(`${proto}: `));
  const out: Record<string, number> = {};
  if (rows.length < 2) return out;
  const names = rows[0]!.split(/\s+/).slice(1);
  const values = rows[1]!.split(/\s+/).slice(1);
  names.forEach((name, i) => (out[name] = Number(values[i]) || 0));
  return out;
}

/** `Udp: … RcvbufErrors …` and `Tcp: … RetransSegs …` from a /proc/PID/net/snmp text (proc(5)). */
export function parseSnmpCounters(text: string): { udpRcvbufErrors: number; tcpRetransSegs: number } {
  return { udpRcvbufErrors: parseProcNetTable(text, 'Udp').RcvbufErrors ?? 0, tcpRetransSegs: parseProcNetTable(text, 'Tcp').RetransSegs ?? 0 };
}

/**
 * Packets the namespace's interfaces dropped (receive + transmit `drop` columns of a
 * /proc/PID/net/dev text, loopback left out): a TUN queue wireguard-go did not drain in time shows
 * here, not in the UDP counters. With `only`, that one interface's (NaN when it is not listed).
 */
export function parseNetDevDrops(text: string, only?: string): number {
  let drops = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo' || (only !== undefined && m[1] !== only)) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length >= 12) {
      drops += (f[3] || 0) + (f[11] || 0);
      found = true;
    }
  }
  return only !== undefined && !found ? NaN : drops;
}

/** The loss counters of the namespace `pid` runs in; zeros where they cannot be read. */
export function namespaceLosses(pid: number): { udpRcvbufErrors: number; tcpRetransSegs: number; interfaceDrops: number } {
  let snmp = { udpRcvbufErrors: 0, tcpRetransSegs: 0 };
  let interfaceDrops = 0;
  try {
    snmp = parseSnmpCounters(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
    interfaceDrops = parseNetDevDrops(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    // the process is gone: nothing to add
  }
  return { ...snmp, interfaceDrops };
}

/**
 * Starts the kernel path: two wireguard-go peers in their own namespaces, linked directly (or
 * through the hop), the HTTP server on the server's tunnel address, a warm-up download done.
 * @throws {Error} when the machine cannot run it (see interopSkipReason).
 */
export async function startKernelPath(options: { path?: 'veth' | 'hop' } = {}): Promise<KernelPath> {
  const reason = interopSkipReason(['curl']);
  if (reason) throw new Error(`kernel baseline cannot run: ${reason}`);
  let server: WgGoPeer | undefined;
  let client: WgGoPeer | undefined;
  let hop: ImpairmentHop | undefined;
  let uploadDir: string | undefined;
  const close = async (): Promise<void> => {
    await hop?.close();
    await client?.close();
    await server?.close();
    if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
  };
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
    const http: NsHttpServer = await startHttpServer(server, { hosts: [server.tunnelAddress4!] });
    const wgClient = client.process.pid;
    const wgServer = server.process.pid;
    const httpPid = http.process.pid;
    const clientNs = client.ns;
    // Handshake and warm-up outside the measurement.
    await clientNs.exec('curl', ['-sS', '--noproxy', '*', '--max-time', '30', '-o', '/dev/null', http.url('/bytes/65536')], { timeoutMs: 40_000 });

    /** The counters a transfer's detail is the difference of. */
    const snapshot = () => {
      const snmp = [wgClient, wgServer].map(namespaceLosses);
      const cpu = (pid: number): number => {
        try {
          return cpuMs(pid);
        } catch {
          return 0;
        }
      };
      return {
        udpRcvbufErrors: snmp[0]!.udpRcvbufErrors + snmp[1]!.udpRcvbufErrors,
        tcpRetransSegs: snmp[0]!.tcpRetransSegs + snmp[1]!.tcpRetransSegs,
        interfaceDrops: snmp[0]!.interfaceDrops + snmp[1]!.interfaceDrops,
        wgClient: cpu(wgClient),
        wgServer: cpu(wgServer),
        http: cpu(httpPid),
      };
    };
    /** Runs curl with `args`, reading the machine and the processes around it. */
    const measured = async (bytes: number, args: string[]) => {
      const loadAverage = loadavg()[0]!;
      const s0 = snapshot();
      const times0 = machineCpuTimes();
      const busy0 = machineBusyMs();
      const r = await clientNs.exec('curl', ['-sS', '--noproxy', '*', '--max-time', '600', ...args], { timeoutMs: 620_000 });
      const busy1 = machineBusyMs();
      const times1 = machineCpuTimes();
      const s1 = snapshot();
      const perMB = (a: number, b: number): number => (b - a) / (bytes / MB);
      const detail: KernelTransferDetail = {
        split: cpuSplit(times0, times1),
        wgClientMsPerMB: perMB(s0.wgClient, s1.wgClient),
        wgServerMsPerMB: perMB(s0.wgServer, s1.wgServer),
        httpMsPerMB: perMB(s0.http, s1.http),
        udpRcvbufErrors: s1.udpRcvbufErrors - s0.udpRcvbufErrors,
        tcpRetransSegs: s1.tcpRetransSegs - s0.tcpRetransSegs,
        interfaceDrops: s1.interfaceDrops - s0.interfaceDrops,
        loadAverage,
      };
      return { stdout: r.stdout, machine: machineMsPerMB(busy0, busy1, bytes), detail };
    };

    const uploads = new Map<number, { file: string; sha256: string }>();
    const uploadFile = (bytes: number): { file: string; sha256: string } => {
      let u = uploads.get(bytes);
      if (!u) {
        uploadDir ??= mkdtempSync(join(tmpdir(), 'wgweb-kernel-upload-'));
        const file = join(uploadDir, `body-${bytes}.bin`);
        const body = Buffer.concat([...deterministicChunks(bytes, UPLOAD_SEED)]);
        writeFileSync(file, body);
        u = { file, sha256: createHash('sha256').update(body).digest('hex') };
        uploads.set(bytes, u);
      }
      return u;
    };

    return {
      async download(bytes: number): Promise<KernelTransfer> {
        checkBytes(bytes, 'bytes');
        const r = await measured(bytes, ['-o', '/dev/null', '-w', '%{size_download} %{time_total}', http.url(`/bytes/${bytes}?sha=0`)]);
        const [size, secs] = r.stdout.trim().split(/\s+/).map(Number);
        if (size !== bytes) throw new Error(`kernel baseline: curl downloaded ${size} bytes, expected ${bytes}`);
        return { bytesPerSecond: bytes / secs!, seconds: secs!, machineMsPerMB: r.machine, detail: r.detail };
      },
      async upload(bytes: number): Promise<KernelTransfer> {
        checkBytes(bytes, 'uploadBytes');
        const { file, sha256 } = uploadFile(bytes);
        const r = await measured(bytes, [
          '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', '--data-binary', `@${file}`, '-w', '\n%{size_upload} %{time_total}', http.url('/upload'),
        ]);
        const [answer, figures] = r.stdout.trim().split('\n');
        const { length, sha256: got } = JSON.parse(answer!) as { length: number; sha256: string };
        if (length !== bytes || got !== sha256) throw new Error(`kernel baseline: the server received ${length} bytes (SHA-256 ${got}), expected ${bytes} (${sha256})`);
        const secs = Number(figures!.split(' ')[1]);
        return { bytesPerSecond: bytes / secs, seconds: secs, machineMsPerMB: r.machine, detail: r.detail };
      },
      async setUdpBuffers(bytes: number): Promise<SocketBufferResult[]> {
        return [...(await forceUdpBuffers(wgClient, bytes)), ...(await forceUdpBuffers(wgServer, bytes))];
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function checkBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`${what} must be a positive integer, got ${bytes}`);
}

/** The faster of two transfers (undefined counts as slowest). */
function faster(a: KernelTransfer | undefined, b: KernelTransfer): KernelTransfer {
  return !a || b.bytesPerSecond > a.bytesPerSecond ? b : a;
}

/**
 * Downloads `bytes` through a wireguard-go ⇄ wireguard-go tunnel with curl and the kernel TCP
 * stack, best of `repeats` (and as many uploads with `uploadBytes`).
 * @throws {Error} when the machine cannot run it (see interopSkipReason) or the transfer fails.
 */
export async function kernelBaselineDownload(options: KernelBaselineOptions = {}): Promise<KernelBaselineResult> {
  const bytes = options.bytes ?? 64 * 1024 * 1024;
  checkBytes(bytes, 'bytes');
  if (options.uploadBytes !== undefined) checkBytes(options.uploadBytes, 'uploadBytes');
  const repeats = options.repeats ?? 1;
  const path = await startKernelPath({ path: options.path });
  try {
    let best: KernelTransfer | undefined;
    for (let i = 0; i < repeats; i++) best = faster(best, await path.download(bytes));
    if (options.uploadBytes === undefined) return best!;
    let up: KernelTransfer | undefined;
    for (let i = 0; i < repeats; i++) up = faster(up, await path.upload(options.uploadBytes));
    return { ...best!, upload: up };
  } finally {
    await path.close();
  }
}

/** One line for a transfer: rate, machine CPU, its split, per-process CPU, drops, retransmissions, load. */
export function formatKernelTransfer(t: KernelTransfer): string {
  const d = t.detail;
  return (
    `${(t.bytesPerSecond / MB).toFixed(1)} MB/s; machine ${t.machineMsPerMB?.toFixed(0) ?? '?'} ms/MB (${formatCpuSplit(d.split)}); ` +
    `wireguard-go client ${d.wgClientMsPerMB.toFixed(1)}, server ${d.wgServerMsPerMB.toFixed(1)}, HTTP server ${d.httpMsPerMB.toFixed(1)} ms/MB; ` +
    `UDP rcvbuf drops ${d.udpRcvbufErrors}, interface drops ${d.interfaceDrops}, TCP retransmitted ${d.tcpRetransSegs}; load ${d.loadAverage.toFixed(1)}`
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const bytes = Number(value('--bytes') ?? 64 * 1024 * 1024);
  const uploadBytes = value('--upload') !== undefined ? Number(value('--upload')) : undefined;
  const repeats = Number(value('--repeats') ?? 1);
  /**
   * --ab-buffers N: alternate default-size socket buffers and N-byte ones, one repeat each. The
   * small arm asks for 106 496 B, which the kernel doubles (socket(7)) to 212 992, the size a socket
   * gets from net.core.rmem_default here.
   */
  const ab = value('--ab-buffers') !== undefined ? Number(value('--ab-buffers')) : undefined;
  const path = await startKernelPath({ path: args.includes('--hop') ? 'hop' : 'veth' });
  try {
    for (let i = 0; i < repeats; i++) {
      if (ab !== undefined) {
        const size = i % 2 ? ab : 106_496;
        console.log(`UDP buffers ${size}: ${JSON.stringify(await path.setUdpBuffers(size))}`);
      }
      console.log(`download ${i + 1}: ${formatKernelTransfer(await path.download(bytes))}`);
      if (uploadBytes !== undefined) console.log(`upload ${i + 1}: ${formatKernelTransfer(await path.upload(uploadBytes))}`);
    }
  } finally {
    await path.close();
    await closeAllNamespaces();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
