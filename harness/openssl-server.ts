/**
 * A real `openssl s_server` for TLS tests, on loopback or inside a test namespace (behind a
 * wireguard-go peer). Resolves once it printed its ACCEPT line; `close()` stops it by pid.
 *
 * ```ts
 * const srv = await startOpensslServer({ cert: leaf, args: ['-tls1_3', '-www'] });   // 127.0.0.1:random
 * const srv = await startOpensslServer({ site: peer, host: peer.tunnelAddress4, port: 443, cert: leaf, args: ['-www'] });
 * ```
 * Useful `args`: `-tls1_3` / `-tls1_2` (one version only), `-groups P-384` (forces a
 * HelloRetryRequest from an x25519 ClientHello), `-ciphersuites`, `-cipher`, `-prioritize_chacha`,
 * `-verify 1` (asks for an optional client certificate), `-www` (status page for `GET /`),
 * `-WWW` (serves files relative to `cwd`), `-naccept N`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Namespace, NsProcess } from './netns.ts';
import type { TestCert } from './test-pki.ts';

export interface OpensslServerOptions {
  /** Namespace (or peer with `ns`) to run in; absent: loopback in this namespace. */
  site?: Namespace | { readonly ns: Namespace };
  /** Bind address (default 127.0.0.1 on loopback; required in a namespace). */
  host?: string;
  /** Port (default: random free port on loopback, 443 in a namespace). */
  port?: number;
  cert: TestCert;
  /** Extra `s_server` arguments. */
  args?: readonly string[];
  /** Working directory (for `-WWW`). */
  cwd?: string;
  timeoutMs?: number;
}

export interface OpensslServer {
  host: string;
  port: number;
  /** Output lines so far (stdout and stderr). */
  output(): string;
  /**
   * Types a line on s_server's stdin (loopback only): in its interactive mode (no -www) text goes
   * to the client, and `K` / `k` send a KeyUpdate with / without update_requested (TLS 1.3).
   */
  send(line: string): void;
  close(): Promise<void>;
}

export async function startOpensslServer(o: OpensslServerOptions): Promise<OpensslServer> {
  const ns = o.site ? ('ns' in o.site ? o.site.ns : o.site) : undefined;
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? (ns ? 443 : 0);
  const bind = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  // No -quiet: the ACCEPT line tells that it listens (and on which port). -cert takes only the
  // leaf; the intermediates go in -cert_chain.
  const chainArgs: string[] = [];
  if (o.cert.chain.length) {
    const file = `${o.cert.certFile}.intermediates.pem`;
    writeFileSync(file, o.cert.chain.map((c) => c.certPem).join(''));
    chainArgs.push('-cert_chain', file);
  }
  const finalArgs = ['s_server', '-accept', bind, '-cert', o.cert.certFile, '-key', o.cert.keyFile, ...chainArgs, ...(o.args ?? [])];
  const lines: string[] = [];
  let onLine: ((l: string) => void) | undefined;
  const note = (l: string): void => {
    lines.push(l);
    if (lines.length > 500) lines.shift();
    onLine?.(l);
  };
  let stop: () => Promise<void>;
  let exited: Promise<unknown>;
  let send: (line: string) => void = () => {
    throw new Error('send() works only for a loopback s_server');
  };
  if (ns) {
    const proc: NsProcess = ns.spawn('openssl', finalArgs, { cwd: o.cwd, onLine: (l) => note(l) });
    stop = async () => {
      await proc.stop(1000);
    };
    exited = proc.exited;
  } else {
    const child: ChildProcess = spawn('openssl', finalArgs, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        note(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    send = (line) => void child.stdin!.write(`${line}\n`);
    exited = new Promise((r) => child.once('exit', r));
    stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    };
  }
  let actualPort = port;
  const timeoutMs = o.timeoutMs ?? 15_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl s_server ${finalArgs.join(' ')} did not start within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    const check = (l: string): void => {
      // "ACCEPT 127.0.0.1:43139" for port 0; a bare "ACCEPT" for a fixed port.
      const m = /^ACCEPT(?: .*:(\d+))?\s*$/.exec(l);
      if (m) {
        if (m[1]) actualPort = Number(m[1]);
        clearTimeout(timer);
        resolve();
      }
    };
    onLine = check;
    for (const l of lines) check(l);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`openssl s_server exited early:\n${lines.join('\n')}`));
    });
  });
  onLine = undefined;
  return { host, port: actualPort, output: () => lines.join('\n'), send, close: stop };
}
