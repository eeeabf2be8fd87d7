/**
 * `wgweb relay` as a real child process on loopback, the one home for tests and benchmarks
 * (failover tests: SIGTERM drains it, SIGKILL kills it as a crash would; benchmarks: its pid for
 * /proc RSS and CPU, its JSON log lines, node flags such as --cpu-prof).
 *
 * ```ts
 * const relay = await startRelayProcess({ allow: ['127.0.0.1:51820'] });
 * relay.wsUrl;                 // ws://127.0.0.1:PORT/wg
 * relay.signal('SIGTERM');     // drain
 * await relay.exited;          // { code, signal }
 * ```
 * The process dies with its parent (`setpriv --pdeathsig KILL`) and listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findBinary } from './requirements.ts';

const WGWEB = fileURLToPath(new URL('../bin/wgweb.js', import.meta.url));

export interface RelayProcessOptions {
  /** --allow rules. */
  readonly allow: readonly string[];
  /** Further `wgweb relay` arguments. */
  readonly args?: readonly string[];
  /** Default 127.0.0.1:0 (a free port). */
  readonly listen?: string;
  /** Default info. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Every JSON log line the relay writes (at `logLevel`), parsed. */
  readonly onLog?: (entry: Record<string, unknown>) => void;
  /** Flags for node itself, before the script (e.g. `--cpu-prof --cpu-prof-dir DIR`). */
  readonly nodeArgs?: readonly string[];
  /** Keep the browse origin on (default off: `--no-browse`). The built-in demo is always off. */
  readonly browse?: boolean;
  /**
   * How {@link RelayProcess.close} stops it: SIGKILL (default; a crash) or SIGTERM (a clean
   * shutdown, which also writes a --cpu-prof profile), escalating to SIGKILL after 5 s.
   */
  readonly closeWith?: 'SIGKILL' | 'SIGTERM';
}

export interface RelayProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** ws://127.0.0.1:PORT/wg */
  readonly wsUrl: string;
  readonly port: number;
  /** Everything written to stderr (JSON log lines). */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(sig: NodeJS.Signals): void;
  /** Stops it as `closeWith` says unless it exited already; waits for the exit. */
  close(): Promise<void>;
}

/** Starts `wgweb relay` and resolves once it printed its listening line (30 s guard). */
export async function startRelayProcess(options: RelayProcessOptions): Promise<RelayProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    WGWEB,
    'relay',
    '--listen',
    options.listen ?? '127.0.0.1:0',
    '--no-demo',
    ...(options.browse ? [] : ['--no-browse']),
    '--log-level',
    options.logLevel ?? 'info',
    ...options.allow.flatMap((a) => ['--allow', a]),
    ...(options.args ?? []),
  ];
  const setpriv = findBinary('setpriv');
  const proc = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let partial = '';
  const onLog = options.onLog;
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    if (err.length > 4 << 20) err = err.slice(-(2 << 20));
    if (!onLog) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        onLog(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wgweb relay did not start within 30 s: ${err.slice(-500)}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^ ]+\/) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`wgweb relay exited (${e.code ?? e.signal}) before listening: ${err.slice(-500)}`));
    });
  });
  const port = Number(new URL(url).port);
  let done = false;
  void exited.then(() => (done = true));
  return {
    proc,
    pid: proc.pid!,
    url,
    wsUrl: `ws://127.0.0.1:${port}/wg`,
    port,
    stderr: () => err,
    exited,
    signal: (sig) => {
      if (!done) proc.kill(sig);
    },
    close: async () => {
      if (!done) proc.kill(options.closeWith ?? 'SIGKILL');
      const timer = options.closeWith === 'SIGTERM' ? setTimeout(() => done || proc.kill('SIGKILL'), 5000) : undefined;
      await exited;
      clearTimeout(timer);
    },
  };
}
