/**
 * A sans-IO iperf3 client for TCP tests: the control channel's state machine plus the byte
 * counting, with no sockets and no clock of its own (time comes in as `now`, like
 * websocket-protocol.ts). The adapter (iperf3-connection.ts) owns the control and data
 * connections and a timer.
 *
 *   new Iperf3Client(opts, now) ─▶ pollTransmit: the cookie
 *   receive(control bytes, now) ─▶ state bytes / JSON (iperf3-messages.ts):
 *     PARAM_EXCHANGE   ─▶ pollTransmit: [len][params]
 *     CREATE_STREAMS   ─▶ event create-streams (adapter connects N streams, each sends `cookie`)
 *     TEST_START       ─▶ event test-start; pollAt = next interval boundary / end of test
 *   countBytes(stream, n, now)  data the adapter sent (normal) or received (reverse)
 *   handleTimeout(now) ─▶ event interval (1 s each); at the end: pollTransmit TEST_END, event test-end
 *     EXCHANGE_RESULTS ─▶ pollTransmit: [len][our results]; then read [len][server results]
 *     DISPLAY_RESULTS  ─▶ pollTransmit: IPERF_DONE; event done (the summary)
 *     ACCESS_DENIED / SERVER_ERROR / SERVER_TERMINATE / bad bytes ─▶ event error (WgwebError)
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { webCryptoRandomBytes, type RandomBytes } from '../../shared/bytes.ts';
import {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_IPERF3_STREAMS,
  Iperf3State,
  MAX_JSON_BYTES,
  describeState,
  encodeJsonFrame,
  makeCookie,
  paramsJson,
  parseResults,
  resultsJson,
  streamId,
  type Iperf3Results,
} from './iperf3-messages.ts';

/** Options of one test. */
export interface Iperf3ClientOptions {
  /** Test length in seconds (iperf3 `-t`), 1 to 3600. */
  readonly seconds: number;
  /** The server sends (iperf3 `-R`). */
  readonly reverse?: boolean;
  /** Parallel streams (iperf3 `-P`), 1 to 16. */
  readonly streams?: number;
  /** Bytes per write (iperf3 `-l`); default 128 KiB. */
  readonly blockSize?: number;
  /** Length of one progress interval in ms (default 1000, iperf3's `-i 1`). */
  readonly intervalMs?: number;
  readonly randomBytes?: RandomBytes;
}

/** One progress interval, as iperf3 prints a line of its table. */
export interface Iperf3Interval {
  /** Seconds since the test started. */
  readonly start: number;
  readonly end: number;
  readonly bytes: number;
  readonly bitsPerSecond: number;
  /** Per stream, in stream order. */
  readonly streamBytes: readonly number[];
}

/** One side's total: what iperf3 prints on its `sender` and `receiver` lines. */
export interface Iperf3Total {
  readonly bytes: number;
  readonly seconds: number;
  readonly bitsPerSecond: number;
  /** Only on the sender line, when the sender counted them. */
  readonly retransmits?: number;
}

/** The outcome of a finished test. */
export interface Iperf3Summary {
  readonly reverse: boolean;
  readonly streams: number;
  readonly seconds: number;
  readonly sender: Iperf3Total;
  readonly receiver: Iperf3Total;
  /** Which side sent: 'client' (normal) or 'server' (reverse). */
  readonly senderSide: 'client' | 'server';
  readonly intervals: readonly Iperf3Interval[];
  /** The server's results object, parsed. */
  readonly server: Iperf3Results;
}

export type Iperf3Event =
  | { readonly type: 'create-streams'; readonly count: number }
  | { readonly type: 'test-start' }
  | { readonly type: 'interval'; readonly interval: Iperf3Interval }
  | { readonly type: 'test-end' }
  | { readonly type: 'done'; readonly summary: Iperf3Summary }
  | { readonly type: 'error'; readonly error: WgwebError };

/** Per-stream figures the adapter knows better at the end (its TCP's unacked bytes, retransmits). */
export interface Iperf3StreamReport {
  /** Bytes counted as sent that the peer has not acknowledged: not delivered within the test. */
  readonly unacknowledged?: number;
  readonly retransmits?: number;
}

type Phase = 'await-state' | 'running' | 'ending' | 'await-results-json' | 'await-display' | 'done' | 'failed';

/** See the module comment. */
export class Iperf3Client {
  /** Sent first on the control connection and on every data connection. */
  readonly cookie: Uint8Array;
  readonly reverse: boolean;
  readonly streams: number;
  readonly seconds: number;
  readonly blockSize: number;
  private readonly intervalMs: number;
  private phase: Phase = 'await-state';
  private readonly out: Uint8Array[] = [];
  private readonly events: Iperf3Event[] = [];
  private inbuf = new Uint8Array(0);
  private startedAt = 0;
  private endsAt = Infinity;
  private endedAt = 0;
  private nextIntervalAt = Infinity;
  private intervalStart = 0;
  private readonly totals: number[];
  private intervalBytes: number[];
  private readonly intervals: Iperf3Interval[] = [];
  private reports: readonly Iperf3StreamReport[] = [];
  /** SERVER_ERROR came: its two u32 codes (iperf3 error, errno) follow. */
  private awaitingErrorCodes = false;

  constructor(options: Iperf3ClientOptions) {
    const { seconds } = options;
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) throw new RangeError(`iperf3 seconds must be 1 to 3600, not ${seconds}`);
    const streams = options.streams ?? DEFAULT_IPERF3_STREAMS;
    if (!Number.isInteger(streams) || streams < 1 || streams > 16) throw new RangeError(`iperf3 streams must be 1 to 16, not ${streams}`);
    const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 1024 * 1024) throw new RangeError(`iperf3 block size must be 1 to 1048576, not ${blockSize}`);
    const intervalMs = options.intervalMs ?? 1000;
    if (!(intervalMs >= 100)) throw new RangeError(`iperf3 interval must be at least 100 ms, not ${intervalMs}`);
    this.seconds = seconds;
    this.reverse = options.reverse ?? false;
    this.streams = streams;
    this.blockSize = blockSize;
    this.intervalMs = intervalMs;
    this.totals = new Array<number>(streams).fill(0);
    this.intervalBytes = new Array<number>(streams).fill(0);
    this.cookie = makeCookie(options.randomBytes ?? webCryptoRandomBytes);
    this.out.push(this.cookie);
  }

  /** True once the test finished or failed. */
  get finished(): boolean {
    return this.phase === 'done' || this.phase === 'failed';
  }

  /** True while data should flow (between TEST_START and the end of the test). */
  get running(): boolean {
    return this.phase === 'running';
  }

  /** Feeds bytes from the control connection. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.finished) return;
    const merged = new Uint8Array(this.inbuf.length + bytes.length);
    merged.set(this.inbuf);
    merged.set(bytes, this.inbuf.length);
    this.inbuf = merged;
    this.process(now);
  }

  /** The control connection ended (FIN or reset) before the test finished. */
  transportClosed(): void {
    if (this.finished) return;
    this.fail('the iperf3 server closed the control connection before the test finished');
  }

  /** The next bytes for the control connection. */
  pollTransmit(): Uint8Array | undefined {
    return this.out.shift();
  }

  pollEvent(): Iperf3Event | undefined {
    return this.events.shift();
  }

  /** When {@link handleTimeout} must run next (absolute ms; Infinity when nothing is timed). */
  pollAt(): number {
    if (this.phase !== 'running') return Infinity;
    return Math.min(this.nextIntervalAt, this.endsAt);
  }

  /** Counts `n` data bytes of stream `index` (sent in a normal test, received in reverse). */
  countBytes(index: number, n: number, now: number): void {
    if (this.phase !== 'running') return;
    if (!(index >= 0 && index < this.streams)) throw new RangeError(`no iperf3 stream ${index}`);
    // Counted until TEST_END goes out (a late timer lengthens the test rather than losing bytes
    // the sender's buffer still holds); afterwards nothing counts, as in iperf3.
    void now;
    this.totals[index] += n;
    this.intervalBytes[index] += n;
  }

  /** Runs the interval and end-of-test timers. */
  handleTimeout(now: number): void {
    if (this.phase !== 'running') return;
    while (now >= this.nextIntervalAt && this.nextIntervalAt < this.endsAt) {
      this.closeInterval(this.nextIntervalAt);
      this.nextIntervalAt += this.intervalMs;
    }
    if (now >= this.endsAt) {
      // The test ends now, which is later than planned when the timer ran late (a busy tab).
      // A last interval shorter than a tenth of the others is folded away, as iperf3 does.
      if (now - this.intervalStart >= this.intervalMs / 10) this.closeInterval(now);
      this.endedAt = now;
      this.phase = 'ending';
      this.out.push(Uint8Array.of(Iperf3State.TEST_END));
      this.events.push({ type: 'test-end' });
    }
  }

  /**
   * The adapter's view of its streams at the end (after `test-end`): unacknowledged bytes are
   * taken off the sent count, so the sender line says what reached the server within the test.
   */
  reportStreams(reports: readonly Iperf3StreamReport[]): void {
    this.reports = reports;
  }

  /** Bytes counted so far per stream. */
  streamTotals(): readonly number[] {
    return [...this.totals];
  }

  private closeInterval(at: number): void {
    const bytes = this.intervalBytes.reduce((a, b) => a + b, 0);
    const secs = (at - this.intervalStart) / 1000;
    const interval: Iperf3Interval = {
      start: (this.intervalStart - this.startedAt) / 1000,
      end: (at - this.startedAt) / 1000,
      bytes,
      bitsPerSecond: secs > 0 ? (bytes * 8) / secs : 0,
      streamBytes: this.intervalBytes,
    };
    this.intervals.push(interval);
    this.events.push({ type: 'interval', interval });
    this.intervalBytes = new Array<number>(this.streams).fill(0);
    this.intervalStart = at;
  }

  private process(now: number): void {
    while (!this.finished) {
      if (this.awaitingErrorCodes) {
        if (this.inbuf.length < 8) return;
        const v = new DataView(this.inbuf.buffer, this.inbuf.byteOffset, 8);
        const ierr = v.getInt32(0);
        const errno = v.getInt32(4);
        this.inbuf = this.inbuf.subarray(8);
        this.fail(`the iperf3 server reported an error (iperf3 error ${ierr}${errno > 0 ? `, errno ${errno}` : ''}); see the server's log`, { iperfError: ierr, errno });
        return;
      }
      if (this.phase === 'await-results-json') {
        if (this.inbuf.length < 4) return;
        const len = new DataView(this.inbuf.buffer, this.inbuf.byteOffset, 4).getUint32(0);
        if (len === 0 || len > MAX_JSON_BYTES) {
          this.fail(`the iperf3 server sent a results object of ${len} bytes; expected 1 to ${MAX_JSON_BYTES}`);
          return;
        }
        if (this.inbuf.length < 4 + len) return;
        const text = new TextDecoder().decode(this.inbuf.subarray(4, 4 + len));
        this.inbuf = this.inbuf.subarray(4 + len);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const results = parseResults(parsed);
        if (!results) {
          this.fail('the iperf3 server sent results that are not an iperf3 results object');
          return;
        }
        this.serverResults = results;
        this.phase = 'await-display';
        continue;
      }
      if (this.inbuf.length < 1) return;
      const state = (this.inbuf[0] << 24) >> 24; // signed char
      this.inbuf = this.inbuf.subarray(1);
      this.onState(state, now);
    }
  }

  private serverResults: Iperf3Results | undefined;

  private onState(state: number, now: number): void {
    switch (state) {
      case Iperf3State.PARAM_EXCHANGE:
        this.out.push(encodeJsonFrame(paramsJson({ time: this.seconds, parallel: this.streams, reverse: this.reverse, len: this.blockSize })));
        return;
      case Iperf3State.CREATE_STREAMS:
        this.events.push({ type: 'create-streams', count: this.streams });
        return;
      case Iperf3State.TEST_START:
        this.startedAt = now;
        this.intervalStart = now;
        this.nextIntervalAt = now + this.intervalMs;
        this.endsAt = now + this.seconds * 1000;
        this.phase = 'running';
        this.events.push({ type: 'test-start' });
        return;
      case Iperf3State.TEST_RUNNING:
      case Iperf3State.IPERF_START:
        return;
      case Iperf3State.EXCHANGE_RESULTS:
        if (this.phase === 'running') this.handleTimeout(Math.max(now, this.endsAt));
        this.out.push(encodeJsonFrame(resultsJson(this.localResults())));
        this.phase = 'await-results-json';
        return;
      case Iperf3State.DISPLAY_RESULTS:
        if (!this.serverResults) {
          this.fail('the iperf3 server asked to display results before sending them');
          return;
        }
        this.out.push(Uint8Array.of(Iperf3State.IPERF_DONE));
        this.phase = 'done';
        this.events.push({ type: 'done', summary: this.summary(this.serverResults) });
        return;
      case Iperf3State.IPERF_DONE:
        return;
      case Iperf3State.ACCESS_DENIED:
        this.fail('the iperf3 server is busy running another test (or refused this client); try again later');
        return;
      case Iperf3State.SERVER_ERROR:
        this.awaitingErrorCodes = true;
        return;
      case Iperf3State.SERVER_TERMINATE:
        this.fail('the iperf3 server ended the test (it was interrupted)');
        return;
      default:
        this.fail(`the iperf3 server sent ${describeState(state)} during ${this.phase}: is that port an iperf3 server?`);
    }
  }

  private localStreams(): { bytes: number; retransmits: number }[] {
    return this.totals.map((bytes, i) => {
      const r = this.reports[i];
      const unacked = this.reverse ? 0 : Math.min(bytes, Math.max(0, r?.unacknowledged ?? 0));
      return { bytes: bytes - unacked, retransmits: r?.retransmits ?? -1 };
    });
  }

  private localResults(): Iperf3Results {
    const secs = ((this.endedAt || this.endsAt) - this.startedAt) / 1000;
    const hasRetransmits = !this.reverse && this.reports.length > 0 && this.reports.every((r) => r.retransmits !== undefined);
    return {
      cpuUtilTotal: 0,
      cpuUtilUser: 0,
      cpuUtilSystem: 0,
      senderHasRetransmits: this.reverse ? -1 : hasRetransmits ? 1 : 0,
      streams: this.localStreams().map((s, i) => ({
        id: streamId(i),
        bytes: s.bytes,
        retransmits: this.reverse || !hasRetransmits ? -1 : s.retransmits,
        startTime: 0,
        endTime: secs,
      })),
    };
  }

  private summary(server: Iperf3Results): Iperf3Summary {
    const localSecs = ((this.endedAt || this.endsAt) - this.startedAt) / 1000;
    const local = this.localStreams();
    const localBytes = local.reduce((a, s) => a + s.bytes, 0);
    const serverBytes = server.streams.reduce((a, s) => a + s.bytes, 0);
    const serverSecs = Math.max(0, ...server.streams.map((s) => s.endTime - s.startTime)) || localSecs;
    const rate = (bytes: number, secs: number): number => (secs > 0 ? (bytes * 8) / secs : 0);
    const localRetransmits = local.every((s) => s.retransmits >= 0) ? local.reduce((a, s) => a + s.retransmits, 0) : undefined;
    const serverRetransmits = server.senderHasRetransmits === 1 ? server.streams.reduce((a, s) => a + Math.max(0, s.retransmits), 0) : undefined;
    const clientTotal = { bytes: localBytes, seconds: localSecs, bitsPerSecond: rate(localBytes, localSecs) };
    const serverTotal = { bytes: serverBytes, seconds: serverSecs, bitsPerSecond: rate(serverBytes, serverSecs) };
    return {
      reverse: this.reverse,
      streams: this.streams,
      seconds: this.seconds,
      senderSide: this.reverse ? 'server' : 'client',
      sender: this.reverse ? { ...serverTotal, retransmits: serverRetransmits } : { ...clientTotal, retransmits: localRetransmits },
      receiver: this.reverse ? clientTotal : serverTotal,
      intervals: [...this.intervals],
      server,
    };
  }

  private fail(message: string, detail: Record<string, unknown> = {}): void {
    if (this.finished) return;
    this.phase = 'failed';
    this.events.push({ type: 'error', error: new WgwebError(ErrorCode.IPERF3_FAILED, message, detail) });
  }
}
