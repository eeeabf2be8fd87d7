/**
 * Retransmission timeout estimation (RFC 6298) with exponential backoff.
 *
 *   RTT sample (timestamps echo, or one timed segment under Karn's rule) ──▶ sample() ──▶ SRTT/RTTVAR ──▶ rto
 *   RTO expiry ──▶ backoff() doubles the timer (§5.5) until a new valid sample arrives.
 *
 * Which samples are valid is the caller's business (Karn's algorithm, RFC 6298 §3; RFC 7323 §4).
 */
import { CLOCK_GRANULARITY_MS, INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS } from './tcp-constants.ts';

/** Options for {@link RttEstimator}. */
export interface RttOptions {
  minRtoMs?: number;
  maxRtoMs?: number;
  initialRtoMs?: number;
}

/** SRTT/RTTVAR/RTO state of one connection. */
export class RttEstimator {
  /** Smoothed RTT, ms; undefined before the first sample. */
  srtt: number | undefined = undefined;
  /** RTT variation, ms. */
  rttvar = 0;
  /** Smallest RTT seen, ms (used by CUBIC and receive-window tuning). */
  minRtt = Infinity;
  /** Latest sample, ms. */
  latest = 0;
  /** Number of consecutive backoffs since the last valid sample. */
  backoffCount = 0;
  private baseRto: number;
  private readonly minRto: number;
  private readonly maxRto: number;

  constructor(options: RttOptions = {}) {
    this.minRto = options.minRtoMs ?? MIN_RTO_MS;
    this.maxRto = options.maxRtoMs ?? MAX_RTO_MS;
    if (!(this.minRto > 0 && this.maxRto >= this.minRto)) throw new RangeError('RTO bounds need 0 < minRtoMs <= maxRtoMs');
    this.baseRto = options.initialRtoMs ?? INITIAL_RTO_MS;
  }

  /** The current retransmission timeout including backoff, ms. */
  get rto(): number {
    // RFC 6298 §5.5: double on each expiry; §2.5: cap at the maximum.
    const r = this.baseRto * 2 ** Math.min(this.backoffCount, 30);
    return r > this.maxRto ? this.maxRto : r;
  }

  /** Feeds one valid RTT measurement (RFC 6298 §2.2-2.3) and clears the backoff (§5.7 note). */
  sample(rttMs: number): void {
    const r = rttMs < 0 ? 0 : rttMs;
    this.latest = r;
    if (r < this.minRtt) this.minRtt = r;
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      // beta = 1/4, alpha = 1/8; RTTVAR uses the old SRTT, so update it first.
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    let rto = this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar);
    if (rto < this.minRto) rto = this.minRto;
    if (rto > this.maxRto) rto = this.maxRto;
    this.baseRto = rto;
    this.backoffCount = 0;
  }

  /** RFC 6298 §5.5: the timer expired; the next RTO is twice as long. */
  backoff(): void {
    this.backoffCount++;
  }

  /**
   * RFC 6298 §5.7: after the SYN's timer expired and no sample was taken, use 3 s once data flows.
   * (Called when the handshake completes after a SYN retransmission without a usable sample.)
   */
  resetAfterSynTimeout(): void {
    if (this.srtt === undefined) this.baseRto = Math.max(3000, this.minRto);
    this.backoffCount = 0;
  }
}
