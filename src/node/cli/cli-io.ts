/**
 * The process boundary of a CLI command, as an interface: commands take a {@link CliIo} instead of
 * touching `process` so tests can run them in memory and read what they printed.
 *
 *   main(argv) ─▶ createProcessIo() ─▶ command.run(args, io) ─▶ io.stdout / io.stderr / io.readStdin
 *                      │ SIGINT, SIGTERM, EPIPE on stdout ─▶ io.signal aborts
 *   tests      ─▶ createMemoryIo({ stdin }) ─▶ same run(args, io) ─▶ io.stdoutText()
 */
import { fstatSync } from 'node:fs';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';

/** An output stream. */
export interface CliWriter {
  /**
   * Writes text (as UTF-8) or bytes. Resolves when the stream can take more (back-pressure), so a
   * command streaming a large body never buffers it all. After the reader went away (EPIPE) writes
   * are dropped and `CliIo.signal` is aborted.
   */
  write(chunk: string | Uint8Array): Promise<void>;
  /** True when the stream is a terminal: commands may then print for humans (progress, colours). */
  readonly isTTY: boolean;
}

/** Standard streams, environment and cancellation for one command run. */
export interface CliIo {
  readonly stdout: CliWriter;
  readonly stderr: CliWriter;
  /**
   * Reads standard input to its end.
   * @throws {WgwebError} `USAGE` when stdin holds more than `maxBytes` (default 16 MiB);
   *   `ABORTED` when {@link CliIo.signal} aborts first.
   */
  readStdin(options?: { maxBytes?: number }): Promise<Uint8Array>;
  /** Environment variables (WGWEB_DEBUG, NO_COLOR, ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Aborted on the first Ctrl-C (SIGINT) or SIGTERM, or when stdout's reader goes away; the reason
   * is a `WgwebError` with code `ABORTED` (its `detail.signal` names the signal). Long-running commands (ping) stop on it and print their
   * summary; a second Ctrl-C ends the process with 130.
   */
  readonly signal: AbortSignal;
  /**
   * True when stdout is a regular file that other users may access: `wg genkey` warns then, since
   * the key would be readable by others. Absent or false when unknown.
   */
  stdoutIsWorldAccessibleFile?(): boolean;
}

const DEFAULT_MAX_STDIN = 16 * 1024 * 1024;

/** A {@link CliIo} over the real process; call `close()` when the command is done. */
export function createProcessIo(): CliIo & { close(): void } {
  const controller = new AbortController();
  const abort = (message: string, detail: Record<string, unknown> = {}) => {
    if (!controller.signal.aborted) controller.abort(new WgwebError(ErrorCode.ABORTED, message, detail));
  };
  let interrupts = 0;
  const onSignal = (name: NodeJS.Signals) => {
    interrupts++;
    // A command that ignores the signal must not leave the user stuck: the second one ends it.
    if (interrupts > 1) process.exit(name === 'SIGINT' ? 130 : 143);
    abort(name === 'SIGINT' ? 'interrupted' : 'terminated', { signal: name });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const writer = (stream: NodeJS.WriteStream, isStdout: boolean): CliWriter & { dispose(): void } => {
    let broken = false;
    const onError = (err: NodeJS.ErrnoException) => {
      broken = true;
      // `wgweb ping ... | head -3`: the reader left; stop the command instead of crashing on EPIPE.
      if (isStdout) abort(err.code === 'EPIPE' ? 'stdout was closed' : `cannot write to stdout: ${err.message}`);
    };
    stream.on('error', onError);
    return {
      isTTY: Boolean(stream.isTTY),
      async write(chunk) {
        if (broken) return;
        if (stream.write(chunk)) return;
        await writable(stream);
      },
      dispose() {
        stream.off('error', onError);
      },
    };
  };
  const stdout = writer(process.stdout, true);
  const stderr = writer(process.stderr, false);

  return {
    stdout,
    stderr,
    env: process.env,
    signal: controller.signal,
    readStdin: (options) => readStream(process.stdin, options?.maxBytes ?? DEFAULT_MAX_STDIN, controller.signal),
    stdoutIsWorldAccessibleFile() {
      try {
        const st = fstatSync(1);
        return st.isFile() && (st.mode & 0o007) !== 0;
      } catch {
        return false;
      }
    },
    close() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stdout.dispose();
      stderr.dispose();
    },
  };
}

/** Resolves when `stream` drains, closes or fails (a failure is reported through its 'error' listener). */
function writable(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

async function readStream(stream: NodeJS.ReadStream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  if (signal.aborted) throw signal.reason;
  const chunks: Uint8Array[] = [];
  let total = 0;
  return new Promise<Uint8Array>((resolve, reject) => {
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      stream.pause();
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        reject(new WgwebError(ErrorCode.USAGE, `stdin is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const out = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      resolve(out);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new WgwebError(ErrorCode.USAGE, `cannot read stdin: ${err.message}`, {}, { cause: err }));
    };
    const onAbort = () => {
      cleanup();
      reject(signal.reason);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    stream.resume();
  });
}

/** A {@link CliIo} held in memory, for tests and for running a command programmatically. */
export interface MemoryIo extends CliIo {
  /** Everything written to stdout so far, decoded as UTF-8. */
  stdoutText(): string;
  stderrText(): string;
  stdoutBytes(): Uint8Array;
  /** Simulates Ctrl-C. */
  abort(message?: string): void;
}

/** Creates a {@link MemoryIo}; `stdin` is what `readStdin` returns (empty by default). */
export function createMemoryIo(
  options: { stdin?: string | Uint8Array; env?: Record<string, string | undefined>; isTTY?: boolean; worldAccessibleStdout?: boolean } = {},
): MemoryIo {
  const controller = new AbortController();
  const sink = () => {
    const parts: Uint8Array[] = [];
    const encoder = new TextEncoder();
    return {
      parts,
      writer: {
        isTTY: options.isTTY ?? false,
        async write(chunk: string | Uint8Array) {
          parts.push(typeof chunk === 'string' ? encoder.encode(chunk) : chunk.slice());
        },
      } satisfies CliWriter,
    };
  };
  const out = sink();
  const err = sink();
  const join = (parts: Uint8Array[]) => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    return bytes;
  };
  const stdin = typeof options.stdin === 'string' ? new TextEncoder().encode(options.stdin) : (options.stdin ?? new Uint8Array(0));
  return {
    stdout: out.writer,
    stderr: err.writer,
    env: options.env ?? {},
    signal: controller.signal,
    async readStdin(o) {
      if (controller.signal.aborted) throw controller.signal.reason;
      const max = o?.maxBytes ?? DEFAULT_MAX_STDIN;
      if (stdin.length > max) throw new WgwebError(ErrorCode.USAGE, `stdin is larger than ${max} bytes`);
      return stdin.slice();
    },
    stdoutIsWorldAccessibleFile: () => options.worldAccessibleStdout ?? false,
    stdoutText: () => new TextDecoder().decode(join(out.parts)),
    stderrText: () => new TextDecoder().decode(join(err.parts)),
    stdoutBytes: () => join(out.parts),
    abort(message = 'interrupted') {
      if (!controller.signal.aborted) controller.abort(new WgwebError(ErrorCode.ABORTED, message));
    },
  };
}

/**
 * Warns on stderr, as `wg genkey` does, when a secret key is about to be written to a regular file
 * that other users can access (the shell created it under a permissive umask).
 */
export async function warnIfSecretGoesToSharedFile(io: CliIo): Promise<void> {
  if (io.stdoutIsWorldAccessibleFile?.()) {
    await io.stderr.write('wgweb: warning: writing a secret key to a file other users can read; run "umask 077" first\n');
  }
}
