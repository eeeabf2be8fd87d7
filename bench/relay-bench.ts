/**
 * Relay benchmarks: how fast `wgweb relay` forwards, what it costs, how big it is, each next to a
 * plain `ws` echo server measured in the same run (the floor for anything built on `ws`).
 *
 *   ours:      client ──ws──▶ relay process ──UDP──▶ UDP echo process ──UDP──▶ relay ──ws──▶ client
 *   baseline:  client ──ws──▶ ws echo process ──ws──▶ client
 *
 *   relay.forward-1452   round trips/s of full-size (MTU 1420) type-4 datagrams, a window in flight
 *                        (best of alternating rounds: on a shared machine noise only slows a round)
 *   relay.forward-128    the same with small (ping-sized) datagrams: per-message overhead dominates
 *   relay.cpu-1000       relay process CPU ms per 1000 datagrams forwarded (each round trip is two)
 *   relay.rss-idle       relay process RSS after start, no sessions
 *   relay.rss-session    RSS added per open idle session (100 sessions)
 *
 * The relay runs as `node bin/wgweb.js relay` (as deployed) with --max-pps raised so that the
 * token bucket does not cap the measurement. Loopback only.
 *
 *   node --import tsx bench/relay-bench.ts [--quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { buildRelayUrl, RELAY_SUBPROTOCOL } from '../src/shared/relay-protocol.ts';
import { higherIsBetter, lowerIsBetter, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** 16-byte header + 1420 (MTU) + 16-byte tag. */
const FULL = 1452;
const SMALL = 128;
const WINDOW = 64;

const WS_ECHO = `
import { WebSocketServer } from 'ws';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 65535 });
wss.on('listening', () => console.log('PORT ' + wss.address().port));
wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
`;

const UDP_ECHO = `
import dgram from 'node:dgram';
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => { try { s.setRecvBufferSize(1 << 20); s.setSendBufferSize(1 << 20); } catch {} console.log('PORT ' + s.address().port); });
`;

interface Child {
  readonly proc: ChildProcess;
  /** The first stdout line matching `re`, captured group 1. */
  readonly value: string;
  stop(): Promise<void>;
}

async function startChild(args: string[], re: RegExp): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: proc.stdout! });
  const value = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child ${args.join(' ').slice(0, 60)} did not start`)), 60_000);
    rl.on('line', (line) => {
      const m = re.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before starting`)));
  });
  return {
    proc,
    value,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** utime+stime of a process in ms (from /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function transportDatagram(len: number): Buffer {
  const b = Buffer.alloc(len, 0x5a);
  b[0] = 4;
  b[1] = b[2] = b[3] = 0;
  return b;
}

function openWs(url: string, protocol?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = protocol ? new WebSocket(url, protocol, { perMessageDeflate: false }) : new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
  });
}

interface Rounds {
  /** Best round, round trips per second (the capacity; noise only ever slows a round down). */
  perSecond: number;
  /** Process CPU ms per 1000 datagrams over all rounds. */
  cpuPer1000: number;
  /** Windows refilled after a 250 ms stall (a lost datagram on a saturated loopback). */
  stalls: number;
}

/**
 * Keeps `WINDOW` datagrams in flight on `ws` for `ms` and counts echoes. A stall refills the
 * window; late echoes of a refilled window are absorbed.
 */
async function measureRound(ws: WebSocket, datagram: Buffer, ms: number, pid: number): Promise<{ n: number; seconds: number; cpu: number; stalls: number }> {
  let inFlight = 0;
  let received = 0;
  let lastProgress = performance.now();
  let stalls = 0;
  const send = (): void => {
    while (inFlight < WINDOW) {
      ws.send(datagram);
      inFlight++;
    }
  };
  const onMessage = (): void => {
    received++;
    inFlight = Math.max(0, inFlight - 1);
    lastProgress = performance.now();
    if (inFlight <= WINDOW / 2) send();
  };
  ws.on('message', onMessage);
  send();
  // Warm-up (JIT, socket buffers), then measure.
  await new Promise((r) => setTimeout(r, Math.min(300, ms / 4)));
  const r0 = received;
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgress > 250) {
      stalls++;
      inFlight = 0;
      lastProgress = performance.now();
      send();
    }
  }, 50);
  await new Promise((r) => setTimeout(r, ms));
  const t1 = performance.now();
  const c1 = cpuMs(pid);
  const n = received - r0;
  clearInterval(watchdog);
  ws.off('message', onMessage);
  // Let the window drain so the next round starts clean.
  await new Promise((r) => setTimeout(r, 50));
  return { n, seconds: (t1 - t0) / 1000, cpu: c1 - c0, stalls };
}

/** Alternates ours and the baseline for `rounds` rounds so both see the same machine noise. */
async function alternate(
  ours: { ws: WebSocket; pid: number },
  base: { ws: WebSocket; pid: number },
  size: number,
  rounds: number,
  ms: number,
): Promise<[Rounds, Rounds]> {
  const datagram = transportDatagram(size);
  const acc = [
    { best: 0, n: 0, cpu: 0, stalls: 0 },
    { best: 0, n: 0, cpu: 0, stalls: 0 },
  ];
  for (let i = 0; i < rounds; i++) {
    for (const [k, side] of [ours, base].entries()) {
      const r = await measureRound(side.ws, datagram, ms, side.pid);
      acc[k].best = Math.max(acc[k].best, r.n / r.seconds);
      acc[k].n += r.n;
      acc[k].cpu += r.cpu;
      acc[k].stalls += r.stalls;
    }
  }
  const out = acc.map((a) => ({ perSecond: a.best, cpuPer1000: a.n > 0 ? (a.cpu / (2 * a.n)) * 1000 : Number.NaN, stalls: a.stalls }));
  return [out[0], out[1]];
}

async function openMany(url: string, n: number, protocol?: string): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i++) out.push(await openWs(url, protocol));
  return out;
}

async function run(options: BenchOptions): Promise<BenchEntry[]> {
  const rounds = options.quick ? 2 : 3;
  const roundMs = options.quick ? 700 : 2000;
  const sessions = options.quick ? 50 : 100;
  const udpEcho = await startChild(['--input-type=module', '-e', UDP_ECHO], /^PORT (\d+)/);
  const wsEcho = await startChild(['--input-type=module', '-e', WS_ECHO], /^PORT (\d+)/);
  const endpoint = `127.0.0.1:${udpEcho.value}`;
  const relay = await startChild(
    ['bin/wgweb.js', 'relay', '--no-demo', '--listen', '127.0.0.1:0', '--allow', endpoint, '--max-pps', '10000000', '--max-sessions', '1024', '--log-level', 'warn'],
    /listening on (http:\/\/\S+)/,
  );
  const relayPid = relay.proc.pid!;
  const echoPid = wsEcho.proc.pid!;
  const entries: BenchEntry[] = [];
  try {
    // Idle memory first, before any session has touched the heap.
    await new Promise((r) => setTimeout(r, 300));
    const relayIdle = rssKiB(relayPid);
    const echoIdle = rssKiB(echoPid);
    entries.push({
      name: 'relay.rss-idle',
      measured: 'resident memory of the relay process after start, no sessions (VmRSS)',
      ours: { label: 'wgweb relay', value: relayIdle, unit: 'KiB' },
      baseline: { label: 'ws echo server', value: echoIdle, unit: 'KiB' },
      ratio: lowerIsBetter(relayIdle, echoIdle),
      goal: 'ratio ≥ 0.5',
      notes: 'the relay also loads tsx (TypeScript on load) and the static file server',
    });

    const relayWs = buildRelayUrl(relay.value, endpoint);
    const echoWs = `ws://127.0.0.1:${wsEcho.value}/`;
    const ours = { ws: await openWs(relayWs, RELAY_SUBPROTOCOL), pid: relayPid };
    const base = { ws: await openWs(echoWs), pid: echoPid };
    for (const size of [FULL, SMALL]) {
      const [o, b] = await alternate(ours, base, size, rounds, roundMs);
      entries.push({
        name: `relay.forward-${size}`,
        measured: `round trips per second of ${size}-byte type-4 datagrams, ${WINDOW} in flight; best of ${rounds} alternating ${roundMs / 1000} s rounds`,
        ours: { label: 'ws → relay → UDP echo → relay → ws', value: o.perSecond, unit: 'round trips/s' },
        baseline: { label: 'ws echo server', value: b.perSecond, unit: 'round trips/s' },
        ratio: higherIsBetter(o.perSecond, b.perSecond),
        goal: 'ratio ≥ 0.5',
        notes: `${((o.perSecond * size * 8) / 1e6).toFixed(0)} Mbit/s each way; stalls refilled: ${o.stalls} (ours), ${b.stalls} (baseline)`,
      });
      if (size === FULL) {
        entries.push({
          name: 'relay.cpu-1000',
          measured: `relay process CPU per 1000 datagrams forwarded (${FULL} bytes; a round trip is two), /proc utime+stime over all rounds`,
          ours: { label: 'wgweb relay', value: o.cpuPer1000, unit: 'ms' },
          baseline: { label: 'ws echo server (per 1000 messages echoed)', value: b.cpuPer1000, unit: 'ms' },
          ratio: lowerIsBetter(o.cpuPer1000, b.cpuPer1000),
          goal: 'ratio ≥ 0.5',
          notes: 'per round trip the relay does a ws receive, a UDP send, a UDP receive and a ws send; the echo server a ws receive and a ws send',
        });
      }
    }
    ours.ws.close();
    base.ws.close();

    // Memory per idle session: the relay holds a WebSocket, a connected UDP socket and counters.
    const before = rssKiB(relayPid);
    const many = await openMany(relayWs, sessions, RELAY_SUBPROTOCOL);
    await new Promise((r) => setTimeout(r, 300));
    const after = rssKiB(relayPid);
    const echoBefore = rssKiB(echoPid);
    const manyEcho = await openMany(echoWs, sessions);
    await new Promise((r) => setTimeout(r, 300));
    const echoAfter = rssKiB(echoPid);
    for (const ws of [...many, ...manyEcho]) ws.close();
    const perSession = Math.max(0, after - before) / sessions;
    const perEcho = Math.max(0, echoAfter - echoBefore) / sessions;
    entries.push({
      name: 'relay.rss-session',
      measured: `resident memory added per open idle session (${sessions} sessions)`,
      ours: { label: 'wgweb relay session (WebSocket + UDP socket)', value: perSession, unit: 'KiB' },
      baseline: { label: 'ws echo connection', value: perEcho, unit: 'KiB' },
      ratio: perSession > 0 && perEcho > 0 ? lowerIsBetter(perSession, perEcho) : undefined,
      goal: '≤ 64 KiB per session',
      notes: 'RSS deltas are coarse (heap growth comes in chunks); read as an order of magnitude',
    });
  } finally {
    await relay.stop();
    await wsEcho.stop();
    await udpEcho.stop();
  }
  return entries;
}

export const bench: BenchModule = {
  title: 'relay: WebSocket ⇄ UDP forwarding',
  run,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const entries = await run({ quick });
  for (const e of entries) {
    const base = e.baseline ? `  baseline ${e.baseline.value.toFixed(1)} ${e.baseline.unit}` : '';
    const ratio = e.ratio !== undefined ? `  ratio ${e.ratio.toFixed(2)}` : '';
    process.stdout.write(`${e.name}: ${e.ours.value.toFixed(1)} ${e.ours.unit}${base}${ratio}${e.notes ? `  (${e.notes})` : ''}\n`);
  }
}
