/**
 * The sender's loss-recovery state of one TCP connection, kept apart from the state machine the
 * way smoltcp keeps its timer and RTT state in their own types. It decides *what phase* the
 * sender is in and *which* sequence numbers to resend; the congestion window (tcp-congestion.ts),
 * the RTT/RTO estimate (tcp-rtt.ts) and the SACK scoreboard (tcp-sack-scoreboard.ts) stay with
 * their own types, and TcpSocket applies the outcomes.
 *
 *   phase 'open' ──3 duplicate ACKs (RFC 5681 §3.2) or enough SACKed (RFC 6675 §5)──▶ 'recovery'
 *   'recovery' ──ACK at or past the recovery point (RFC 6582 §3.2 step 3, RFC 6675 §5)──▶ 'open'
 *   any ──RTO (RFC 6298 §5.4-5.7, RFC 5681 §3.1)──▶ 'loss' ──ACK past the recovery point──▶ 'open'
 *   'loss' ──the RTO proved spurious (RFC 3522/4015, decided by the socket)──▶ 'open' (undoLoss)
 *
 *   in 'recovery': NextSeg (RFC 6675 §4) from the first un-retransmitted hole; retransmissions are
 *   logged so one that was itself lost (data sent after it SACKed well beyond it) is sent again.
 *   RTO backoff: the count of consecutive timeouts without progress (the socket gives up at a limit).
 */
import type { Hole, SackScoreboard } from './tcp-sack-scoreboard.ts';
import { DUP_ACK_THRESHOLD } from './tcp-constants.ts';
import { seqGe, seqGt, seqLt } from './tcp-seq.ts';

/** `open`: no loss known; `recovery`: fast recovery; `loss`: after a retransmission timeout. */
export type RecoveryPhase = 'open' | 'recovery' | 'loss';

/** What a new cumulative ACK meant for recovery (see {@link LossRecovery.onNewAck}). */
export type NewAckOutcome =
  /** Not in fast recovery: the congestion window grows as usual. */
  | 'normal'
  /** The ACK reached the recovery point: fast recovery is over. */
  | 'recovered'
  /** Fast recovery continues (an RFC 6582 partial ACK). */
  | 'partial';

/** What a duplicate ACK meant (see {@link LossRecovery.onDupAck}). */
export type DupAckOutcome =
  /** The threshold was reached: enter fast recovery. */
  | 'enter-recovery'
  /** Below the threshold: RFC 3042 limited transmit may send one more new segment. */
  | 'limited-transmit'
  /** Already in fast recovery: RFC 6582 §3.2 step 4 inflates the window. */
  | 'inflate'
  /** After an RTO duplicate ACKs change nothing. */
  | 'ignored';

/** Bound on logged retransmissions per recovery episode (pairs of numbers). */
const MAX_LOGGED_RETRANSMISSIONS = 8192;

/** Loss-recovery state of one connection: phase, duplicate ACKs, recovery point, RTO backoff. */
export class LossRecovery {
  /** Current phase. */
  get phase(): RecoveryPhase {
    return this._phase;
  }

  /** True in fast recovery (not after an RTO). */
  get inFastRecovery(): boolean {
    return this._phase === 'recovery';
  }

  /** Duplicate ACKs counted since the last new ACK. */
  get dupAcks(): number {
    return this._dupAcks;
  }

  /** SND.MAX when the current recovery episode began (RFC 6582 "recover"). */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  /** Consecutive retransmission timeouts without an acknowledgment of new data (the RTO backoff count). */
  get timeouts(): number {
    return this._timeouts;
  }

  /** True when the next send must start with a retransmission of the first hole, whatever the window. */
  get retransmitPending(): boolean {
    return this.forceRetransmit;
  }

  private _phase: RecoveryPhase = 'open';
  private _recoveryPoint = 0;
  private _dupAcks = 0;
  private _timeouts = 0;
  /** RFC 6675 HighRxt + 1: retransmissions in this recovery reached here. */
  private rxtNext = 0;
  /** Retransmissions of this recovery as flat [seq, SND.MAX when sent] pairs, oldest first. */
  private rxtLog: number[] = [];
  /** Holes whose retransmission was itself lost, to retransmit again. */
  private relost: number[] = [];
  private forceRetransmit = false;

  /**
   * Enters fast recovery (RFC 5681 §3.2 step 2, RFC 6675 §5 steps 1-3): the recovery point is
   * SND.MAX, NextSeg starts at SND.UNA, and the first un-SACKed segment goes out at once.
   */
  enterFastRecovery(sndUna: number, sndMax: number): void {
    this._phase = 'recovery';
    this._recoveryPoint = sndMax;
    this.rxtNext = sndUna;
    this.rxtLog = [];
    this.relost = [];
    this.forceRetransmit = true;
  }

  /** Counts one retransmission timeout; returns the consecutive count (RFC 6298 §5.5 backoff). */
  noteTimeout(): number {
    return ++this._timeouts;
  }

  /** Progress was made (new data or the SYN acknowledged): the timeout count starts over. */
  resetTimeouts(): void {
    this._timeouts = 0;
  }

  /**
   * After an RTO with data in flight (RFC 5681 §3.1, RFC 6298 §5.4): the 'loss' phase until
   * SND.MAX at this moment is acknowledged; go-back-N replaces any fast-recovery bookkeeping.
   */
  enterLoss(sndMax: number): void {
    this._phase = 'loss';
    this._recoveryPoint = sndMax;
    this.rxtLog = [];
    this.relost = [];
    this._dupAcks = 0;
    this.forceRetransmit = false;
  }

  /**
   * The timeout was spurious (RFC 3522 Eifel detection: the ACK echoed a timestamp older than the
   * retransmission): nothing was lost, so the 'loss' phase and its go-back-N end now (RFC 4015 §3).
   */
  undoLoss(): void {
    if (this._phase === 'loss') this._phase = 'open';
  }

  /**
   * ICMP packet-too-big: what was in flight is resent in smaller segments without a congestion
   * response, so fast recovery turns into the go-back-N of the 'loss' phase.
   */
  onPathMtuDrop(): void {
    if (this._phase === 'recovery') this._phase = 'loss';
  }

  /** A cumulative ACK of new data up to `ack`. */
  onNewAck(ack: number): NewAckOutcome {
    this._dupAcks = 0;
    if (this._phase === 'recovery') {
      if (seqGe(ack, this._recoveryPoint)) {
        this._phase = 'open';
        return 'recovered';
      }
      return 'partial';
    }
    if (this._phase === 'loss' && seqGe(ack, this._recoveryPoint)) this._phase = 'open';
    return 'normal';
  }

  /** A duplicate ACK (RFC 5681 §2 definition, or one bringing new SACK information). */
  onDupAck(): DupAckOutcome {
    if (this._phase === 'open') {
      this._dupAcks++;
      return this._dupAcks >= DUP_ACK_THRESHOLD ? 'enter-recovery' : 'limited-transmit';
    }
    if (this._phase === 'recovery') {
      this._dupAcks++;
      return 'inflate';
    }
    return 'ignored';
  }

  /** RFC 3042 limited transmit: extra segments the congestion window may hold beyond cwnd. */
  limitedTransmitSegments(): number {
    return this._phase === 'open' && this._dupAcks > 0 && this._dupAcks < DUP_ACK_THRESHOLD ? this._dupAcks : 0;
  }

  /** Asks for a retransmission of the first unacknowledged segment (RFC 6582 §3.2 step 5, partial ACK). */
  requestRetransmit(): void {
    this.forceRetransmit = true;
  }

  /** Takes the pending forced retransmission, if any (it is sent once). */
  takeForcedRetransmit(): boolean {
    const f = this.forceRetransmit;
    this.forceRetransmit = false;
    return f;
  }

  /** Where NextSeg looks for the next lost hole (RFC 6675 HighRxt + 1, never below SND.UNA). */
  nextRetransmitFrom(sndUna: number): number {
    return seqLt(this.rxtNext, sndUna) ? sndUna : this.rxtNext;
  }

  /**
   * A retransmission of [seq, end) went out while SND.MAX was `sndMax`. Logged in SACK fast
   * recovery so {@link onSackUpdate} can tell when it was lost again.
   */
  noteRetransmission(seq: number, end: number, sndMax: number, sack: boolean): void {
    if (seqGt(end, this.rxtNext)) this.rxtNext = end;
    if (this._phase === 'recovery' && sack && this.rxtLog.length < MAX_LOGGED_RETRANSMISSIONS) this.rxtLog.push(seq, sndMax);
  }

  /**
   * New SACK information arrived. A retransmission is lost when data first sent after it has
   * been SACKed well beyond it while the hole is still open (the idea of Linux's lost-retransmit
   * marking; RFC 6675 alone would wait for the RTO). Those holes are queued to be sent again.
   */
  onSackUpdate(scoreboard: SackScoreboard, sndUna: number, sndMax: number, mss: number): void {
    if (this._phase !== 'recovery' || this.rxtLog.length === 0) return;
    const log = this.rxtLog;
    const margin = (DUP_ACK_THRESHOLD - 1) * mss;
    let k = 0;
    for (; k < log.length; k += 2) {
      const seq = log[k];
      const sentAtMax = log[k + 1];
      if (seqLt(seq, sndUna) || scoreboard.isSacked(seq)) continue; // delivered
      if (scoreboard.sackedIn(sentAtMax, sndMax) <= margin) break; // not yet decidable (later entries neither)
      this.relost.push(seq);
    }
    if (k > 0) log.splice(0, k);
  }

  /** The next hole whose retransmission was lost too, skipping ones delivered since. */
  takeRelostHole(scoreboard: SackScoreboard, sndUna: number, sndMax: number): Hole | undefined {
    while (this.relost.length > 0) {
      const s = this.relost.shift()!;
      if (seqLt(s, sndUna) || scoreboard.isSacked(s)) continue;
      const hole = scoreboard.nextHole(s, sndMax);
      if (hole) return hole;
    }
    return undefined;
  }
}
