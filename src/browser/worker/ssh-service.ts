/**
 * SSH consoles in the worker, for the page's `wgweb.ssh()` and the console tabs: one entry per
 * open connection, its shell (a PTY) feeding a bounded text buffer and the page's listener.
 *
 *   sshConnect(host, options, onOutput?) ─▶ session.ssh ─▶ shell (pty cols×rows) ─▶ id
 *     shell bytes ─▶ UTF-8 decoder (streaming, split characters kept) ─▶ output buffer + onOutput
 *       (the page's promise says when the terminal drained it: only then does the SSH window re-open)
 *   sshWrite / sshResize / sshExec / sshOutput / sshClose ─▶ by id
 *   known hosts: the session's list, carried over to the next session (like trusted certificates);
 *     setKnownHosts(lines) replaces it (the page's remembered list, or after a removal)
 *
 * A relay reconnect does not touch these connections: the WireGuard session and its TCP streams
 * carry on underneath (Session keeps them), so a console survives it.
 */
import type { KnownHosts } from '../../protocols/ssh/known-hosts.ts';
import type { SshChannel, SshConnection } from '../../protocols/ssh/ssh-connection.ts';
import type { SessionSshOptions } from '../../session/session.ts';
import { ErrorCode } from '../../shared/errors.ts';
import { toPlainError, type PlainError, type ProxiedCallback, type SshOpenOptions, type SshOpenResult, type SshOutputEvent } from './tunnel-api.ts';

/** The part of a Session this service uses. */
export interface SshSessionLike {
  ssh?(host: string, options: SessionSshOptions): Promise<SshConnection>;
  sshKnownHosts?(): Promise<KnownHosts>;
  setSshKnownHosts?(json: unknown): Promise<void>;
}

/** Output kept per console for `sshOutput` (the terminal itself keeps its own scrollback). */
const OUTPUT_LIMIT = 1 << 20;

interface Console {
  conn: SshConnection;
  shell: SshChannel | undefined;
  output: string;
}

function plain(code: string, message: string): PlainError {
  return { code, message };
}

export class SshService {
  readonly #consoles = new Map<number, Console>();
  #nextId = 1;
  /** The known hosts as saved JSON, carried across sessions. */
  #knownHosts: unknown;

  constructor(private readonly session: () => SshSessionLike | undefined) {}

  /** Loads the known hosts into a new session (called by TunnelService on connect). */
  async attach(session: SshSessionLike): Promise<void> {
    if (this.#knownHosts !== undefined) await session.setSshKnownHosts?.(this.#knownHosts);
  }

  /** Closes every console (the session is going away). */
  async detach(): Promise<void> {
    const known = await this.session()?.sshKnownHosts?.().catch(() => undefined);
    if (known) this.#knownHosts = known.toJSON();
    for (const c of this.#consoles.values()) c.conn.close();
    this.#consoles.clear();
  }

  async sshConnect(host: string, options: SshOpenOptions, onOutput?: ProxiedCallback<(e: SshOutputEvent) => void | Promise<void>>): Promise<SshOpenResult> {
    const session = this.session();
    if (!session?.ssh) throw plain(ErrorCode.NOT_CONNECTED, 'Not connected: connect the tunnel first.');
    if (typeof host !== 'string' || !host.trim()) throw plain(ErrorCode.USAGE, 'ssh(host, options): host must be an address or name');
    if (typeof options !== 'object' || options === null) throw plain(ErrorCode.USAGE, 'ssh(host, options): options with a username are required');
    let conn: SshConnection;
    try {
      conn = await session.ssh(host.trim(), {
        port: options.port,
        username: options.username,
        password: options.password,
        privateKey: options.privateKey,
        passphrase: options.passphrase,
        hostKey: options.hostKey,
        timeoutMs: options.timeoutMs,
      });
    } catch (e) {
      throw toPlainError(e);
    }
    const id = this.#nextId++;
    const entry: Console = { conn, shell: undefined, output: '' };
    this.#consoles.set(id, entry);
    // Resolves when the page's listener has taken the event (the terminal wrote the text).
    const emit = (e: SshOutputEvent): Promise<unknown> | undefined => {
      try {
        return Promise.resolve(onOutput?.(e)).catch(() => {});
      } catch {
        return undefined; // the page went away
      }
    };
    if (options.shell ?? true) {
      try {
        entry.shell = await conn.shell({ cols: options.cols ?? 80, rows: options.rows ?? 24, term: options.term });
      } catch (e) {
        conn.close();
        this.#consoles.delete(id);
        throw toPlainError(e);
      }
      const decoder = new TextDecoder();
      entry.shell.onData = (bytes) => {
        const text = decoder.decode(bytes, { stream: true });
        if (!text) return undefined;
        entry.output = (entry.output + text).slice(-OUTPUT_LIMIT);
        // Flow control: the server gets window back once the page's terminal has drained this.
        return emit({ id, text });
      };
      void entry.shell.exit.then(async (exit) => {
        const error = await Promise.race([conn.closed, Promise.resolve(undefined)]);
        emit({ id, exit: { ...exit, ...(error ? { error: toPlainError(error) } : {}) } });
        conn.close();
      });
    }
    void conn.closed.then(() => {
      if (!entry.shell) this.#consoles.delete(id);
    });
    const info = conn.info;
    const n = info.negotiated;
    return {
      id,
      serverVersion: info.serverVersion,
      hostKeyType: info.hostKeyType,
      hostKeyFingerprint: info.hostKeyFingerprint,
      algorithms: { kex: n.kex, hostKey: n.hostKey, cipher: n.cipherServerToClient, mac: n.macServerToClient, strictKex: n.strictKex },
    };
  }

  async sshWrite(id: number, text: string): Promise<void> {
    const c = this.#require(id);
    if (!c.shell) throw plain(ErrorCode.USAGE, 'this SSH connection has no shell (opened with shell: false)');
    if (typeof text !== 'string') throw plain(ErrorCode.USAGE, 'write(text): text must be a string');
    c.shell.write(text);
  }

  async sshResize(id: number, cols: number, rows: number): Promise<void> {
    const c = this.#require(id);
    try {
      c.shell?.resize(cols, rows);
    } catch (e) {
      throw toPlainError(e);
    }
  }

  async sshOutput(id: number): Promise<string> {
    return this.#require(id).output;
  }

  async sshExec(id: number, command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }> {
    const c = this.#require(id);
    if (typeof command !== 'string') throw plain(ErrorCode.USAGE, 'exec(command): command must be a string');
    try {
      const r = await c.conn.exec(command);
      const d = new TextDecoder();
      return { stdout: d.decode(r.stdout), stderr: d.decode(r.stderr), code: r.code, ...(r.signal ? { signal: r.signal } : {}) };
    } catch (e) {
      throw toPlainError(e);
    }
  }

  async sshClose(id: number): Promise<void> {
    const c = this.#consoles.get(id);
    if (!c) return;
    this.#consoles.delete(id);
    c.conn.close();
  }

  /** The known hosts in known_hosts format. */
  async sshKnownHosts(): Promise<string> {
    const k = await this.session()?.sshKnownHosts?.();
    if (k) return k.toLines();
    return typeof (this.#knownHosts as { lines?: unknown })?.lines === 'string' ? (this.#knownHosts as { lines: string }).lines : '';
  }

  /** Adds known_hosts lines; resolves with how many keys were added and the lines skipped. */
  async importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }> {
    if (typeof text !== 'string') throw plain(ErrorCode.USAGE, 'importKnownHosts(text): text must be the text of a known_hosts file');
    const session = this.session();
    if (!session?.sshKnownHosts) throw plain(ErrorCode.NOT_CONNECTED, 'Not connected: connect the tunnel first.');
    const k = await session.sshKnownHosts();
    const r = k.importLines(text);
    this.#knownHosts = k.toJSON();
    return r;
  }

  /** Replaces the known hosts (the page's remembered list, or the list after a removal). */
  async setKnownHosts(lines: string): Promise<void> {
    if (typeof lines !== 'string') throw plain(ErrorCode.USAGE, 'setSshKnownHosts(lines): lines must be known_hosts text');
    this.#knownHosts = { version: 1, lines };
    await this.session()?.setSshKnownHosts?.(this.#knownHosts);
  }

  #require(id: number): Console {
    const c = this.#consoles.get(id);
    if (!c) throw plain(ErrorCode.NOT_CONNECTED, `SSH console ${id} is closed`);
    return c;
  }
}
