/**
 * The relay's log: one JSON object per line, `{"time","level","msg",...fields}`.
 *
 * What is logged: session open/close with the client's address, the endpoint, counters and the
 * close code. What is never logged: datagram payloads, keys, or anything decrypted (the relay sees
 * only ciphertext anyway).
 */

/** Severity, lowest first; `silent` logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Structured fields of a log line; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** A structured logger. `msg` is a stable dotted event name such as `session.open`. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  /** Minimum level written; default `info`. */
  level?: LogLevel;
  /** Where a finished line (with its newline) goes; default process.stderr. */
  write?: (line: string) => void;
  /** Clock for the `time` field; default Date.now. */
  now?: () => number;
}

/** True when `text` names a {@link LogLevel}. */
export function isLogLevel(text: string): text is LogLevel {
  return Object.hasOwn(RANK, text);
}

/** A JSON-lines {@link Logger}. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!isLogLevel(level)) throw new RangeError(`unknown log level "${String(level)}" (debug, info, warn, error, silent)`);
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? Date.now;
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, ...fields });
    } catch {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, note: 'unserialisable fields' });
    }
    try {
      write(`${line}\n`);
    } catch {
      // A broken log sink (closed pipe) must never take the relay down.
    }
  };
  return {
    level,
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = createLogger({ level: 'silent', write: () => {} });
