/**
 * Linux network namespaces for interop tests: each one is joined to the root namespace by a veth
 * pair with IPv4 and IPv6 addresses on both ends, so a process in the root namespace (the relay,
 * an impairment hop) reaches programs inside it by plain UDP/TCP, and nothing inside it can reach
 * anything else (no default route, no forwarding).
 *
 * Naming and addressing (all derived, so parallel test files never clash):
 *   namespace   wgwh-<pid>-<n>[-<label>]       the owner's pid lets a later run sweep it after a crash
 *   veth        wgwh<idx>r (root) / wgwh<idx>n (inside); `idx` is claimed atomically by creating
 *               the root-side link (EEXIST means "taken, try the next")
 *   IPv4        10.201.<idx/64>.<(idx%64)*4+1>/30 (root side), +2 inside
 *   IPv6        fdc9:201:0:<idx hex>::1/64 (root side), ::2 inside (nodad)
 *   The root namespace's own 192.0.2.0/24 and fd00::/64 are never used.
 *
 * Processes run through `ip netns exec <ns> setpriv --pdeathsig KILL -- <cmd>`: `ip` and `setpriv`
 * both exec in place, so the pid we hold is the program's own pid, and the kernel kills it should
 * the test process die without running its cleanup (SIGKILL, OOM).
 *
 * Cleanup, in order of preference:
 *   1. the test closes what it opened:   `after(() => ns.close())` or `t.after(() => peer.close())`
 *   2. `after(closeAllNamespaces)` in a suite closes everything this process still owns;
 *   3. on process 'exit', SIGINT, SIGTERM and uncaught exceptions a synchronous sweep kills the
 *      tracked pids and deletes the namespaces;
 *   4. the first `createNamespace` of a run deletes `wgwh-<pid>-*` namespaces whose owner pid is
 *      dead (a previous crashed run of this harness), after killing what is still inside them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Prefix of every namespace and interface this harness creates. */
export const HARNESS_PREFIX = 'wgwh';
const NS_NAME_RE = /^wgwh-(\d+)-(\d+)(?:-[a-z0-9]+)?$/;
const INDEX_SPACE = 16384; // /30 subnets in 10.201.0.0/16
const DEFAULT_EXEC_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Result of {@link Namespace.exec}. */
export interface ExecResult extends ExitInfo {
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export interface ExecOptions {
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string | Uint8Array;
  /** Kill (SIGKILL) and reject after this long. Default 15 s. */
  readonly timeoutMs?: number;
  /** Reject when the exit code is not 0. Default true. */
  readonly check?: boolean;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Kill and reject when stdout grows past this. Default 256 MiB. */
  readonly maxStdoutBytes?: number;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Leave stdout alone for the caller (`proc.child.stdout`) instead of collecting its lines. */
  readonly rawStdout?: boolean;
  /** How many recent output lines to keep for error messages. Default 200. */
  readonly keepLines?: number;
  /** Called for every complete output line. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Keep the event loop alive while the process runs. Default false: a forgotten server must not
   * hang the test file; the exit hook kills it.
   */
  readonly ref?: boolean;
}

/** A long-running process inside a namespace. */
export interface NsProcess {
  readonly pid: number;
  /** `cmd args...` for messages. */
  readonly command: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Set once the process has exited. */
  readonly exitInfo: ExitInfo | undefined;
  /** The last `n` lines of output (stdout and stderr, interleaved), for error messages. */
  output(n?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2 s). Resolves when it has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

export interface NamespaceOptions {
  /** A short label ([a-z0-9], ≤ 12) appended to the namespace name, e.g. "server". */
  readonly name?: string;
}

/** A network namespace with a veth pair to the root namespace. */
export interface Namespace {
  /** The `ip netns` name. */
  readonly name: string;
  /** Unique index (claimed via the veth name); also handy to derive other per-namespace values. */
  readonly index: number;
  readonly vethRoot: string;
  readonly vethNs: string;
  /** Root-side IPv4 address of the veth (what processes inside see as their neighbour). */
  readonly rootAddress4: string;
  /** IPv4 address inside the namespace, reachable from the root namespace. */
  readonly nsAddress4: string;
  readonly rootAddress6: string;
  readonly nsAddress6: string;
  readonly closed: boolean;
  /** Runs `cmd` to completion inside the namespace. */
  exec(cmd: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts `cmd` inside the namespace; it is killed by `close()`. */
  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): NsProcess;
  /** A synchronous cleanup step run by `close()` and by the exit hook (after processes are killed). */
  onClose(fn: () => void): void;
  /** Kills the processes this namespace started (by pid) and deletes the namespace and its veth. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Running commands

function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].join(' ');
}

function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Runs a command in the root namespace (used for `ip`), with a timeout. */
export function run(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return runChild(cmd, args, cmd, args, options);
}

function runChild(
  cmd: string,
  args: readonly string[],
  shownCmd: string,
  shownArgs: readonly string[],
  options: ExecOptions,
  track?: (child: ChildProcess) => () => void,
  where = '',
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const maxStdout = options.maxStdoutBytes ?? 256 * 1024 * 1024;
  const shown = `${where}"${describeCommand(shownCmd, shownArgs)}"`;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], {
      env: options.env ? { ...process.env, ...options.env } : process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const untrack = track ? track(child) : () => {};
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `${shown} did not finish within ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > maxStdout) {
        failure ??= `${shown} wrote more than ${maxStdout} bytes to stdout`;
        child.kill('SIGKILL');
        return;
      }
      out.push(b);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.length > 64 * 1024) err = err.slice(-32 * 1024);
    });
    child.stdin!.on('error', () => {}); // the child may exit before reading its input
    child.on('error', (e) => {
      failure ??= `${shown} could not start: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      untrack();
      const stdoutBytes = Buffer.concat(out);
      const result: ExecResult = { code, signal, stdout: stdoutBytes.toString('utf8'), stderr: err, stdoutBytes };
      if (failure) {
        reject(new Error(`${failure}${err ? `; stderr:\n${tail(err)}` : ''}`));
      } else if ((options.check ?? true) && code !== 0) {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new Error(`${shown} ${how}${err.trim() ? `:\n${tail(err)}` : ''}`));
      } else {
        resolve(result);
      }
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

function wrapInNamespace(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', '--', cmd, ...args]];
}

// ---------------------------------------------------------------------------------------------
// Registry and emergency cleanup

const live = new Set<NamespaceImpl>();
let hooksInstalled = false;
let sweptStale = false;
let nsCounter = 0;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Pids of every process whose network namespace is `name` (our own namespaces only). */
function namespacePidsSync(name: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
}

function deleteNamespaceSync(name: string, vethRoot?: string): void {
  for (const pid of namespacePidsSync(name)) killQuietly(pid, 'SIGKILL');
  if (vethRoot) spawnSync('ip', ['link', 'del', vethRoot], { stdio: 'ignore', timeout: 5000 });
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 5000 });
}

/** Synchronous last-resort cleanup of everything this process still owns. */
function cleanupAllSync(): void {
  for (const ns of [...live]) ns.closeSync();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllSync);
  // An uncaught exception that nobody handles ends the process: clean up before Node prints it
  // ('exit' would too). When someone does handle it (node:test attributes it to a test and goes
  // on), the namespaces still serve other tests and are left to their owners and the exit hook.
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') === 0) cleanupAllSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanupAllSync();
      // If nobody else handles the signal, restore the default behaviour (terminate).
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/**
 * Deletes `wgwh-<pid>-*` namespaces whose owner process is gone (left by a crashed earlier run of
 * this harness), killing what still runs inside them. Namespaces of live processes are left alone.
 * @returns the names deleted.
 */
export function sweepStaleNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return [];
  const removed: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    const m = name ? NS_NAME_RE.exec(name) : null;
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || pidAlive(owner)) continue;
    deleteNamespaceSync(name);
    removed.push(name);
  }
  return removed;
}

/** Namespaces this process created and has not closed yet. */
export function liveNamespaces(): Namespace[] {
  return [...live];
}

/** Closes every namespace this process still owns (for a suite's `after`). */
export async function closeAllNamespaces(): Promise<void> {
  await Promise.all([...live].map((ns) => ns.close()));
}

// ---------------------------------------------------------------------------------------------
// Namespace

function addressesFor(idx: number): { r4: string; n4: string; r6: string; n6: string } {
  const hi = idx >> 6;
  const lo = (idx & 63) * 4;
  const h = idx.toString(16);
  return {
    r4: `10.201.${hi}.${lo + 1}`,
    n4: `10.201.${hi}.${lo + 2}`,
    r6: `fdc9:201:0:${h}::1`,
    n6: `fdc9:201:0:${h}::2`,
  };
}

class NsProcessImpl implements NsProcess {
  readonly pid: number;
  readonly command: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly lines: string[] = [];

  constructor(child: ChildProcess, command: string, options: SpawnOptions, onExit: () => void) {
    this.child = child;
    this.command = command;
    this.pid = child.pid ?? -1;
    const keep = options.keepLines ?? 200;
    const collect = (stream: 'stdout' | 'stderr', s: NodeJS.ReadableStream | null): void => {
      if (!s) return;
      let partial = '';
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        if (partial.length > 16 * 1024) partial = partial.slice(-16 * 1024);
        for (const line of parts) {
          this.lines.push(line);
          if (this.lines.length > keep) this.lines.splice(0, this.lines.length - keep);
          options.onLine?.(line, stream);
        }
      });
    };
    if (!options.rawStdout) collect('stdout', child.stdout);
    collect('stderr', child.stderr);
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (info: ExitInfo): void => {
        if (done) return;
        done = true;
        this.exitInfo = info;
        onExit();
        resolve(info);
      };
      child.on('exit', (code, signal) => finish({ code, signal }));
      child.on('error', (e) => {
        this.lines.push(`spawn error: ${e.message}`);
        if (child.pid === undefined) finish({ code: null, signal: null });
      });
    });
  }

  output(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  async stop(graceMs = STOP_GRACE_MS): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    if (this.pid > 0) killQuietly(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exitInfo && this.pid > 0) killQuietly(this.pid, 'SIGKILL');
    }, graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

class NamespaceImpl implements Namespace {
  readonly name: string;
  index = -1;
  vethRoot = '';
  vethNs = '';
  rootAddress4 = '';
  nsAddress4 = '';
  rootAddress6 = '';
  nsAddress6 = '';
  closed = false;
  private readonly procs = new Map<number, NsProcessImpl>();
  private readonly execs = new Map<number, ChildProcess>();
  private readonly closers: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(name: string) {
    this.name = name;
  }

  exec(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new Error(`namespace ${this.name} is closed`));
    const [c, a] = wrapInNamespace(this.name, cmd, args);
    return runChild(
      c,
      a,
      cmd,
      args,
      options,
      (child) => {
        const pid = child.pid;
        if (pid !== undefined) this.execs.set(pid, child);
        return () => {
          if (pid !== undefined) this.execs.delete(pid);
        };
      },
      `in ${this.name}: `,
    );
  }

  spawn(cmd: string, args: readonly string[], options: SpawnOptions = {}): NsProcess {
    if (this.closed) throw new Error(`namespace ${this.name} is closed`);
    const [c, a] = wrapInNamespace(this.name, cmd, args);
    const child = spawn(c, a, {
      env: options.env ? { ...process.env, ...options.env } : process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new NsProcessImpl(child, describeCommand(cmd, args), options, () => {
      this.procs.delete(proc.pid);
    });
    if (child.pid !== undefined) this.procs.set(child.pid, proc);
    if (!options.ref) {
      child.unref();
      for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
    }
    return proc;
  }

  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  private runClosers(): void {
    for (const fn of this.closers.splice(0)) {
      try {
        fn();
      } catch {
        // best effort: cleanup must go on
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.procs.values()].map((p) => p.stop()));
      for (const child of this.execs.values()) child.kill('SIGKILL');
      this.closed = true;
      this.runClosers();
      // Anything a child of ours left behind in our namespace would keep it alive.
      deleteNamespaceSync(this.name, this.vethRoot || undefined);
      live.delete(this);
    })();
    return this.closing;
  }

  /** Exit-hook variant: no waiting, SIGKILL. */
  closeSync(): void {
    if (!live.has(this)) return;
    this.closed = true;
    for (const pid of this.procs.keys()) killQuietly(pid, 'SIGKILL');
    for (const pid of this.execs.keys()) killQuietly(pid, 'SIGKILL');
    this.runClosers();
    deleteNamespaceSync(this.name, this.vethRoot || undefined);
    live.delete(this);
  }
}

/**
 * Creates a network namespace joined to the root namespace by a veth pair (IPv4 /30 and IPv6 /64
 * on both ends, loopback up). Close it with `ns.close()`; see the module comment for the safety net.
 */
export async function createNamespace(options: NamespaceOptions = {}): Promise<Namespace> {
  if (options.name !== undefined && !/^[a-z0-9]{1,12}$/.test(options.name)) {
    throw new RangeError(`namespace label must be 1-12 characters of [a-z0-9], got "${options.name}"`);
  }
  installHooks();
  if (!sweptStale) {
    sweptStale = true;
    sweepStaleNamespaces();
  }
  const n = ++nsCounter;
  const name = `${HARNESS_PREFIX}-${process.pid}-${n}${options.name ? `-${options.name}` : ''}`;
  const ns = new NamespaceImpl(name);
  live.add(ns);
  try {
    await run('ip', ['netns', 'add', name]);
    // No IPv6 duplicate address detection for any interface made in here (veth ends, links, the
    // WireGuard device): while an interface's link-local address is tentative (about 1 s after it
    // comes up) the kernel holds back its Neighbor Solicitations, so the first packets routed over
    // a fresh interface would wait a second. The root-side veth end gets the same below.
    await run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
    // Claim an index by creating the root-side link name; spread starting points by pid.
    const start = (process.pid * 131 + n * 17) % INDEX_SPACE;
    let lastError = '';
    for (let attempt = 0; attempt < 256; attempt++) {
      const idx = (start + attempt) % INDEX_SPACE;
      const vethRoot = `${HARNESS_PREFIX}${idx}r`;
      const vethNs = `${HARNESS_PREFIX}${idx}n`;
      const r = await run('ip', ['link', 'add', vethRoot, 'type', 'veth', 'peer', 'name', vethNs, 'netns', name], {
        check: false,
      });
      if (r.code === 0) {
        ns.index = idx;
        ns.vethRoot = vethRoot;
        ns.vethNs = vethNs;
        break;
      }
      lastError = r.stderr.trim();
      if (!/exists/i.test(lastError)) throw new Error(`could not create veth ${vethRoot}: ${lastError}`);
    }
    if (ns.index < 0) throw new Error(`no free veth index for ${name} after 256 tries: ${lastError}`);
    const a = addressesFor(ns.index);
    ns.rootAddress4 = a.r4;
    ns.nsAddress4 = a.n4;
    ns.rootAddress6 = a.r6;
    ns.nsAddress6 = a.n6;
    // Only this interface's own setting in the root namespace; it goes away with the interface.
    await run('sysctl', ['-qw', `net.ipv6.conf.${ns.vethRoot}.accept_dad=0`]);
    await run('ip', ['-batch', '-'], {
      input: [
        `addr add ${a.r4}/30 dev ${ns.vethRoot}`,
        `addr add ${a.r6}/64 dev ${ns.vethRoot} nodad`,
        `link set ${ns.vethRoot} up`,
        '',
      ].join('\n'),
    });
    await run('ip', ['-n', name, '-batch', '-'], {
      input: [
        'link set lo up',
        `addr add ${a.n4}/30 dev ${ns.vethNs}`,
        `addr add ${a.n6}/64 dev ${ns.vethNs} nodad`,
        `link set ${ns.vethNs} up`,
        '',
      ].join('\n'),
    });
    return ns;
  } catch (e) {
    ns.closeSync();
    throw new Error(`could not create network namespace ${name}: ${(e as Error).message}`, { cause: e });
  }
}

export interface NamespaceLink {
  /** Interface name inside `a` / `b`. */
  readonly ifA: string;
  readonly ifB: string;
  readonly addressA4: string;
  readonly addressB4: string;
  readonly addressA6: string;
  readonly addressB6: string;
}

let linkCounter = 0;

/**
 * Joins two namespaces of this process directly with a veth pair (10.202.0.0/16 /30s and
 * fdc9:202::/32 /64s), so traffic between them never touches the root namespace or its sysctls.
 * The link disappears with either namespace.
 */
export async function linkNamespaces(a: Namespace, b: Namespace): Promise<NamespaceLink> {
  const k = linkCounter++ % INDEX_SPACE;
  const ifA = `${HARNESS_PREFIX}l${k}a`;
  const ifB = `${HARNESS_PREFIX}l${k}b`;
  const hi = k >> 6;
  const lo = (k & 63) * 4;
  const link: NamespaceLink = {
    ifA,
    ifB,
    addressA4: `10.202.${hi}.${lo + 1}`,
    addressB4: `10.202.${hi}.${lo + 2}`,
    addressA6: `fdc9:202:0:${k.toString(16)}::1`,
    addressB6: `fdc9:202:0:${k.toString(16)}::2`,
  };
  // Both ends skip duplicate address detection (the namespaces' default, see createNamespace).
  await run('ip', ['-n', a.name, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.name]);
  await run('ip', ['-n', a.name, '-batch', '-'], {
    input: `addr add ${link.addressA4}/30 dev ${ifA}\naddr add ${link.addressA6}/64 dev ${ifA} nodad\nlink set ${ifA} up\n`,
  });
  await run('ip', ['-n', b.name, '-batch', '-'], {
    input: `addr add ${link.addressB4}/30 dev ${ifB}\naddr add ${link.addressB6}/64 dev ${ifB} nodad\nlink set ${ifB} up\n`,
  });
  return link;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`. Throws "timed out after
 * N ms waiting for <what>" after `timeoutMs`, or "gave up waiting for <what>: <reason>" as soon as
 * `abort` resolves (e.g. the process exited); `context()` is appended for diagnostics. Only for
 * conditions that have no event to wait on (a handshake showing up in `wg show`).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => string; abort?: Promise<string> } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let interval = 5;
  let aborted: string | undefined;
  void options.abort?.then((why) => {
    aborted = why;
  });
  for (;;) {
    if (aborted !== undefined) throw new Error(`gave up waiting for ${what}: ${aborted}${options.context ? `\n${options.context()}` : ''}`);
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${options.context ? `\n${options.context()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(interval * 2, options.intervalMs ?? 100);
  }
}
