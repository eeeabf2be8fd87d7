/**
 * Congestion window control: NewReno window growth (RFC 5681 with RFC 3465 byte counting) and
 * CUBIC (RFC 9438). The socket decides *when* a congestion event happens (fast retransmit per
 * RFC 6675/6582, or an RTO); these classes decide the window.
 *
 *   ACK of new data (outside recovery) ──▶ onAck() ──▶ cwnd grows (slow start / avoidance)
 *   loss detected ──▶ onCongestionEvent() ──▶ ssthresh, cwnd = ssthresh
 *   RTO ──▶ onRetransmissionTimeout() ──▶ cwnd = 1 segment (RFC 5681 §3.1 loss window)
 *
 * Windows are bytes; `mss` is the sender's effective MSS (payload bytes per full segment).
 */
import { INITIAL_WINDOW_SEGMENTS } from './tcp-constants.ts';

/** Which algorithm grows the window. */
export type CongestionAlgorithm = 'cubic' | 'newreno';

/** Common interface of the window-control algorithms. */
export interface CongestionControl {
  readonly algorithm: CongestionAlgorithm;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh: number;
  /** New MSS (after the handshake or an ICMP packet-too-big); windows keep their segment count. */
  setMss(mss: number): void;
  /** `acked` new bytes were cumulatively acknowledged outside loss recovery. */
  onAck(acked: number, now: number, srttMs: number, cwndLimited: boolean): void;
  /** A loss was detected by duplicate ACKs or SACK; `flight` is the data outstanding before the event. */
  onCongestionEvent(now: number, flight: number): void;
  /** The retransmission timer expired. */
  onRetransmissionTimeout(now: number, flight: number): void;
  /** Loss recovery ended (RFC 6675 / RFC 6582 full acknowledgment). */
  onRecoveryEnd(now: number): void;
}

/** Creates the controller for `algorithm`. */
export function createCongestionControl(algorithm: CongestionAlgorithm, mss: number): CongestionControl {
  return algorithm === 'cubic' ? new Cubic(mss) : new NewReno(mss);
}

/** RFC 5681 with Appropriate Byte Counting (RFC 3465, L = 2 SMSS). */
export class NewReno implements CongestionControl {
  readonly algorithm: CongestionAlgorithm = 'newreno';
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  protected mss: number;
  /** Bytes acknowledged toward the next congestion-avoidance increment. */
  protected ackedInAvoidance = 0;

  constructor(mss: number) {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
  }

  setMss(mss: number): void {
    if (mss === this.mss) return;
    this.cwnd = Math.max(mss, Math.round((this.cwnd / this.mss) * mss));
    if (this.ssthresh !== Number.MAX_SAFE_INTEGER) this.ssthresh = Math.max(2 * mss, Math.round((this.ssthresh / this.mss) * mss));
    this.mss = mss;
  }

  onAck(acked: number, _now: number, _srttMs: number, cwndLimited: boolean): void {
    // RFC 7661: do not grow a window the sender is not using.
    if (!cwndLimited) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, 2 * this.mss);
      return;
    }
    this.ackedInAvoidance += acked;
    if (this.ackedInAvoidance >= this.cwnd) {
      this.ackedInAvoidance -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onCongestionEvent(_now: number, flight: number): void {
    // RFC 5681 eq. (4).
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.ackedInAvoidance = 0;
  }

  onRetransmissionTimeout(now: number, flight: number): void {
    this.onCongestionEvent(now, flight);
    this.cwnd = this.mss;
  }

  onRecoveryEnd(_now: number): void {
    if (this.cwnd > this.ssthresh) this.cwnd = this.ssthresh;
  }
}

/** CUBIC constants (RFC 9438 §4.1-4.6). */
const CUBIC_C = 0.4;
const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: AIMD increase factor that makes the Reno-friendly estimate match Reno. */
const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 CUBIC, with fast convergence (§4.7) and the Reno-friendly region (§4.3). */
export class Cubic implements CongestionControl {
  readonly algorithm: CongestionAlgorithm = 'cubic';
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  private mss: number;
  /** W_max in segments: the window just before the last reduction. */
  wMax = 0;
  /** Previous W_max, for fast convergence. */
  private wLastMax = 0;
  /** Start of the current avoidance epoch (ms), or undefined until the first ACK after a reduction. */
  private epochStart: number | undefined = undefined;
  /** K in seconds: time for W_cubic to climb back to W_max. */
  k = 0;
  /** The Reno-friendly estimate, segments. */
  private wEst = 0;
  /** Fractional segment credit toward the next increase. */
  private credit = 0;

  constructor(mss: number) {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
  }

  setMss(mss: number): void {
    if (mss === this.mss) return;
    this.cwnd = Math.max(mss, Math.round((this.cwnd / this.mss) * mss));
    if (this.ssthresh !== Number.MAX_SAFE_INTEGER) this.ssthresh = Math.max(2 * mss, Math.round((this.ssthresh / this.mss) * mss));
    this.mss = mss;
  }

  /** W_cubic(t) in segments (RFC 9438 eq. 1), t in seconds since the epoch started. */
  wCubic(t: number): number {
    const d = t - this.k;
    return CUBIC_C * d * d * d + this.wMax;
  }

  onAck(acked: number, now: number, srttMs: number, cwndLimited: boolean): void {
    if (!cwndLimited) return;
    const mss = this.mss;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, 2 * mss);
      return;
    }
    const cwndSeg = this.cwnd / mss;
    if (this.epochStart === undefined) {
      this.epochStart = now;
      this.wEst = cwndSeg;
      if (this.wMax <= cwndSeg) {
        // Started avoidance without a prior loss (e.g. after slow start ended at ssthresh).
        this.wMax = cwndSeg;
        this.k = 0;
      } else {
        this.k = Math.cbrt((this.wMax - cwndSeg) / CUBIC_C);
      }
    }
    const segsAcked = acked / mss;
    // §4.3: Reno-friendly estimate grows by alpha per window of acknowledged segments.
    this.wEst += (CUBIC_ALPHA * segsAcked) / cwndSeg;
    const t = (now - this.epochStart + srttMs) / 1000;
    let target = this.wCubic(t);
    // §4.4-4.5: the target lies between cwnd and 1.5 cwnd.
    if (target < cwndSeg) target = cwndSeg;
    else if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
    let inc: number;
    if (this.wCubic((now - this.epochStart) / 1000) < this.wEst) {
      inc = this.wEst > cwndSeg ? (this.wEst - cwndSeg) : 0; // Reno-friendly region
    } else {
      inc = ((target - cwndSeg) / cwndSeg) * segsAcked;
    }
    this.credit += inc;
    if (this.credit >= 1 / mss) {
      const bytes = Math.floor(this.credit * mss);
      this.cwnd += bytes;
      this.credit -= bytes / mss;
    }
  }

  onCongestionEvent(_now: number, flight: number): void {
    const mss = this.mss;
    void flight; // RFC 9438 §4.6 reduces from cwnd itself
    const cwndSeg = this.cwnd / mss;
    // §4.7 fast convergence: release bandwidth when W_max keeps shrinking.
    if (cwndSeg < this.wLastMax) this.wMax = (cwndSeg * (1 + CUBIC_BETA)) / 2;
    else this.wMax = cwndSeg;
    this.wLastMax = cwndSeg;
    this.ssthresh = Math.max(Math.floor(this.cwnd * CUBIC_BETA), 2 * mss);
    this.cwnd = this.ssthresh;
    this.epochStart = undefined;
    this.credit = 0;
  }

  onRetransmissionTimeout(now: number, flight: number): void {
    // §4.8: same reduction of ssthresh, then the RFC 5681 loss window.
    this.onCongestionEvent(now, flight);
    this.cwnd = this.mss;
  }

  onRecoveryEnd(_now: number): void {
    if (this.cwnd > this.ssthresh) this.cwnd = this.ssthresh;
    this.epochStart = undefined;
  }
}
