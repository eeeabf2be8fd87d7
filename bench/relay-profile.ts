/**
 * Where the relay process's CPU goes during measured transfers (#19, docs/benchmarks.md section 10):
 * reads a relay `node --cpu-prof` profile and the transfer windows a bench wrote next to it, keeps
 * only the samples inside those windows, and prints self time per function and per stage of the
 * datagram path, as CPU ms per MB transferred.
 *
 *   node --import tsx bench/browser-bench.ts --quick --relay-prof DIR    (writes DIR/*.cpuprofile, DIR/windows.json)
 *   node --import tsx bench/relay-profile.ts DIR [--top N]
 *
 *   windows.json: [{ what: 'download' | 'upload', startUs, endUs, bytes }]   CLOCK_MONOTONIC µs,
 *   the clock of V8's profile timestamps (both read CLOCK_MONOTONIC on Linux).
 *
 * Each sample counts in one stage (the first in STAGES' priority order that a frame on its stack
 * matches), so the stages add up to the relay's busy time. The profiler samples wall time: on a
 * loaded machine a thread preempted right after a syscall that woke another process (a UDP send to
 * wireguard-go, a TCP write to Chromium) has the wait charged to that syscall; compare with the
 * process's CPU ms/MB from the bench's notes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

/** The parts of a V8 .cpuprofile this reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One measured transfer. */
export interface TransferWindow {
  readonly what: string;
  readonly startUs: number;
  readonly endUs: number;
  readonly bytes: number;
}

/**
 * Stages of the datagram path, in priority order: a sample belongs to the first stage that any
 * frame on its stack matches (a TCP writev inside a ws frame write is "ws send", a UDP send inside
 * the session's handler is "UDP send", the handler's own code is "relay session logic").
 */
const STAGES: readonly (readonly [stage: string, test: (fn: string, url: string) => boolean])[] = [
  ['GC', (fn) => fn === '(garbage collector)'],
  ['native outside JS (libuv poll, UDP recvmsg, TCP read)', (fn) => fn === '(program)'],
  ['shape check', (fn) => fn === 'wireguardMessageShape'],
  ['token bucket', (_fn, url) => url.endsWith('token-bucket.ts')],
  ['batch build (DatagramBatchWriter)', (fn, url) => url.endsWith('datagram-batch.ts') && fn !== 'parseDatagramBatch'],
  ['batch split (parseDatagramBatch)', (fn) => fn === 'parseDatagramBatch'],
  ['UDP send (dgram, sendmsg)', (fn, url) => url === 'node:dgram' && fn !== 'onMessage'],
  ['ws send (frame, TCP writev)', (fn, url) => /ws\/lib\/(sender|websocket)\.js$/.test(url) && !/^(receiverOn|socketOn)/.test(fn)],
  ['fetch-stream write', (_fn, url) => url.endsWith('relay-stream-endpoint.ts') || url === 'node:_http_outgoing'],
  ['relay session logic', (_fn, url) => url.endsWith('relay-session.ts')],
  ['ws receive (frame parse, unmask)', (_fn, url) => /ws\/lib\/(receiver|websocket|buffer-util)\.js$/.test(url)],
  ['UDP receive (dgram onMessage)', (fn, url) => url === 'node:dgram' && fn === 'onMessage'],
  ['timers, immediates, ticks', (_fn, url) => /^node:internal\/(timers|process\/task_queues)$/.test(url)],
  ['TCP socket, streams (other)', (_fn, url) => /^node:(net|internal\/streams\/|internal\/stream_base_commons)/.test(url)],
];

/** Self time (µs) by function and by stage of the samples inside `windows`. */
export function profileInWindows(profile: CpuProfile, windows: readonly TransferWindow[]): { totalUs: number; idleUs: number; byFunction: Map<string, number>; byStage: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const stage = (id: number): string => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    let best = STAGES.length;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at)!.callFrame;
      const url = cf.url.replace(/^file:\/\/.*\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*\//, '');
      const i = STAGES.findIndex(([, test]) => test(cf.functionName, url));
      if (i >= 0 && i < best) best = i;
    }
    const s = best < STAGES.length ? STAGES[best][0] : 'other';
    stageOf.set(id, s);
    return s;
  };
  const byFunction = new Map<string, number>();
  const byStage = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (!windows.some((w) => t >= w.startUs && t < w.endUs)) continue;
    const node = byId.get(profile.samples[i])!;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    totalUs += dt;
    const fn = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\//, '')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    const s = stage(node.id);
    byStage.set(s, (byStage.get(s) ?? 0) + dt);
  }
  return { totalUs, idleUs, byFunction, byStage };
}

function main(): void {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) throw new TypeError('usage: relay-profile.ts DIR [--top N] (DIR from browser-bench --relay-prof)');
  const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 20;
  const windows = JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8')) as TransferWindow[];
  // The relay's main thread writes the largest profile (tsx's loader thread writes a second one).
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (!file) throw new TypeError(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  for (const what of [...new Set(windows.map((w) => w.what))]) {
    const ws = windows.filter((w) => w.what === what);
    const mb = ws.reduce((a, w) => a + w.bytes, 0) / 1e6;
    const r = profileInWindows(profile, ws);
    const per = (us: number): string => `${(us / 1000 / mb).toFixed(2).padStart(6)} ms/MB ${((100 * us) / r.totalUs).toFixed(1).padStart(5)}%`;
    console.log(`${what}: ${ws.length} window(s), ${mb.toFixed(1)} MB; relay busy ${(r.totalUs / 1000 / mb).toFixed(1)} ms/MB sampled (idle ${(r.idleUs / 1000 / mb).toFixed(1)})`);
    console.log('  by stage:');
    for (const [s, us] of [...r.byStage].sort((a, b) => b[1] - a[1])) console.log(`    ${per(us)}  ${s}`);
    console.log('  by function (self):');
    for (const [f, us] of [...r.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${per(us)}  ${f}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
