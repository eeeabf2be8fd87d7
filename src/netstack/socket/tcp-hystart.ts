/**
 * HyStart++ (RFC 9406): leaves the initial slow start when the round-trip time starts to grow,
 * before the doubling window overflows the queue in front of the slowest stage and loses a burst.
 *
 *   each ACK of new data in the initial slow start ──▶ onAck(ack, sndMax, rttSample)
 *     round boundary (ack ≥ the SND.MAX noted at the round's start): lastRoundMinRtt = this round's
 *     ≥ N_RTT_SAMPLE samples and this round's minimum ≥ last round's + RttThresh ──▶ 'css'
 *       Conservative Slow Start: the window grows by a quarter of slow start's increase;
 *       an RTT back below the baseline ──▶ 'slow-start' again;
 *       CSS_ROUNDS rounds of CSS ──▶ 'avoidance' (the caller sets ssthresh = cwnd)
 *
 * Only the first slow start of a connection uses it (RFC 9406 §4.3 SHOULD); a loss or an RTO
 * ends it (the congestion controller's usual reaction applies). Sans-IO: the socket passes the
 * sequence numbers and the RTT sample of each ACK.
 */
import { seqGe } from './tcp-seq.ts';

/** RFC 9406 §4.3 constants. */
export const HYSTART_MIN_RTT_THRESH_MS = 4;
export const HYSTART_MAX_RTT_THRESH_MS = 16;
export const HYSTART_MIN_RTT_DIVISOR = 8;
export const HYSTART_N_RTT_SAMPLE = 8;
export const HYSTART_CSS_GROWTH_DIVISOR = 4;
export const HYSTART_CSS_ROUNDS = 5;

/** What the window does on this ACK. */
export type HyStartPhase = 'slow-start' | 'css' | 'avoidance';

/** HyStart++ state of one connection's initial slow start. */
export class HyStart {
  /** Where the window is: slow start, Conservative Slow Start, or done (congestion avoidance). */
  phase: HyStartPhase = 'slow-start';
  /** Times the delay increase moved slow start into CSS (stats). */
  cssEntries = 0;
  /** Times CSS ended in congestion avoidance (stats). */
  exits = 0;
  private windowEnd: number | undefined = undefined;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;

  /**
   * One ACK of new data while the window is below ssthresh. `ack` is SEG.ACK, `sndMax` the
   * highest sequence sent, `rttMs` the RTT sample this ACK gave (undefined: none). Returns the
   * phase to apply to this ACK's growth: 'css' grows by 1/{@link HYSTART_CSS_GROWTH_DIVISOR};
   * 'avoidance' means slow start is over (set ssthresh to cwnd).
   */
  onAck(ack: number, sndMax: number, rttMs: number | undefined): HyStartPhase {
    if (this.phase === 'avoidance') return this.phase;
    if (this.windowEnd === undefined || seqGe(ack, this.windowEnd)) {
      // §4.2: a new round starts when the ACK covers what was outstanding at the last one's start.
      const started = this.windowEnd !== undefined;
      this.windowEnd = sndMax;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSampleCount = 0;
      if (started && this.phase === 'css' && ++this.cssRounds >= HYSTART_CSS_ROUNDS) {
        this.phase = 'avoidance';
        this.exits++;
        return this.phase;
      }
    }
    if (rttMs !== undefined) {
      if (rttMs < this.currentRoundMinRtt) this.currentRoundMinRtt = rttMs;
      this.rttSampleCount++;
    }
    if (this.rttSampleCount < HYSTART_N_RTT_SAMPLE || this.currentRoundMinRtt === Infinity) return this.phase;
    if (this.phase === 'slow-start') {
      if (this.lastRoundMinRtt === Infinity) return this.phase;
      const thresh = Math.max(HYSTART_MIN_RTT_THRESH_MS, Math.min(this.lastRoundMinRtt / HYSTART_MIN_RTT_DIVISOR, HYSTART_MAX_RTT_THRESH_MS));
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.phase = 'css';
        this.cssRounds = 0;
        this.cssEntries++;
      }
    } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      // §4.2: the delay increase was spurious; back to slow start.
      this.cssBaselineMinRtt = Infinity;
      this.phase = 'slow-start';
    }
    return this.phase;
  }

  /** A loss or a timeout ended slow start: HyStart++ has nothing more to do on this connection. */
  end(): void {
    this.phase = 'avoidance';
  }
}
