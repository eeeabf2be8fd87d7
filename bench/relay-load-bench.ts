/**
 * The relay as a service: memory and CPU with 1, 100 and 1000 concurrent sessions under a light
 * load, and what 1000 sessions can push at most, each next to a minimal forwarder measured the
 * same way in the same run.
 *
 *   load generator (this process: N WebSocket clients, load-generator.ts)
 *     ──ws──▶ ours:     `wgweb relay` process (shape check, token bucket, queue bounds, counters, idle timers)
 *             baseline: raw forwarder process (ws message → connected dgram socket and back; no checks, no limits)
 *     ──UDP──▶ UDP echo process (loopback) ──▶ back the same way
 *
 *   relay-load.rss-idle          VmRSS after start, no session
 *   relay-load.rss-{1,100,1000}  VmRSS at the end of a window with N sessions, each sending
 *                                PACED_PPS WireGuard-shaped datagrams/s (mixed sizes), all echoed;
 *                                datagrams lost (no echo within 1 s) in the notes
 *   relay-load.cpu-1000          process CPU (/proc utime+stime) per 1000 datagrams forwarded
 *                                (both directions) during the 1000-session paced window
 *   relay-load.sessions-per-gib-{1000,5000}
 *                                sessions per GiB of VmRSS above idle, N sessions open and quiet
 *                                (5000 are opened after the active levels, quiet only)
 *   relay-load.rss-busy          VmRSS at the end of the saturated window
 *   relay-load.throughput-1000   datagrams forwarded per second (both directions) with 1000
 *                                sessions, each keeping SATURATE_WINDOW full-size datagrams in flight
 *   relay-load.per-core-1000-v1  datagrams forwarded per second of the server's CPU (one core busy
 *   relay-load.per-core-1000-batched   for a second) with 1000 sessions each keeping BURST_WINDOW
 *                                full-size datagrams in flight: one datagram per message (wgweb.v1),
 *                                then the batched framing the client negotiates (it offers v3, v2,
 *                                v1 as RelayTransport does; the relay selects wgweb.v3), each against
 *                                the raw forwarder speaking the same framing (#17 item 7)
 *
 * The two servers take turns at every step (sessions of the resting one stay open and quiet). The
 * relay runs at log level info only to read each session's drop counters from its session.close
 * line; --max-sessions is raised above the top level, --max-pps stays at its default; each session
 * connects from its own loopback address (127.1.x.y), as many users would, so the per-client
 * limits (sessions, connections, pending upgrades) apply to each as on a public relay; and levels
 * that the open-file limit (ulimit -n: one fd per session here, two in the server) cannot hold
 * are skipped with a message.
 *
 * Ratios show the price of the relay's safety: deny-by-default policy, the WireGuard shape check
 * on every datagram, the per-session token bucket, bounded queues, counters and idle timers. Both
 * servers are measured alone (their own process, /proc/PID); they share the 2 CPUs with the echo
 * and the generator, equally. Loopback only; every process dies with the bench.
 *
 *   node --import tsx bench/relay-load-bench.ts [--quick]
 */
import { pathToFileURL } from 'node:url';
import { buildRelayUrl, RELAY_SUBPROTOCOL, RELAY_SUBPROTOCOLS } from '../src/shared/relay-protocol.ts';
import { cpuMs, openFileLimit, peakRssKiB, rssKiB, startBenchChild, type BenchChild } from './bench-child.ts';
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.ts';
import { higherIsBetter, lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions, runCleanups } from './bench-entry.ts';
import { LoadGenerator, loopbackClient, MIXED_SIZES, type LoadResult } from './load-generator.ts';

/** Datagrams per second each session sends in the paced windows (a light interactive user). */
const PACED_PPS = 10;
const LEVELS = [1, 100, 1000] as const;
/** Idle levels for sessions per GiB (#17 item 7): sessions open, no datagram after the first echo. */
const IDLE_LEVELS = [1000, 5000] as const;
const GiB_KiB = 1024 * 1024;
const SATURATE_WINDOW = 2;
/**
 * Datagrams each session keeps in flight in the per-core windows: a burst, as a TCP flow inside the
 * tunnel sends several segments at once, so that batching has something to put together.
 */
const BURST_WINDOW = 8;
/** File descriptors the bench needs besides one per session (node, tsx, stdio, sockets of its own). */
const FD_HEADROOM = 128;

const UDP_ECHO = `
import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.on('error', () => {});
s.bind(0, '127.0.0.1', () => {
  try { s.setRecvBufferSize(4 << 20); s.setSendBufferSize(4 << 20); } catch {}
  console.log('PORT ' + s.address().port);
});
`;

/**
 * The baseline: what a WebSocket-to-UDP forwarder is with nothing but forwarding. Same ws options
 * as the relay (no compression) and the same 1 MiB socket buffers, so only the checks differ.
 * It speaks the relay's framings with nothing around them: wgweb.v1 (a message is a datagram), and
 * wgweb.v2/v3 (docs/relay.md): records split and sent one by one, echoes collected per session and
 * sent as one message after the socket read (setImmediate, as the relay does), within the limits.
 */
/** The baseline server: `ws` message ⇄ connected `dgram` socket, nothing else (also relay-bulk-bench.ts). */
export const RAW_FORWARDER = `
import { WebSocketServer } from 'ws';
import dgram from 'node:dgram';
const host = process.argv[1];
const port = Number(process.argv[2]);
const DOWN = { 'wgweb.v3': [262144, 256], 'wgweb.v2': [65535, 64] };
const wss = new WebSocketServer({
  host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 65535,
  handleProtocols: (offer) => ['wgweb.v3', 'wgweb.v2', 'wgweb.v1'].find((p) => offer.has(p)) ?? false,
});
wss.on('connection', (ws) => {
  const udp = dgram.createSocket('udp4');
  udp.on('error', () => {});
  udp.connect(port, host, () => {
    try { udp.setRecvBufferSize(1 << 20); udp.setSendBufferSize(1 << 20); } catch {}
  });
  const limits = DOWN[ws.protocol];
  ws.on('close', () => udp.close());
  ws.on('error', () => {});
  if (!limits) {
    udp.on('message', (m) => ws.send(m));
    ws.on('message', (d) => udp.send(d));
    return;
  }
  const [maxMessage, maxRecords] = limits;
  let parts = [];
  let bytes = 0;
  let queued = false;
  const flush = () => {
    queued = false;
    if (parts.length === 0) return;
    ws.send(Buffer.concat(parts, bytes));
    parts = [];
    bytes = 0;
  };
  udp.on('message', (m) => {
    if (parts.length / 2 >= maxRecords || bytes + 2 + m.length > maxMessage) flush();
    const head = Buffer.allocUnsafe(2);
    head.writeUInt16BE(m.length);
    parts.push(head, m);
    bytes += 2 + m.length;
    if (!queued) {
      queued = true;
      setImmediate(flush);
    }
  });
  ws.on('message', (d) => {
    for (let at = 0; at + 2 <= d.length; ) {
      const n = d.readUInt16BE(at);
      at += 2;
      udp.send(d.subarray(at, at + n));
      at += n;
    }
  });
});
wss.on('listening', () => console.log('PORT ' + wss.address().port));
`;

interface Server {
  readonly label: string;
  readonly pid: number;
  /** The WebSocket URL a session opens. */
  readonly url: string;
  readonly protocol: string | undefined;
}

interface Window {
  readonly load: LoadResult;
  readonly cpuMs: number;
  readonly rssKiB: number;
}

interface SideResult {
  readonly idleKiB: number;
  /** VmRSS with n sessions open and quiet, by n. */
  readonly quiet: Map<number, number>;
  readonly paced: Map<number, Window>;
  /** The best saturated window. */
  readonly saturated: Window;
  readonly peakKiB: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Datagrams the server forwarded in the window: every datagram sent to it and every echo it passed back. */
function forwarded(w: Window): number {
  return w.load.sent + w.load.received;
}

function cpuPer1000(w: Window): number {
  const n = forwarded(w);
  return n > 0 ? (w.cpuMs / n) * 1000 : Number.NaN;
}

async function measureWindow(server: Server, go: (onWindow: (phase: 'start' | 'end') => void) => Promise<LoadResult>): Promise<Window> {
  let c0 = 0;
  let c1 = 0;
  let rss = 0;
  const load = await go((phase) => {
    if (phase === 'start') c0 = cpuMs(server.pid);
    else {
      c1 = cpuMs(server.pid);
      rss = rssKiB(server.pid);
    }
  });
  return { load, cpuMs: c1 - c0, rssKiB: rss };
}

/**
 * Drives both servers through the levels, alternating them at every step so that both see the
 * same machine: sessions of the idle side stay open but quiet (they cost the other process
 * nothing). The saturated window runs `rounds` times per side, alternating; the best round counts.
 */
async function driveBoth(
  servers: readonly [Server, Server],
  levels: readonly number[],
  idleLevels: readonly number[],
  windowMs: number,
  rounds: number,
): Promise<[SideResult, SideResult]> {
  const idle = servers.map((s) => rssKiB(s.pid));
  const quiet = servers.map(() => new Map<number, number>());
  const measureQuiet = async (k: number, n: number): Promise<void> => {
    await sleep(1000); // opening done, first echoes answered, nothing in flight
    quiet[k].set(n, rssKiB(servers[k].pid));
  };
  const loads = servers.map((s) => new LoadGenerator(() => s.url, s.protocol, loopbackClient));
  const paced = servers.map(() => new Map<number, Window>());
  const saturated: (Window | undefined)[] = servers.map(() => undefined);
  try {
    for (const n of levels) {
      for (const [k, server] of servers.entries()) {
        await loads[k].grow(n);
        if (idleLevels.includes(n)) await measureQuiet(k, n);
        await sleep(200);
        const w = await measureWindow(server, (onWindow) => loads[k].paced({ perSessionPps: PACED_PPS, durationMs: windowMs, warmupMs: 700, onWindow }));
        paced[k].set(n, w);
        process.stderr.write(`    ${server.label}: ${n} session${n > 1 ? 's' : ''}, RSS ${Math.round(w.rssKiB / 1024)} MiB\n`);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const [k, server] of servers.entries()) {
        const w = await measureWindow(server, (onWindow) => loads[k].saturate({ window: SATURATE_WINDOW, durationMs: windowMs, warmupMs: 700, onWindow }));
        const best = saturated[k];
        if (!best || forwarded(w) / w.load.seconds > forwarded(best) / best.load.seconds) saturated[k] = w;
      }
    }
    const peak = servers.map((s) => peakRssKiB(s.pid));
    // Levels above the active ones: opened and measured quiet only (after the saturated windows,
    // so what those left in the heap counts against us, as it would on a real relay).
    for (const n of idleLevels.filter((m) => !levels.includes(m))) {
      for (const k of servers.keys()) {
        await loads[k].grow(n);
        await measureQuiet(k, n);
        process.stderr.write(`    ${servers[k].label}: ${n} quiet sessions, RSS ${Math.round(quiet[k].get(n)! / 1024)} MiB\n`);
      }
    }
    const out = servers.map((s, k) => ({ idleKiB: idle[k], quiet: quiet[k], paced: paced[k], saturated: saturated[k]!, peakKiB: peak[k] }));
    return [out[0], out[1]];
  } finally {
    for (const l of loads) await l.close();
  }
}

/** One server at one framing for the per-core windows. */
interface Framing {
  readonly server: Server;
  /** What the generator offers: wgweb.v1 alone, or v3, v2, v1 as the client does. */
  readonly offer: string | readonly string[];
}

interface PerCore {
  readonly window: Window;
  /** The framing each session's server selected. */
  readonly protocols: Record<string, number>;
}

/**
 * The per-core windows (#17 item 7): `n` sessions per framing, all open at once (the resting ones
 * quiet), each keeping BURST_WINDOW datagrams in flight; `rounds` alternating windows per framing,
 * the one with the most datagrams per CPU second counts.
 */
async function drivePerCore(framings: readonly Framing[], n: number, windowMs: number, rounds: number): Promise<PerCore[]> {
  const loads = framings.map((f) => new LoadGenerator(() => f.server.url, f.offer, loopbackClient));
  const best: (Window | undefined)[] = framings.map(() => undefined);
  try {
    for (const load of loads) await load.grow(n);
    await sleep(500);
    for (let r = 0; r < rounds; r++) {
      for (const [k, f] of framings.entries()) {
        const w = await measureWindow(f.server, (onWindow) => loads[k].saturate({ window: BURST_WINDOW, durationMs: windowMs, warmupMs: 700, onWindow }));
        const b = best[k];
        if (!b || perCpuSecond(w) > perCpuSecond(b)) best[k] = w;
      }
    }
    return framings.map((_, k) => ({ window: best[k]!, protocols: loads[k].protocols }));
  } finally {
    for (const l of loads) await l.close();
  }
}

/** Datagrams forwarded (both directions) per second of the server's CPU time: per core. */
function perCpuSecond(w: Window): number {
  return w.cpuMs > 0 ? forwarded(w) / (w.cpuMs / 1000) : Number.NaN;
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

async function run(options: BenchOptions): Promise<BenchEntry[]> {
  const windowMs = options.quick ? 1500 : 5000;
  // One fd per session in this process; a TCP and a UDP socket per session in the server.
  const limit = openFileLimit();
  const fits = (n: number): boolean => 2 * n + FD_HEADROOM <= limit;
  const levels = LEVELS.filter(fits);
  const idleLevels = IDLE_LEVELS.filter(fits);
  const top = levels[levels.length - 1];
  const most = Math.max(top, ...idleLevels);
  if (levels.length < LEVELS.length) {
    process.stderr.write(`  relay-load: ulimit -n is ${limit}; ${LEVELS.filter((n) => !fits(n)).join(', ')} sessions need ${2 * LEVELS[LEVELS.length - 1] + FD_HEADROOM}: skipped\n`);
  }
  const stop: (() => Promise<void>)[] = [];
  try {
    const echo = await startBenchChild(['--input-type=module', '-e', UDP_ECHO], /^PORT (\d+)/, { name: 'UDP echo' });
    stop.push(echo.stop);
    const echoPort = Number(echo.match[1]);
    const target = `127.0.0.1:${echoPort}`;
    // --max-sessions above the top level (the default is 256); --max-pps stays at its default.
    // Log level info: each session.close line carries the session's drop counters by reason.
    const relayDrops: Record<string, number> = {};
    const relay: RelayProcess = await startRelayProcess({
      allow: [target],
      args: ['--max-sessions', String(Math.max(most, 2 * top) + 100)],
      logLevel: 'info',
      onLog: (e) => {
        if (e.msg !== 'session.close' || typeof e.drops !== 'object' || e.drops === null) return;
        for (const [reason, n] of Object.entries(e.drops as Record<string, number>)) relayDrops[reason] = (relayDrops[reason] ?? 0) + n;
      },
    });
    stop.push(relay.close);
    const raw: BenchChild = await startBenchChild(['--input-type=module', '-e', RAW_FORWARDER, '127.0.0.1', String(echoPort)], /^PORT (\d+)/, {
      name: 'raw forwarder',
    });
    stop.push(raw.stop);
    await sleep(500);

    const ours: Server = { label: 'wgweb relay', pid: relay.pid, url: buildRelayUrl(relay.wsUrl, { host: '127.0.0.1', port: echoPort }), protocol: RELAY_SUBPROTOCOL };
    const base: Server = { label: 'raw ws→dgram forwarder', pid: raw.pid, url: `ws://127.0.0.1:${raw.match[1]}/wg`, protocol: RELAY_SUBPROTOCOL };
    const rounds = options.quick ? 1 : 3;
    const [o, b] = await driveBoth([ours, base], levels, idleLevels, windowMs, rounds);
    // Per core, one message per datagram and batched (#17 item 7): four framings of 1000 sessions
    // open at once; the generator holds one fd per session.
    const perCoreN = top;
    const perCore = 4 * perCoreN + FD_HEADROOM <= limit ? await drivePerCore(
      [
        { server: ours, offer: RELAY_SUBPROTOCOL },
        { server: base, offer: RELAY_SUBPROTOCOL },
        { server: ours, offer: RELAY_SUBPROTOCOLS },
        { server: base, offer: RELAY_SUBPROTOCOLS },
      ],
      perCoreN,
      windowMs,
      rounds,
    ) : undefined;
    await sleep(500); // the last session.close lines
    const dropText = Object.entries(relayDrops)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');

    const entries: BenchEntry[] = [];
    entries.push({
      name: 'relay-load.rss-idle',
      measured: 'resident memory (VmRSS) of the server process after start, no session',
      ours: { label: 'wgweb relay', value: o.idleKiB / 1024, unit: 'MiB' },
      baseline: { label: 'raw ws→dgram forwarder', value: b.idleKiB / 1024, unit: 'MiB' },
      ratio: lowerIsBetter(o.idleKiB, b.idleKiB),
      notes: 'the relay process also carries tsx (TypeScript compiled on load), the CLI, the static file server and the destination policy',
    });
    for (const n of idleLevels) {
      const perGiB = (side: SideResult): number => (n * GiB_KiB) / Math.max(1, side.quiet.get(n)! - side.idleKiB);
      entries.push({
        name: `relay-load.sessions-per-gib-${n}`,
        measured: `sessions per GiB of VmRSS above the idle process, with ${n} sessions open and quiet (each from its own client address, after one echoed datagram)`,
        ours: { label: 'wgweb relay', value: perGiB(o), unit: 'sessions/GiB' },
        baseline: { label: 'raw ws→dgram forwarder', value: perGiB(b), unit: 'sessions/GiB' },
        ratio: higherIsBetter(perGiB(o), perGiB(b)),
        notes: `VmRSS ${mib(o.quiet.get(n)!)} (forwarder ${mib(b.quiet.get(n)!)}); ${((o.quiet.get(n)! - o.idleKiB) / n).toFixed(1)} KiB per session (forwarder ${((b.quiet.get(n)! - b.idleKiB) / n).toFixed(1)})`,
      });
    }
    const avgSize = MIXED_SIZES.reduce((a, s) => a + s, 0) / MIXED_SIZES.length;
    for (const n of levels) {
      const ow = o.paced.get(n)!;
      const bw = b.paced.get(n)!;
      const lost = (w: Window): string => `${((100 * w.load.lost) / Math.max(1, w.load.sentTotal)).toFixed(2)}%`;
      // Below a few thousand datagrams the 10 ms clock ticks make "per 1000" noise: show the share of a core.
      const cpu = (w: Window): string =>
        forwarded(w) >= 5000 ? `${cpuPer1000(w).toFixed(1)} ms per 1000 datagrams` : `${((w.cpuMs / (w.load.seconds * 1000)) * 100).toFixed(1)}% of a core`;
      const perSession = n >= 100 ? `${((ow.rssKiB - o.idleKiB) / n).toFixed(1)} KiB above idle per session (forwarder ${((bw.rssKiB - b.idleKiB) / n).toFixed(1)}); ` : '';
      entries.push({
        name: `relay-load.rss-${n}`,
        measured: `VmRSS with ${n} session${n > 1 ? 's' : ''} open, each sending ${PACED_PPS} WireGuard-shaped datagrams/s (sizes ${MIXED_SIZES.join('/')} B) to a UDP echo, at the end of a ${windowMs / 1000} s window`,
        ours: { label: 'wgweb relay', value: ow.rssKiB / 1024, unit: 'MiB' },
        baseline: { label: 'raw ws→dgram forwarder', value: bw.rssKiB / 1024, unit: 'MiB' },
        ratio: lowerIsBetter(ow.rssKiB, bw.rssKiB),
        notes:
          `${perSession}lost (no echo within 1 s) ${lost(ow)} (forwarder ${lost(bw)}); CPU ${cpu(ow)} (forwarder ${cpu(bw)})` +
          (ow.load.closedByServer ? `; ${ow.load.closedByServer} sessions closed by the relay` : ''),
      });
    }
    const ot = o.paced.get(top)!;
    const bt = b.paced.get(top)!;
    entries.push({
      name: `relay-load.cpu-${top}`,
      measured: `process CPU (utime+stime) per 1000 datagrams forwarded, both directions, with ${top} sessions at ${PACED_PPS} datagrams/s each (${((top * PACED_PPS * avgSize * 8) / 1e6).toFixed(0)} Mbit/s offered each way)`,
      ours: { label: 'wgweb relay', value: cpuPer1000(ot), unit: 'ms' },
      baseline: { label: 'raw ws→dgram forwarder', value: cpuPer1000(bt), unit: 'ms' },
      ratio: lowerIsBetter(cpuPer1000(ot), cpuPer1000(bt)),
      notes: `${((ot.cpuMs / (ot.load.seconds * 1000)) * 100).toFixed(0)}% of a core (forwarder ${((bt.cpuMs / (bt.load.seconds * 1000)) * 100).toFixed(0)}%); clock ticks are 10 ms, so short windows are coarse`,
    });
    const rate = (w: Window): number => forwarded(w) / w.load.seconds;
    entries.push({
      name: 'relay-load.rss-busy',
      measured: `VmRSS at the end of the best saturated window below (${top} sessions, each keeping ${SATURATE_WINDOW} full-size datagrams in flight)`,
      ours: { label: 'wgweb relay', value: o.saturated.rssKiB / 1024, unit: 'MiB' },
      baseline: { label: 'raw ws→dgram forwarder', value: b.saturated.rssKiB / 1024, unit: 'MiB' },
      ratio: lowerIsBetter(o.saturated.rssKiB, b.saturated.rssKiB),
      notes: `peak RSS over the whole run (VmHWM) ${mib(o.peakKiB)} (forwarder ${mib(b.peakKiB)})`,
    });
    entries.push({
      name: `relay-load.throughput-${top}`,
      measured: `datagrams forwarded per second (both directions) with ${top} sessions, each keeping ${SATURATE_WINDOW} full-size (1452 B) datagrams in flight through the UDP echo; best of ${rounds} alternating ${windowMs / 1000} s windows`,
      ours: { label: 'wgweb relay', value: rate(o.saturated), unit: 'datagrams/s' },
      baseline: { label: 'raw ws→dgram forwarder', value: rate(b.saturated), unit: 'datagrams/s' },
      ratio: higherIsBetter(rate(o.saturated), rate(b.saturated)),
      notes:
        `${((rate(o.saturated) * 1452 * 8) / 2 / 1e6).toFixed(0)} Mbit/s each way; CPU ${cpuPer1000(o.saturated).toFixed(1)} ms per 1000 (forwarder ${cpuPer1000(b.saturated).toFixed(1)}); ` +
        `lost ${o.saturated.load.lost} of ${o.saturated.load.sentTotal} (forwarder ${b.saturated.load.lost} of ${b.saturated.load.sentTotal}); ` +
        `the relay's own drop counters over the whole run: ${dropText || 'none'}; ` +
        `the generator (this process), the echo and the server share the machine's cores, so the generator caps both figures`,
    });
    if (perCore) {
      const [ov1, bv1, ob, bb] = perCore;
      const perMessage = (w: Window): string => `${(w.load.sent / Math.max(1, w.load.messagesSent)).toFixed(1)} up, ${(w.load.received / Math.max(1, w.load.messagesReceived)).toFixed(1)} down`;
      const rest = (x: PerCore, y: PerCore): string =>
        `${Math.round(rate(x.window))} datagrams/s forwarded at ${((x.window.cpuMs / (x.window.load.seconds * 1000)) * 100).toFixed(0)}% of a core (forwarder ${Math.round(rate(y.window))} at ${((y.window.cpuMs / (y.window.load.seconds * 1000)) * 100).toFixed(0)}%); ` +
        `datagrams per message ${perMessage(x.window)} (forwarder ${perMessage(y.window)}); lost ${x.window.load.lost} of ${x.window.load.sentTotal} (forwarder ${y.window.load.lost} of ${y.window.load.sentTotal})`;
      const framing = (x: PerCore): string => Object.entries(x.protocols).map(([p, k]) => `${p} ×${k}`).join(', ');
      entries.push({
        name: `relay-load.per-core-${perCoreN}-v1`,
        measured: `datagrams forwarded (both directions) per second of server CPU time, ${perCoreN} sessions each keeping ${BURST_WINDOW} full-size datagrams in flight, one datagram per WebSocket message (wgweb.v1); best of ${rounds} alternating ${windowMs / 1000} s windows`,
        ours: { label: 'wgweb relay', value: perCpuSecond(ov1.window), unit: 'datagrams/s per core' },
        baseline: { label: 'raw ws→dgram forwarder', value: perCpuSecond(bv1.window), unit: 'datagrams/s per core' },
        ratio: higherIsBetter(perCpuSecond(ov1.window), perCpuSecond(bv1.window)),
        notes: rest(ov1, bv1),
      });
      entries.push({
        name: `relay-load.per-core-${perCoreN}-batched`,
        measured: `as per-core-${perCoreN}-v1, with the batched framing the client negotiates (offered wgweb.v3, v2, v1; selected ${framing(ob)}), against the raw forwarder speaking the same framing`,
        ours: { label: 'wgweb relay', value: perCpuSecond(ob.window), unit: 'datagrams/s per core' },
        baseline: { label: 'raw ws→dgram forwarder (batched)', value: perCpuSecond(bb.window), unit: 'datagrams/s per core' },
        ratio: higherIsBetter(perCpuSecond(ob.window), perCpuSecond(bb.window)),
        notes:
          `batched / v1 for the relay ${(perCpuSecond(ob.window) / perCpuSecond(ov1.window)).toFixed(2)}× (forwarder ${(perCpuSecond(bb.window) / perCpuSecond(bv1.window)).toFixed(2)}×); ` +
          rest(ob, bb),
      });
    } else {
      process.stderr.write(`  relay-load: ulimit -n is ${limit}; the per-core windows need ${4 * perCoreN + FD_HEADROOM}: skipped\n`);
    }
    return entries;
  } finally {
    await runCleanups(stop);
  }
}

export const bench: BenchModule = {
  title: 'relay under load: 1, 100, 1000 sessions (and 5000 quiet) vs a raw forwarder',
  run,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const entries = await run({ quick: process.argv.includes('--quick') });
  for (const e of entries) {
    const base = e.baseline ? `  baseline ${e.baseline.value.toFixed(1)} ${e.baseline.unit}` : '';
    const ratio = e.ratio !== undefined ? `  ratio ${e.ratio.toFixed(2)}` : '';
    process.stdout.write(`${e.name}: ${e.ours.value.toFixed(1)} ${e.ours.unit}${base}${ratio}${e.notes ? `\n  ${e.notes}` : ''}\n`);
  }
}
