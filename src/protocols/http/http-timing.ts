/**
 * Per-exchange timing for the UI's waterfall, in the spirit of the W3C Resource Timing phases:
 * DNS, connect, request sent, first byte, done. Reported once per HTTP exchange (each redirect hop
 * is its own exchange) when it is over: body read to the end, failed, or cancelled.
 */

/** Phase marks are milliseconds after {@link HttpTiming.startTime}; absent when the phase did not happen. */
export interface HttpTiming {
  url: string;
  method: string;
  /** Status of the final (non-1xx) response, when one arrived. */
  status?: number;
  /** `10.0.0.2:80`, once connected. */
  remoteAddress?: string;
  /** The request went over a pooled keep-alive connection (no DNS, no connect). */
  reusedConnection: boolean;
  /** A pooled connection turned out to be closed by the server; the request was sent again on a new one. */
  retried: boolean;
  /** When the exchange started, on the client's clock (`now`). */
  startTime: number;
  dnsStart?: number;
  dnsEnd?: number;
  connectStart?: number;
  connectEnd?: number;
  /** https: the TLS handshake (Resource Timing's secureConnectionStart), inside connect…requestSent. */
  tlsStart?: number;
  tlsEnd?: number;
  /**
   * https: what the connection negotiated (also on a reused connection); `legacy` lists the weak
   * parts only a per-host legacy-TLS opt-in allows (e.g. "RSA key exchange (no forward secrecy)").
   */
  tls?: { version?: string; cipherSuite?: string; legacy?: string[] };
  /** The whole request (head and body) was handed to the connection. */
  requestSent?: number;
  /** The first response byte arrived. */
  firstByte?: number;
  /** The exchange ended (see `outcome`). */
  done?: number;
  /** Response body bytes as received (before content decoding). */
  bodyBytes: number;
  outcome: 'complete' | 'error' | 'cancelled';
  error?: { code?: string; message: string };
}

export type HttpTimingPhase = 'dnsStart' | 'dnsEnd' | 'connectStart' | 'connectEnd' | 'tlsStart' | 'tlsEnd' | 'requestSent' | 'firstByte' | 'done';

/** Collects one exchange's marks and reports them once. */
export class TimingRecorder {
  readonly timing: HttpTiming;
  private reported = false;

  constructor(
    url: string,
    method: string,
    private readonly now: () => number,
    private readonly report: ((t: HttpTiming) => void) | undefined,
  ) {
    this.timing = { url, method, reusedConnection: false, retried: false, startTime: now(), bodyBytes: 0, outcome: 'complete' };
  }

  mark(phase: HttpTimingPhase): void {
    if (this.timing[phase] === undefined) this.timing[phase] = this.now() - this.timing.startTime;
  }

  /** Forgets connection phases before a retry on a fresh connection. */
  resetForRetry(): void {
    for (const p of ['dnsStart', 'dnsEnd', 'connectStart', 'connectEnd', 'tlsStart', 'tlsEnd', 'requestSent', 'firstByte'] as const) delete this.timing[p];
    this.timing.retried = true;
    this.timing.reusedConnection = false;
  }

  finish(outcome: HttpTiming['outcome'], error?: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.mark('done');
    this.timing.outcome = outcome;
    if (error !== undefined) {
      const code = (error as { code?: unknown }).code;
      this.timing.error = {
        code: typeof code === 'string' ? code : undefined,
        message: error instanceof Error ? error.message : String(error),
      };
    }
    if (!this.report) return;
    try {
      this.report({ ...this.timing });
    } catch {
      // A failing observer must not break the request it observes.
    }
  }
}
