/**
 * `wgweb relay` as a real child process on loopback (for failover tests and benchmarks: SIGTERM
 * drains it, SIGKILL kills it as a crash would).
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
  /** SIGKILL unless it exited already; waits for the exit. */
  close(): Promise<void>;
}

/** Starts `wgweb relay` and resolves once it printed its listening line (30 s guard). */
export async function startRelayProcess(options: RelayProcessOptions): Promise<RelayProcess> {
  const args = [
    WGWEB,
    'relay',
    '--listen',
    options.listen ?? '127.0.0.1:0',
    '--no-demo',
    '--no-browse',
    '--log-level',
    'info',
    ...options.allow.flatMap((a) => ['--allow', a]),
    ...(options.args ?? []),
  ];
  const setpriv = findBinary('setpriv');
  const proc = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 4 << 20) err = err.slice(-(2 << 20));
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
      if (!done) proc.kill('SIGKILL');
      await exited;
    },
  };
}
