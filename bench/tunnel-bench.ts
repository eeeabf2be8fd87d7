/**
 * End-to-end tunnel benchmarks in Node: wgweb's Session (WireGuard core + userspace TCP/IP, the
 * code the browser worker runs) through the real relay to a real wireguard-go, each figure next to
 * a baseline measured in the same run.
 *
 *   Session (this process) ──ws──▶ relay (child process: `wgweb relay`) ──UDP──▶ wireguard-go (namespace)
 *                                                                              ── kernel TCP ── HTTP server
 *
 *   tunnel.download            HTTP download (100 MB; 20 MB with --quick) through the Session, against
 *                              the same download between two wireguard-go peers with the kernel's TCP
 *                              on both ends (kernel-baseline.ts, direct veth). Goal: ratio ≥ 1.0.
 *   tunnel.download-vs-relay   the same Session figure against what the relay path alone carries: a
 *                              UDP sender next to wireguard-go streams full-size (1452-byte)
 *                              WireGuard-shaped datagrams through the relay to a raw WebSocket
 *                              client that returns credit like ACKs (payload received per second).
 *   tunnel.handshake           Session.start → first ping reply, against WebSocket open → first echoed
 *                              datagram through the same relay (the floor of any relayed design).
 *   tunnel.ping-rtt            median ICMP echo RTT through the tunnel, against the median raw
 *                              WebSocket echo RTT of a ping-sized datagram over the same relay path.
 *   tunnel.failover-{drain,kill}
 *                              a Session given two relay processes downloads (50 MB; 20 with --quick)
 *                              while the relay in use is stopped with SIGTERM (drain, 1012) or SIGKILL:
 *                              the largest gap between body chunks after the stop, against the
 *                              largest gap of the same download on the same session with no stop.
 *                              Goal (#17): under 2 s.
 *
 * The relay runs as its own process, as in a deployment (the browser and the relay never share a
 * thread); on this 2-core machine it shares the CPUs with wireguard-go, the servers and the client.
 *
 *   node --import tsx bench/tunnel-bench.ts [--quick] [--only download|relay|handshake|ping|failover|session] [--bytes N] [--profile DIR]
 *                                           [--relay-args '--batch-delay 0']
 *
 * `--only session` runs just the Session download (no baselines), the shape to profile.
 *
 * `--profile DIR` starts the relay with --cpu-prof into DIR; run this file itself under
 * `node --cpu-prof --cpu-prof-dir DIR --import tsx` to profile the client side.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { closeAllNamespaces, type NsProcess } from '../harness/netns.ts';
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.ts';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../harness/wireguard-go-peer.ts';
import { startHttpServer, type NsHttpServer } from '../harness/ns-servers.ts';
import { interopSkipReason } from '../harness/requirements.ts';
import { Session } from '../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../src/engine/relay-transport.ts';
import { buildRelayUrl, RELAY_SUBPROTOCOL } from '../src/shared/relay-protocol.ts';
import { formatEndpoint, type Endpoint } from '../src/shared/ip-address.ts';
import { kernelBaselineDownload } from './kernel-baseline.ts';
import { higherIsBetter, lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions, runCleanups } from './bench-entry.ts';

const MB = 1e6;
const NodeWebSocket = WebSocket as unknown as RelayWebSocketConstructor;
/** A full-size transport datagram with the default MTU: 16-byte header + 1420 + 16-byte tag. */
const FULL_DATAGRAM = 1452;
/** An encrypted 84-byte ICMP echo (20 IP + 8 ICMP + 56 data, padded to 96): 16 + 96 + 16. */
const PING_DATAGRAM = 128;
const UDP_ECHO_PORT = 9999;
/** A transport-shaped request for N full-size datagrams: header, "GIVE", N (u32 LE), padding. */
const CREDIT_REQUEST_SIZE = 36;
/** Datagrams the raw download keeps in flight, and how many it asks for per "ACK". */
const RAW_WINDOW = 64;
const RAW_CREDIT_EVERY = 16;

// -----------------------------------------------------------------------------------------------
// The environment: wireguard-go + HTTP server + UDP echo in a namespace, the relay as a process

/**
 * The far end of the raw relay path, inside the namespace on its veth address: echoes every
 * datagram, except a "credit" request (see {@link creditRequest}), which it answers with that many
 * full-size transport-shaped datagrams: a download without any WireGuard or TCP.
 */
async function startUdpEcho(peer: WgGoPeer): Promise<{ endpoint: Endpoint; process: NsProcess }> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const full = Buffer.alloc(${FULL_DATAGRAM}); full[0] = 4;
    s.on('message', (m, r) => {
      if (m.length === ${CREDIT_REQUEST_SIZE} && m.toString('latin1', 16, 20) === 'GIVE') {
        for (let i = m.readUInt32LE(20); i > 0; i--) s.send(full, r.port, r.address);
      } else s.send(m, r.port, r.address);
    });
    s.bind(${UDP_ECHO_PORT}, process.argv[1], () => {
      try { s.setRecvBufferSize(4 << 20); s.setSendBufferSize(4 << 20); } catch {}
      console.log('ready');
    });`;
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const proc = peer.ns.spawn(process.execPath, ['-e', script, peer.ns.nsAddress4], { onLine: (l) => l === 'ready' && ready() });
  await Promise.race([
    listening,
    proc.exited.then(() => Promise.reject(new Error(`UDP echo server exited: ${proc.output()}`))),
    new Promise((_, reject) => setTimeout(() => reject(new Error('UDP echo server did not start within 20 s')), 20_000)),
  ]);
  return { endpoint: { host: peer.ns.nsAddress4, port: UDP_ECHO_PORT }, process: proc };
}

export interface Env {
  readonly peer: WgGoPeer;
  readonly http: NsHttpServer;
  readonly client: WgClient;
  readonly relay: RelayProcess;
  readonly echo: Endpoint;
  close(): Promise<void>;
}

export async function startEnv(profileDir?: string, relayArgs: readonly string[] = []): Promise<Env> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    await runCleanups(closers.splice(0));
  };
  try {
    const peer = await startWireguardGoPeer({ name: 'tbench', logLevel: 'error', address6: null });
    closers.push(() => peer.close());
    const http = await startHttpServer(peer, { hosts: [peer.tunnelAddress4!] });
    const echo = await startUdpEcho(peer);
    const client = await peer.addClient();
    // Stopped with SIGTERM: a clean shutdown also writes the --cpu-prof profile.
    const relay = await startRelayProcess({
      allow: [formatEndpoint(peer.endpoint), formatEndpoint(echo.endpoint)],
      nodeArgs: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
      args: relayArgs,
      logLevel: 'error',
      closeWith: 'SIGTERM',
    });
    closers.push(() => relay.close());
    return { peer, http, client, relay, echo: echo.endpoint, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export async function startSession(env: Env, maxDatagramsPerStep?: number): Promise<Session> {
  const session = await Session.start({ configText: env.client.config, relayUrl: env.relay.wsUrl, WebSocketImpl: NodeWebSocket, maxDatagramsPerStep });
  try {
    await session.waitForHandshake(20_000);
  } catch (e) {
    await session.close();
    throw e;
  }
  return session;
}

/**
 * Back-to-back sessions with one key: a responder ignores an initiation within 20 ms of the last
 * (and one whose ~16.8 ms-granular TAI64N timestamp is not newer), costing a 5 s retry.
 */
const pauseBetweenHandshakes = (): Promise<void> => sleep(60);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// -----------------------------------------------------------------------------------------------
// Raw WebSocket through the relay (the baselines)

/** A WireGuard-shaped transport datagram (type 4, reserved zeros) that the relay forwards. */
function transportShaped(size: number, counter: number): Uint8Array {
  const d = new Uint8Array(size);
  d[0] = 4;
  new DataView(d.buffer).setUint32(8, counter);
  return d;
}

async function openRawSocket(env: Env): Promise<WebSocket> {
  const ws = new WebSocket(buildRelayUrl(env.relay.wsUrl, env.echo), RELAY_SUBPROTOCOL);
  ws.binaryType = 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`relay closed the raw session: ${code} ${reason.toString()}`)));
  });
  ws.removeAllListeners('close');
  ws.removeAllListeners('error');
  ws.on('error', () => undefined);
  return ws;
}

function creditRequest(count: number): Uint8Array {
  const d = transportShaped(CREDIT_REQUEST_SIZE, 0);
  d.set([0x47, 0x49, 0x56, 0x45], 16); // "GIVE"
  new DataView(d.buffer).setUint32(20, count, true);
  return d;
}

/**
 * A download without WireGuard or TCP over the same path: the UDP end sends full-size datagrams
 * against credit, and this raw WebSocket client grants {@link RAW_CREDIT_EVERY} more per that many
 * received (like one ACK per 16 segments), {@link RAW_WINDOW} in flight. Returns bytes received per
 * second over `ms`. The relay drops rather than buffers, so a stalled window is restarted.
 */
async function rawRelayDownload(env: Env, ms: number): Promise<number> {
  const ws = await openRawSocket(env);
  try {
    let bytes = 0;
    let sinceCredit = 0;
    let measuring = false;
    let lastMessage = performance.now();
    ws.on('message', (data: ArrayBuffer) => {
      lastMessage = performance.now();
      if (measuring) bytes += data.byteLength;
      if (++sinceCredit >= RAW_CREDIT_EVERY) {
        sinceCredit = 0;
        ws.send(creditRequest(RAW_CREDIT_EVERY));
      }
    });
    ws.send(creditRequest(RAW_WINDOW));
    const restart = setInterval(() => {
      if (performance.now() - lastMessage > 200) {
        sinceCredit = 0;
        ws.send(creditRequest(RAW_WINDOW));
      }
    }, 100);
    await sleep(300); // warm-up
    measuring = true;
    const t0 = performance.now();
    await sleep(ms);
    measuring = false;
    const elapsed = performance.now() - t0;
    clearInterval(restart);
    return (bytes * 1000) / elapsed;
  } finally {
    ws.close();
  }
}

/** WebSocket open → first echoed datagram, through the relay to the UDP echo (ms). */
async function rawConnectToFirstReply(env: Env): Promise<number> {
  const t0 = performance.now();
  const ws = await openRawSocket(env);
  try {
    const got = new Promise<void>((resolve) => ws.once('message', () => resolve()));
    ws.send(transportShaped(PING_DATAGRAM, 0));
    await got;
    return performance.now() - t0;
  } finally {
    ws.close();
  }
}

/** Round trips of one ping-sized datagram at a time through the relay; returns each RTT (ms). */
async function rawEchoRtts(env: Env, count: number, intervalMs: number): Promise<number[]> {
  const ws = await openRawSocket(env);
  try {
    const rtts: number[] = [];
    for (let i = 0; i < count; i++) {
      const got = new Promise<void>((resolve) => ws.once('message', () => resolve()));
      const t0 = performance.now();
      ws.send(transportShaped(PING_DATAGRAM, i));
      await Promise.race([got, sleep(2000)]);
      rtts.push(performance.now() - t0);
      await sleep(intervalMs);
    }
    return rtts;
  } finally {
    ws.close();
  }
}

// -----------------------------------------------------------------------------------------------
// The measurements

/** Downloads `bytes` through a Session (no hashing: only the transfer is timed). Bytes/s. */
/**
 * Downloads `bytes` and returns the largest gap between two body chunks, overall and after
 * `at` bytes (where `onAt` runs once, e.g. to stop the relay in use).
 */
async function downloadGaps(env: Env, session: Session, bytes: number, at = Infinity, onAt: () => void = () => {}): Promise<{ maxGapMs: number; gapAfterMs: number }> {
  const res = await session.fetch(env.http.url(`/bytes/${bytes}?sha=0&seed=5`));
  const reader = res.body!.getReader();
  let n = 0;
  let last = performance.now();
  let maxGapMs = 0;
  let gapAfterMs = 0;
  let fired = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    if (fired) gapAfterMs = Math.max(gapAfterMs, now - last);
    last = now;
    n += value.length;
    if (!fired && n >= at) {
      fired = true;
      onAt();
    }
  }
  if (n !== bytes) throw new Error(`failover download: got ${n} bytes, expected ${bytes}`);
  return { maxGapMs, gapAfterMs };
}

/** One failover measurement: a fresh pair of relay processes, the one in use stopped with `sig`. */
async function failoverStall(env: Env, sig: 'SIGTERM' | 'SIGKILL', bytes: number): Promise<{ stallMs: number; calmGapMs: number; moved: boolean }> {
  const allow = [formatEndpoint(env.peer.endpoint)];
  const relays = await Promise.all([0, 1].map(() => startRelayProcess({ allow, args: ['--drain-timeout', '10'], logLevel: 'error' })));
  try {
    await pauseBetweenHandshakes();
    const session = await Session.start({ configText: env.client.config, relayUrl: relays.map((r) => r.wsUrl), WebSocketImpl: NodeWebSocket });
    try {
      await session.waitForHandshake(20_000);
      await downloadGaps(env, session, 4 * 1024 * 1024); // warm-up
      const calm = await downloadGaps(env, session, bytes);
      const inUse = relays.find((r) => session.currentRelayUrl().startsWith(r.wsUrl))!;
      const stopped = await downloadGaps(env, session, bytes, bytes * 0.4, () => inUse.signal(sig));
      const moved = !session.currentRelayUrl().startsWith(inUse.wsUrl);
      return { stallMs: stopped.gapAfterMs, calmGapMs: calm.maxGapMs, moved };
    } finally {
      await session.close();
    }
  } finally {
    await Promise.all(relays.map((r) => r.close()));
  }
}

export async function sessionDownload(env: Env, session: Session, bytes: number): Promise<number> {
  const t0 = performance.now();
  const res = await session.fetch(env.http.url(`/bytes/${bytes}?sha=0&seed=3`));
  let n = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (n !== bytes) throw new Error(`tunnel download: got ${n} bytes, expected ${bytes}`);
  return bytes / seconds;
}

export interface TunnelBenchOptions extends BenchOptions {
  /** Only these parts (download, relay, handshake, ping, failover); default all. */
  readonly only?: readonly string[];
  /** Write the relay's CPU profile here. */
  readonly profileDir?: string;
  /** Override the download size (bytes). */
  readonly bytes?: number;
  /** Extra `wgweb relay` arguments (A/B runs of a relay option, e.g. `--batch-delay 0`). */
  readonly relayArgs?: readonly string[];
  /** The Session's EventLoop maxDatagramsPerStep (A/B of the receive coalescing, i.e. the ACK rate). */
  readonly maxDatagramsPerStep?: number;
}

/** Runs the tunnel benchmarks; see the module comment. */
export async function runTunnelBench(options: TunnelBenchOptions): Promise<BenchEntry[]> {
  const skip = interopSkipReason(['curl']);
  if (skip) throw new Error(`tunnel bench cannot run: ${skip}`);
  const want = (part: string): boolean => !options.only?.length || options.only.includes(part);
  const bytes = options.bytes ?? (options.quick ? 20 * 1024 * 1024 : 100 * 1024 * 1024);
  const entries: BenchEntry[] = [];
  const env = await startEnv(options.profileDir, options.relayArgs);
  try {
    if (want('download') || want('relay') || options.only?.includes('session')) {
      const session = await startSession(env, options.maxDatagramsPerStep);
      let ours = 0;
      try {
        await sessionDownload(env, session, 4 * 1024 * 1024); // warm-up: JIT, congestion window
        const rounds = options.quick ? 1 : 2;
        for (let i = 0; i < rounds; i++) {
          const cpu0 = process.cpuUsage();
          const rate = await sessionDownload(env, session, bytes);
          const cpu = process.cpuUsage(cpu0);
          // The client's own CPU per MB (this process): the robust figure on a shared machine.
          process.stderr.write(`  session download ${(rate / MB).toFixed(1)} MB/s, client CPU ${((cpu.user + cpu.system) / 1000 / (bytes / MB)).toFixed(1)} ms/MB\n`);
          ours = Math.max(ours, rate);
        }
      } finally {
        await session.close();
      }
      const sizeText = `${Math.round(bytes / 1024 / 1024)} MiB`;
      if (want('download')) {
        const kernel = await kernelBaselineDownload({ bytes, repeats: options.quick ? 1 : 2 });
        entries.push({
          name: 'tunnel.download',
          measured: `HTTP download of ${sizeText} through Session → relay process → wireguard-go (kernel TCP server), best of ${options.quick ? 1 : 2}; baseline: the same download between two wireguard-go peers with the kernel's TCP on both ends (direct veth)`,
          ours: { label: 'wgweb Session (Node)', value: ours / MB, unit: 'MB/s' },
          baseline: { label: 'kernel TCP over wireguard-go ⇄ wireguard-go', value: kernel.bytesPerSecond / MB, unit: 'MB/s' },
          ratio: higherIsBetter(ours, kernel.bytesPerSecond),
          goal: 'ratio ≥ 1.0',
        });
      }
      if (options.only?.length === 1 && options.only[0] === 'session') {
        entries.push({
          name: 'tunnel.session-download',
          measured: `HTTP download of ${sizeText} through Session → relay process → wireguard-go (no baseline: for profiling)`,
          ours: { label: 'wgweb Session (Node)', value: ours / MB, unit: 'MB/s' },
        });
      }
      if (want('relay')) {
        const raw = await rawRelayDownload(env, options.quick ? 1500 : 3000);
        entries.push({
          name: 'tunnel.download-vs-relay',
          measured: `the Session download above, against a raw download over the same path: a UDP sender next to wireguard-go streams ${FULL_DATAGRAM}-byte datagrams through the relay process to a plain WebSocket client that grants credit for ${RAW_CREDIT_EVERY} more per ${RAW_CREDIT_EVERY} received (${RAW_WINDOW} in flight)`,
          ours: { label: 'wgweb Session (Node)', value: ours / MB, unit: 'MB/s' },
          baseline: { label: 'raw datagrams: UDP → relay → WebSocket', value: raw / MB, unit: 'MB/s' },
          ratio: higherIsBetter(ours, raw),
          notes: 'what the relay path carries with no WireGuard and no TCP: the ceiling for the tunnel',
        });
      }
    }

    if (want('handshake')) {
      const n = options.quick ? 5 : 15;
      const ours: number[] = [];
      const raw: number[] = [];
      let first = 0;
      // One extra round first: a page connects once, but its JIT-cold first handshake is noted apart.
      for (let i = -1; i < n; i++) {
        await pauseBetweenHandshakes();
        const t0 = performance.now();
        const session = await Session.start({ configText: env.client.config, relayUrl: env.relay.wsUrl, WebSocketImpl: NodeWebSocket });
        try {
          const s = await session.ping(env.peer.tunnelAddress4!, { count: 1, timeoutMs: 10_000 });
          if (s.received !== 1) throw new Error('handshake bench: the first ping got no reply');
          if (i < 0) first = performance.now() - t0;
          else ours.push(performance.now() - t0);
        } finally {
          await session.close();
        }
        const r = await rawConnectToFirstReply(env);
        if (i >= 0) raw.push(r);
      }
      const o = median(ours);
      const b = median(raw);
      entries.push({
        name: 'tunnel.handshake',
        measured: `Session.start → WebSocket open, Noise IKpsk2 handshake with wireguard-go, first ICMP echo reply (median of ${n}); baseline: WebSocket open → first datagram echoed through the same relay`,
        ours: { label: 'wgweb Session (Node)', value: o, unit: 'ms' },
        baseline: { label: 'raw WebSocket through the relay', value: b, unit: 'ms' },
        ratio: lowerIsBetter(o, b),
        notes: `the first handshake of the process (cold JIT) took ${first.toFixed(1)} ms; X25519 in @noble/curves dominates`,
      });
    }

    if (want('ping')) {
      const n = options.quick ? 30 : 100;
      const session = await startSession(env);
      let ours: number[] = [];
      try {
        await session.ping(env.peer.tunnelAddress4!, { count: 5, intervalMs: 10 });
        const rtts: number[] = [];
        await session.ping(env.peer.tunnelAddress4!, { count: n, intervalMs: 20 }, (r) => {
          if ('rttMs' in r) rtts.push(r.rttMs);
        });
        ours = rtts;
      } finally {
        await session.close();
      }
      const raw = await rawEchoRtts(env, n, 20);
      const o = median(ours);
      const b = median(raw);
      entries.push({
        name: 'tunnel.ping-rtt',
        measured: `median ICMP echo RTT through Session → relay → wireguard-go → kernel (${n} pings, 20 ms apart); baseline: median RTT of one ${PING_DATAGRAM}-byte datagram through the same relay to a UDP echo next to wireguard-go`,
        ours: { label: 'wgweb ping', value: o, unit: 'ms' },
        baseline: { label: 'raw WebSocket echo through the relay', value: b, unit: 'ms' },
        ratio: lowerIsBetter(o, b),
        notes: `tunnel p90 ${[...ours].sort((a, c) => a - c)[Math.floor(ours.length * 0.9)]?.toFixed(2)} ms`,
      });
    }

    if (want('failover')) {
      const size = options.quick ? 20 * 1024 * 1024 : 50 * 1024 * 1024;
      for (const [sig, what] of [['SIGTERM', 'drain'], ['SIGKILL', 'kill']] as const) {
        const r = await failoverStall(env, sig, size);
        if (!r.moved) throw new Error(`failover bench: the session did not move off the relay stopped with ${sig}`);
        entries.push({
          name: `tunnel.failover-${what}`,
          measured: `largest gap between body chunks of a ${size / 1024 / 1024} MiB download through Session → two relay processes → wireguard-go after the relay in use is stopped with ${sig}${sig === 'SIGTERM' ? ' (drain: close 1012)' : ' (a crash)'} at 40 %; baseline: the largest gap of the same download on the same session with no stop`,
          ours: { label: `stall after ${sig}`, value: r.stallMs, unit: 'ms' },
          baseline: { label: 'largest gap, no stop', value: r.calmGapMs, unit: 'ms' },
          ratio: lowerIsBetter(r.stallMs, r.calmGapMs),
          goal: 'stall < 2000 ms',
        });
      }
    }
  } finally {
    await env.close();
    await closeAllNamespaces();
  }
  return entries;
}

export const bench: BenchModule = {
  title: 'Tunnel end to end (Session over the relay to wireguard-go)',
  run: (options) => runTunnelBench(options),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = value('--only')?.split(',');
  const bytesText = value('--bytes');
  const entries = await runTunnelBench({
    quick: args.includes('--quick'),
    only,
    profileDir: value('--profile'),
    bytes: bytesText ? Number(bytesText) : undefined,
    relayArgs: value('--relay-args')?.split(' ').filter(Boolean),
    maxDatagramsPerStep: value('--step') ? Number(value('--step')) : undefined,
  });
  for (const e of entries) {
    const base = e.baseline ? `  baseline ${e.baseline.value.toFixed(2)} ${e.baseline.unit} (${e.baseline.label})` : '';
    console.log(`${e.name}: ${e.ours.value.toFixed(2)} ${e.ours.unit}${base}${e.ratio !== undefined ? `  ratio ${e.ratio.toFixed(2)}` : ''}`);
    if (e.notes) console.log(`  ${e.notes}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exitCode = 1;
  });
}
