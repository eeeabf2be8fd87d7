/**
 * The stream adapter over the sans-IO {@link SshClient}: runs the handshake and authentication on
 * an established {@link TcpConnection} (the tunnel's TCP, or a Node socket in tests), then offers
 * sessions: `exec` (collects stdout, stderr and the exit status) and `shell` (a PTY stream for a
 * terminal, with resize).
 *
 *   connect(tcp) ─▶ client.start ─▶ flush ─▶ read tcp ─▶ client.receive ─▶ events ─▶ … 'authenticated'
 *   then one read loop: tcp bytes ─▶ client.receive ─▶ events routed to SshChannel by id ─▶ flush
 *   one timer: client.pollAt() (keepalives, rekey by time) ─▶ handleTimeout ─▶ flush
 *   flow control (RFC 4254 §5.2): a channel's data goes to ONE consumer, `onData` if set (its
 *     returned promise, if any, says when the bytes are drained) or else `readable` (drained as
 *     it is read); only drained bytes give the server window back (client.consume), so a slow
 *     consumer holds at most CHANNEL_WINDOW per channel and the server waits
 *   close ─▶ DISCONNECT + FIN; a dead TCP ─▶ every open channel ends with the connection's error
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { aborted, type TcpConnection } from '../../engine/dialer.ts';
import { CHANNEL_WINDOW, SshClient, sshProtocolError, type SshClientOptions, type SshEvent, type SshNegotiated } from './ssh-client.ts';
import { fingerprint } from './ssh-public-key.ts';

export interface ConnectSshOptions extends SshClientOptions {
  signal?: AbortSignal;
  /** Gives up on the handshake and authentication after this long (default 30 s). */
  timeoutMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Every client event as it happens (teaching view, logs). */
  onEvent?: (event: SshEvent) => void;
}

/** What `exec` resolves to. */
export interface SshExecResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** The exit status, or null when the command died by a signal or the server sent none. */
  code: number | null;
  signal?: string;
}

/** How a channel ended. */
export interface SshExit {
  code: number | null;
  signal?: string;
}

export interface SshShellOptions {
  /** TERM for the PTY (default xterm-256color). */
  term?: string;
  cols?: number;
  rows?: number;
  /** Ask for a PTY (default true). */
  pty?: boolean;
  /** Run this command instead of the login shell (still with a PTY when `pty`). */
  command?: string;
}

/** Summary of a connected session for the UI and the CLI. */
export interface SshConnectionInfo {
  serverVersion: string;
  hostKeyType: string;
  hostKeyFingerprint: string;
  negotiated: SshNegotiated;
}

/**
 * How far `readable` reads ahead: window goes back to the server while fewer bytes than this
 * wait in its queue (the rest of CHANNEL_WINDOW is what the server may still have in flight).
 */
const READ_AHEAD = CHANNEL_WINDOW / 2;

/** One session channel (a shell or a command). */
export class SshChannel {
  /**
   * Output as the terminal shows it: stdout and stderr in arrival order, when no `onData` is set.
   * The server sends more only as this is read (flow control).
   */
  readonly readable: ReadableStream<Uint8Array>;
  /** Resolves when the channel closed, with the exit status if the server sent one. */
  readonly exit: Promise<SshExit>;
  /**
   * Takes every chunk instead of `readable`. Return a promise to say when the chunk is drained
   * (e.g. the terminal has written it, the stdout write finished): until then it counts against
   * the window we give the server, which stops sending once the window is full.
   */
  onData: ((data: Uint8Array, stderr: boolean) => unknown) | undefined;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Bytes put in `readable` and not yet given back to the server as window. */
  private unread = 0;
  private resolveExit!: (e: SshExit) => void;
  private rejectOpen: ((e: unknown) => void) | undefined;
  private status: SshExit = { code: null };
  private closed = false;
  /** Whether to keep chunks in `readable` (false for exec, which collects itself). */
  private readonly streaming: boolean;

  /** @internal */
  constructor(private readonly conn: SshConnection, readonly id: number, streaming: boolean) {
    this.streaming = streaming;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        // Called after each read while the queue is under READ_AHEAD: what left the queue is drained.
        pull: () => {
          const queued = READ_AHEAD - (this.controller.desiredSize ?? READ_AHEAD);
          const drained = this.unread - Math.max(0, queued);
          if (drained > 0) {
            this.unread -= drained;
            this.conn.consume(this.id, drained);
          }
        },
        cancel: () => this.close(),
      },
      { highWaterMark: READ_AHEAD, size: (chunk) => chunk.byteLength },
    );
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Sends keystrokes or bytes to the channel's stdin. */
  write(data: Uint8Array | string): void {
    if (this.closed) return;
    this.conn.client.write(this.id, typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.conn.flush();
  }

  /** Tells the server the terminal's new size (RFC 4254 §6.7 window-change). */
  resize(cols: number, rows: number): void {
    if (this.closed) return;
    checkSize(cols, rows);
    this.conn.client.windowChange(this.id, cols, rows);
    this.conn.flush();
  }

  /** Ends stdin. */
  eof(): void {
    if (this.closed) return;
    this.conn.client.eof(this.id);
    this.conn.flush();
  }

  close(): void {
    if (this.closed) return;
    this.conn.client.closeChannel(this.id);
    this.conn.flush();
  }

  /** @internal */
  waitOpen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.rejectOpen = reject;
      this.openResolve = resolve;
    });
  }
  private openResolve: (() => void) | undefined;

  /** @internal */
  handle(e: SshEvent): void {
    switch (e.type) {
      case 'channel-open':
        return;
      case 'channel-request-result':
        if (e.request === 'shell' || e.request === 'exec' || e.request === 'pty-req') {
          if (!e.success) {
            this.rejectOpen?.(sshProtocolError(`the SSH server refused the ${e.request} request`));
            this.rejectOpen = undefined;
            this.openResolve = undefined;
            this.close();
          } else if (e.request !== 'pty-req') {
            this.openResolve?.();
            this.openResolve = undefined;
            this.rejectOpen = undefined;
          }
        }
        return;
      case 'channel-open-failed':
        this.rejectOpen?.(sshProtocolError(`the SSH server refused a session channel: ${e.description || `reason ${e.reason}`}`));
        this.finish();
        return;
      case 'channel-data': {
        const n = e.data.length;
        if (this.onData) {
          const drained = this.onData(e.data, e.stderr) as PromiseLike<unknown> | undefined;
          if (typeof drained?.then === 'function') {
            const credit = (): void => this.conn.consume(this.id, n);
            drained.then(credit, credit);
          } else this.conn.consume(this.id, n);
        } else if (this.streaming && !this.closed) {
          this.unread += n;
          this.controller.enqueue(e.data);
        } else this.conn.consume(this.id, n);
        return;
      }
      case 'exit-status':
        this.status = { code: e.code };
        return;
      case 'exit-signal':
        this.status = { code: null, signal: e.signal };
        return;
      case 'channel-close':
        this.finish();
        return;
    }
  }

  /** @internal The channel or the whole connection ended. */
  finish(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (this.rejectOpen) this.rejectOpen(error ?? sshProtocolError('the SSH channel closed before it started'));
    this.rejectOpen = undefined;
    try {
      if (error && this.streaming) this.controller.error(error);
      else this.controller.close();
    } catch {
      // already closed by the reader
    }
    this.resolveExit(this.status);
  }
}

function checkSize(cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 10000 || rows > 10000) {
    throw new RangeError(`terminal size ${cols}x${rows} must be whole numbers from 1 to 10000`);
  }
}

/** An authenticated SSH connection. */
export class SshConnection {
  /** Resolves when the connection ended: undefined after close(), the error otherwise. */
  readonly closed: Promise<WgwebError | undefined>;
  private resolveClosed!: (e: WgwebError | undefined) => void;
  private readonly channels = new Map<number, SshChannel>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;

  private constructor(
    private readonly tcp: TcpConnection,
    /** @internal */ readonly client: SshClient,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly now: () => number,
    private readonly onEvent: ((e: SshEvent) => void) | undefined,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /**
   * Runs the SSH handshake and authentication over `tcp`. Resolves once authenticated.
   * @throws {WgwebError} SSH_HOST_KEY_UNKNOWN / SSH_HOST_KEY_CHANGED (from checkHostKey), SSH_AUTH_FAILED,
   *   SSH_PROTOCOL, TIMEOUT, ABORTED, CONNECTION_RESET.
   */
  static async connect(tcp: TcpConnection, options: ConnectSshOptions): Promise<SshConnection> {
    const now = options.now ?? (() => performance.now());
    const client = new SshClient(options);
    const conn = new SshConnection(tcp, client, tcp.readable.getReader(), tcp.writable.getWriter(), now, options.onEvent);
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (e: unknown): never => {
      tcp.abort(e);
      throw e;
    };
    try {
      client.start(now());
      conn.flush();
      const handshake = conn.handshake();
      const guards: Promise<never>[] = [
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new WgwebError(ErrorCode.TIMEOUT, `no SSH login within ${timeoutMs} ms: check that ${tcp.remotePort === 22 ? 'an SSH server' : `port ${tcp.remotePort}`} answers and the credentials`)),
            timeoutMs,
          );
        }),
      ];
      if (options.signal) {
        const signal = options.signal;
        guards.push(
          new Promise<never>((_, reject) => {
            if (signal.aborted) reject(aborted('the SSH connection', signal.reason));
            signal.addEventListener('abort', () => reject(aborted('the SSH connection', signal.reason)), { once: true });
          }),
        );
      }
      await Promise.race([handshake, ...guards]);
    } catch (e) {
      fail(e);
    } finally {
      clearTimeout(timer);
    }
    void conn.readLoop();
    conn.arm();
    return conn;
  }

  /** Server version, host key and algorithms. */
  get info(): SshConnectionInfo {
    const key = this.client.hostKey!;
    return { serverVersion: this.client.serverVersion, hostKeyType: key.type, hostKeyFingerprint: fingerprint(key.blob), negotiated: this.client.negotiated! };
  }

  /** Runs `command` (RFC 4254 §6.5 exec) and collects its output and exit status. */
  async exec(command: string, options: { stdin?: Uint8Array | string; signal?: AbortSignal } = {}): Promise<SshExecResult> {
    if (typeof command !== 'string') throw new TypeError('exec(command): command must be a string');
    const channel = this.openChannel(false);
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    channel.onData = (d, err) => (err ? stderr : stdout).push(d);
    const opened = channel.waitOpen();
    this.client.requestExec(channel.id, command);
    this.flush();
    const onAbort = (): void => channel.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await opened;
      if (options.stdin !== undefined) channel.write(options.stdin);
      channel.eof();
      const exit = await channel.exit;
      if (options.signal?.aborted) throw aborted('the SSH command', options.signal.reason);
      const error = await this.errorIfDead();
      if (error && exit.code === null && !exit.signal) throw error;
      return { stdout: join(stdout), stderr: join(stderr), ...exit };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Opens an interactive session: a PTY of `cols`×`rows` and the login shell (or `command`). */
  async shell(options: SshShellOptions = {}): Promise<SshChannel> {
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    checkSize(cols, rows);
    const channel = this.openChannel(true);
    const opened = channel.waitOpen();
    if (options.pty ?? true) this.client.requestPty(channel.id, options.term ?? 'xterm-256color', cols, rows);
    if (options.command !== undefined) this.client.requestExec(channel.id, options.command);
    else this.client.requestShell(channel.id);
    this.flush();
    await opened;
    return channel;
  }

  /** Sends DISCONNECT and closes the TCP connection. */
  close(): void {
    if (this.ended) return;
    this.client.close();
    this.flush();
    this.end(undefined);
    void this.writer.close().catch(() => {});
  }

  /** @internal Sends whatever the client queued. */
  flush(): void {
    this.writeOut();
    // A consumer called from dispatch may act again (write, consume): its output goes out below.
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      this.dispatch();
    } finally {
      this.dispatching = false;
    }
    this.writeOut();
    this.arm();
  }

  /** @internal The consumer drained `bytes` of a channel: window back to the server (RFC 4254 §5.2). */
  consume(channel: number, bytes: number): void {
    if (this.ended) return;
    this.client.consume(channel, bytes);
    this.flush();
  }

  private dispatching = false;

  private writeOut(): void {
    const out = this.client.takeOutput();
    if (out) void this.writer.write(out).catch(() => {});
  }

  private openChannel(streaming: boolean): SshChannel {
    if (this.ended) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'the SSH connection is closed');
    const id = this.client.openSession();
    const channel = new SshChannel(this, id, streaming);
    this.channels.set(id, channel);
    void channel.exit.then(() => this.channels.delete(id));
    return channel;
  }

  private async errorIfDead(): Promise<WgwebError | undefined> {
    return this.ended ? this.client.error : undefined;
  }

  /** Reads until authenticated or failed. */
  private async handshake(): Promise<void> {
    for (;;) {
      const events = this.takeEvents();
      for (const e of events) {
        if (e.type === 'closed') throw e.error ?? sshProtocolError('the SSH connection closed during the handshake');
      }
      if (this.client.state === 'open') return;
      const r = await this.reader.read().catch((e: unknown) => {
        throw e instanceof WgwebError ? e : sshProtocolError(`the connection broke during the SSH handshake: ${String(e)}`);
      });
      if (r.done) {
        this.client.transportClosed();
      } else {
        this.client.receive(r.value, this.now());
      }
      const out = this.client.takeOutput();
      if (out) void this.writer.write(out).catch(() => {});
    }
  }

  private pendingEvents: SshEvent[] = [];

  private takeEvents(): SshEvent[] {
    const list: SshEvent[] = [];
    for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) {
      this.onEvent?.(e);
      list.push(e);
    }
    return list;
  }

  private dispatch(): void {
    if (this.client.state === 'handshake' || this.client.state === 'auth') return;
    // Until quiet: a consumer's reaction (closing a channel, say) can raise more events.
    for (this.pendingEvents.push(...this.takeEvents()); this.pendingEvents.length; this.pendingEvents.push(...this.takeEvents())) {
      for (const e of this.pendingEvents.splice(0)) {
        if (e.type === 'closed') {
          this.end(e.error);
          continue;
        }
        if ('channel' in e) this.channels.get(e.channel)?.handle(e);
      }
    }
  }

  private async readLoop(): Promise<void> {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await this.reader.read();
      } catch (e) {
        this.client.transportClosed();
        this.end(this.client.error ?? (e instanceof WgwebError ? e : sshProtocolError(`the SSH connection broke: ${String(e)}`)));
        return;
      }
      if (r.done) {
        this.client.transportClosed();
        this.flush();
        this.end(this.client.error ?? (this.ended ? undefined : sshProtocolError('the SSH server closed the connection')));
        return;
      }
      this.client.receive(r.value, this.now());
      this.flush();
      if (this.ended) return;
    }
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ended) return;
    const at = this.client.pollAt();
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(() => {
      this.client.handleTimeout(this.now());
      this.flush();
    }, Math.max(0, at - this.now()));
    // A keepalive timer must not keep a Node process (the CLI) alive on its own.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private end(error: WgwebError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    for (const c of [...this.channels.values()]) c.finish(error);
    this.channels.clear();
    if (error) this.tcp.abort(error);
    else this.tcp.close();
    this.resolveClosed(error);
  }
}

function join(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
